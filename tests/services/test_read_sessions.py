"""Pages that only read use Database.read(): it never writes, and on SQLite it does not wait for a writer."""

import threading

import pytest
from sqlalchemy import select

from grants.models import Organisation


def test_a_read_session_refuses_to_write(db, world):
    with db.read() as s:
        org = s.scalar(select(Organisation).where(Organisation.id == world.org_ids["a"]))
        org.name = "Umbenannt"
        with pytest.raises(RuntimeError, match="does not write"):
            s.flush()
    with db.read() as s:
        assert s.get(Organisation, world.org_ids["a"]).name != "Umbenannt"


def test_a_reader_does_not_wait_for_a_writer(db, world):
    seen = []
    with db.session() as w:                  # a writer holds its transaction (BEGIN IMMEDIATE on SQLite)
        w.get(Organisation, world.org_ids["a"]).name = "Neu, noch nicht gespeichert"
        w.flush()

        def read():
            with db.read() as s:
                seen.append(s.get(Organisation, world.org_ids["a"]).name)

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive(), "the reader waited for the writer"
    assert seen and seen[0] != "Neu, noch nicht gespeichert"       # it saw what was committed
