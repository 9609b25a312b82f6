"""The fault drills (``make drills``): each breaks one thing for real, says in
its name what it proves, and records its figures with the ``figures``
fixture. The figures are printed as the drill runs, summed up in a table at
the end of the run, and kept in ``.cache/drills.json`` (merged by drill, so a
partial run updates only its own), from which ``scripts/drills_report.py``
writes the table of ``docs/reliability.md``.

``make test`` leaves this folder out (``--ignore`` in pyproject.toml);
naming it runs it: ``pytest tests/drills``.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import pytest

from tests.live import LiveApp

RESULTS = Path(__file__).resolve().parents[2] / ".cache" / "drills.json"
# The scaled-mode app most drills share: room for 20 downloads at once, and
# a queued job no worker took is sent again after 5 s (the reconciler's floor).
SCALED_ENV = {"MVIDARR_DOWNLOAD_CONCURRENCY": "20", "MVIDARR_JOB_RESEND_AFTER": "5"}

_drills: dict[str, dict] = {}


@pytest.fixture(scope="session")
def scaled_app():
    with LiveApp("redis", extra_env=SCALED_ENV) as app:
        yield app


class Figures:
    """``figures("requeued after 8.4 s")``: print a figure and keep it for the table."""

    def __init__(self, entry: dict) -> None:
        self.entry = entry

    def __call__(self, text: str) -> None:
        print(f"[{self.entry['drill']}] {text}")
        self.entry["figures"].append(text)


@pytest.fixture
def figures(request) -> Figures:
    entry = {
        "drill": request.node.name,
        "proves": _sentence(request.node.name),
        "figures": [],
        "outcome": "error",
        "seconds": None,
    }
    _drills[request.node.nodeid] = entry
    return Figures(entry)


def _sentence(name: str) -> str:
    base, _, param = name.partition("[")
    text = base.removeprefix("test_").replace("_", " ")
    text = text[:1].upper() + text[1:]
    return f"{text} ({param.rstrip(']')})" if param else text


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.drill)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    entry = _drills.get(item.nodeid)
    if entry is not None and (report.when == "call" or report.failed):
        entry["outcome"] = report.outcome
        if report.when == "call":
            entry["seconds"] = round(report.duration, 1)
    return report


def pytest_terminal_summary(terminalreporter):
    if not _drills:
        return
    terminalreporter.section("fault drills")
    for entry in _drills.values():
        seconds = f"{entry['seconds']:.0f} s" if entry["seconds"] is not None else "-"
        terminalreporter.write_line(f"{entry['outcome'].upper():7} {seconds:>6}  {entry['proves']}")
        for figure in entry["figures"]:
            terminalreporter.write_line(f"{'':16}{figure}")


def pytest_sessionfinish(session):
    if not _drills:
        return
    known = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"drills": {}}
    for entry in _drills.values():
        known["drills"][entry["drill"]] = {**entry, "machine": machine(), "date": _today()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(known, indent=1) + "\n")


def machine() -> str:
    """``2 cores (AMD EPYC 7B13), 24 GB, Linux 6.1``: where the figures were taken."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    kernel = platform.release().split("-")[0]
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GB, Linux {kernel}"


def _today() -> str:
    return time.strftime("%Y-%m-%d", time.gmtime())
