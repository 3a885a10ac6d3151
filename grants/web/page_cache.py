"""Copies of what the busiest pages read (the logged-in user, a case with its history, comments
and letters), kept per process and dropped the moment the database says they changed.

Each copy depends on change marks (grants.changes: "case:12", "org:3", "user:7"). Every mark
has a generation, counted up when a change to it is committed here or heard of from another
process. A copy remembers the generations of its marks from before it was read, and is used
only while they are all unchanged: so a copy read just before a change and stored just after
it is never served. Copies are kept only while grants.changes.Listener is listening (on
PostgreSQL); when it is not, or on SQLite, where other processes (the command line, cron) write
unheard, every page reads the database as before. A copy also expires after `ttl` seconds,
the bound for a change made past the ORM that nobody marked.

Copies are ORM objects detached from their session, shared by the threads of the process:
pages only read them. What a page's template touches must be loaded before the copy is kept.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from grants import changes


class PageCache:
    def __init__(self, db, listener: changes.Listener | None, *, size: int = 4096, ttl: float = 60.0):
        self.db, self.listener = db, listener
        self.size, self.ttl = size, ttl
        self._lock = threading.Lock()
        self._generation: dict[str, int] = {}
        self._era = 0                       # counted up by "anything may have changed"
        self._copies: OrderedDict[Any, tuple[float, int, dict[str, int], Any]] = OrderedDict()
        self.hits = self.misses = 0
        if listener is not None:
            changes.subscribe(self.changed)

    def close(self) -> None:
        changes.unsubscribe(self.changed)
        if self.listener is not None:
            self.listener.stop()

    @property
    def active(self) -> bool:
        return self.listener is not None and self.listener.listening()

    def changed(self, marks: set[str] | None) -> None:
        with self._lock:
            if marks is None:
                self._era += 1
                self._copies.clear()
                self._generation.clear()      # no copy of an earlier era is used again
                return
            for m in marks:
                self._generation[m] = self._generation.get(m, 0) + 1

    def get(self, key, build: Callable[[Reading], Any], session: Callable[[], Any]) -> Any:
        """The copy for `key`, or what `build(reading)` returns, kept if nothing it depends on
        changed while it was read. `build` reads with reading.session and calls
        reading.depends(mark) before it reads what the mark covers. Without copies, `session()`
        (the request's read session) is used; a copy is read in a session of its own, so that
        nothing in it stays attached to a request."""
        if not self.active:
            return build(Reading(None, session()))
        now = time.monotonic()
        with self._lock:
            copy = self._copies.get(key)
            if copy is not None:
                expires, era, marks, value = copy
                if (expires > now and era == self._era
                        and all(self._generation.get(m, 0) == g for m, g in marks.items())):
                    self._copies.move_to_end(key)
                    self.hits += 1
                    return value
                del self._copies[key]
            self.misses += 1
            era = self._era
        with self.db.read() as own:
            reading = Reading(self, own)
            value = build(reading)
        with self._lock:
            if era == self._era and self.active and all(
                    self._generation.get(m, 0) == g for m, g in reading.marks.items()):
                self._copies[key] = (now + self.ttl, era, reading.marks, value)
                while len(self._copies) > self.size:
                    self._copies.popitem(last=False)
        return value

    def _generation_of(self, mark: str) -> int:
        with self._lock:
            return self._generation.get(mark, 0)


class Reading:
    """What one build of a copy depends on, with each mark's generation when it was named."""

    def __init__(self, cache: PageCache | None, session):
        self.cache, self.session = cache, session
        self.marks: dict[str, int] = {}

    def depends(self, mark: str) -> None:
        if self.cache is not None and mark not in self.marks:
            self.marks[mark] = self.cache._generation_of(mark)
