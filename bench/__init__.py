"""Benchmarks for MVidarr (plain scripts, not tests).

Run from the repository root::

    .venv/bin/python -m bench.submit   [--mode embedded|redis|both]
    .venv/bin/python -m bench.progress [--mode embedded|redis|both]
    .venv/bin/python -m bench.processing [--mode embedded|redis|both]
    .venv/bin/python -m bench.mixed    [--mode embedded|redis|both]
    .venv/bin/python -m bench          [--mode both] [--repeat 2]   # all, as a table

Every run starts its own app (``tests.live.LiveApp``) and media server
(``tests.media.MediaServer``), talks only to 127.0.0.1, is bounded in load and
time, and stops everything it started. See docs/benchmarks.md.
"""
