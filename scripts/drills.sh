#!/usr/bin/env bash
# `make drills`: the fault drills (tests/drills/, see docs/reliability.md).
# Starts (or installs) Redis, PostgreSQL and ffmpeg as `make test` does; the
# PostgreSQL drill runs a private cluster with the installed binaries. Then
# writes the figures into docs/reliability.md. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
PY=${VENV:-.venv}/bin/python
source scripts/services.sh
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql \
  || die "PostgreSQL's server binaries could not be installed"

"$PY" -m pytest tests/drills -p no:cacheprovider "$@"
"$PY" scripts/drills_report.py
