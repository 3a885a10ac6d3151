#!/usr/bin/env bash
# Installs what the system needs on a fresh Debian machine: system packages, a virtual
# environment in .venv with the pinned dependencies. Safe to run again (it skips what is done).
# Usage: scripts/install.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TEST=0
[ "${1:-}" = "--test" ] && WITH_TEST=1

# WeasyPrint needs Pango; without libharfbuzz-subset0 it is 3x slower (docs/decisions/0003-pins.md).
APT_RUNTIME="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig"
# Tests: Debian's Chromium for Playwright, pdftotext, a real PostgreSQL.
APT_TEST="chromium poppler-utils postgresql"

want="$APT_RUNTIME"
[ "$WITH_TEST" = 1 ] && want="$want $APT_TEST"
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "Installing Debian packages:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The machine's own Python (3.11 to 3.13); PYTHON=python3.12 picks another.
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 13)))' 2>/dev/null; then
  echo "Python 3.11, 3.12 or 3.13 is needed; $PY is $("$PY" --version 2>&1)." >&2
  echo "Set PYTHON to one of them, e.g. PYTHON=python3.12 $0" >&2
  exit 1
fi
# Debian's Python keeps venv in a package of its own
if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  ver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "python$ver-venv" >/dev/null
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv

extras="production"
[ "$WITH_TEST" = 1 ] && extras="production,test"
stamp=".venv/.installed-$(cat pyproject.toml setup.py requirements.lock | sha256sum | cut -c1-16)-$extras"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade "pip==26.3"
  .venv/bin/python -m pip install -q -c requirements.lock -e ".[$extras]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
