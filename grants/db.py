"""Engine and sessions: one session per unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import CursorResult, Engine, Result, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

import grants.changes  # noqa: F401 - every session marks what it changes


def make_engine(url: str, **kw) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kw)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # let pysqlite not open transactions itself, so BEGIN IMMEDIATE below is ours
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Writers take the lock at the start: no "database is locked" on upgrade from read to write,
            # and read-modify-write sequences (fund balance checks) are serialised. Readers (see
            # Database.read) do not queue behind them.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("grants_read") else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, **kw)


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        s = self.sessionmaker()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """For pages that only read. PostgreSQL: no transaction (autocommit: no BEGIN and COMMIT
        round trips; each statement sees what is committed when it runs). SQLite: a deferred
        transaction, which does not queue behind writers as BEGIN IMMEDIATE would. The session
        refuses to flush: changes belong in session()."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            else:
                conn = conn.execution_options(grants_read=True)
            s = ReadSession(bind=conn, expire_on_commit=False, autoflush=False)
            try:
                yield s
            finally:
                s.close()

    def dispose(self) -> None:
        self.engine.dispose()


class ReadSession(Session):
    pass


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run through a Session matched. Session.execute is typed
    as giving a Result; for these statements it is a CursorResult, which has the count."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"a {type(result).__name__} has no row count")
    return result.rowcount


@event.listens_for(ReadSession, "before_flush")
def _refuse_flush(session, flush_context, instances) -> None:
    raise RuntimeError("a read session does not write; use Database.session()")
