"""The library layout: the template that names a video's file inside the
library (``MVIDARR_LIBRARY_TEMPLATE``, or the Settings page), and its rules.

A template is a relative path with placeholders in braces, ending in
``.{ext}``; the default is ``{artist}/{artist} - {title} [{id}].{ext}``. Each
placeholder's value is made a safe single name first, so only the template's
own slashes make folders and no value can climb out of the library.

No Django imports: settings.py checks the environment's template with it.
"""

from __future__ import annotations

import string
from pathlib import PurePosixPath

DEFAULT_TEMPLATE = "{artist}/{artist} - {title} [{id}].{ext}"
FIELDS = ("artist", "title", "id", "year", "album", "genre", "ext")
MAX_LENGTH = 200


def check_template(value: str) -> str:
    """The template, stripped; ``ValueError`` saying what is wrong with it.

    A template is a relative path: folders split by ``/``, no ``..``, no
    backslash or control character, only the placeholders in ``FIELDS`` (bare:
    no conversions or format specs), ending with ``.{ext}`` and naming the
    video by ``{title}`` or ``{id}``.
    """
    value = value.strip()
    if not value:
        raise ValueError("the template is empty")
    if len(value) > MAX_LENGTH:
        raise ValueError(f"the template is longer than {MAX_LENGTH} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value) or "\\" in value:
        raise ValueError("the template has a backslash or a control character")
    if value.startswith("/") or any(part in ("", ".", "..") for part in value.split("/")):
        raise ValueError("the template must be a relative path without empty, . or .. folders")
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as e:
        raise ValueError(f"the template has a stray brace ({e})") from None
    for _text, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in FIELDS:
            allowed = ", ".join(f"{{{name}}}" for name in FIELDS)
            raise ValueError(f"{{{field}}} is not a placeholder; use {allowed}")
        if spec or conversion:
            raise ValueError(f"write {{{field}}} bare, without a conversion or format")
    if not value.endswith(".{ext}"):
        raise ValueError("the template must end with .{ext}")
    if "{title}" not in value and "{id}" not in value:
        raise ValueError("the template must name the video with {title} or {id}")
    return value


def render(template: str, values: dict[str, str]) -> PurePosixPath:
    """The relative path for these (already safe) values."""
    return PurePosixPath(template.format(**values))
