#!/usr/bin/env bash
# Command 1 of the README: install, create the database, load demo data, serve on :5000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export GRANTS_HOME="${GRANTS_HOME:-$PWD/var}"
.venv/bin/grants init
.venv/bin/grants demo
exec .venv/bin/grants serve --host 127.0.0.1 --port 5000
