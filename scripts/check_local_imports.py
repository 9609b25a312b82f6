"""Fail on an import inside a function that has no comment saying why.

An import placed in a function usually hides a cycle or a slow start-up;
when it is really needed (an optional dependency, a module that needs the app
registry), a comment on the line or just above says so.

    python scripts/check_local_imports.py [PATH ...]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SKIP = {".venv", "migrations", "node_modules", ".git"}


def local_imports(path: Path) -> list[int]:
    """Line numbers of imports inside functions without a comment."""
    source = path.read_text()
    lines = source.splitlines()
    bad = []
    for func in ast.walk(ast.parse(source, str(path))):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            if not _explained(lines, node.lineno - 1):
                bad.append(node.lineno)
    return sorted(set(bad))


def _explained(lines: list[str], index: int) -> bool:
    """A comment on the import's line, on an import line just above it (a group
    of imports), or on the line above the group."""
    while index >= 0:
        line = lines[index].strip()
        if "#" in line:
            return True
        if not line.startswith(("import ", "from ")):
            return False
        index -= 1
    return False


def main(roots: list[str]) -> int:
    failures = 0
    for root in roots:
        for path in sorted(Path(root).rglob("*.py")):
            if SKIP & set(path.parts):
                continue
            for line in local_imports(path):
                print(f"{path}:{line}: import inside a function without a comment saying why")
                failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["."]))
