"""What yt-dlp itself picks for each profile's options, from a source offering
several formats (no network: yt-dlp's own selection on a list of formats)."""

from __future__ import annotations

import pytest
import yt_dlp

from videos.ytdlp_options import format_options


def fmt(format_id: str, height: int | None, ext: str, vcodec: str, acodec: str) -> dict:
    width = height * 16 // 9 if height else None
    return {"format_id": format_id, "height": height, "width": width, "ext": ext,
            "vcodec": vcodec, "acodec": acodec}  # fmt: skip


FORMATS = [
    fmt("360", 360, "mp4", "avc1", "mp4a"),
    fmt("720", 720, "mp4", "avc1", "mp4a"),
    fmt("720-vp9", 720, "webm", "vp9", "opus"),
    fmt("1080", 1080, "mp4", "avc1", "mp4a"),
    fmt("audio", None, "m4a", "none", "mp4a"),
]


def chosen(profile: dict, formats: list[dict] = FORMATS) -> str:
    info = {"id": "x", "title": "x", "extractor": "test", "webpage_url": "http://x/"}
    formats = [{**f, "url": f"http://x/{f['format_id']}", "protocol": "https"} for f in formats]
    options = {"quiet": True, "simulate": True, **format_options(profile)}
    with yt_dlp.YoutubeDL(options) as ydl:
        picked = ydl.process_ie_result({**info, "formats": formats}, download=False)
    return picked["format_id"].split("+")[0]  # its video (these formats all carry audio)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ({}, "1080"),
        ({"max_height": 720}, "720-vp9"),  # yt-dlp ranks VP9 above H.264
        ({"max_height": 480}, "360"),
        ({"max_height": 720, "container": "mp4"}, "720"),
        ({"max_height": 720, "container": "webm"}, "720-vp9"),
        ({"max_height": 720, "video_codec": "h264"}, "720"),
        ({"audio_only": True}, "audio"),
    ],
)
def test_each_profile_picks_the_format_it_asks_for(profile, expected):
    assert chosen(profile) == expected


def test_a_source_with_nothing_small_enough_gives_its_smallest_larger_format():
    assert chosen({"max_height": 240}, FORMATS[:2]) == "360"
