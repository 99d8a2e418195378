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
# What apt-get and pip print goes to a log, not the terminal: a new user sees one line per
# step.  When a step fails, its last lines are shown and the log's path is named.
log=$(mktemp -t lrlab-setup.XXXXXX)       # removed when setup succeeds
trap 'rm -f "$log"' EXIT
quietly() {
  if ! "$@" >>"$log" 2>&1; then
    say "failed: $*"
    tail -n 20 "$log" >&2
    say "the whole output is in $log"
    trap - EXIT
    return 1
  fi
}
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else say "need root to run: $*"; return 1; fi
}
apt_updated=0
apt_install() {
  command -v apt-get >/dev/null || { say "no apt-get: install these yourself: $*"; return 0; }
  say "installing system packages: $*"
  if [ $apt_updated = 0 ]; then quietly as_root apt-get update -qq; apt_updated=1; fi
  quietly env DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@"
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
  say "creating the virtual environment .venv"
  rm -rf .venv
  if ! "$PY" -m venv .venv >>"$log" 2>&1; then
    rm -rf .venv
    ver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    apt_install "python${ver}-venv" || apt_install python3-venv
    quietly "$PY" -m venv .venv
  fi
fi

extra=""; [ $want_test = 1 ] && extra="[test]"
stamp=".venv/.lrlab-installed${extra}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing LR Lab and its dependencies into .venv (a minute or two the first time)"
  quietly .venv/bin/python -m pip install --upgrade pip
  quietly .venv/bin/python -m pip install -e ".${extra}"
  touch "$stamp"
  say "ready: .venv/bin/lrlab opens the window, .venv/bin/lrlab train --help shows the command line"
fi
