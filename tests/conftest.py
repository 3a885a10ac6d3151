"""Shared fixtures: a migrated SQLite database per test (copied from one migrated template),
the Flask app, users of every role, and one Prefect test harness per session."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.pop("PREFECT_API_URL", None)

# GRANTS_TEST_NOW=2028-02-29T10:00:00+01:00 runs the whole suite with the application's clock
# starting at that moment (scripts/test.sh does so for several days of the year). The offset goes
# into the environment, so that the command-line processes the tests start share the clock.
if os.environ.get("GRANTS_TEST_NOW"):
    from datetime import datetime as _datetime

    from grants import clock as _clock

    _start = _datetime.fromisoformat(os.environ["GRANTS_TEST_NOW"])
    _clock.set_to(_start)
    os.environ[_clock.OFFSET_VARIABLE] = str(_clock.offset().total_seconds())

from grants import clock  # noqa: E402
from grants.config import load_config  # noqa: E402
from grants.db import Database  # noqa: E402

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True, scope="session")
def _cheap_argon2():
    """Tests hash many passwords: argon2id still, with the cheapest parameters."""
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from grants.services import passwords

    original = passwords._hasher
    passwords._hasher = PasswordHasher.from_parameters(CHEAPEST)
    yield
    passwords._hasher = original


@pytest.fixture(autouse=True)
def _clock_restored():
    """A test may move the clock (clock.travel, clock.set_to); the next one starts where the
    session's clock is."""
    offset = clock.offset()
    yield
    clock.set_offset(offset)


def pytest_report_header(config):
    return f"application clock: {clock.local(clock.now()):%Y-%m-%d %H:%M %Z} (Europe/Berlin)"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    from grants.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "grants.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def config(tmp_path, template_db, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(template_db, home / "grants.db")
    env = {"GRANTS_HOME": str(home), "GRANTS_SECRET_KEY": "test-secret"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("GRANTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("GRANTS_SMTP_URL", raising=False)
    cfg = load_config()
    cfg.ensure_dirs()
    return cfg


@pytest.fixture
def db(config):
    database = Database(config.database_url)
    yield database
    database.dispose()


def empty_pg_url() -> str:
    """The test PostgreSQL with an empty schema (the test is skipped where there is none)."""
    from grants.db import make_engine

    url = os.environ.get("GRANTS_TEST_PG_URL")
    if not url:
        pytest.skip("no PostgreSQL for tests (scripts/test.sh starts one when Debian's package is there)")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def race_db(request, tmp_path):
    """A migrated database for tests that race: a SQLite file, and a PostgreSQL schema made anew."""
    from grants.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'race.db'}" if request.param == "sqlite" else empty_pg_url()
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


@pytest.fixture
def world(db):
    """A program with fund and committee, two organisations, and one user of every role."""
    from tests.factories import build_world

    return build_world(db)


@pytest.fixture
def app(config, db):
    from grants.web.app import create_app

    application = create_app(config, db)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """One Prefect server for the whole session (it takes 7-15 s to start), started as the embedded
    default starts it, with all of Prefect's services: its scheduler makes the daily deployments'
    runs (here every second, not every minute, so that tests need not wait)."""
    import prefect.context
    import prefect.settings

    from grants.engine.prefect_server import PrefectServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    saved = os.environ.get("PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS")
    os.environ["PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS"] = "1"
    server = PrefectServer(tmp_path_factory.mktemp("prefect-home"), port=port)
    try:
        server.start(timeout=120)
    finally:
        if saved is None:
            os.environ.pop("PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS")
        else:
            os.environ["PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS"] = saved
    try:
        with prefect.settings.temporary_settings(updates={prefect.settings.PREFECT_API_URL: server.api_url}):
            # also for threads started later (the job runner's), which do not inherit the context
            with prefect.context._temporary_global_settings_context(prefect.context.get_settings_context()):
                yield server
    finally:
        from grants.engine.prefect_server import flush_run_logs

        flush_run_logs()                         # the runs' last log lines, while the server listens
        server.stop()


def pytest_terminal_summary(terminalreporter):
    """Name the tests that ran against PostgreSQL and a real Prefect server in CI's log: it must
    show them running and passing, not only as dots."""
    rows = []
    for outcome in ("passed", "failed", "error", "skipped"):
        for rep in terminalreporter.stats.get(outcome, []):
            if outcome == "passed" and rep.when != "call":
                continue
            if "postgres" in getattr(rep, "keywords", {}) or "[postgresql" in rep.nodeid:
                rows.append(f"{outcome.upper():<8} {rep.nodeid}")
    if rows:
        terminalreporter.section("PostgreSQL and Prefect-server tests")
        for row in rows:
            terminalreporter.write_line(row)
