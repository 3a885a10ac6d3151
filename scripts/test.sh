#!/usr/bin/env bash
# Command 2 of the README: install what the tests need, check the code (ruff, mypy; configured in
# pyproject.toml) and run the whole suite: on today's date, then with the application's clock set to each moment of
# GRANTS_TEST_DATES (a Friday evening, 29 February, New Year's Eve, the night summer time begins,
# a session Wednesday). GRANTS_TEST_DATES= (empty) runs it once. Arguments go to pytest.
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


echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy

DATES=${GRANTS_TEST_DATES-2026-12-04T19:30:00+01:00 2028-02-29T10:00:00+01:00 2026-12-31T23:30:00+01:00 2027-03-28T01:58:00+01:00 2027-06-16T09:00:00+02:00}
failed=""
echo "== the suite on today's date"
.venv/bin/python -m pytest "$@" || failed="$failed today"
for at in $DATES; do
  echo "== the suite with the clock at $at"
  GRANTS_TEST_NOW=$at .venv/bin/python -m pytest -q -p no:cacheprovider "$@" || failed="$failed $at"
done
if [ -n "$failed" ]; then
  echo "FAILED on:$failed" >&2
  exit 1
fi
