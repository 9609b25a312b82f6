"""The data dir (database, secret key, library) is private: the directory is
0700 and every file in it 0600, new or left from an older install."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.apikit import add_video, finished, unique
from tests.live import REPO, LiveApp, load_settings


def manage(data_dir: Path, *args: str) -> None:
    env = {**os.environ, "MVIDARR_DATA_DIR": str(data_dir), "SECRET_KEY": ""}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, check=True)


def loose_modes(root: Path, skip=lambda path: False) -> list[str]:
    """Everything under root that other users could read or enter."""
    loose = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if not skip(path) and mode & 0o077:
            loose.append(f"{path.relative_to(root)}: {mode:o}")
    return loose


def test_a_new_data_dir_is_private(tmp_path):
    data_dir = tmp_path / "data"
    manage(data_dir, "migrate", "-v0")
    assert (data_dir / "mvidarr.sqlite3").exists() and (data_dir / "secret_key").exists()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert loose_modes(data_dir) == []


def test_an_old_world_readable_data_dir_is_tightened(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    for name in ("mvidarr.sqlite3", "secret_key"):
        (data_dir / name).write_text("x" * 60 if name == "secret_key" else "")
        (data_dir / name).chmod(0o644)
    manage(data_dir, "check")
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "mvidarr.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE((data_dir / "secret_key").stat().st_mode) == 0o600


def test_a_running_app_keeps_its_database_and_library_files_private(embedded_app, media):
    client = embedded_app.client()
    video = add_video(client, media.url(unique("media/clip.mp4")), artist="Private", title="Clip")
    finished(client, video["job_id"])
    job = finished(client, client.post(f"/api/videos/{video['id']}/download").json()["job_id"])
    assert job["status"] == "succeeded", job
    data_dir = embedded_app.data_dir
    assert (data_dir / "mvidarr.sqlite3-wal").exists()  # open right now, in WAL mode
    assert list((data_dir / "library" / "Private").glob("*.mp4"))
    # The test harness writes the processes' logs there itself.
    assert loose_modes(data_dir, skip=lambda p: p.suffix == ".log") == []


def test_a_shared_library_gives_media_servers_read_access(media, tmp_path):
    """With MVIDARR_LIBRARY_FILE_MODE=0644 and the library outside the data
    dir, what lands there is readable by others; the data dir stays private."""
    library = tmp_path / "shared library"
    env = {"MVIDARR_LIBRARY_DIR": str(library), "MVIDARR_LIBRARY_FILE_MODE": "0644"}
    with LiveApp("embedded", extra_env=env) as app:
        client = app.client()
        video = add_video(client, media.url(unique("media/clip.mp4")), artist="Shared", title="S")
        finished(client, video["job_id"])
        job = finished(client, client.post(f"/api/videos/{video['id']}/download").json()["job_id"])
        assert job["status"] == "succeeded", job
        file = library / job["result"]["file"]
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (file, file.with_suffix(".nfo"))}
        assert set(modes.values()) == {0o644}, modes
        assert stat.S_IMODE(file.parent.stat().st_mode) == 0o755
        assert stat.S_IMODE(library.stat().st_mode) == 0o755
        assert not loose_modes(app.data_dir, skip=lambda p: p.suffix == ".log")


@pytest.mark.parametrize("mode", ["0755", "0444", "777", "rw-r--r--", "-644", "1644"])
def test_a_library_mode_that_is_not_a_safe_file_mode_stops_the_start(mode):
    result = load_settings(MVIDARR_LIBRARY_FILE_MODE=mode)
    assert result.returncode != 0 and "MVIDARR_LIBRARY_FILE_MODE" in result.stderr
