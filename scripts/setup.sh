#!/usr/bin/env bash
# Sets up LR Lab on a fresh machine: a virtual environment in .venv with the project and
# its dependencies, plus the system libraries Qt needs (Debian/Ubuntu, via apt-get).
#   bash scripts/setup.sh          for the app
#   bash scripts/setup.sh --test   also the test tools
# Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf 'setup: %s\n' "$*" >&2; }
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else say "need root to run: $*"; return 1; fi
}
apt_updated=0
apt_install() {
  command -v apt-get >/dev/null || { say "no apt-get: install these yourself: $*"; return 0; }
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq >/dev/null; apt_updated=1; fi
  say "installing system packages: $*"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || apt_install python3
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { say "LR Lab needs Python 3.10 or newer"; exit 1; }

# Qt's libraries: what the offscreen platform needs, and with a screen also the xcb set.
libs=(libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0 libxkbcommon0)
[ $want_test = 0 ] && libs+=(libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0)
if command -v dpkg-query >/dev/null; then
  missing=()
  for p in "${libs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] && apt_install "${missing[@]}"
fi

# The virtual environment (Debian's Python needs python3-venv for it).
if [ ! -x .venv/bin/python ]; then
  rm -rf .venv
  if ! "$PY" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    ver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    apt_install "python${ver}-venv" || apt_install python3-venv
    "$PY" -m venv .venv
  fi
fi

extra=""; [ $want_test = 1 ] && extra="[test]"
stamp=".venv/.lrlab-installed${extra}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing LR Lab and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".${extra}"
  touch "$stamp"
fi
