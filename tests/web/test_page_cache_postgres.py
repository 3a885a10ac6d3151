"""The case pages and lists on PostgreSQL read copies (grants.web.page_cache): what another
process commits shows at once, a change made here shows on the next page, a deactivated account
is out on its next request, and another organisation's case stays hidden, copy or not."""

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from grants.config import load_config
from grants.db import Database
from grants.migrate import upgrade
from grants.models import Application
from tests.conftest import empty_pg_url
from tests.factories import build_world, granted_case
from tests.web.helpers import csrf, login

pytestmark = pytest.mark.postgres

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def pg(tmp_path, monkeypatch):
    url = empty_pg_url()
    upgrade(url)
    monkeypatch.setenv("GRANTS_HOME", str(tmp_path))
    monkeypatch.setenv("GRANTS_SECRET_KEY", "test-secret")
    monkeypatch.setenv("GRANTS_DATABASE_URL", url)
    db = Database(url)
    yield url, db
    db.dispose()


@pytest.fixture
def pg_app(pg):
    from grants.web.app import create_app

    url, db = pg
    config = load_config()
    config.ensure_dirs()
    app = create_app(config, db)
    app.config["TESTING"] = True
    cache = app.extensions["grants"]["cache"]
    assert cache.listener.connected.wait(10), "the change listener did not connect"
    yield app, db, cache
    cache.close()


def _elsewhere(url: str, code: str) -> None:
    """Run `code` in another process with its own database connection (as a worker or cron would)."""
    prelude = ("from sqlalchemy import select\nfrom grants.db import Database\nfrom grants.models import *\n"
               f"db = Database({url!r})\n")
    subprocess.run([sys.executable, "-c", prelude + code], cwd=ROOT, check=True, timeout=60)


def _eventually(check, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the change did not show"
        time.sleep(0.05)


def test_copies_follow_every_change_here_and_elsewhere(pg, pg_app):
    url, _ = pg
    app, db, cache = pg_app
    world = build_world(db)
    case_id = granted_case(db, world)
    staff = app.test_client()
    login(staff, "staff@test.example")
    page = f"/fachdienst/antrag/{case_id}"
    assert staff.get(page).status_code == 200
    hits = cache.hits
    html = staff.get(page).get_data(as_text=True)
    assert cache.hits > hits                                  # the second view is a copy

    # a note by staff, through the page: on the very next view
    staff.post(f"/fachdienst/antrag/{case_id}/nachricht",
               data={"csrf_token": csrf(html), "body": "Bitte Angebot nachreichen.", "visible": "y"})
    assert "Bitte Angebot nachreichen." in staff.get(page).get_data(as_text=True)

    # a comment committed by another process: heard of by NOTIFY
    _elsewhere(url, f"with db.session() as s:\n    s.add(Comment(application_id={case_id}, "
                    f"author_id={world.users['staff']}, body='Aus dem Nachbarprozess', visible_to_applicant=True))")
    _eventually(lambda: "Aus dem Nachbarprozess" in staff.get(page).get_data(as_text=True))

    # the lists: a new title elsewhere shows in the staff list and the organisation's list
    applicant = app.test_client()
    login(applicant, "applicant_a@test.example")
    assert staff.get("/fachdienst/").status_code == 200 and applicant.get("/antrag/").status_code == 200
    _elsewhere(url, f"with db.session() as s:\n    s.get(Application, {case_id}).title = 'Neuer Titel aus der Ferne'")
    _eventually(lambda: "Neuer Titel aus der Ferne" in staff.get("/fachdienst/").get_data(as_text=True))
    assert "Neuer Titel aus der Ferne" in applicant.get("/antrag/").get_data(as_text=True)
    assert "Neuer Titel aus der Ferne" in applicant.get(f"/antrag/{case_id}").get_data(as_text=True)

    # a rolled-back change is never told and never shown
    with pytest.raises(RuntimeError):
        with db.session() as s:
            s.get(Application, case_id).title = "Nie gespeichert"
            s.flush()
            raise RuntimeError("abort")
    assert "Nie gespeichert" not in staff.get(page).get_data(as_text=True)


def test_a_copy_never_shows_a_case_to_another_organisation_or_a_deactivated_account(pg, pg_app):
    url, _ = pg
    app, db, cache = pg_app
    world = build_world(db)
    case_id = granted_case(db, world)            # organisation a's case
    a, b = app.test_client(), app.test_client()
    login(a, "applicant_a@test.example")
    login(b, "applicant_b@test.example")
    assert a.get(f"/antrag/{case_id}").status_code == 200
    assert a.get(f"/antrag/{case_id}").status_code == 200        # now from the copy
    assert b.get(f"/antrag/{case_id}").status_code == 404        # the copy is checked like the database
    assert "Diesen Antrag gibt es nicht" in b.get(f"/antrag/{case_id}").get_data(as_text=True)

    # deactivated by an admin in another process: the next request is logged out
    _elsewhere(url, "with db.session() as s:\n"
                    "    s.scalar(select(User).where(User.email == 'applicant_a@test.example')).active = False")
    _eventually(lambda: a.get("/antrag/").status_code == 302)
    assert "/anmelden" in a.get("/antrag/").headers["Location"]


def test_without_the_listener_every_page_reads_the_database(pg, pg_app):
    app, db, cache = pg_app
    world = build_world(db)
    case_id = granted_case(db, world)
    staff = app.test_client()
    login(staff, "staff@test.example")
    page = f"/fachdienst/antrag/{case_id}"
    staff.get(page)
    # the listener's connection is cut: until it listens again, no copy is trusted
    with db.engine.connect() as c:
        c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"))
        c.commit()
    _eventually(lambda: not cache.active, seconds=10)
    with db.session() as s:
        s.execute(text("UPDATE application SET title = 'Ohne Benachrichtigung' WHERE id = :id"), {"id": case_id})
    assert "Ohne Benachrichtigung" in staff.get(page).get_data(as_text=True)
    _eventually(lambda: cache.active, seconds=15)                # it comes back by itself
    hits = cache.hits
    staff.get(page)
    staff.get(page)
    assert cache.hits > hits
