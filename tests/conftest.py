"""Shared fixtures: a migrated SQLite database per test (copied from one migrated template),
the Flask app, users of every role, and one Prefect test harness per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.pop("PREFECT_API_URL", None)

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
def prefect_harness():
    """One Prefect test harness (a temporary server) for the whole session: it takes ~15 s."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def pytest_terminal_summary(terminalreporter):
    """Name the tests that ran against PostgreSQL and a real Prefect server in CI's log (issue 9:
    the log must show them running and passing, not only as dots)."""
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
