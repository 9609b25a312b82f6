"""Browsing a big library: server time of the Library and an artist's page.

1. 10,000 videos of 1,000 artists (one owner), made straight in the
   database: statuses, years, durations and sizes spread out.
2. Each page below is fetched ``--repeat`` (30) times by a logged-in
   session, after one warm-up; on localhost the round trip is the server's
   time plus well under a millisecond.
3. Both modes: SQLite (embedded) and PostgreSQL (scaled).

    .venv/bin/python -m bench.library [--mode embedded|redis|both] [--repeat 30]
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench.common import fmt, machine, modes_of, parse_args, running, summarize, write_json
from tests.apikit import web_session

SEED = """
import json, random
from django.contrib.auth import get_user_model
from videos.models import Artist, Video
random.seed(7)
owner = get_user_model().objects.get(username="alice")
artists = Artist.objects.for_names(owner.pk, [f"Artist {n:04}" for n in range(1000)])
artists = list(artists.values())
statuses = ["wanted", "downloaded", "downloaded", "failed", "ignored"]
Video.objects.bulk_create(
    [Video(owner=owner, url=f"https://example.com/v/{n}", title=f"Song {n} of the night",
           artist=artists[n % 1000], status=statuses[n % 5], year=1970 + n % 55,
           duration=60 + n % 300, file_size=n * 1000, file=f"x/{n}.mp4" if n % 5 in (1, 2) else "")
     for n in range(10000)],
    batch_size=1000,
)
print(json.dumps(artists[0].pk))
"""

PAGES = {
    "library": "/",
    "library, page 100": "/?page=100",
    "search": "/?q=night+9",
    "sort artist, grid": "/?sort=artist&view=grid",
    "filter status+year": "/?status=downloaded&year=1990",
    "sort size, reversed": "/?sort=size&order=reverse",
    "artist page": "/artists/{artist}/",
    "artists index": "/artists/",
}


def run(mode: str, repeat: int) -> dict[str, Any]:
    with running(mode) as (app, _media):
        artist = json.loads(app.manage("shell", "-c", SEED).splitlines()[-1])
        web = web_session(app)
        results = {}
        for name, path in PAGES.items():
            path = path.format(artist=artist)
            web.get(path).raise_for_status()
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                web.get(path).raise_for_status()
                times.append((time.perf_counter() - start) * 1000)
            results[name] = summarize(times)
            print(f"{mode:8} {name:22} {fmt(results[name], ('p50', 'p95', 'max'))}")
    return {"mode": mode, "pages": results}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__, argv, **{"--repeat": {"type": int, "default": 30}})
    runs = [run(mode, args.repeat) for mode in modes_of(args.mode)]
    write_json(args.json, {"machine": machine(), "runs": runs})


if __name__ == "__main__":
    main()
