"""The session page in a real browser, as the chair and as a conflicted member, axe-clean in each state."""

from datetime import timedelta

import pytest

from grants import clock
from grants.services.committee import sessions, voting
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_front_doors import _login
from tests.factories import actor_for
from tests.flows.test_session_flow import _committee, _ready_case

pytestmark = pytest.mark.browser


def test_session_page_for_chair_and_member(page, live_server, world, db):
    committee_id, users, members = _committee(db, world)
    _ready_case(db, world, "Sprachcafé", "1000.00")
    _ready_case(db, world, "Bandprojekt", "2000.00")
    chair, m2 = actor_for(db, users["chair"]), actor_for(db, users["m2"])
    with db.session() as s:
        m = sessions.plan_session(s, chair, committee_id, clock.now() + timedelta(days=2))
        items = sessions.build_agenda(s, m.id)
        sessions.invite(s, m.id, "http://x")
        sid, first = m.id, items[0].id
    with db.session() as s:
        voting.declare_conflict(s, m2, first, members["m2"], "Ich bin im Vorstand des Vereins.")

    _login(page, live_server, "chair")
    page.goto(f"{live_server}/koordinierungsstab/sitzung/{sid}")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Sitzung eröffnen").click()
    for who in ("chair", "m1", "m2", "m3"):
        page.locator(f"#att-{members[who]}").check()
    page.get_by_role("button", name="Anwesenheit speichern").click()
    assert "Beschlussfähig: 4 von 5" in page.content()
    assert axe_violations(page) == []
    item = page.locator(f"#item-{first}")
    item.get_by_label("Beschlussvorschlag").select_option("approve")
    item.get_by_role("button", name="Zur Abstimmung stellen").click()
    item = page.locator(f"#item-{first}")
    item.get_by_text("Stimmen eintragen").click()
    assert axe_violations(page) == []
    screenshot(page, "committee-session-chair")

    page.context.clear_cookies()
    _login(page, live_server, "m2")
    page.goto(f"{live_server}/koordinierungsstab/sitzung/{sid}")
    assert "wegen Befangenheit ausgeschlossen" in page.locator(f"#item-{first}").inner_text()
    assert page.locator(f"#item-{first}").get_by_role("button", name="Ja").count() == 0
    assert axe_violations(page) == []
