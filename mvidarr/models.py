from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone

from jobs import publisher
from mvidarr.compiled import CompiledSelect

KEY_PREFIX = "mvk_"
# What a key may do: ``read`` calls the API's safe methods (GET, HEAD) and
# opens the sockets; ``control`` does everything its user can.
READ, CONTROL = "read", "control"
SCOPES = (READ, CONTROL)
READ_ONLY_KEY = "This API key is read-only."
MAX_KEYS_PER_USER = 50
MAX_KEY_NAME = 100


def default_scopes() -> list[str]:
    """Both: the keys made before scopes existed keep working as they did."""
    return list(SCOPES)


class KeyLimit(Exception):
    """The user already has ``MAX_KEYS_PER_USER`` keys."""


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """An API key; only its SHA-256 digest is stored, the key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=MAX_KEY_NAME, blank=True)
    scopes = models.JSONField(default=default_scopes)
    prefix = models.CharField(max_length=12, help_text="First characters, to tell keys apart.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def read_only(self) -> bool:
        return CONTROL not in self.scopes

    @classmethod
    def issue(cls, user, name: str = "", scopes=SCOPES, limited: bool = True) -> tuple[ApiKey, str]:
        """A new key for ``user``, and the raw key (shown once). ``KeyLimit``
        when the user has the most keys already (unless not ``limited``); the
        user's row is locked so that concurrent requests cannot pass the limit
        together."""
        scopes = [s for s in SCOPES if s in scopes]
        if not scopes:
            raise ValueError("A key needs at least one scope.")
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        with transaction.atomic():
            get_user_model().objects.select_for_update().filter(pk=user.pk).first()
            if limited and cls.objects.filter(user=user).count() >= MAX_KEYS_PER_USER:
                raise KeyLimit(f"You have {MAX_KEYS_PER_USER} keys already; revoke one first.")
            key = cls.objects.create(
                user=user,
                name=name[:MAX_KEY_NAME],
                scopes=scopes,
                prefix=raw[:12],
                digest=_digest(raw),
            )
        return key, raw

    def revoke(self) -> None:
        """Delete the key and close the sockets opened with it, at once
        (their own recheck would find it gone within ``MVIDARR_WS_RECHECK``)."""
        key_id = self.pk
        self.delete()
        transaction.on_commit(lambda: publisher.get().close_sockets(publisher.key_group(key_id)))

    @classmethod
    def authenticate(cls, raw: str):
        """Return the active user owning this key, or None."""
        key = cls.authenticate_key(raw)
        return key.user if key else None

    @classmethod
    def authenticate_key(cls, raw: str) -> ApiKey | None:
        """The key (with its active user), or None; notes when it was last used."""
        if not raw.startswith(KEY_PREFIX) or len(raw) > 100:
            return None
        key = (_BY_DIGEST.run(digest=_digest(raw)) or [None])[0]
        if key is None or not key.user.is_active:
            return None
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            cls.objects.filter(pk=key.pk).update(last_used_at=now)
        return key


# Every API call looks its key up: compiled once (``mvidarr.compiled``). The
# viewer row comes along, so the library the key sees costs no query.
_BY_DIGEST = CompiledSelect(
    ApiKey,
    {"digest": ("digest", "\x00")},
    lambda p: ApiKey.objects.select_related("user", "user__viewer").filter(digest=p["digest"]),
)


class SetupLock(models.Model):
    """One row that first-run setup locks, so that concurrent submissions of
    the setup form create exactly one administrator (on PostgreSQL the row
    lock serialises them; SQLite's IMMEDIATE transactions already do)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)

    @classmethod
    def create_first_admin(cls, user) -> bool:
        """Save ``user`` as the first account; False if one exists already."""
        with transaction.atomic():
            cls.objects.select_for_update().get_or_create(pk=1)
            if get_user_model().objects.exists():
                return False
            user.save()
        return True


class RuntimeSetting(models.Model):
    """A setting staff changed on the Settings page (see ``mvidarr.config``):
    one row per option that differs from its default. Never shown in the
    admin: some values are secrets."""

    name = models.CharField(max_length=100, primary_key=True)
    value = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    def __str__(self) -> str:
        return self.name


class Viewer(models.Model):
    """A read-only account attached to one owner: it sees what the owner has
    (``mvidarr.roles.library_of``) and changes nothing, since its only group,
    Viewers, holds view permissions alone. Set by staff in the admin or with
    ``manage.py viewer``, both through ``mvidarr.roles``."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="viewer"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="viewers"
    )

    class Meta:
        verbose_name = "viewer"

    def __str__(self) -> str:
        return f"{self.user} views {self.owner}"
