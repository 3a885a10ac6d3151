"""The migration chain on an empty database: up to head, down to nothing, up again; and the
models match what the migrations build."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from grants.db import make_engine
from grants.migrate import current_heads, downgrade, script_heads, upgrade
from grants.models import Base


def _urls(tmp_path):
    urls = [f"sqlite:///{tmp_path / 'm.db'}"]
    pg = os.environ.get("GRANTS_TEST_PG_URL")
    if pg:
        urls.append(pg)
    return urls


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    pg = os.environ.get("GRANTS_TEST_PG_URL")
    if not pg:
        pytest.skip("no PostgreSQL for tests (scripts/test.sh starts one when Debian's package is there)")
    engine = make_engine(pg)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    return pg


def test_chain_up_down_up(empty_url):
    upgrade(empty_url)
    assert current_heads(empty_url) == script_heads()
    downgrade(empty_url, "base")
    engine = make_engine(empty_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(empty_url)
    upgrade(empty_url)  # safe to run again
    assert current_heads(empty_url) == script_heads()


def test_models_and_migrations_agree(empty_url):
    upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
