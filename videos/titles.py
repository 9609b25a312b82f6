"""Artist and title from a video's title as sites write it.

``Artist - Title (Official Video)`` becomes artist ``Artist`` and title
``Title``: the noise people put around a music video's name (``(Official Music
Video)``, ``[HD]``, ``(Lyric Video)``, ``(Remastered 2009)``, ``| Label``…) is
dropped, and a featured artist (``feat.``, ``ft.``, ``featuring``) stays with
the title. Pure functions, no Django: the parser is used wherever a title is
filled (a video's metadata, playlist entries) and tested against a table of
real-world shapes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that only ever describe the upload, never the song. A bracketed group
# made of these (and fillers) alone is noise: "(Official Music Video)", "[HD]".
NOISE = _words(
    """official officiel oficial offizielles ufficiale video videoclip musikvideo audio lyric
    lyrics visualizer visualiser hd hq uhd 4k 8k 1080p 720p 480p 60fps remaster remastered mv
    m/v explicit"""
)
# Words that are noise only in the company of a NOISE word: "(Full Version)"
# and "(Music)" stay, "(Official Music Video)" and "(HD Remastered Version)" go.
FILLER = _words(
    "music musical clip version with in new full high quality digitally upgrade upscaled"
    " by the & + / - , . : |"
)
YEAR = re.compile(r"(?:19|20)\d\d")
TOKEN = re.compile(r"m/v|[\w']+|[^\w\s]")
GROUP = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]|\{([^{}]*)\}|【([^【】]*)】")
# Unbracketed noise at the end: "Title Official Video", "Title - Official Audio".
TRAILING = re.compile(
    r"(?:^|(?:\s*[-|/:~]+)?\s+)(?:official\s+(?:hd\s+|4k\s+)?(?:music\s+|lyric\s+|live\s+)?"
    r"(?:video(?:\s+clip)?|audio|visuali[sz]er|m/?v)|(?:music|lyric)\s+video|m/v|mv|hd|hq|4k)"
    r"\s*$",
    re.IGNORECASE,
)
# "Artist - Title": a hyphen between spaces, or an en/em dash (spaces optional).
DASH = re.compile(r"\s+-{1,2}\s+|\s*[–—―]\s*|\s+~\s+")
PIPE = re.compile(r"\s+[|｜]\s+|\s+//\s+")
COLON = re.compile(r":\s+")
# Artist "Title", Artist 'Title', Artist 「Title」; the rest may follow.
QUOTED = re.compile(
    r"""^(?P<artist>.+?)\s*(?:[-–—:]\s*)?
        (?:"(?P<a>[^"]+)"|“(?P<b>[^”]+)”|„(?P<c>[^“”]+)[“”]|«(?P<d>[^»]+)»|
           「(?P<e>[^」]+)」|『(?P<f>[^』]+)』|(?<=\s)'(?P<g>[^']+)'(?=\s|$))
        (?P<rest>.*)$""",
    re.VERBOSE,
)
# '"Title" by Artist'
QUOTED_BY = re.compile(r"""^["“](?P<title>[^"”]+)["”]\s+by\s+(?P<artist>.+)$""", re.IGNORECASE)
FEAT = re.compile(r"[(\[]?\b(?:feat\.?|ft\.?|featuring)\s", re.IGNORECASE)
# The words a channel name adds to an artist's: "ArtistVEVO", "Artist - Topic".
CHANNEL_SUFFIX = re.compile(
    r"(?:\s*-\s*topic|\s*vevo|\s+official(?:\s+(?:channel|music))?|\s+music)\s*$", re.IGNORECASE
)
# Longer titles are cut first: no real one is, and the regexes stay fast.
MAX_INPUT = 1000
CLOSING = {"(": ")", "[": "]", "{": "}", "【": "】"}
QUOTES = "\"'“”‘’«»「」『』"


@dataclass(frozen=True)
class Parsed:
    artist: str
    title: str


def _tidy(text: str) -> str:
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    return re.sub(r"\s+", " ", text).strip()


def _is_noise(words: list[str]) -> bool:
    return any(w in NOISE for w in words) and all(
        w in NOISE or w in FILLER or YEAR.fullmatch(w) for w in words
    )


def _clean_group(match: re.Match) -> str:
    """A bracketed group: gone if it is all noise; "(Official Live Video)"
    keeps what is not noise ("(Live)"); anything else stays as it was."""
    opening, inner = match.group(0)[0], next(g for g in match.groups() if g is not None)
    words = TOKEN.findall(inner.lower())
    if not words or _is_noise(words):
        return " "
    if words[0] == "official" or words[-1] in ("video", "audio", "visualizer", "visualiser"):
        kept = [w for w in TOKEN.findall(inner) if w.lower() not in NOISE | {"music"}]
        text = re.sub(r"\s+([.,])", r"\1", " ".join(kept)).strip(" -|,:/")
        if text and not _is_noise(TOKEN.findall(text.lower())):
            return f"{opening}{text}{CLOSING[opening]}"
    return match.group(0)


def strip_noise(text: str) -> str:
    """``text`` without upload noise, bracketed or trailing."""
    text = GROUP.sub(_clean_group, _tidy(text))
    previous = None
    while previous != text:
        previous, text = text, TRAILING.sub("", text).strip()
    return re.sub(r"\s+", " ", text).strip(" -|–—~:/").strip()


def _unquote(text: str) -> str:
    if len(text) > 2 and text[0] in QUOTES and text[-1] in QUOTES:
        return text[1:-1].strip()
    return text


def _move_feat(artist: str, title: str) -> tuple[str, str]:
    """``A feat. C`` / ``B`` -> ``A`` / ``B feat. C``: a featured artist belongs
    to the song, so the main artist keeps one folder."""
    found = FEAT.search(artist)
    if not found or found.start() == 0:
        return artist, title
    featured = artist[found.start() :].strip()
    if featured[0] in "([" and not featured.endswith((")", "]")):
        featured = featured[1:]
    artist = artist[: found.start()].strip(" ,&")
    if not FEAT.search(title):
        title = f"{title} {featured}"
    return artist, title


def _split(text: str) -> tuple[str, str]:
    """(artist, title) of a noise-free title; artist "" when it names none."""
    if m := QUOTED_BY.match(text):
        return m["artist"], m["title"]
    if m := DASH.search(text):
        return text[: m.start()], _unquote(text[m.end() :])
    if m := QUOTED.match(text):
        quoted = next(v for k, v in m.groupdict().items() if k in "abcdefg" and v)
        return m["artist"], f"{quoted.strip()} {m['rest'].strip()}"
    if (m := COLON.search(text)) and len(text[: m.start()].split()) <= 4:
        return text[: m.start()], _unquote(text[m.end() :])
    return "", text


def channel_artist(name: str | None) -> str:
    """An artist from a channel's name: ``Artist - Topic`` -> ``Artist``, and
    ``RickAstleyVEVO`` -> ``Rick Astley`` (VEVO channels run the words together)."""
    name = _tidy(name or "")
    artist = CHANNEL_SUFFIX.sub("", name).strip()
    if artist and " " not in artist and re.search(r"vevo\s*$", name, re.IGNORECASE):
        artist = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", artist)
    return artist or name


def _same(a: str, b: str) -> bool:
    return bool(a) and a.casefold() == b.casefold()


def parse_title(text: str, channel: str = "") -> Parsed:
    """Split a site's title into artist and title.

    1. The parts after a ``|`` (or ``//``) are dropped when they are noise or
       the first part names an artist already (``| Label``); ``Title |
       Artist`` names its artist last (or first, when that is the channel).
    2. Noise goes (``strip_noise``), then the rest splits on the first dash
       (``-`` between spaces, ``–``, ``—``), a quoted title (``Artist "Title"``,
       ``"Title" by Artist``) or a colon after a short name (``Artist: Title``).
    3. A featured artist moves from the artist to the title.
    4. ``channel``, the uploader, settles which side is the artist when the
       title says ``Title - Artist``.
    """
    text = _tidy(text)[:MAX_INPUT]
    channel = channel_artist(channel)
    parts = [strip_noise(p) for p in PIPE.split(text)]
    parts = [p for p in parts if p] or [text]
    artist, title = _split(parts[0])
    if not artist and len(parts) > 1:
        first_is_artist = _same(channel, parts[0])
        artist, title = (parts[0], parts[1]) if first_is_artist else (parts[-1], parts[0])
    artist, title = strip_noise(artist), _tidy(title)
    if artist and _same(channel, title) and not _same(channel, artist):
        artist, title = title, artist
    artist, title = _move_feat(artist, title)
    if not title:  # nothing but noise and an artist: keep what the site said
        title = strip_noise(text) or text
    return Parsed(artist[:200], title[:300])


def _field(info: dict[str, Any], *names: str) -> str:
    for name in names:
        value = info.get(name)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value if v)
        if value and isinstance(value, str | int | float):
            return _tidy(str(value)[:MAX_INPUT])
    return ""


def _artists(info: dict[str, Any]) -> tuple[str, str]:
    """The main artist and the featured ones (``artists: [A, B, C]`` -> ``A``, ``B, C``)."""
    listed = info.get("artists")
    if isinstance(listed, list) and (names := [_tidy(str(n)) for n in listed if n]):
        return names[0], ", ".join(names[1:])
    return _field(info, "artist"), ""


def from_info(info: dict[str, Any]) -> Parsed:
    """Artist and title from yt-dlp's metadata of a video (or a playlist entry).

    A site's own ``artist``/``artists`` and ``track`` fields win; the title is
    parsed for what they leave out; ``creator`` and then the channel
    (``uploader``, ``channel``) are the last resort for the artist.
    """
    channel = _field(info, "uploader", "channel")
    title = _field(info, "title", "fulltitle")
    if info.get("extractor") == "html5":  # yt-dlp numbers a page's videos: "Page title (1)"
        title = re.sub(r"\s\(\d+\)$", "", title)
    parsed = parse_title(title, channel)
    artist, featured = _artists(info)
    track = strip_noise(_field(info, "track"))
    if artist:
        title = track or parsed.title
        if featured and not FEAT.search(title):
            title = f"{title} (feat. {featured})"
        artist, title = _move_feat(artist, title)
    else:
        title = track or parsed.title
        artist = parsed.artist or _field(info, "creator", "creators") or channel_artist(channel)
    return Parsed(artist[:200], title[:300])
