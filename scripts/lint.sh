#!/usr/bin/env bash
# Static checks: ruff, no import cycle inside an app (import-linter, contracts
# in pyproject.toml), no import inside a function without a comment, and
# compose.yaml against the compose specification's schema.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VENV:-.venv}/bin
"$bin"/ruff check .
"$bin"/ruff format --check .
"$bin"/lint-imports --no-cache
"$bin"/python scripts/check_local_imports.py
"$bin"/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
