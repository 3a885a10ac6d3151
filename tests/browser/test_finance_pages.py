"""The finance pages in a real browser: axe-core clean in every state, used by labels and roles."""

import pytest

from grants.services import statements
from grants.services.actor import Actor
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_front_doors import _login
from tests.camt_builder import N, T, statement
from tests.factories import granted_case

pytestmark = pytest.mark.browser


def test_finance_pages_are_accessible(page, live_server, world, db, tmp_path):
    granted_case(db, world, "1200.00")
    path = tmp_path / "s.xml"
    path.write_bytes(statement("DE89370400440532013000", [
        N("80.00", False, [T("80.00", "?", "Unbekannt GmbH", "DE02120300000000202051", "Rechnung 17")]),
        N("50.00", True, [T("50.00", None, "Erika", None, "Spende")])]))
    with db.session() as s:
        statements.import_file(s, path, Actor.system("test"))

    _login(page, live_server, "finance")
    assert page.get_by_role("heading", level=1).inner_text() == "Testfonds"
    assert axe_violations(page) == []
    screenshot(page, "finance-dashboard")

    page.get_by_role("link", name="Auszahlungen", exact=True).first.click()
    page.get_by_role("button", name="Fällige Auszahlungen anlegen").click()
    assert page.get_by_role("status").first.is_visible()
    page.get_by_role("button", name="Zahllauf vorbereiten").click()
    assert "Freigabe durch eine zweite Person" in page.content()
    assert axe_violations(page) == []

    page.get_by_role("link", name="Spenden", exact=True).click()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Spende erfassen").click()
    page.get_by_label("Spender oder Spenderin").fill("Bürgerstiftung")
    page.get_by_label("Betrag in Euro").fill("1e5")
    page.get_by_role("button", name="Spende buchen").click()
    assert "Bitte geben Sie einen Betrag wie 1.250,00 an" in page.get_by_role("alert").first.inner_text()
    assert page.get_by_label("Spender oder Spenderin").input_value() == "Bürgerstiftung"
    assert axe_violations(page) == []

    page.get_by_role("link", name="Offene Posten").click()
    assert page.get_by_role("heading", name="Unbekannt GmbH").count() == 1 or "Unbekannt GmbH" in page.content()
    assert axe_violations(page) == []
    screenshot(page, "finance-queue")

    page.get_by_role("link", name="Kontoauszug einlesen").click()
    page.get_by_role("button", name="Einlesen").click()
    assert "Bitte wählen Sie eine Datei aus." in page.content()
    assert axe_violations(page) == []
