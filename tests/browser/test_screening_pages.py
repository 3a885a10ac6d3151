"""Staff screening in a real browser: the queue, a case with its verdicts, an override, a
decision; and the applicant's page while the check runs. axe-core on every state."""

import pytest

from grants.models import Application
from grants.services import screening
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_front_doors import _login
from tests.flows.test_screening_flow import _ready_org, _submit

pytestmark = pytest.mark.browser


def test_staff_screen_a_case(page, live_server, world, db):
    _ready_org(db, world)
    case_id = _submit(db, world)
    # the applicant looks while the check has not run yet: the page says so and will update itself
    _login(page, live_server, "applicant_a")
    page.goto(f"{live_server}/antrag/{case_id}")
    assert "Die automatische Prüfung läuft gerade" in page.get_by_role("status").first.inner_text()
    assert axe_violations(page) == []
    page.context.clear_cookies()
    with db.session() as s:
        screening.screen_case(s, case_id)

    _login(page, live_server, "staff")
    page.get_by_role("link", name="Prüfung").click()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Sprachcafé").click()
    assert page.get_by_role("heading", name="Prüfergebnisse").is_visible()
    assert axe_violations(page) == []
    page.get_by_text("Ändern – Förderzweck").click()
    assert axe_violations(page) == []
    row = page.locator("details[open]")
    row.get_by_label("Neues Ergebnis").select_option("pass")
    row.get_by_label("Begründung").fill("Begegnung im Quartier: passt.")
    row.get_by_role("button", name="Speichern").click()
    assert "protokolliert" in page.get_by_role("status").first.inner_text()
    screenshot(page, "staff-case")
    page.get_by_role("button", name="Freigeben").click()
    assert axe_violations(page) == []
    with db.session() as s:
        assert s.get(Application, case_id).state == "ready_for_committee"
