"""What lands in the library: only real media confirmed by its probe, under a
name (and NFO name) of its own, never over another file, with an NFO that is
valid XML whatever the remote metadata holds."""

from __future__ import annotations

import shutil
import subprocess
from xml.etree import ElementTree as ET

import pytest
from django.conf import settings

from jobs.child import WorkError
from tests.apikit import add_video, finished, probe, unique
from tests.media import DEFAULT_CACHE
from tests.pagekit import video_of
from videos import probing
from videos.nfo import write_nfo
from videos.probing import confirm_media


@pytest.mark.parametrize("name", ["evil.svg", "evil.swf", "evil.json", "evil.mp4"])
def test_a_download_that_is_not_media_is_refused_for_good(embedded_app, media, name):
    client = embedded_app.client()
    video = add_video(client, media.url(unique(f"blob/{name}")), artist="Blob", title=name)
    finished(client, video["job_id"])
    job = finished(client, client.post(f"/api/videos/{video['id']}/download").json()["job_id"])
    assert job["status"] == "failed", job
    assert job["error_code"] == "not_media", job
    assert job["attempts"] == 1
    assert "Refused" in job["error"]
    assert not list((embedded_app.data_dir / "library").rglob(f"*{name.split('.')[0]}*"))
    assert client.get(f"/api/videos/{video['id']}").json()["status"] == "failed"


def clip(tmp_path, name="clip.mp4"):
    source = tmp_path / name
    shutil.copyfile(DEFAULT_CACHE / "clip.mp4", source)
    return source


def test_a_real_clip_is_accepted_under_a_media_extension_only(media, tmp_path):
    real = clip(tmp_path)
    confirm_media(real, "mp4")
    with pytest.raises(WorkError, match="not a video or audio type"):
        confirm_media(real, "svg")
    fake = tmp_path / "fake.mp4"
    fake.write_text("<svg/>")
    with pytest.raises(WorkError, match="not a video or audio file") as refused:
        confirm_media(fake, "mp4")
    assert refused.value.detail.startswith("found format ")
    damaged = tmp_path / "damaged.mp4"
    shutil.copyfile(DEFAULT_CACHE / "damaged.mp4", damaged)
    for hostile in (damaged, tmp_path / "gone.mp4", tmp_path):
        assert probing.probe(hostile) == {}
        with pytest.raises(WorkError, match="not a video or audio file"):
            confirm_media(hostile, "mp4")


@pytest.mark.parametrize("name", ["playlist.mp4", "playlist.m3u8"])
@pytest.mark.parametrize("where", ["server", "disk"])
def test_a_probe_reads_the_file_alone_never_what_it_names(media, tmp_path, name, where):
    """A playlist naming a real segment, on a reachable server or beside it
    on disk: the probe opens neither and refuses the file."""
    key = unique("hls/clip/seg000.ts")
    if where == "server":
        segment = media.url(key)
    else:
        segment = tmp_path / "seg000.ts"
        shutil.copyfile(DEFAULT_CACHE / "hls" / "clip" / "seg000.ts", segment)
    playlist = tmp_path / name
    playlist.write_text(
        f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{segment}\n#EXT-X-ENDLIST\n"
    )
    assert probing.probe(playlist) == {}
    assert media.stats(key.rpartition("key=")[2]) == 0


def _sound_only(tmp_path):
    target = tmp_path / "sound.m4a"
    source = DEFAULT_CACHE / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(source), "-vn", "-c", "copy", str(target)])
    return target


@pytest.mark.parametrize(
    "name", ["clip.mp4", "heavy.mp4", "pcm.mkv", "ffv1.mkv", "hls/clip/seg000.ts", "sound.m4a"]
)
def test_the_probe_finds_what_ffprobe_finds(media, tmp_path, name):
    """The in-process probe (PyAV) and Debian's ffprobe agree on every field
    the library keeps, for each kind of file the media server serves."""
    path = _sound_only(tmp_path) if name == "sound.m4a" else DEFAULT_CACHE / name
    ext = path.suffix[1:]
    ours = probing.technical(probing.probe(path), ext)
    theirs = probing.technical(probe(path), ext)
    assert ours["duration"] == pytest.approx(theirs["duration"], abs=0.01)
    assert {**ours, "duration": 0} == {**theirs, "duration": 0}
    assert ours["video_codec" if name != "sound.m4a" else "audio_codec"]


def test_a_file_already_on_disk_is_never_overwritten(users, media, tmp_path):
    video = video_of(users["alice"], "T", artist="A", url="http://a/1", source_id="x")
    squatter = settings.LIBRARY_DIR / "A" / "A - T [x].mp4"
    squatter.parent.mkdir(parents=True, exist_ok=True)
    squatter.write_bytes(b"not ours")
    target = video.file_into_library(clip(tmp_path), "mp4")
    assert squatter.read_bytes() == b"not ours"
    assert target.name == f"A - T [x-{video.pk}].mp4"
    assert target.with_suffix(".nfo").exists()  # reserved with it


def test_two_videos_with_one_name_and_other_extensions_get_their_own_nfo(users, media, tmp_path):
    first, second = (
        video_of(owner, "Same", artist="B", url=f"http://{owner}/1", source_id="y")
        for owner in (users["alice"], users["bob"])
    )
    one = first.file_into_library(clip(tmp_path, "a.mp4"), "mp4")
    first.mark_downloaded(one, 1, {})
    write_nfo(one.with_suffix(".nfo"), title="First", artist="B", media={"duration": 1}, info={})
    two = second.file_into_library(clip(tmp_path, "b.mkv"), "mkv")
    write_nfo(two.with_suffix(".nfo"), title="Second", artist="B", media={"duration": 1}, info={})
    assert one.with_suffix(".nfo") != two.with_suffix(".nfo")
    assert ET.parse(one.with_suffix(".nfo")).findtext("title") == "First"
    assert ET.parse(two.with_suffix(".nfo")).findtext("title") == "Second"


def test_the_nfo_is_valid_xml_whatever_the_metadata_holds(tmp_path, settings):
    settings.ALLOW_PRIVATE_URLS = False
    nasty = "Bad\x00 \x01title\x1b[31m \ufffe end"
    path = tmp_path / "v.nfo"
    info = {"album": "\x07Album", "description": "line\x0bbreak", "upload_date": "2024\x00"}
    write_nfo(path, title=nasty, artist="Art\x08ist", media={"duration": 60}, info=info)
    root = ET.parse(path).getroot()
    assert root.findtext("title") == "Bad title[31m  end"
    assert root.findtext("artist") == "Artist"
    assert root.findtext("plot") == "linebreak"


@pytest.mark.parametrize(
    ("thumb", "kept"),
    [
        ("https://93.184.215.14/cover.jpg", True),
        ("http://169.254.169.254/latest/meta-data/", False),
        ("http://[64:ff9b::a9fe:a9fe]/x.jpg", False),
        ("file:///etc/passwd", False),
        ("javascript:alert(1)", False),
    ],
)
def test_the_nfo_thumb_is_only_a_public_http_url(tmp_path, settings, thumb, kept):
    settings.ALLOW_PRIVATE_URLS = False
    path = tmp_path / "v.nfo"
    write_nfo(path, title="T", artist="A", media={}, info={"thumbnail": thumb})
    assert (ET.parse(path).findtext("thumb") == thumb) is kept
