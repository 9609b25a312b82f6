"""Settings refuse bad values instead of guessing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.live import REPO, load_settings


@pytest.mark.parametrize("value", ["yes", "on", "maybe", "2"])
def test_it_rejects_a_boolean_that_is_not_true_false_1_or_0(value):
    result = load_settings(DEBUG=value)
    assert result.returncode != 0
    assert "DEBUG must be one of true/false/1/0" in result.stderr


@pytest.mark.parametrize("value", ["TRUE", "1", "false", "0", ""])
def test_it_accepts_the_documented_boolean_spellings(value):
    assert load_settings(MVIDARR_ALLOW_PRIVATE_URLS=value).returncode == 0


def test_it_rejects_a_concurrency_that_is_not_a_positive_number():
    assert "whole number" in load_settings(MVIDARR_DOWNLOAD_CONCURRENCY="three").stderr
    assert "at least 1" in load_settings(MVIDARR_DOWNLOAD_CONCURRENCY="0").stderr


def test_it_rejects_a_bad_library_template_or_media_server_url():
    bad = load_settings(MVIDARR_LIBRARY_TEMPLATE="../{title}.{ext}")
    assert bad.returncode != 0 and "MVIDARR_LIBRARY_TEMPLATE: the template must be" in bad.stderr
    bad = load_settings(MVIDARR_PLEX_URL="plex.lan:32400")
    assert bad.returncode != 0 and "MVIDARR_PLEX_URL must be an http:// or https://" in bad.stderr
    assert load_settings(MVIDARR_JELLYFIN_URL="http://jellyfin:8096/").returncode == 0


def test_it_generates_and_keeps_a_secret_key_in_the_data_dir(tmp_path):
    env = {"MVIDARR_DATA_DIR": str(tmp_path), "SECRET_KEY": ""}
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    run = lambda: subprocess.run(  # noqa: E731
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "mvidarr.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    first = run()
    assert len(first) >= 50
    assert run() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
