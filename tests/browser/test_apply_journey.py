"""An association applies in a real browser: registers, confirms, fills the form by keyboard
alone, makes mistakes, uploads a file, submits. axe-core runs on every page and error state."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from grants import clock
from grants.models import Application, Message
from tests.browser.conftest import axe_violations, screenshot

pytestmark = pytest.mark.browser


def focus_by_label(page, label: str, max_tabs: int = 80) -> None:
    """Tab (only the keyboard) until the focused control is the one with this label."""
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        name = page.evaluate("""() => {
            const el = document.activeElement;
            if (!el || !['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON'].includes(el.tagName)) return '';
            if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
            if (el.labels && el.labels.length) return el.labels[0].textContent;
            return el.textContent || '';
        }""")
        if label in " ".join(name.split()):
            return
    raise AssertionError(f"no control labelled {label!r} reachable by Tab")


def key_fill(page, label, text):
    focus_by_label(page, label)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def key_press_button(page, name):
    focus_by_label(page, name)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_association_applies_by_keyboard(page, live_server, world, db, tmp_path):
    page.goto(live_server + "/")
    page.get_by_role("link", name="Organisation registrieren").click()
    assert axe_violations(page) == []
    page.get_by_label("Name der Organisation").fill("Begegnung Schölerberg e.V.")
    page.get_by_label("Art der Organisation").select_option("association")
    page.get_by_label("Ihr Name").fill("Aylin Kaya")
    page.get_by_label("E-Mail-Adresse").fill("aylin@schoelerberg.example")
    page.get_by_label("Passwort", exact=False).first.fill("ein sicheres Passwort")
    page.get_by_label("Passwort wiederholen").fill("ein sicheres Passwort")
    page.get_by_role("button", name="Registrieren").click()
    assert "Bitte bestätigen Sie, dass Sie den Datenschutzhinweis gelesen haben." in page.get_by_role("alert").inner_text()
    assert axe_violations(page) == []
    page.get_by_label("Ich habe den Datenschutzhinweis gelesen.").check()
    page.get_by_label("Passwort", exact=False).first.fill("ein sicheres Passwort")
    page.get_by_label("Passwort wiederholen").fill("ein sicheres Passwort")
    page.get_by_role("button", name="Registrieren").click()
    assert page.get_by_role("heading", name="Fast geschafft").is_visible()
    with db.session() as s:
        body = s.scalar(select(Message.body).where(Message.recipient == "aylin@schoelerberg.example"))
    page.goto(live_server + re.search(r"(/bestaetigen/\S+)", body).group(1))
    page.get_by_label("E-Mail-Adresse").fill("aylin@schoelerberg.example")
    page.get_by_label("Passwort").fill("ein sicheres Passwort")
    page.get_by_role("button", name="Anmelden").click()
    assert page.get_by_role("heading", name="Meine Anträge").is_visible()
    assert axe_violations(page) == []

    # from here on: the keyboard only
    key_press_button(page, "Neuen Antrag beginnen")
    assert page.get_by_role("heading", level=1).inner_text() == "Ihr Projekt"
    key_fill(page, "Titel des Projekts", "Nachbarschaftsgarten")
    focus_by_label(page, "Stadtteil")
    page.keyboard.type("Fledder")   # typeahead in the select (ASCII: Playwright inserts other letters as text)
    key_fill(page, "Was haben Sie vor?", "Wir legen gemeinsam Beete an.")
    key_fill(page, "Wie begegnen sich", "Alteingesessene und neue Nachbarn gärtnern zusammen.")
    key_fill(page, "Wen wollen Sie erreichen?", "Familien aus dem Stadtteil")
    key_fill(page, "Erwartete Teilnehmende", "viele")
    key_press_button(page, "Weiter")
    assert "Bitte geben Sie eine ganze Zahl an" in page.get_by_role("alert").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "apply-error")
    assert page.get_by_label("Titel des Projekts").input_value() == "Nachbarschaftsgarten"   # nothing lost
    key_fill(page, "Erwartete Teilnehmende", "30")
    key_press_button(page, "Weiter")
    assert page.get_by_role("heading", level=1).inner_text() == "Zeitraum", page.locator(".error-summary, .flash").all_inner_texts()
    start = clock.today() + timedelta(days=45)
    page.get_by_label("Beginn des Projekts").fill(start.isoformat())
    page.get_by_label("Ende des Projekts").fill((start + timedelta(days=60)).isoformat())
    assert axe_violations(page) == []
    key_press_button(page, "Weiter")
    assert page.get_by_role("heading", level=1).inner_text() == "Kosten und Finanzierung"
    key_fill(page, "Wofür, Zeile 1", "Saatgut und Erde")
    key_fill(page, "Betrag in Euro, Zeile 1", "650,00")
    key_fill(page, "Wofür, Zeile 2", "Werkzeug")
    key_fill(page, "Betrag in Euro, Zeile 2", "450,00")
    key_fill(page, "Eigenmittel", "100")
    key_fill(page, "Beantragter Zuschuss", "1.000,00")
    assert axe_violations(page) == []
    screenshot(page, "apply-costs")
    key_press_button(page, "Weiter")
    assert page.get_by_role("heading", level=1).inner_text() == "Anlagen"
    pdf = tmp_path / "Angebot.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    page.get_by_label("Datei (PDF, JPEG oder PNG)").set_input_files(str(pdf))
    page.get_by_role("button", name="Hochladen").click()
    assert page.get_by_role("link", name="Angebot.pdf").is_visible()
    assert axe_violations(page) == []
    key_press_button(page, "Weiter")
    assert page.get_by_role("heading", level=1).inner_text() == "Erklärungen"
    for label in ("Das Projekt hat noch nicht begonnen.", "Ich habe alle anderen Geldgeber angegeben.",
                  "Ich habe den Datenschutzhinweis gelesen."):
        focus_by_label(page, label)
        page.keyboard.press("Space")
    key_press_button(page, "Weiter")
    assert page.get_by_role("heading", level=1).inner_text() == "Prüfen und absenden"
    assert "Das fehlt noch" not in page.content()
    assert axe_violations(page) == []
    screenshot(page, "apply-preview")
    key_press_button(page, "Antrag verbindlich absenden")
    assert "Bitte bestätigen Sie, dass die Angaben stimmen." in page.content()
    focus_by_label(page, "Ich versichere")
    page.keyboard.press("Space")
    key_press_button(page, "Antrag verbindlich absenden")
    assert "Ihr Antrag ist eingegangen. Ihr Aktenzeichen: DQD-" in page.get_by_role("status").first.inner_text()
    assert axe_violations(page) == []
    screenshot(page, "apply-submitted")
    with db.session() as s:
        case = s.scalar(select(Application).where(Application.title == "Nachbarschaftsgarten"))
        assert case.state == "submitted" and case.requested == 1000 and case.quarter == "Fledder"
