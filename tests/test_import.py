"""Importing what people already have: a folder of video files becomes
downloaded videos, named from NFOs or file names, each file imported once
however often the import runs; by command and from the Import page."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.apikit import finished, web_session
from tests.live import REPO
from tests.media import DEFAULT_CACHE

NFO = """<?xml version="1.0" encoding="utf-8"?>
<musicvideo><title>Real Title</title><artist>Real Artist</artist><album>An Album</album>
<year>1999</year><genre>Pop</genre><director>Some Director</director></musicvideo>"""


def make_folder(root: Path, count: int, first: int = 0) -> list[Path]:
    """``count`` distinct clips named ``Artist N - Song N.mp4`` (bytes of
    padding make each file its own: numbers from ``first`` on are new)."""
    clip = (DEFAULT_CACHE / "clip.mp4").read_bytes()
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(first, first + count):
        path = root / f"Artist {n % 4} - Song {n}.mp4"
        path.write_bytes(clip + b"\0" * (n + 1))
        paths.append(path)
    return paths


def videos_of(app, user="alice") -> list[dict]:
    return app.client(user).get("/api/videos", params={"page_size": 1000}).json()["items"]


def test_importing_a_folder_twice_gives_each_file_once(embedded_app, media, tmp_path):
    folder = tmp_path / "old collection"
    make_folder(folder / "sub", 20)
    (folder / "notes.txt").write_text("not a video")
    (folder / "broken.mp4").write_bytes(b"not really an mp4")
    out = embedded_app.manage("import_library", str(folder), "--user", "alice")
    assert "Imported 20 of 21 file(s): 0 already in the library, 1 not videos." in out
    imported = [v for v in videos_of(embedded_app) if v["url"].startswith("file:")]
    assert len(imported) == 20
    assert {v["status"] for v in imported} == {"downloaded"}
    song = next(v for v in imported if v["title"] == "Song 5")
    assert song["artist"] == "Artist 1" and song["duration"] > 0 and song["width"]
    library = embedded_app.data_dir / "library"
    assert (library / song["file"]).is_file()
    assert (library / song["file"]).with_suffix(".nfo").is_file()
    assert len(list((folder / "sub").glob("*.mp4"))) == 20  # copied, not moved

    again = embedded_app.manage("import_library", str(folder), "--user", "alice")
    assert "Imported 0 of 21 file(s): 20 already in the library" in again
    # Known files were hashed, not probed again.
    runs = embedded_app.client("alice").get("/api/jobs", params={"kind": "import_library"}).json()
    assert [run["result"]["probed"] for run in runs[:2]] == [0, 20]
    # A copy under another name is the same file: not imported either.
    shutil.copyfile(folder / "sub" / "Artist 1 - Song 5.mp4", folder / "renamed.mp4")
    assert "Imported 0 of 22" in embedded_app.manage(
        "import_library", str(folder), "--user", "alice"
    )
    assert len([v for v in videos_of(embedded_app) if v["url"].startswith("file:")]) == 20


def test_an_nfo_beside_a_file_names_it_and_move_takes_both(embedded_app, media, tmp_path):
    folder = tmp_path / "with nfo"
    [path] = make_folder(folder, 1, first=50)
    path.with_suffix(".nfo").write_text(NFO)
    embedded_app.manage("import_library", str(folder), "--user", "bob", "--move")
    [video] = videos_of(embedded_app, "bob")
    assert (video["title"], video["artist"]) == ("Real Title", "Real Artist")
    assert not path.exists() and not path.with_suffix(".nfo").exists()
    nfo = ET.parse((embedded_app.data_dir / "library" / video["file"]).with_suffix(".nfo"))
    fields = {tag: nfo.findtext(tag) for tag in ("album", "year", "genre", "director")}
    assert fields == {
        "album": "An Album",
        "year": "1999",
        "genre": "Pop",
        "director": "Some Director",
    }


def test_files_already_inside_the_library_are_registered_where_they_are(embedded_app, media):
    folder = embedded_app.data_dir / "library" / "Kept Artist"
    [path] = make_folder(folder, 1, first=60)
    embedded_app.manage("import_library", str(folder), "--user", "staff")
    [video] = [v for v in videos_of(embedded_app, "staff") if v["url"] == path.as_uri()]
    assert video["file"] == f"Kept Artist/{path.name}"
    assert sorted(p.name for p in folder.iterdir()) == [path.name]  # no copy, no NFO forced


def test_symlinks_and_hidden_files_are_not_followed(embedded_app, media, tmp_path):
    outside = tmp_path / "outside"
    make_folder(outside, 2)
    folder = tmp_path / "linked"
    folder.mkdir()
    (folder / "escape").symlink_to(outside, target_is_directory=True)
    (folder / "one.mp4").symlink_to(outside / "Artist 0 - Song 0.mp4")
    shutil.copyfile(outside / "Artist 1 - Song 1.mp4", folder / ".hidden.mp4")
    out = embedded_app.manage("import_library", str(folder), "--user", "bob")
    assert "Imported 0 of 0" in out


def run_command(app, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "import_library", *args],
        cwd=REPO,
        env=app.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["/no/such/folder", "--user", "alice"], "Not a folder"),
        (["/etc/hostname", "--user", "alice"], "Not a folder"),
        ([".", "--user", "nobody"], "No user named 'nobody'"),
    ],
)
def test_bad_command_input_is_a_clear_error(embedded_app, args, message):
    result = run_command(embedded_app, *args)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_staff_import_from_the_page_and_watch_it_finish(embedded_app, media, tmp_path):
    folder = tmp_path / "from the page"
    make_folder(folder, 3, first=100)
    web = web_session(embedded_app, "staff")
    page = web.get("/library/import/")
    assert page.status_code == 200
    token = web.cookies["csrftoken"]
    form = {"path": str(folder), "user": _user_id(page.text, "alice"), "csrfmiddlewaretoken": token}
    response = web.post("/library/import/", data=form)
    assert response.status_code == 302 and "/jobs/" in response.headers["location"]
    job_id = response.headers["location"].rstrip("/").rsplit("/", 1)[1]
    job = finished(embedded_app.client("staff"), job_id)
    assert job["status"] == "succeeded" and job["result"]["imported"] == 3, job
    titles = {v["title"] for v in videos_of(embedded_app)}
    assert {"Song 100", "Song 101", "Song 102"} <= titles


def _user_id(html: str, username: str) -> str:
    return re.search(rf'<option value="(\d+)"[^>]*>{username}</option>', html).group(1)


@pytest.mark.parametrize("path", ["relative/path", "/no/such/folder", "/tmp/\x00evil"])
def test_the_import_page_refuses_a_bad_folder(embedded_app, path):
    web = web_session(embedded_app, "staff")
    web.get("/library/import/")
    form = {"path": path, "user": "1", "csrfmiddlewaretoken": web.cookies["csrftoken"]}
    response = web.post("/library/import/", data=form)
    assert response.status_code == 422
    assert re.search(r"absolute path|no folder|Null characters are not allowed", response.text)


def test_only_staff_reach_the_import_page(embedded_app, tmp_path):
    web = web_session(embedded_app, "alice")
    assert web.get("/library/import/").status_code == 302
    web.get("/login/")
    form = {"path": str(tmp_path), "user": "1", "csrfmiddlewaretoken": web.cookies["csrftoken"]}
    assert web.post("/library/import/", data=form).status_code == 302
