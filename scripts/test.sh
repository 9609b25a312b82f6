#!/usr/bin/env bash
# `make test`: start (or install) what the tests use — Redis, PostgreSQL,
# ffmpeg, Chromium — then lint and run the suite on SQLite, and the database
# tests once more on PostgreSQL. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
PY=${VENV:-.venv}/bin/python
source scripts/services.sh
need chromium chromium
need tmux tmux

bash scripts/lint.sh

"$PY" -m pytest "$@"
# The in-process tests once more with PostgreSQL as the database (the live
# scaled-mode tests above already run on PostgreSQL).
DATABASE_URL="$MVIDARR_TEST_POSTGRES_URL/mvidarr" "$PY" -m pytest -q -m "not live" "$@"
