#!/usr/bin/env bash
# Command 2 of the README: install what the tests need and run the whole suite.
# Starts a private PostgreSQL (Debian's package) for the database tests and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test

export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
unset PREFECT_API_URL GRANTS_DATABASE_URL GRANTS_HOME

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "${GRANTS_TEST_PG_URL:-}" ] && [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ]; then
  PGDIR=$(mktemp -d /tmp/grants-pg.XXXXXX)
  RUN=""
  if [ "$(id -u)" = 0 ]; then chown postgres: "$PGDIR"; RUN="runuser -u postgres --"; fi
  PORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  $RUN "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U grants -E UTF8 --locale=C.UTF-8 >/dev/null
  $RUN "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
      -o "-p $PORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
  trap '$RUN "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$PGDIR"' EXIT
  $RUN "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U grants grants_test
  export GRANTS_TEST_PG_URL="postgresql+psycopg://grants@127.0.0.1:$PORT/grants_test"
  echo "PostgreSQL for tests: $GRANTS_TEST_PG_URL"
fi

.venv/bin/python -m pytest "$@"
