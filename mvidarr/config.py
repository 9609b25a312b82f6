"""Run-time settings: the options staff may change on the Settings page, read
through one accessor, ``config.get("MIN_FREE_MB")``, which answers:

1. from the environment, when the option's variable (``MVIDARR_MIN_FREE_MB``)
   is set: the value settings.py read from it wins, and the page shows the
   option read-only ("set by MVIDARR_MIN_FREE_MB");
2. else from the value staff saved (a ``RuntimeSetting`` row);
3. else from the default in settings.py.

Workers read options for every job, so the saved values are read in one
query and kept for ``CACHE_SECONDS`` in each process; saving drops this
process's copy at once, and other processes see the change within
``CACHE_SECONDS``. Apps declare their own options with ``declare()``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from mvidarr.models import RuntimeSetting
from videos.layout import check_template

logger = logging.getLogger(__name__)

CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Option:
    name: str  # the setting it overrides, e.g. "MIN_FREE_MB"
    env: str | None  # the variable that wins when set, e.g. "MVIDARR_MIN_FREE_MB"
    group: str  # the Settings page's section
    # The page's form field for it; None when the page edits it its own way.
    field: Callable[[], forms.Field] | None = None
    secret: bool = False  # never shown back in full, on the page or in logs
    default: Any = None  # for options settings.py does not hold

    @property
    def from_env(self) -> bool:
        return bool(self.env and os.environ.get(self.env, "").strip())

    @property
    def default_value(self) -> Any:
        return getattr(settings, self.name, self.default)


OPTIONS: dict[str, Option] = {}


def declare(*options: Option) -> None:
    for option in options:
        if option.name in OPTIONS:
            raise ValueError(f"Option {option.name!r} is declared twice")
        OPTIONS[option.name] = option


def in_group(group: str) -> list[Option]:
    return [option for option in OPTIONS.values() if option.group == group]


_lock = threading.Lock()
_cache: tuple[float, dict[str, Any]] = (0.0, {})


def _stored() -> dict[str, Any]:
    global _cache
    expires, values = _cache
    if time.monotonic() < expires:
        return values
    values = dict(RuntimeSetting.objects.values_list("name", "value"))
    with _lock:
        _cache = (time.monotonic() + CACHE_SECONDS, values)
    return values


def invalidate() -> None:
    """Forget this process's copy of the saved values (after a save, in tests)."""
    global _cache
    with _lock:
        _cache = (0.0, {})


def get(name: str) -> Any:
    option = OPTIONS[name]
    if option.from_env:
        return getattr(settings, name)
    values = _stored()
    return values.get(name, option.default_value)


def source(name: str) -> str:
    """Where ``get(name)`` comes from: "env", "saved" or "default"."""
    if OPTIONS[name].from_env:
        return "env"
    return "saved" if name in _stored() else "default"


def save(values: dict[str, Any], user=None) -> list[str]:
    """Store the options staff changed; a value equal to its default drops
    the row, so a later default applies. Options set by the environment are
    left alone. Returns the names that changed (logged; never the values)."""
    changed = []
    with transaction.atomic():
        stored = dict(RuntimeSetting.objects.select_for_update().values_list("name", "value"))
        for name, value in values.items():
            option = OPTIONS[name]
            if option.from_env or stored.get(name, option.default_value) == value:
                continue
            if value == option.default_value:
                RuntimeSetting.objects.filter(name=name).delete()
            else:
                RuntimeSetting.objects.update_or_create(
                    name=name, defaults={"value": value, "updated_by": user}
                )
            changed.append(name)
        # Now for this transaction's own reads, and again once other
        # threads can see the change (one may have cached the old values).
        invalidate()
        transaction.on_commit(invalidate)
    if changed:
        logger.info("Settings changed by %s: %s", user or "a script", ", ".join(changed))
    return changed


def masked(secret: str) -> str:
    """How a secret is shown: whether it is set, and the last 4 characters of
    a long one."""
    if not secret:
        return "not set"
    return f"set (…{secret[-4:]})" if len(secret) >= 16 else "set"


# -- the core's options -------------------------------------------------------


def _template(value: str) -> str:
    try:
        return check_template(value)
    except ValueError as e:
        raise ValidationError(f"Not a library template: {e}") from None


declare(
    Option(
        "MIN_FREE_MB",
        "MVIDARR_MIN_FREE_MB",
        "downloads",
        lambda: forms.IntegerField(
            label="Minimum free space (MB)",
            min_value=0,
            max_value=10_000_000,
            help_text="A download does not start with less free space than this on the "
            "library or scratch disk.",
        ),
    ),
    Option(
        "JOB_MAX_ATTEMPTS",
        "MVIDARR_MAX_ATTEMPTS",
        "downloads",
        lambda: forms.IntegerField(
            label="Attempts per job",
            min_value=1,
            max_value=20,
            help_text="How often a job that fails for a passing reason (network, server "
            "error) is tried in all.",
        ),
    ),
    Option(
        "JOB_RETRY_DELAY",
        "MVIDARR_RETRY_DELAY",
        "downloads",
        lambda: forms.IntegerField(
            label="First retry after (seconds)",
            min_value=0,
            max_value=3600,
            help_text="Doubled for each further attempt, at most 15 minutes.",
        ),
    ),
    Option(
        "LIBRARY_TEMPLATE",
        "MVIDARR_LIBRARY_TEMPLATE",
        "downloads",
        lambda: forms.CharField(
            label="Library layout",
            max_length=200,
            validators=[_template],
            help_text="Placeholders {artist}, {title}, {id}, {year}, {album}, {genre}, {ext}. "
            "Applies to new downloads and edits; Edit a video to rename an existing file.",
        ),
    ),
)
