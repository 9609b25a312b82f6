"""Roles, through Django's groups and permissions: what an account may see
and change.

* **Members** (every new account joins it): add, change, delete and view the
  library's models (``LIBRARY_MODELS``), their own objects only.
* **Viewers**: view only. A viewer is attached to one owner (``Viewer``) and
  sees everything that owner has (``library_of``); it changes nothing.
* Staff see and change everything (superusers hold every permission).

Every mutating page checks its permission with ``permission_required``, and
every unsafe API call with ``api_refusal`` (in ``mvidarr.api``): a viewer
gets 403, never a page that half works. Templates hide what a user cannot do
through ``perms``, but the server check is what counts.
"""

from __future__ import annotations

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest

from mvidarr.compiled import CompiledSelect
from mvidarr.models import Viewer

MEMBERS, VIEWERS = "Members", "Viewers"
# The models whose permissions the roles give, as app_label.model; one of an
# app that is not installed is skipped.
LIBRARY_MODELS = ("videos.video", "videos.artist", "jobs.job", "sources.source")
MEMBER_ACTIONS = ("add", "change", "delete", "view")
VIEWER_ACTIONS = ("view",)
READ_ONLY = "Your account may look at this library but not change it."
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# The API's unsafe calls: the model each first path segment acts on. A
# segment not listed needs the right to change videos: what viewers lack and
# members have. Those of STAFF_ONLY_API are for staff alone.
API_MODELS = {
    "videos": "videos.video",
    "artists": "videos.artist",
    "jobs": "jobs.job",
    "sources": "sources.source",
}
DEFAULT_API_MODEL = "videos.video"
STAFF_ONLY_API = {
    "profiles": "Only staff can change profiles.",
    "queue": "Only staff can pause or resume the queue.",
}


def library_owner_id(user) -> int:
    """Whose library the user sees: the owner a viewer views, else the user
    themselves. Django keeps the user's ``viewer`` (or its absence) on the
    user object, so this reads it once per object, or never when it came
    with the user (an API key's ``select_related("user__viewer")``)."""
    viewer = getattr(user, "viewer", None)
    return viewer.owner_id if viewer else user.pk


def _forget_viewer(user) -> None:
    """Make the next ``library_owner_id(user)`` read the viewer row again."""
    user._state.fields_cache.pop("viewer", None)


def library_of(user) -> Q:
    """The rows (of a model with an ``owner``) that ``user`` may see: their
    own and, for a viewer, their owner's. A plain equality on ``owner_id``,
    so that the queries keep their indexes (an OR with a subquery would not)."""
    owner_id = library_owner_id(user)
    if owner_id == user.pk:
        return Q(owner_id=user.pk)
    return Q(owner_id__in=(user.pk, owner_id))


def permission_required(perm: str, unsafe_only: bool = False):
    """A page that changes something: a login, then ``perm`` or a 403 page.
    ``unsafe_only``: a page that everyone who may see it may read (GET) and
    whose POST changes something (a list with its add form)."""

    def decorator(view):
        @login_required
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            checked = not unsafe_only or request.method not in SAFE_METHODS
            if checked and not request.user.has_perm(perm):
                raise PermissionDenied(READ_ONLY)
            return view(request, *args, **kwargs)

        wrapper.required_permission = perm
        return wrapper

    return decorator


def api_refusal(user, method: str, route: str) -> str:
    """Why ``user`` may not make this unsafe API call ("" if it may), from
    its method and its URL pattern (``api/videos/<int:video_id>/download``):
    staff alone for the ``STAFF_ONLY_API`` segments, else the permission to
    ``delete`` (DELETE), ``add`` (a POST to a collection: a pattern without
    parameters) or ``change`` (the rest) the segment's model."""
    path = route.removeprefix("api/")
    segment = path.split("/", 1)[0]
    if segment in STAFF_ONLY_API:
        return "" if user.is_staff else STAFF_ONLY_API[segment]
    if method == "DELETE":
        action = "delete"
    elif method == "POST" and "<" not in path:
        action = "add"
    else:
        action = "change"
    app, name = API_MODELS.get(segment, DEFAULT_API_MODEL).split(".")
    return "" if user.has_perm(f"{app}.{action}_{name}") else READ_ONLY


class PermissionBackend(ModelBackend):
    """Django's ``ModelBackend``, reading a user's permissions in one query
    (those given to the user and to its groups, as one UNION) instead of
    two: every unsafe API call and every mutating page asks for them.

    Building and compiling that UNION cost more CPU than running it, so it is
    compiled once per database (``mvidarr.compiled``)."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                labels = _labels(Permission.objects.all())
            else:
                labels = _LABELS.run(user=user_obj.pk)
            user_obj._perm_cache = {f"{app}.{name}" for app, name in labels}
        return user_obj._perm_cache


def _labels(perms):
    return perms.values_list("content_type__app_label", "codename").order_by()


def _labels_of_account(p: dict):
    backend, account = ModelBackend(), get_user_model()(pk=p["user"])
    return _labels(backend._get_user_permissions(account)).union(
        _labels(backend._get_group_permissions(account))
    )


# A permission's id is an account's id in type; no account has the id -1.
_LABELS = CompiledSelect(Permission, {"user": ("id", -1)}, _labels_of_account)


def check_viewer(user, owner) -> None:
    """``ValidationError`` unless ``user`` may view ``owner``'s library: staff
    see everything already, an account does not view itself, and a viewer
    has no library to share."""
    if user.is_staff or user.is_superuser:
        raise ValidationError("Staff see everything already; a viewer must be an ordinary account.")
    if user.pk == owner.pk:
        raise ValidationError("An account cannot view its own library.")
    if Viewer.objects.filter(user_id=owner.pk).exists():
        raise ValidationError(f"{owner} is a viewer; attach {user} to an owner of a library.")


def make_viewer(user, owner) -> None:
    """Attach ``user`` to ``owner`` as a viewer: Viewers becomes its only
    role, and nobody views its own (now unchangeable) library any more."""
    check_viewer(user, owner)
    with transaction.atomic():
        Viewer.objects.update_or_create(user=user, defaults={"owner": owner})
        _forget_viewer(user)
        user.groups.remove(*Group.objects.filter(name=MEMBERS))
        user.groups.add(Group.objects.get_or_create(name=VIEWERS)[0])
        Viewer.objects.filter(owner=user).delete()  # nobody views an empty library


def make_member(user) -> None:
    """Back to an ordinary account: its own library, which it may change."""
    with transaction.atomic():
        Viewer.objects.filter(user=user).delete()
        _forget_viewer(user)
        user.groups.remove(*Group.objects.filter(name=VIEWERS))
        user.groups.add(Group.objects.get_or_create(name=MEMBERS)[0])


def join_members(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """Every new account is a member (``post_save`` of the user model):
    accounts come from setup, the admin, ``createsuperuser`` and scripts,
    and each would otherwise start unable to change anything."""
    if created and not raw:
        instance.groups.add(Group.objects.get_or_create(name=MEMBERS)[0])


def sync_groups(**kwargs) -> None:
    """Give the two groups their permissions (``post_migrate``: by then every
    installed model's permissions exist, those of apps added later too)."""
    for name, actions in ((MEMBERS, MEMBER_ACTIONS), (VIEWERS, VIEWER_ACTIONS)):
        wanted = Q(pk__in=[])
        for model in LIBRARY_MODELS:
            app, model_name = model.split(".")
            codenames = [f"{action}_{model_name}" for action in actions]
            wanted |= Q(content_type__app_label=app, codename__in=codenames)
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(wanted))
