"""Double clicks and two clerks at once, through the web (SQLite and PostgreSQL): every money
button has one effect, and every answer is a page, never a server error."""

import threading

import pytest
from sqlalchemy import func, select

from grants.config import load_config
from grants.models import LedgerEntry, Payout, PayoutRun
from tests.factories import build_world, granted_case
from tests.services.test_money_once import _open_item
from tests.web.helpers import csrf, login

N = 6


@pytest.fixture
def race_app(race_db, tmp_path, monkeypatch):
    from grants.web.app import create_app

    monkeypatch.setenv("GRANTS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRANTS_SECRET_KEY", "test-secret")
    monkeypatch.setenv("GRANTS_DATABASE_URL", race_db.url)
    config = load_config()
    config.ensure_dirs()
    app = create_app(config, race_db)
    app.config["TESTING"] = True
    yield app, race_db
    cache = app.extensions["grants"].get("cache")
    if cache is not None:
        cache.close()


def _clients(app, email, n=N):
    out = []
    for _ in range(n):
        c = app.test_client()
        login(c, email)
        out.append((c, csrf(c.get("/finanzen/auszahlungen").get_data(as_text=True))))
    return out


def _click_at_once(clients, path, data=None):
    barrier, answers = threading.Barrier(len(clients)), [None] * len(clients)

    def click(i):
        c, token = clients[i]
        barrier.wait()
        answers[i] = c.post(path, data={"csrf_token": token, **(data or {})})

    threads = [threading.Thread(target=click, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(a is not None and a.status_code < 500 for a in answers), [a and a.status_code for a in answers]
    return answers


def _count(db, model, *where):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_every_payout_button_pressed_at_once_acts_once(race_app):
    app, db = race_app
    world = build_world(db)
    granted_case(db, world, "650.00")
    first, second = _clients(app, "finance@test.example"), _clients(app, "finance2@test.example")
    _click_at_once(first, "/finanzen/auszahlungen/planen")
    assert _count(db, Payout) == 1
    _click_at_once(first, "/finanzen/auszahlungen/zahllauf")
    assert _count(db, PayoutRun) == 1
    with db.session() as s:
        run_id = s.scalar(select(PayoutRun.id))
    _click_at_once(second, f"/finanzen/auszahlungen/zahllauf/{run_id}/freigeben")
    answers = _click_at_once(second, "/finanzen/auszahlungen/sepa-datei")
    files = [a for a in answers if a.mimetype == "application/xml"]
    assert len(files) == 1 and files[0].data.count(b"<CdtTrfTxInf>") == 1
    assert _count(db, Payout, Payout.state == "sent") == 1


def test_one_bank_entry_assigned_by_two_clerks_at_once_is_booked_once(race_app):
    app, db = race_app
    world = build_world(db)
    entry_id = _open_item(db, world)
    clerks = _clients(app, "finance@test.example", 3) + _clients(app, "finance2@test.example", 3)
    _click_at_once(clerks, "/finanzen/offene-posten", {"entry_id": str(entry_id), "kind": "donation"})
    assert _count(db, LedgerEntry, LedgerEntry.bank_entry_id == entry_id) == 1
