#!/usr/bin/env bash
# Create the virtualenv and install a requirements file into it; make sure
# ffmpeg exists (Debian's, or the imageio-ffmpeg wheel where apt is not ours).
set -euo pipefail
venv=${1:-.venv}
requirements=${2:-requirements.txt}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

python=$(command -v python3.11 || command -v python3 || true)
[ -n "$python" ] || die "Python 3.11 is needed (apt-get install python3)."
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11 or newer is needed."
if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv" 2>/dev/null; then
    apt_install python3-venv
    rm -rf "$venv"
    "$python" -m venv "$venv"
  fi
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -r "$requirements"

if ! command -v ffmpeg >/dev/null; then
  apt_install ffmpeg || "$venv/bin/python" -m pip install -q "imageio-ffmpeg==0.8.1"
fi
