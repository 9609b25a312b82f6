"""Every page and every API route, under every role: the routes are read from
the URL resolver and the API's routers, so a new one is checked the moment it
exists. The default expectation covers it; only the exceptions are listed
(``PAGE_RULES``, ``API_RULES``), and an exception naming no route fails.

Roles: anonymous, alice (the owner of the objects in the URLs), vera (her
viewer), bob (another user), staff, and alice's read and control API keys.
By default a viewer or a read key gets 403 for every unsafe method (a page
may also answer 405: nothing happened), another user 404 for alice's
objects, the owner and staff anything but a refusal, and nobody a 5xx.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from mvidarr.api import api
from mvidarr.models import READ_ONLY_KEY, ApiKey
from mvidarr.roles import READ_ONLY
from sources.models import Source
from tests.pagekit import job_of, video_of
from videos.models import Profile

# Outcomes of a request, from its answer.
OK, LOGIN, STAFF_LOGIN, DENIED, MISSING, METHOD, UNAUTHORIZED = (
    "ok",
    "login",
    "staff-login",
    "denied",
    "missing",
    "method",
    "unauthorized",
)
REFUSED = {LOGIN, STAFF_LOGIN, DENIED, UNAUTHORIZED}
PAGE_ROLES = ("anonymous", "owner", "viewer", "other", "staff", "read_key")
API_ROLES = ("anonymous", "owner", "viewer", "other", "staff", "read_key", "control_key")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Rule:
    """How a route departs from the default expectation. ``staff_only``:
    everyone else is refused. ``mutating_get``: its GET is a form to change
    something (a viewer is refused). ``open``: no login needed. ``own``:
    every user may change their own (the keys page). ``gone``: the objects
    in its URL may be absent for their owner too (a file not downloaded).
    ``skip_post``: why a POST is not sent (must say why)."""

    staff_only: bool = False
    mutating_get: bool = False
    open: bool = False
    own: bool = False
    gone: bool = False
    skip_post: str = ""


# Keyed by URL name. Only what departs from the default.
PAGE_RULES = {
    "setup": Rule(open=True),
    "login": Rule(open=True),
    "favicon": Rule(open=True),
    "logout": Rule(open=True, skip_post="it ends the session the next requests use"),
    "api-keys": Rule(own=True),
    "api-key-revoke": Rule(own=True),
    "metrics": Rule(staff_only=True),
    "library-import": Rule(staff_only=True),
    "system": Rule(staff_only=True),
    "queue-pause": Rule(staff_only=True),
    "queue-resume": Rule(staff_only=True),
    "task-run": Rule(staff_only=True),
    "settings": Rule(staff_only=True),
    "settings-notify-add": Rule(staff_only=True),
    "settings-notify-remove": Rule(staff_only=True),
    "settings-notify-test": Rule(staff_only=True),
    "settings-imvdb-test": Rule(staff_only=True),
    "settings-server-test": Rule(staff_only=True),
    "profiles": Rule(staff_only=True),
    "profile-edit": Rule(staff_only=True),
    "profile-default": Rule(staff_only=True),
    "profile-delete": Rule(staff_only=True),
    "video-edit": Rule(mutating_get=True),
    "video-delete": Rule(mutating_get=True),
    "video-file": Rule(gone=True),
    "video-thumbnail": Rule(gone=True),
}
# Keyed by "METHOD /path" as the API's routers name it.
API_RULES = {
    "GET /health": Rule(open=True),
    "POST /profiles": Rule(staff_only=True),
    "PATCH /profiles/{int:profile_id}": Rule(staff_only=True),
    "POST /queue/pause": Rule(staff_only=True),
    "POST /queue/resume": Rule(staff_only=True),
}


def outcome(response) -> str:
    status = response.status_code
    assert status < 500, f"{status}: {response.content[:300]!r}"
    if status in (301, 302):
        where = response["Location"]
        if where.startswith("/admin/login/"):
            return STAFF_LOGIN
        return LOGIN if where.startswith("/login/") else OK
    return {401: UNAUTHORIZED, 403: DENIED, 404: MISSING, 405: METHOD}.get(status, OK)


def expected(role: str, method: str, route: Route) -> set[str]:
    """The outcomes a role may get: the default, bent by the route's rule.
    A page may always answer 405 to a method it does not take: nothing
    happened. So may a guarded page (``permission_required``) answer 403 to
    a viewer's GET where it takes only POST."""
    rule, unsafe = route.rule, method in UNSAFE
    no_method = {METHOD} if not route.api else set()
    anyone = {OK, METHOD} | ({MISSING} if rule.gone else set())
    if rule.open:
        return anyone
    if role == "anonymous":
        return {UNAUTHORIZED} if route.api else {LOGIN, STAFF_LOGIN, UNAUTHORIZED, METHOD}
    if role == "read_key" and not route.api:
        return {LOGIN, STAFF_LOGIN, UNAUTHORIZED, METHOD}  # a key is no login to the pages
    if role == "read_key" and unsafe:
        return {DENIED}
    if rule.staff_only and role != "staff":
        return {DENIED, STAFF_LOGIN} | no_method
    if role == "staff":
        return {OK, METHOD, MISSING}  # sees everything; junk input may name nothing
    if rule.own:
        return anyone | {MISSING}  # another's key is not found
    if role == "other" and route.has_object:
        return {MISSING} | no_method
    if role == "viewer" and (unsafe or rule.mutating_get):
        return {DENIED} | (no_method if unsafe else set())
    if role in ("viewer", "read_key") and route.guarded:
        return anyone | {DENIED}
    return anyone


# -- the routes --------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # a page's URL name, or "METHOD /path" of an API operation
    path: str  # filled in: alice's objects in it
    rule: Rule
    api: bool
    has_object: bool = False  # names one of alice's objects
    guarded: bool = False  # a page behind ``permission_required``


def page_routes() -> list[tuple[str, str, object]]:
    """(URL name, route, view) of every page: the resolver walked, the API
    and the admin (their own checks) left to their own tests."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                if route.startswith(("admin/", "api/")):
                    continue
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                assert p.name, f"the page {route!r} has no URL name"
                found.append((p.name, route, p.callback))

    walk(get_resolver().url_patterns, "")
    return found


def api_routes() -> list[tuple[str, str]]:
    """("METHOD /path", path) of every API operation, from its routers."""
    found = []
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            full = "/" + "/".join(p.strip("/") for p in (prefix, path) if p.strip("/"))
            for operation in view.operations:
                for method in operation.methods:
                    found.append((f"{method} {full}", full))
    return found


def test_the_routes_are_found_and_every_rule_names_one():
    pages = {name for name, _, _ in page_routes()}
    operations = {key for key, _ in api_routes()}
    assert {"library", "video-page", "job-cancel", "api-keys"} <= pages
    assert {"GET /videos", "POST /jobs", "DELETE /videos/{int:video_id}"} <= operations
    assert set(PAGE_RULES) <= pages, set(PAGE_RULES) - pages
    assert set(API_RULES) <= operations, set(API_RULES) - operations


@pytest.fixture
def world(users, viewer, settings, tmp_path):
    """alice's objects, named in the URLs, and every role's credentials."""
    settings.LIBRARY_DIR = tmp_path
    alice = users["alice"]
    video = video_of(alice, "Song", artist="Band")
    job = job_of(alice, video)
    keys = {
        "read_key": ApiKey.issue(alice, "r", scopes=["read"])[1],
        "control_key": ApiKey.issue(alice, "c", scopes=["control"])[1],
        "owner": ApiKey.issue(alice, "o")[1],
        "viewer": ApiKey.issue(viewer, "v")[1],
        "other": ApiKey.issue(users["bob"], "b")[1],
        "staff": ApiKey.issue(users["staff"], "s")[1],
    }
    people = {
        "owner": alice,
        "viewer": viewer,
        "other": users["bob"],
        "staff": users["staff"],
    }
    values = {
        "video_id": video.pk,
        "artist_id": video.artist_id,
        "job_id": job.pk,
        "profile_id": Profile.objects.first().pk,
        "key_id": ApiKey.objects.filter(user=alice).first().pk,
        "source_id": Source.objects.create(owner=alice, url="https://videos.example.com/f.xml").pk,
    }
    return {"people": people, "keys": keys, "values": values}


def fill(route: str, values: dict) -> tuple[str, bool]:
    """The route with its parameters filled in from alice's objects, and
    whether it names one of them. A parameter not known here gets a value
    that names nothing (the route is still checked: refusals come first)."""
    has_object = False

    def value(name: str, converter: str, section: str):
        nonlocal has_object
        by_section = {
            "videos": "video_id",
            "artists": "artist_id",
            "jobs": "job_id",
            "profiles": "profile_id",
            "keys": "key_id",
            "sources": "source_id",
        }
        if name in ("pk", "id"):
            name = by_section.get(section, name)
        if name in values and name != "profile_id":
            has_object = True
            return values[name]
        if name in values:
            return values[name]
        unknown = {"int": 1, "uuid": "00000000-0000-4000-8000-000000000000"}
        return unknown.get(converter.removesuffix("str"), "x")

    def django_param(m: re.Match) -> str:
        converter, name = m.group(1) or "str", m.group(2)
        section = route[: m.start()].rstrip("/").split("/")[-1]
        return str(value(name, converter.rstrip(":"), section))

    def ninja_param(m: re.Match) -> str:
        return str(value(m.group(2), m.group(1) or "str", ""))

    path = re.sub(r"<(?:(\w+):)?(\w+)>", django_param, route)
    path = re.sub(r"\{(?:(\w+):)?(\w+)\}", ninja_param, path)
    return path, has_object


def login(client, world, role: str):
    client.logout()
    if role in world["people"]:
        client.force_login(world["people"][role])


def order(checks: list) -> list:
    """Safe calls first, deleting ones last: a route's objects must still be
    there for the calls after it."""
    return sorted(checks, key=lambda c: (c[0] in UNSAFE, c[0] == "DELETE" or "delete" in c[1].key))


@pytest.mark.parametrize("role", PAGE_ROLES)
def test_every_page_answers_each_role_as_expected(client, world, role):
    checks = []
    for name, pattern, view in page_routes():
        rule = PAGE_RULES.get(name, Rule())
        path, has_object = fill("/" + pattern, world["values"])
        guarded = hasattr(view, "required_permission")
        route = Route(name, path, rule, api=False, has_object=has_object, guarded=guarded)
        checks += [("GET", route)] + ([] if rule.skip_post else [("POST", route)])
    login(client, world, role)
    headers = {"HTTP_X_API_KEY": world["keys"]["read_key"]} if role == "read_key" else {}
    wrong = []
    for method, route in order(checks):
        response = getattr(client, method.lower())(route.path, **headers)
        got, want = outcome(response), expected(role, method, route)
        if got not in want:
            wrong.append(f"{method} {route.path} ({route.key}): {got}, expected {sorted(want)}")
        elif role == "viewer" and got == DENIED and not route.rule.staff_only:
            assert READ_ONLY in response.content.decode(), route.path
    assert not wrong, "\n".join(wrong)
    skipped = [name for name, rule in PAGE_RULES.items() if rule.skip_post]
    assert len(checks) == 2 * len(page_routes()) - len(skipped)


@pytest.mark.parametrize("role", API_ROLES)
def test_every_api_route_answers_each_role_as_expected(client, world, role):
    checks = []
    for key, pattern in api_routes():
        path, has_object = fill(pattern, world["values"])
        route = Route(key, path, API_RULES.get(key, Rule()), api=True, has_object=has_object)
        checks.append((key.split()[0], route))
    headers = {}
    if role in world["keys"]:
        headers["HTTP_X_API_KEY"] = world["keys"][role]
    elif role in world["people"]:
        client.force_login(world["people"][role])
    wrong = []
    for method, route in order(checks):
        response = client.generic(
            method, f"/api{route.path}", data="{}", content_type="application/json", **headers
        )
        got, want = outcome(response), expected(role, method, route)
        if got not in want:
            wrong.append(f"{route.key} ({route.path}): {got}, expected {sorted(want)}")
        elif got == DENIED and role in ("viewer", "read_key") and not route.rule.staff_only:
            detail = json.loads(response.content)["detail"]
            assert detail == (READ_ONLY_KEY if role == "read_key" else READ_ONLY), route.key
    assert not wrong, "\n".join(wrong)
    assert len(checks) == len(api_routes())
