"""Write the fault drills' figures (``.cache/drills.json``, kept by
tests/drills/conftest.py) into the table of docs/reliability.md, between its
``<!-- drills -->`` and ``<!-- /drills -->`` lines.

    .venv/bin/python scripts/drills_report.py   # `make drills` runs it last
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / ".cache" / "drills.json"
DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- drills -->", "<!-- /drills -->"


def table(drills: list[dict]) -> str:
    lines = [
        "| drill: what it proves | figures | result | time |",
        "|---|---|---|---|",
    ]
    for entry in drills:
        seconds = f"{entry['seconds']:.0f} s" if entry.get("seconds") is not None else "–"
        figures = "; ".join(entry["figures"]).replace("|", "\\|") or "–"
        lines.append(f"| {entry['proves']} | {figures} | {entry['outcome']} | {seconds} |")
    where = sorted({f"{entry['machine']}, {entry['date']}" for entry in drills})
    lines += ["", "Measured on " + "; ".join(where) + "."]
    return "\n".join(lines)


def main() -> int:
    if not RESULTS.exists():
        print(f"No figures yet ({RESULTS}): run `make drills` first.", file=sys.stderr)
        return 1
    drills = list(json.loads(RESULTS.read_text())["drills"].values())
    text = DOC.read_text()
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        print(f"{DOC} has no {START} … {END} section.", file=sys.stderr)
        return 1
    DOC.write_text(f"{head}{START}\n{table(drills)}\n{END}{tail}")
    print(f"{DOC.relative_to(ROOT)}: {len(drills)} drills")
    return 0


if __name__ == "__main__":
    sys.exit(main())
