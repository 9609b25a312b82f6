"""A failed download says what went wrong in plain words wherever a user
looks -- the API, the job page, the Activity rows, the Library row and the
video page -- with the raw output of the tool under "Details"."""

from __future__ import annotations

import contextlib
import uuid

from tests.apikit import add_profile, finished, submit_download, unique, web_session
from tests.diskkit import files_under, tmpfs
from tests.live import LiveApp
from tests.pagekit import job_of, video_of
from videos.models import Video

DETAILS = '<details class="error-detail"><summary>Details</summary><pre>'


def failed_download(app, media, name: str, **profile) -> tuple[dict, dict]:
    """Download ``media/<name>`` with a new profile; the failed job and its video."""
    client = app.client("alice")
    profile = add_profile(app, **profile)
    job_id = submit_download(client, media.url(unique(f"media/{name}")), profile=profile["name"])
    job = finished(client, job_id)
    assert job["status"] == "failed", job
    video = client.get(f"/api/videos/{job['subject'].partition(':')[2]}").json()
    return job, video


def pages_of(app, job: dict, video: dict) -> dict[str, str]:
    """The HTML of the pages that show the failure, as alice's browser gets them."""
    with contextlib.closing(web_session(app)) as web:
        return {
            path: web.get(path).text
            for path in (f"/jobs/{job['id']}/", "/?status=failed", f"/videos/{video['id']}/")
        }


def test_a_damaged_download_fails_in_plain_words_with_ffmpeg_s_under_details(embedded_app, media):
    job, video = failed_download(embedded_app, media, "damaged.mp4", container="mkv")
    friendly = "The downloaded file is damaged or not a video"
    assert (job["error_code"], job["error"], job["attempts"]) == ("corrupt_input", friendly, 1)
    assert "Invalid data found when processing input" in job["error_detail"]
    assert (video["status"], video["error"]) == ("failed", friendly)
    log = embedded_app.client("alice").get(f"/api/jobs/{job['id']}/log").json()
    assert any(line["message"].startswith("Last ffmpeg output:\n") for line in log)
    for path, html in pages_of(embedded_app, job, video).items():
        assert friendly in html, path
        details = html[html.index(DETAILS) :]
        assert "Invalid data found when processing input" in details.partition("</pre>")[0], path
    assert not (embedded_app.data_dir / "work" / uuid.UUID(job["id"]).hex).exists()


def test_a_codec_the_profile_s_container_cannot_hold_fails_as_an_unsupported_codec(
    embedded_app, media
):
    job, video = failed_download(embedded_app, media, "ffv1.mkv", container="mp4")
    friendly = "Unsupported codec: the MP4 format cannot hold this video's ffv1"
    assert (job["error_code"], job["error"], video["error"]) == ("codec", friendly, friendly)
    assert "codec not currently supported in container" in job["error_detail"]


def test_a_disk_that_fills_up_while_processing_fails_the_job_and_leaves_nothing(media):
    app = LiveApp("embedded", extra_env={"MVIDARR_MIN_FREE_MB": "0"})
    # 3 MB of scratch space: the 2 MB download fits, its remuxed copy does not.
    with tmpfs(app.data_dir / "work", 3), app:
        job, video = failed_download(app, media, "long.mp4", container="mkv")
        friendly = "The disk filled up while processing the video"
        assert (job["error_code"], job["error"], video["error"]) == (
            "disk_full",
            friendly,
            friendly,
        )
        assert "No space left on device" in job["error_detail"]
        queue = app.client("alice").get("/api/queue").json()
        assert queue["paused"] and friendly in queue["reason"]
        assert files_under(app.data_dir / "work") == []
        assert files_under(app.data_dir / "library") == []


# -- in process: what the pages and the API make of any failure ----------------

HOSTILE = "ERROR: <script>alert(1)</script> & the rest"


def failed_job(user, detail: str = HOSTILE):
    video = video_of(user, status=Video.Status.FAILED, error="Video not found (HTTP 404)")
    return video, job_of(
        user,
        video,
        status="failed",
        error="Video not found (HTTP 404)",
        error_code="not_found",
        error_detail=detail,
    )


def test_the_raw_output_is_shown_escaped_under_details_on_every_page(client, users):
    video, job = failed_job(users["alice"])
    client.force_login(users["alice"])
    for path in (f"/jobs/{job.pk}/", "/", f"/videos/{video.pk}/", "/activity/"):
        html = client.get(path).content.decode()
        assert DETAILS + "ERROR: &lt;script&gt;alert(1)&lt;/script&gt; &amp; the rest" in html, path
        assert "<script>alert(1)" not in html, path


def test_a_failure_without_raw_output_shows_no_empty_details(client, users):
    video, job = failed_job(users["alice"], detail="")
    client.force_login(users["alice"])
    for path in (f"/jobs/{job.pk}/", "/", f"/videos/{video.pk}/"):
        html = client.get(path).content.decode()
        assert "Video not found (HTTP 404)" in html and "error-detail" not in html, path


def test_the_api_gives_the_raw_output_beside_the_plain_words(api, users):
    _, job = failed_job(users["alice"])
    found = api("get", f"/jobs/{job.pk}").json()
    assert found["error"] == "Video not found (HTTP 404)"
    assert found["error_detail"] == HOSTILE
    assert api("get", "/jobs?status=failed").json()[0]["error_detail"] == HOSTILE
    assert api("get", f"/jobs/{job.pk}", user="bob").status_code == 404
