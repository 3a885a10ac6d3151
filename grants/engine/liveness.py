"""Is a worker process still alive? Asked by any machine about a worker on any other.

On PostgreSQL every worker holds a session advisory lock for as long as it lives. The lock goes
with its connection, so a worker killed with SIGKILL, or a machine that is switched off, is seen
as gone at once — no lease to wait out, no clocks to compare. (It needs a direct or session-pooled
connection; a transaction-pooling proxy such as PgBouncer in transaction mode would lose the lock.)
On SQLite, which only one machine can use anyway, a worker is alive while its process id is.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading

from sqlalchemy import Connection, text

from grants.db import Database

log = logging.getLogger("grants.liveness")

NAMESPACE = 0x6772  # "gr": keeps our advisory locks apart from anybody else's in the same database
_ARGS = "CAST(:ns AS integer), CAST(:k AS integer)"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "big", signed=True)


def _postgres(db: Database) -> bool:
    return db.engine.dialect.name == "postgresql"


def is_alive(db: Database, name: str | None) -> bool:
    if not name:
        return False
    if _postgres(db):
        with db.engine.connect() as conn:
            free = conn.execute(text(f"SELECT CASE WHEN pg_try_advisory_lock({_ARGS}) "
                                     f"THEN pg_advisory_unlock({_ARGS}) ELSE false END"),
                                {"ns": NAMESPACE, "k": _key(name)}).scalar()
            conn.commit()
        return not free
    host, _, pid = name.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # cannot tell from here; only PostgreSQL is shared across machines
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


class LifeLock:
    """The lock a worker holds while it lives; checked now and then and taken again after the
    database was away (its jobs may have been run elsewhere meanwhile, which flows allow)."""

    def __init__(self, db: Database, name: str):
        self.db, self.name = db, name
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not _postgres(self.db):
            return
        with self._lock:
            conn = self.db.engine.connect()
            conn.execute(text(f"SELECT pg_advisory_lock({_ARGS})"), {"ns": NAMESPACE, "k": _key(self.name)})
            conn.commit()
            self._conn = conn

    def check(self) -> bool:
        """True while the lock is held; takes it again if its connection was lost."""
        if not _postgres(self.db):
            return True
        try:
            with self._lock:
                conn = self._conn
                if conn is None:            # lost before, and not taken again
                    raise RuntimeError("life lock not held")
                # asked of this very session: a connection that silently reconnected holds nothing
                held = conn.execute(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND objsubid = 2 "
                    "AND classid = CAST(CAST(:ns AS integer) AS oid) AND objid = CAST(CAST(:k AS integer) AS oid)"),
                    {"ns": NAMESPACE, "k": _key(self.name)}).scalar()
                conn.commit()
            if not held:
                raise RuntimeError("life lock not held")
            return True
        except Exception:
            log.warning("lost the database connection that holds the worker's life lock; taking it again")
            self._close()
            try:
                self.acquire()
            except Exception:
                log.exception("could not take the life lock again")
            return False

    def _close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.invalidate()
                    self._conn.close()
                except Exception:
                    pass
                self._conn = None

    def release(self) -> None:
        if self._conn is not None:
            try:
                with self._lock:
                    self._conn.execute(text(f"SELECT pg_advisory_unlock({_ARGS})"),
                                       {"ns": NAMESPACE, "k": _key(self.name)})
                    self._conn.commit()
                    self._conn.close()
                    self._conn = None
            except Exception:
                self._close()
