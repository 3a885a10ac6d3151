"""What a unit of work changed, told to everyone who keeps copies of it (grants.web.page_cache).

Every session marks what its flushes touch: "case:12" for a case and every row that belongs to
it (history, comments, letters, verdicts, attachments, plans), "org:3" for an organisation and
its own rows, "user:7" for an account and its memberships, "cases" and "org-cases:3" for the
lists a changed case or organisation stands in. On commit the marks go to this
process's subscribers at once; on PostgreSQL they are also sent with NOTIFY inside the
transaction, so every other process hears of them when, and only if, the change is committed.
A rollback tells nobody. Writes that bypass the ORM (bulk statements) mark with touch().

Subscribers are called with a set of marks, or with None: "anything may have changed" (the
listener lost its connection, and with it what was committed meanwhile).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from itertools import chain

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from grants.models import Application, Membership, Organisation, User

log = logging.getLogger("grants.changes")

CHANNEL = "grants_changes"
PAYLOAD_LIMIT = 7000          # PostgreSQL's limit is 8000 bytes a notification

_subscribers: list[Callable[[set[str] | None], None]] = []


def subscribe(fn: Callable[[set[str] | None], None]) -> None:
    _subscribers.append(fn)


def unsubscribe(fn: Callable[[set[str] | None], None]) -> None:
    if fn in _subscribers:
        _subscribers.remove(fn)


def announce(marks: set[str] | None) -> None:
    for fn in list(_subscribers):
        try:
            fn(marks)
        except Exception:  # noqa: BLE001 - one subscriber's failure must not stop the others
            log.exception("change subscriber failed")


def marks_of(obj) -> set[str]:

    # "cases": the lists of all cases; "org-cases:3": the lists of one organisation's cases
    if isinstance(obj, Application):
        return {f"case:{obj.id}", "cases", f"org-cases:{obj.organisation_id}"}
    if isinstance(obj, Organisation):                 # its name stands in the lists
        return {f"org:{obj.id}", "cases", f"org-cases:{obj.id}"}
    if isinstance(obj, User):
        return {f"user:{obj.id}"}
    if isinstance(obj, Membership):
        return {f"user:{obj.user_id}", f"org:{obj.organisation_id}"}
    case = getattr(obj, "application_id", None)
    if case is not None:
        return {f"case:{case}"}
    org = getattr(obj, "organisation_id", None)
    return {f"org:{org}"} if org is not None else set()


def touch(session: Session, *marks: str) -> None:
    """Mark changes made without the ORM (bulk UPDATE or DELETE) in this unit of work."""
    _note(session, set(marks))


def _note(session: Session, marks: set[str]) -> None:
    if not marks:
        return
    pending = session.info.setdefault("changes", set())
    new = marks - pending
    pending |= marks
    if new and session.get_bind().dialect.name == "postgresql":
        payload = sorted(new)
        for chunk in _chunks(payload):
            session.connection().execute(text("SELECT pg_notify(:channel, :payload)"),
                                         {"channel": CHANNEL, "payload": chunk})


def _chunks(marks: list[str]) -> Iterable[str]:
    part: list[str] = []
    size = 0
    for m in marks:
        if part and size + len(m) + 1 > PAYLOAD_LIMIT:
            yield ",".join(part)
            part, size = [], 0
        part.append(m)
        size += len(m) + 1
    if part:
        yield ",".join(part)


@event.listens_for(Session, "after_flush")
def _collect(session: Session, flush_context) -> None:
    # here new, dirty and deleted still list what this flush wrote
    marks: set[str] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        marks |= marks_of(obj)
    _note(session, marks)


@event.listens_for(Session, "after_commit")
def _tell(session: Session) -> None:
    marks = session.info.pop("changes", None)
    if marks:
        announce(marks)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:          # the outermost transaction: nothing happened
        session.info.pop("changes", None)


class Listener:
    """LISTEN on PostgreSQL for the changes other processes commit; tells this process's
    subscribers. `connected` says whether it is listening now: while it is not, copies cannot
    be trusted (grants.web.page_cache keeps none)."""

    def __init__(self, database_url: str):
        url = make_url(database_url).set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="changes-listener", daemon=True)

    def start(self) -> Listener:
        self._pid = os.getpid()
        self._thread.start()
        return self

    def listening(self) -> bool:
        # a process forked after the start (gunicorn --preload) has the flag but not the thread
        return self.connected.is_set() and os.getpid() == self._pid and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        import psycopg

        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    announce(None)            # whatever was committed before we listened
                    backoff = 0.5
                    while not self._stop.is_set():
                        for n in conn.notifies(timeout=2.0):
                            announce(set(n.payload.split(",")))
            except Exception as e:  # noqa: BLE001 - keep listening after any failure
                if self.connected.is_set():
                    log.warning("change listener lost its connection: %s", e)
            finally:
                self.connected.clear()
                announce(None)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)
