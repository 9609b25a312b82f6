"""Hostile and malformed URLs never reach yt-dlp."""

from __future__ import annotations

import pytest

from videos.validation import BadUrl, check_url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "Enter a URL"),
        ("-o /etc/passwd", "spaces"),
        ("--exec=rm", "Only http"),
        ("ftp://example.com/a.mp4", "Only http"),
        ("file:///etc/passwd", "Only http"),
        ("javascript:alert(1)", "Only http"),
        ("http://", "no host"),
        ("http://exa mple.com/", "spaces"),
        ("http://example.com/\x00", "control"),
        ("http://user:pw@example.com/", "user name"),
        ("http://example.com:99999/", "not a valid URL"),
        ("https://example.com/" + "a" * 3000, "longer than"),
    ],
)
def test_it_refuses_malformed_urls(url, reason):
    with pytest.raises(BadUrl, match=reason):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.mp4",
        "http://localhost:8000/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://2130706433/",  # 127.0.0.1 as one number
    ],
)
def test_it_refuses_private_addresses_unless_allowed(url, settings):
    settings.ALLOW_PRIVATE_URLS = False
    with pytest.raises(BadUrl, match="private or local"):
        check_url(url)
    settings.ALLOW_PRIVATE_URLS = True
    assert check_url(url) == url


def test_it_refuses_hosts_that_do_not_resolve(settings):
    settings.ALLOW_PRIVATE_URLS = False
    with pytest.raises(BadUrl, match="could not be resolved"):
        check_url("http://no-such-host.invalid/video")


def test_it_accepts_and_trims_a_plain_https_url(settings):
    settings.ALLOW_PRIVATE_URLS = True
    assert check_url("  https://example.com/watch?v=abc  ") == "https://example.com/watch?v=abc"
