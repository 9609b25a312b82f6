"""Every failure reads in plain words, and the raw output of the tool behind
it is kept apart as its detail. The failures are real: ffmpeg on a damaged
file, on a codec the target container cannot hold and on a disk that fills
up; yt-dlp against the local media server's error statuses, a stalled and a
broken-off transfer, a closed port and a page without a video."""

from __future__ import annotations

import multiprocessing
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from jobs.child import Reporter, WorkError
from tests.diskkit import files_under, tmpfs
from tests.media import DEFAULT_CACHE
from videos import ytdlp
from videos.media import process, processing_plan

# -- ffmpeg -------------------------------------------------------------------

H264 = {"video_codec": "h264"}


def remux_error(source, container: str) -> WorkError:
    """The processing stage's ffmpeg run on ``source`` for a profile that
    wants ``container``, which must fail. The plan is told nothing of the
    sound, so ffmpeg is asked to copy whatever it finds."""
    info = {"height": 240, "vcodec": "h264", "duration": 6}
    plan = processing_plan(info, source.suffix.lstrip("."), {"container": container})
    with pytest.raises(WorkError) as caught:
        process(source, plan, {"title": "Song"}, lambda percent: None)
    return caught.value


def copy_of(name: str, folder):
    return shutil.copyfile(DEFAULT_CACHE / name, folder / name)


def test_a_damaged_file_is_called_damaged_with_ffmpeg_s_words_as_detail(media, tmp_path):
    source = copy_of("damaged.mp4", tmp_path)
    error = remux_error(source, "mkv")
    assert (error.code, str(error)) == (
        "corrupt_input",
        "The downloaded file is damaged or not a video",
    )
    assert "Invalid data found when processing input" in error.detail
    assert files_under(tmp_path) == [source]  # no half-written output


def test_a_codec_the_container_cannot_hold_is_called_an_unsupported_codec(media, tmp_path):
    source = copy_of("pcm.mkv", tmp_path)
    error = remux_error(source, "mp4")
    assert error.code == "codec" and not error.transient
    assert str(error) == "Unsupported codec: the MP4 format cannot hold this video's pcm_s16le"
    assert "codec not currently supported in container" in error.detail
    assert files_under(tmp_path) == [source]


def test_a_disk_that_fills_up_while_processing_is_called_full(media, tmp_path):
    # 3 MB: the 2 MB download fits, its remuxed copy does not.
    with tmpfs(tmp_path / "disk", 3) as disk:
        source = copy_of("long.mp4", disk)
        error = remux_error(source, "mkv")
        assert (error.code, str(error)) == (
            "disk_full",
            "The disk filled up while processing the video",
        )
        assert "No space left on device" in error.detail
        assert files_under(disk) == [source]


def test_a_stream_ffmpeg_complains_about_at_length_is_still_processed(media, tmp_path):
    # ffmpeg writes more errors than a pipe holds: they are read as they come.
    source = copy_of("glitchy.mp4", tmp_path)
    plan = processing_plan({"height": 720, "vcodec": "mp4v", "duration": 20}, "mp4", H264)
    pool = ThreadPoolExecutor(1)
    running = pool.submit(process, source, plan, {}, lambda percent: None, preset="ultrafast")
    try:
        target = running.result(timeout=300)
    finally:
        pool.shutdown(wait=False)
    assert target.is_file() and not source.exists()


def test_any_other_ffmpeg_failure_is_a_processing_failure_with_its_words(media, tmp_path):
    source = copy_of("clip.mp4", tmp_path)
    plan = {"scale_to": None, "transcode": False, "ext": "nosuchformat", "duration": 6}
    with pytest.raises(WorkError) as caught:
        process(source, plan, {}, lambda percent: None)
    assert (caught.value.code, str(caught.value)) == ("processing_failed", "Processing failed")
    assert "Unable to find a suitable output format" in caught.value.detail


# -- yt-dlp ------------------------------------------------------------------


def ytdlp_error(url: str, tmp_path, download: bool = False, **options) -> WorkError:
    """What a real yt-dlp run against ``url`` fails with, classified as the
    job's child classifies it; ``options`` tighten yt-dlp's time-outs."""
    receiving, sending = multiprocessing.Pipe(duplex=False)
    logger = ytdlp._Logger(Reporter(sending))
    options = {"paths": {"home": str(tmp_path)}, **options}
    with pytest.raises(WorkError) as caught, ytdlp._youtube_dl(logger, **options) as ydl:
        ydl.extract_info(url, download=download)
    sending.close()
    receiving.close()
    return caught.value


HTTP_FAILURES = [
    (404, "not_found", "Video not found (HTTP 404): the link is wrong or the video was removed"),
    (410, "not_found", "Video not found (HTTP 410): the link is wrong or the video was removed"),
    (403, "forbidden", "Access denied (HTTP 403): the video may be private or need a login"),
    (401, "forbidden", "Access denied (HTTP 401): the video may be private or need a login"),
    (429, "rate_limited", "The site is refusing requests for now (HTTP 429: too many requests)"),
    (503, "server_error", "The site is unavailable right now (HTTP 503)"),
    (500, "server_error", "The site is unavailable right now (HTTP 500)"),
    (418, "http_error", "The site answered with an error (HTTP 418)"),
]


@pytest.mark.parametrize(("status", "code", "message"), HTTP_FAILURES)
def test_an_http_error_reads_in_plain_words_with_yt_dlp_s_output_as_detail(
    media, tmp_path, status, code, message
):
    url = media.url(f"media/clip.mp4?status={status}")
    error = ytdlp_error(url, tmp_path)
    assert (error.code, str(error)) == (code, message)
    assert error.transient == (code in ("rate_limited", "server_error"))
    assert f"HTTP Error {status}" in error.detail
    assert f"[generic] Extracting URL: {url}" in error.detail  # yt-dlp's own lines


def test_a_page_without_a_video_is_an_unsupported_url(media, tmp_path):
    error = ytdlp_error(media.url("embed.html?src="), tmp_path)
    assert (error.code, str(error)) == ("unsupported", ytdlp.UNSUPPORTED)
    assert "Unsupported URL: " + media.url("embed.html?src=") in error.detail


def test_a_site_that_stops_answering_has_timed_out_and_is_worth_another_try(media, tmp_path):
    url = media.url("media/clip.mp4?stall_after=1000")
    error = ytdlp_error(url, tmp_path, download=True, socket_timeout=1, retries=0)
    assert (error.code, error.transient) == ("network", True)
    assert str(error) == "Timed out: the site stopped answering"
    assert "timed out" in error.detail


def test_a_transfer_that_breaks_off_is_worth_another_try(media, tmp_path):
    url = media.url("media/clip.mp4?drop_after=1000")
    error = ytdlp_error(url, tmp_path, download=True, retries=0)
    assert (error.code, error.transient) == ("network", True)
    assert str(error) == "The connection broke off before the download finished"
    assert "1000 bytes read" in error.detail


def test_a_site_that_cannot_be_reached_is_a_network_error(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = ytdlp_error(f"http://127.0.0.1:{port}/clip.mp4", tmp_path)
    assert (error.code, error.transient) == ("network", True)
    assert str(error) == "Could not reach the site (network error)"
    assert "Connection refused" in error.detail


def test_the_detail_keeps_the_end_of_a_huge_output():
    error = WorkError("Processing failed", "processing_failed", detail="x" * 20_000 + "the end")
    assert len(error.detail) == 8000 and error.detail.endswith("the end")
