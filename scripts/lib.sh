# Shared helpers for the scripts in this folder.
die() { echo "error: $*" >&2; exit 1; }

# apt_install PACKAGE... — install Debian packages when we may (root or sudo).
apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "Cannot install $* (not root, no sudo)." >&2; return 1; }
    sudo="sudo -n"
  fi
  if [ -z "${_apt_updated:-}" ]; then
    $sudo apt-get update -qq >/dev/null && _apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}
