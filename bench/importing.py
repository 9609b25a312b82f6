"""Importing a folder: files per second and memory.

1. ``--files`` (2,000) distinct clips (``clip.mp4`` with padding, so each has
   its own hash) named ``Artist N - Song M.mp4``, one in ten with an NFO, in a
   folder outside the library.
2. ``manage.py import_library`` imports them (copies: hard links, on one
   disk), timed from start to exit; the command, its forkserver and the
   scanning child are sampled for CPU and memory.
3. The same import again (everything already known): files per second of a
   run that imports nothing.

    .venv/bin/python -m bench.importing [--mode embedded|redis|both] [--files 2000]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import machine, modes_of, parse_args, running, write_json
from bench.sampling import ProcSampler
from tests.live import REPO
from tests.media import DEFAULT_CACHE

NFO = "<musicvideo><title>Song {n}</title><artist>Artist {a}</artist><year>2001</year></musicvideo>"


def make_folder(root: Path, count: int) -> None:
    clip = (DEFAULT_CACHE / "clip.mp4").read_bytes()
    for n in range(count):
        folder = root / f"batch {n // 500}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"Artist {n % 200} - Song {n}.mp4"
        path.write_bytes(clip + n.to_bytes(4, "big"))
        if n % 10 == 0:
            path.with_suffix(".nfo").write_text(NFO.format(n=n, a=n % 200))


def timed_import(app, folder: Path) -> dict[str, Any]:
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "import_library", str(folder), "--user", "alice"],
        cwd=REPO,
        env=app.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    with ProcSampler({"import": proc.pid}, tree={"import"}, interval=0.25) as sampler:
        out, _ = proc.communicate(timeout=3600)
    seconds = time.monotonic() - start
    if proc.returncode:
        raise RuntimeError(out[-2000:])
    report = sampler.report()
    return {
        "seconds": round(seconds, 1),
        "summary": out.strip().splitlines()[-1],
        "main_rss_max_mb": report.get("import.main", {}).get("rss_max_mb"),
        "children_rss_max_mb": report.get("import.children", {}).get("rss_max_mb"),
        "cpu_mean_pct": report.get("import.main", {}).get("cpu_mean"),
    }


def run(mode: str, files: int) -> dict[str, Any]:
    with running(mode) as (app, _media), tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "collection"
        make_folder(folder, files)
        first = timed_import(app, folder)
        again = timed_import(app, folder)
    for r in (first, again):
        r["files_per_s"] = round(files / r["seconds"], 1)
    return {"mode": mode, "files": files, "first": first, "again": again}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__, argv, **{"--files": {"type": int, "default": 2000}})
    results = [run(mode, args.files) for mode in modes_of(args.mode)]
    print("| mode | files | first run: s, files/s | again: s, files/s | RSS max MB (cmd / child) |")
    print("|---|---|---|---|---|")
    for r in results:
        f, a = r["first"], r["again"]
        print(
            f"| {r['mode']} | {r['files']} | {f['seconds']}, {f['files_per_s']} | "
            f"{a['seconds']}, {a['files_per_s']} | "
            f"{f['main_rss_max_mb']} / {f['children_rss_max_mb']} |"
        )
        print(f"|   | {f['summary']} |  | {a['summary']} |  |", file=sys.stderr)
    write_json(args.json, {"machine": machine(), "runs": results})
    shutil.rmtree(Path(tempfile.gettempdir()) / "collection", ignore_errors=True)


if __name__ == "__main__":
    main()
