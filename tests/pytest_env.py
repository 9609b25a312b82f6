"""Loaded with ``-p`` (see pyproject.toml), before pytest-django reads the
settings: the settings take their data dir and URL policy from the
environment once, at import."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("MVIDARR_DATA_DIR", tempfile.mkdtemp(prefix="mvidarr-pytest-"))
os.environ.setdefault("MVIDARR_ALLOW_PRIVATE_URLS", "true")
