"""Thumbnails, made for real: a download is followed by a job on the
``image_processing`` queue that fetches the source's picture (or takes a frame
of the file with ffmpeg) and makes JPEGs 320, 640 and 1280 px wide with Pillow,
for the pages, the API and, beside the video, Kodi/Jellyfin/Plex."""

from __future__ import annotations

import re
import subprocess
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image, ImageChops, ImageStat

from tests.apikit import finished, submit_download, thumbnail_job, unique, web_session
from tests.live import LiveApp

SIZES = {"320": 320, "640": 640, "1280": 1280}


@pytest.fixture(scope="module")
def app():
    # Two thumbnail jobs at a time, to see the queue's concurrency hold.
    with LiveApp("embedded", extra_env={"MVIDARR_IMAGE_CONCURRENCY": "2"}) as app:
        yield app


def page_with_thumb(media, thumb: str, video: str = "clip") -> str:
    """A page whose video yt-dlp finds, naming ``thumb`` as its picture."""
    return media.url(unique(f"page/{video}.html?thumb={quote(thumb, safe='')}"))


def downloaded(client, url: str) -> tuple[dict, dict]:
    """Download ``url``; the video and its (finished) thumbnail job."""
    job = finished(client, submit_download(client, url), timeout=120)
    assert job["status"] == "succeeded", job
    video_id = job["result"]["video_id"]
    thumbs = thumbnail_job(client, video_id)
    return client.get(f"/api/videos/{video_id}").json(), thumbs


def widths(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.stem: Image.open(p).size for p in sorted(folder.glob("*.jpg"))}


def leftovers(app) -> list[Path]:
    """Temporary files of thumbnails anywhere in the data dir."""
    return list(app.data_dir.rglob("*.part")) + list((app.data_dir / "work").iterdir())


def test_a_download_ends_with_three_sizes_and_a_thumb_beside_the_file(app, media):
    client = app.client("alice")
    video, job = downloaded(client, page_with_thumb(media, media.url("media/thumb.jpg")))
    assert job["status"] == "succeeded", job
    assert job["queue"] == "image_processing" and job["result"]["from"] == "thumbnail"
    folder = app.data_dir / "thumbs" / str(video["id"])
    assert widths(folder) == {"320": (320, 180), "640": (640, 360), "1280": (1280, 720)}
    assert {p.stat().st_mode & 0o777 for p in folder.iterdir()} == {0o600}
    path = app.data_dir / "library" / video["file"]
    beside = path.with_name(f"{path.stem}-thumb.jpg")
    assert Image.open(beside).size == (1280, 720)
    assert set(video["thumbnails"]) == set(SIZES)
    for key, url in video["thumbnails"].items():
        assert re.fullmatch(rf"/videos/{video['id']}/thumbnail/{key}\.jpg\?v=1", url), url
    web = web_session(app, "alice")
    response = web.get(video["thumbnails"]["640"])
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert Image.open(BytesIO(response.content)).size == (640, 360)
    assert web_session(app, "bob").get(video["thumbnails"]["640"]).status_code == 404
    assert not leftovers(app)


def test_scaled_mode_makes_them_in_its_worker_process(redis_app, media):
    video, job = downloaded(redis_app.client("bob"), media.url(unique("media/clip.mp4")))
    assert job["status"] == "succeeded" and job["result"]["from"] == "frame", job
    assert set(video["thumbnails"]) == set(SIZES)
    assert widths(redis_app.data_dir / "thumbs" / str(video["id"]))["1280"] == (320, 240)


def test_a_video_whose_source_has_no_picture_gets_a_frame_at_ten_percent(app, media):
    client = app.client("alice")
    video, job = downloaded(client, media.url(unique("media/long.mp4")))
    assert job["status"] == "succeeded", job
    assert job["result"]["from"] == "frame"
    log = [line["message"] for line in client.get(f"/api/jobs/{job['id']}/log").json()]
    assert "From a frame at 3 s of the video" in log
    # The 320x240 clip is narrower than 640: the larger sizes are the frame at its own width.
    folder = app.data_dir / "thumbs" / str(video["id"])
    assert widths(folder) == {"320": (320, 240), "640": (320, 240), "1280": (320, 240)}
    made = Image.open(folder / "320.jpg").convert("RGB")
    at_3, at_0 = (frame_of(media.cache / "long.mp4", t) for t in (3.0, 0.0))
    assert difference(made, at_3) < difference(made, at_0) / 4


def frame_of(path: Path, at: float) -> Image.Image:
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", str(at), "-i", str(path), "-frames:v", "1"]
        + ["-f", "image2pipe", "-c:v", "png", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return Image.open(BytesIO(out)).convert("RGB")


def difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean)


def test_a_tiny_source_picture_is_never_upscaled(app, media):
    client = app.client("alice")
    video, job = downloaded(client, page_with_thumb(media, media.url("media/small.png")))
    assert job["status"] == "succeeded", job
    folder = app.data_dir / "thumbs" / str(video["id"])
    assert widths(folder) == {"320": (200, 112), "640": (200, 112), "1280": (200, 112)}
    assert set(video["thumbnails"]) == set(SIZES)  # every size has a URL, none is blown up
    path = app.data_dir / "library" / video["file"]
    assert Image.open(path.with_name(f"{path.stem}-thumb.jpg")).size == (200, 112)


@pytest.mark.parametrize(
    ("thumb", "code", "words"),
    [
        ("blob/x.jpg?type=image/jpeg", "not_image", "it is not an image"),
        ("huge.jpg?bytes=11000000", "image_too_large", "larger than 10 MB"),
        ("huge.jpg?bytes=11000000&length=0", "image_too_large", "larger than 10 MB"),
        ("media/bomb.png", "image_too_large", "decompression bomb"),
        ("redirect?to=file:///etc/passwd", "not_image", "Redirection to url 'file:///etc/passwd'"),
    ],
)
def test_a_hostile_picture_fails_the_job_clearly_and_leaves_no_files(
    app, media, thumb, code, words
):
    client = app.client("alice")
    video, job = downloaded(client, page_with_thumb(media, media.url(thumb)))
    assert job["status"] == "failed" and job["error_code"] == code, job
    assert words in job["error"] and job["attempts"] == 1, job
    assert video["status"] == "downloaded" and video["thumbnails"] == {}
    assert not (app.data_dir / "thumbs" / str(video["id"])).exists()
    path = app.data_dir / "library" / video["file"]
    assert not path.with_name(f"{path.stem}-thumb.jpg").exists()
    assert not leftovers(app)


def test_regenerating_from_the_library_runs_one_parent_with_a_child_per_video(app, media):
    client = app.client("alice")
    thumb = media.url("media/thumb.jpg?rate=150000")  # ~0.4 s each: they overlap
    videos = [
        downloaded(client, page_with_thumb(media, thumb))[0],
        downloaded(client, media.url(unique("media/clip.mp4")))[0],
        downloaded(client, page_with_thumb(media, thumb))[0],
        downloaded(client, page_with_thumb(media, thumb))[0],
    ]
    web = web_session(app, "alice")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', web.get("/").text).group(1)
    response = web.post(
        "/videos/bulk/thumbnails/",
        data={"video": [str(v["id"]) for v in videos], "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302, response.text
    parents = client.get("/api/jobs", params={"kind": "regenerate_thumbnails"}).json()
    parent = finished(client, parents[0]["id"])
    assert parent["status"] == "succeeded", parent
    assert parent["children"]["total"] == parent["children"]["succeeded"] == 4
    children = [j for j in client.get("/api/jobs").json() if j["parent_id"] == parent["id"]]
    assert {c["subject"] for c in children} == {f"video:{v['id']}" for v in videos}
    for video in videos:
        again = client.get(f"/api/videos/{video['id']}").json()
        assert again["thumbnails"]["320"].endswith("?v=2")  # a new URL for the new files
    # MVIDARR_IMAGE_CONCURRENCY=2: two at a time, never more.
    assert max_overlap(children) == 2


def max_overlap(jobs: list[dict]) -> int:
    events = sorted(
        [(j["started_at"], 1) for j in jobs] + [(j["finished_at"], -1) for j in jobs],
        key=lambda e: (e[0], e[1]),
    )
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak
