"""Every front door in a real browser: found by labels and roles, axe-core clean, keyboard first."""

import re

import pytest

from tests.browser.conftest import axe_violations, screenshot
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

DOORS = {"applicant_a": "Meine Anträge", "staff": "Anträge", "committee": "Sitzungen des Koordinierungsstabs",
         "chair": "Sitzungen des Koordinierungsstabs", "finance": "Testfonds", "admin": "Administration"}


def _login(page, base, who, password=PASSWORD):
    page.goto(base + "/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(f"{who}@test.example")
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()


def test_start_and_login_pages_are_accessible(page, live_server, world):
    page.goto(live_server + "/")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert axe_violations(page) == []
    screenshot(page, "start-wide")
    page.set_viewport_size({"width": 375, "height": 800})
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "start-narrow")
    page.get_by_role("link", name="Zur Anmeldung").click()
    assert page.get_by_role("heading", name="Anmelden").is_visible()
    assert axe_violations(page) == []


def test_login_errors_are_announced_and_accessible(page, live_server, world):
    _login(page, live_server, "staff", "falsches passwort")
    alert = page.get_by_role("alert")
    assert "E-Mail-Adresse oder Passwort stimmen nicht." in alert.inner_text()
    assert axe_violations(page) == []


@pytest.mark.parametrize("who", sorted(DOORS))
def test_each_front_door_is_accessible(page, live_server, world, who):
    _login(page, live_server, who)
    assert page.get_by_role("heading", level=1).inner_text() == DOORS[who]
    assert page.get_by_role("navigation", name="Hauptnavigation").is_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    assert axe_violations(page) == []
    screenshot(page, f"door-{who}-wide")
    page.set_viewport_size({"width": 375, "height": 800})           # a phone
    assert axe_violations(page) == []
    # nothing wider than the screen: no sideways scrolling on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, f"door-{who}-narrow")


def test_keyboard_only_login_with_skip_link(page, live_server, world):
    page.goto(live_server + "/anmelden")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Zum Inhalt springen" in focused
    page.keyboard.press("Enter")
    # from the main content, tab to the fields and submit with Enter
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "email":
            break
    page.keyboard.type("staff@test.example")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/fachdienst/(#main)?$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Anträge"


def test_english_layout_is_accessible(page, live_server, world):
    page.goto(live_server + "/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Skip to content").count() == 1
    assert axe_violations(page) == []


@pytest.mark.parametrize("link,heading", [("Hilfe", "Hilfe in einfacher Sprache"),
                                          ("Datenschutz", "Datenschutzhinweise (Art. 13 DSGVO)"),
                                          ("Erklärung zur Barrierefreiheit", "Erklärung zur Barrierefreiheit")])
def test_service_pages_from_every_footer(page, live_server, link, heading):
    page.goto(live_server + "/")
    page.get_by_role("navigation", name="Service").get_by_role("link", name=link).click()
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    assert axe_violations(page) == []
