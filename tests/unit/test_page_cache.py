"""The page cache's rules, without a database: a copy is used only while nothing it depends on
changed since before it was read, and never while the change listener is deaf."""

import threading
from contextlib import contextmanager

from grants import changes
from grants.web.page_cache import PageCache


class FakeListener:
    def __init__(self):
        self.connected = threading.Event()
        self.connected.set()

    def listening(self):
        return self.connected.is_set()

    def stop(self):
        pass


class FakeDb:
    @contextmanager
    def read(self):
        yield "own session"


def _cache(**kw):
    return PageCache(FakeDb(), FakeListener(), **kw)


def _reader(value, *marks, during=None):
    calls = []

    def build(r):
        calls.append(r.session)
        for m in marks:
            r.depends(m)
        if during:
            during()
        return value
    return build, calls


def test_a_copy_is_used_until_a_change_to_what_it_depends_on():
    cache = _cache()
    try:
        build, calls = _reader("v1", "case:1")
        assert cache.get("k", build, session=lambda: "request session") == "v1"
        assert cache.get("k", build, session=lambda: "request session") == "v1"
        assert calls == ["own session"]                  # read once, in a session of its own
        changes.announce({"case:2", "user:1"})            # not its case
        assert cache.get("k", build, session=lambda: None) == "v1" and len(calls) == 1
        changes.announce({"case:1"})
        assert cache.get("k", _reader("v2", "case:1")[0], session=lambda: None) == "v2"
    finally:
        cache.close()


def test_a_change_while_a_copy_is_read_keeps_it_from_being_stored():
    cache = _cache()
    try:
        build, calls = _reader("old", "case:1", during=lambda: changes.announce({"case:1"}))
        assert cache.get("k", build, session=lambda: None) == "old"      # served once, as read
        build2, calls2 = _reader("new", "case:1")
        assert cache.get("k", build2, session=lambda: None) == "new"     # but not kept
        assert cache.get("k", build2, session=lambda: None) == "new" and len(calls2) == 1
    finally:
        cache.close()


def test_nothing_is_kept_or_used_while_the_listener_is_deaf_and_all_goes_when_it_was():
    cache = _cache()
    try:
        cache.get("k", _reader("v1", "case:1")[0], session=lambda: None)
        cache.listener.connected.clear()
        build, calls = _reader("v2", "case:1")
        assert cache.get("k", build, session=lambda: "request session") == "v2"
        assert calls == ["request session"]               # the request's own session, no copy
        cache.listener.connected.set()
        changes.announce(None)                            # reconnected: what was missed is unknown
        assert cache.get("k", _reader("v3", "case:1")[0], session=lambda: None) == "v3"
    finally:
        cache.close()


def test_copies_expire_and_the_oldest_go_first(monkeypatch):
    import grants.web.page_cache as pc

    now = [1000.0]
    monkeypatch.setattr(pc.time, "monotonic", lambda: now[0])
    cache = _cache(size=2, ttl=60)
    try:
        for k in ("a", "b", "c"):
            cache.get(k, _reader(k, "case:1")[0], session=lambda: None)
        build, calls = _reader("a2", "case:1")
        assert cache.get("a", build, session=lambda: None) == "a2"        # "a" was pushed out
        assert cache.get("c", _reader("c2")[0], session=lambda: None) == "c"
        now[0] += 61
        assert cache.get("c", _reader("c3")[0], session=lambda: None) == "c3"
    finally:
        cache.close()


def test_marks_of_rows():
    from grants.models import Application, Comment, Membership, Organisation, User

    assert changes.marks_of(Application(id=4, organisation_id=2)) == {"case:4", "cases", "org-cases:2"}
    assert changes.marks_of(Comment(application_id=4)) == {"case:4"}
    assert changes.marks_of(Organisation(id=2)) == {"org:2", "cases", "org-cases:2"}
    assert changes.marks_of(User(id=7)) == {"user:7"}
    assert changes.marks_of(Membership(user_id=7, organisation_id=2)) == {"user:7", "org:2"}
