"""Loaded with ``-p`` (see pyproject.toml), before pytest-django reads the
settings: the settings take their data dir and URL policy from the
environment once, at import."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("MVIDARR_DATA_DIR", tempfile.mkdtemp(prefix="mvidarr-pytest-"))
os.environ.setdefault("MVIDARR_ALLOW_PRIVATE_URLS", "true")
# The disk guard's default (1 GB free) would fail every download on a test
# machine with little disk; tests of the guard set their own.
os.environ.setdefault("MVIDARR_MIN_FREE_MB", "20")
