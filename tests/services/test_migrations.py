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
from tests.conftest import empty_pg_url


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
    return empty_pg_url()


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


def test_the_monthly_sums_start_from_the_ledger_there_is(empty_url):
    """A ledger written before the monthly sums existed is summed into them by the migration, and
    from then on every insert keeps them (SQLite and PostgreSQL triggers)."""
    from datetime import date
    from decimal import Decimal as D

    from grants.db import Database
    from grants.models import Fund, LedgerEntry
    from grants.services import ledger

    upgrade(empty_url, "0005")
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO fund (id, name, iban, account_holder, created_at) "
                             "VALUES (1, 'F', 'DE89370400440532013000', 'Stadt', '2026-01-01 00:00:00')")
        for i, (kind, cents, day, rev) in enumerate([("donation", 1000000, "2026-01-05", None),
                                                     ("donation", 2550, "2026-02-01", None),
                                                     ("reversal", 2550, "2026-02-03", 2),
                                                     ("commitment", 300000, "2026-02-10", None)], start=1):
            conn.exec_driver_sql(
                "INSERT INTO ledger_entry (id, fund_id, kind, amount, booked_on, reverses_id, donor, purpose, created_at) "
                f"VALUES ({i}, 1, '{kind}', {cents}, '{day}', {rev or 'NULL'}, '', '', '2026-01-01 00:00:00')")
        if conn.dialect.name == "postgresql":          # rows given their ids: the sequence moves on by hand
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('ledger_entry', 'id'), 10)")
    engine.dispose()
    upgrade(empty_url)
    db = Database(empty_url)
    try:
        with db.session() as s:
            assert ledger.balances(s, 1) == ledger.balances_from_entries(s, 1)
            assert ledger.balances(s, 1).available == D("7000.00")
            s.add(LedgerEntry(fund_id=1, kind="donation", amount=D("99.99"), booked_on=date(2026, 2, 11), donor="x"))
        with db.session() as s:
            assert ledger.balances(s, 1) == ledger.balances_from_entries(s, 1)
            assert ledger.balances(s, 1).donations == D("10099.99")
            assert s.get(Fund, 1).four_eyes_from == D("1000.00")
    finally:
        db.dispose()
