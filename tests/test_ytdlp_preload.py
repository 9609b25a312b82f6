"""What ``videos.ytdlp`` prepares once per process (the job forkserver's
preload) leaves yt-dlp doing what it would do without it."""

from __future__ import annotations

import ssl

import yt_dlp
from yt_dlp.networking import common as networking

from videos import ytdlp


class Quiet:
    def log(self, level: str, text: str) -> None:
        pass


def test_each_run_has_yt_dlps_default_extractors_in_its_order():
    with (
        yt_dlp.YoutubeDL({"quiet": True}) as plain,
        ytdlp._youtube_dl(ytdlp._Logger(Quiet())) as ours,
    ):
        assert list(ours._ies) == list(plain._ies)
        assert len(ours._ies) > 1000 and "Generic" in ours._ies
        # Each run makes its own instances.
        assert ours.get_info_extractor("Generic") is not plain.get_info_extractor("Generic")


def test_ssl_contexts_are_shared_per_options_and_still_verify():
    first = networking.make_ssl_context(verify=True, legacy_support=False, use_certifi=True)
    again = networking.make_ssl_context(use_certifi=True, legacy_support=False, verify=True)
    assert again is first
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname
    assert first.cert_store_stats()["x509_ca"] > 0
    unverified = networking.make_ssl_context(verify=False, legacy_support=False, use_certifi=True)
    assert unverified is not first and unverified.verify_mode == ssl.CERT_NONE
