"""Run benchmarks against two versions of the app, alternately, in one run.

The benchmark code is this tree's; the app it starts is, in turn, a checkout
of REV (a git worktree made for the purpose) and this tree, so both are
measured the same way on the same machine at nearly the same time.

    .venv/bin/python -m bench.compare REV [--bench sequential,progress,submit]
        [--mode embedded|redis|both] [--repeat 2] [--json FILE] [-- ARGS for the benchmarks]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import machine, write_json

HERE = Path(__file__).resolve().parent.parent


def checkout(rev: str) -> Path:
    sha = subprocess.run(
        ["git", "rev-parse", rev], cwd=HERE, capture_output=True, text=True, check=True
    ).stdout.strip()
    path = Path(tempfile.gettempdir()) / f"mvidarr-{sha[:12]}"
    if not (path / "manage.py").exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), sha], cwd=HERE, check=True)
    return path


def run_one(bench: str, mode: str, app_dir: Path, out: Path, extra: list[str]) -> str:
    env = {**os.environ, "MVIDARR_APP_DIR": str(app_dir)}
    cmd = [sys.executable, "-m", f"bench.{bench}", "--mode", mode, "--json", str(out), *extra]
    done = subprocess.run(cmd, cwd=HERE, env=env, capture_output=True, text=True)
    return done.stdout + (done.stderr[-2000:] if done.returncode else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the version to compare with, e.g. HEAD~3")
    parser.add_argument("--bench", default="sequential,progress,submit")
    parser.add_argument("--mode", default="embedded")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", metavar="FILE")
    args, extra = parser.parse_known_args()  # the rest (after --) goes to every benchmark
    args.extra = [a for a in extra if a != "--"]
    trees = {args.rev: checkout(args.rev), "this tree": HERE}
    results: dict = {"machine": machine(), "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(1, args.repeat + 1):
            for bench in args.bench.split(","):
                for label, tree in trees.items():
                    out = Path(tmp) / f"{bench}-{n}-{len(results['runs'])}.json"
                    text = run_one(bench, args.mode, tree, out, args.extra)
                    print(f"== {bench} run {n}: {label} ({tree})\n{text}", flush=True)
                    data = out.read_text() if out.exists() else None
                    results["runs"].append(
                        {"bench": bench, "run": n, "version": label, "result": data}
                    )
                    write_json(args.json, results)


if __name__ == "__main__":
    main()
