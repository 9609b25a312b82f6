"""``manage.py download`` in a real terminal (tmux): the bars it draws while
the job runs, and Ctrl-C, which cancels the job and leaves no partial file."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.apikit import job_of, unique, wait_for
from tests.clikit import Terminal, job_id_in
from tests.live import LiveApp

pytestmark = pytest.mark.skipif(not shutil.which("tmux"), reason="tmux is not installed")

# A bar: a percentage, then (after speed and ETA) the stage.
BAR = re.compile(r"━.*\d+\.\d%.* kB/s +ETA \d+:\d\d +downloading")


def _cancelled_without_leftovers(app: LiveApp, job_id: str) -> None:
    """The job is cancelled, its scratch folder goes within the cancel's 2 s,
    and its video has no file."""
    work = app.data_dir / "work" / job_id.replace("-", "")
    wait_for(lambda: not work.exists(), timeout=5)
    with app.client("alice") as client:
        job = job_of(client, job_id)
        assert job["status"] == "cancelled"
        video = client.get(f"/api/videos/{job['subject'].partition(':')[2]}").json()
    assert video["file"] is None and video["status"] == "wanted"


def test_the_terminal_shows_a_bar_and_ctrl_c_cancels_the_job(app, media):
    url = media.url(unique("media/long.mp4?rate=100000"))
    with Terminal(app, "download", url, "--user", "alice") as terminal:
        screen = terminal.wait_for_screen(BAR.search)
        job_id = job_id_in(screen)
        terminal.press("C-c")
        assert terminal.exit_code() == 130
        assert f"Cancelled job {job_id}." in terminal.screen()
    _cancelled_without_leftovers(app, job_id)


def test_a_playlist_shows_its_overall_bar_and_a_bar_per_running_child(app, media):
    url = media.url(unique("feed.xml?n=3&media=long.mp4&rate=100000"))
    with Terminal(app, "download", url, "--kind", "playlist", "--user", "alice") as terminal:
        screen = terminal.wait_for_screen(
            lambda s: len(BAR.findall(s)) >= 2 and "Playlist: " in s and "0/3 done" in s
        )
        lines = screen.splitlines()
        overall = next(line for line in lines if "0/3 done" in line)
        assert overall.startswith("Playlist: Test feed")
        children = [line for line in lines if BAR.search(line)]
        assert all(line.startswith("  Item ") for line in children)
        assert lines.index(overall) < lines.index(children[0])
        terminal.press("C-c")
        assert terminal.exit_code() == 130
    with app.client("alice") as client:
        job = job_of(client, job_id_in(screen))
        assert job["status"] == "cancelled"
        assert job["children"]["cancelled"] == 3


def test_with_no_server_ctrl_c_cancels_the_download_the_command_runs(idle_app, media):
    url = media.url(unique("media/long.mp4?rate=100000"))
    with Terminal(idle_app, "download", url, "--user", "alice") as terminal:
        screen = terminal.wait_for_screen(BAR.search)
        terminal.press("C-c")
        assert terminal.exit_code() == 130
    _cancelled_without_leftovers_here(idle_app, job_id_in(screen))


def _cancelled_without_leftovers_here(app: LiveApp, job_id: str) -> None:
    """As ``_cancelled_without_leftovers``, read from the database (no server)."""
    assert not (app.data_dir / "work" / job_id.replace("-", "")).exists()
    assert not list((app.data_dir / "library").rglob("*.mp4"))
    shown = app.manage("jobs", "show", job_id)
    assert re.search(r"^status +cancelled", shown, re.M), shown
