"""Where a video's file goes in the library: ``MVIDARR_LIBRARY_TEMPLATE``.

A template is a relative path with fields in braces, ending in ``.{ext}``;
the default is ``{artist}/{artist} - {title} [{id}].{ext}``. Each field's
value is made a safe single name first, so only the template's own slashes
make folders and no value can climb out of the library. No Django here: the
settings check a template with ``check_template`` at start-up.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from string import Formatter

DEFAULT_TEMPLATE = "{artist}/{artist} - {title} [{id}].{ext}"
FIELDS = ("artist", "title", "id", "ext", "year", "album", "genre")


def check_template(template: str) -> str:
    """The template, or ``ValueError`` saying what is wrong with it."""
    try:
        parts = list(Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"it is not a valid template ({e})") from None
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in FIELDS:
            raise ValueError(f"{{{field}}} is not one of {', '.join(f'{{{f}}}' for f in FIELDS)}")
        if spec or conversion:
            raise ValueError(f"{{{field}}} takes no format or conversion")
    if not template.endswith(".{ext}"):
        raise ValueError("it must end with .{ext}")
    path = PurePosixPath(template)
    if path.is_absolute() or ".." in path.parts or "\\" in template or "\x00" in template:
        raise ValueError("it must be a relative path inside the library")
    if "{" not in path.stem:
        raise ValueError("the file name needs a field (e.g. {title})")
    return template


def render(template: str, values: dict[str, str]) -> PurePosixPath:
    """The relative path for these (already safe) values."""
    return PurePosixPath(template.format(**values))
