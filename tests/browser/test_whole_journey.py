"""The whole journey in a real browser, each step as its person sees it, on the server the suite
starts: an association registers and applies; the screening flow runs and staff release the case;
the committee meets with a recusal and votes; the approval letter appears in the portal; finance
pays out under four eyes and reads the bank statement; the association sends its proof of use and
staff accept it. axe-core (WCAG 2.1 AA) runs on every page and state (errors shown, disclosures
open); the applicant's pages are also looked at in English, where no German may be left.

And the core applicant path without JavaScript (progressive enhancement)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from lxml import etree
from playwright.sync_api import expect
from sqlalchemy import select

from grants import clock, runtime
from grants.domain.program import QUARTERS
from grants.engine.runner import JobRunner
from grants.models import Application, Message
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_front_doors import _login
from tests.camt_builder import N, T, statement
from tests.flows.test_session_flow import _committee

pytestmark = pytest.mark.browser

FUND_IBAN = "DE89370400440532013000"          # the fund of tests.factories.build_world

ORG = "Begegnungsgarten Schinkel e.V."
PERSON = "Aylin Kaya"
EMAIL = "aylin@garten-schinkel.example"
PASSWORD = "ein sicheres Passwort"
IBAN = "DE44500105175407324931"
TITLE = "Gemeinschaftsgarten am Schinkelbad"
TYPED = [ORG, PERSON, TITLE, "Wir legen gemeinsam Beete an und kochen, was wir ernten.",
         "Alteingesessene und neue Nachbarn gärtnern Seite an Seite.", "Familien aus dem Stadtteil",
         "Saatgut und Erde", "Werkzeug", "Amtsgericht Osnabrück", "VR 4711", "Finanzamt Osnabrück-Land",
         "Schinkelstraße 12", "Osnabrück", "Angebot.pdf", "Zwölf Gartentreffen mit 40 Nachbarinnen und Nachbarn.",
         "Gartencenter Meyer", "Baumarkt Schinkel", "Foto-Beete.png", "Stadt Osnabrück", "Osnabrück hilft",
         "Dein Quartier und du", "Deutsch"]

# Words and letters that show a German text was left untranslated on an English page (user data
# and proper names are taken out before looking).
GERMAN = re.compile(
    r"[äöüÄÖÜß]"
    r"|\b(?:Antr[aä]g|Nachweis|Verwendungsnachweis|Zuwendung|Bescheid|Beleg|Datei|Betrag|Frist|Eigenmittel|Ausgabe)\w*"
    r"|\b(?:und|oder|der|die|das|den|dem|des|ein|eine|einen|einer|nicht|nur|noch|bitte|Bitte|Sie|Ihr|Ihre|Ihren|Ihrer|"
    r"Ihnen|für|mit|zum|zur|ist|sind|wird|werden|wurde|wurden|haben|hat|kein|keine|auch|bei|bis|nach|vom|von|auf|"
    r"über|wie|wir|uns|jetzt|hier|alle|Uhr|Tage|Speichern|Weiter|Zurück|Prüfen|absenden|Stand|Aktenzeichen|Datum|"
    r"Zeile|ändern|Hochladen|Entfernen|Zwischenspeichern|Anmelden|Abmelden|Registrieren|Passwort|Verlauf|"
    r"Nachrichten|Schreiben|Gespeichert|Fertig|Seite|Sachbericht|Fotos|Unterlagen|Teilnehmende|Empfänger|Zweck|"
    r"Summe|Geplant|Tatsächlich|Organisation registrieren)\b")

# the page's text as a screen reader meets it: text nodes, labels, titles and values of buttons
PAGE_TEXTS = """() => {
  const out = [document.title];
  const skip = el => el.closest('script,style,noscript,[lang]:not([lang^="en"])');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.textContent.trim() && !skip(n.parentElement)) out.push(n.textContent);
  }
  for (const el of document.body.querySelectorAll('[aria-label],[title],[placeholder],[alt],input[type=submit]')) {
    if (skip(el)) continue;
    for (const a of ['aria-label', 'title', 'placeholder', 'alt']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
    if (el.type === 'submit' && el.value) out.push(el.value);
  }
  return out;
}"""


class Journey:
    """Contexts of the people on the way, the axe check, screenshots, the English look and the engine."""

    def __init__(self, browser, base, config, db):
        self.browser, self.base, self.config, self.db = browser, base, config, db
        self.contexts = []
        self.untranslated: dict[str, set[str]] = {}
        self.allowed = sorted(set(TYPED) | set(QUARTERS), key=len, reverse=True)
        self.english = None

    def person(self, who: str | None = None, *, js: bool = True):
        ctx = self.browser.new_context(locale="de-DE", java_script_enabled=js)
        self.contexts.append(ctx)
        pg = ctx.new_page()
        pg.set_default_timeout(20_000)
        if who:
            _login(pg, self.base, who)
        return pg

    def close(self):
        for ctx in self.contexts:
            ctx.close()

    def check(self, page, shot: str | None = None):
        """axe-core: WCAG 2.1 A and AA rules, no violations, in the page's current state."""
        found = axe_violations(page)
        assert found == [], f"{page.url}: {found}"
        if shot:
            screenshot(page, f"journey-{shot}")
            # the same state on a phone: axe-clean, and the page never scrolls sideways
            size = page.viewport_size
            page.set_viewport_size({"width": 375, "height": 800})
            try:
                found = axe_violations(page)
                assert found == [], f"{page.url} at 375 px: {found}"
                assert page.evaluate("document.documentElement.scrollWidth") <= 375, (f"{page.url} at 375 px", page.evaluate("() => { const out=[]; for (const el of document.querySelectorAll('body *')) { const r=el.getBoundingClientRect(); if (r.right>376 && ![...el.children].some(c => c.getBoundingClientRect().right>376)) out.push(el.tagName+'.'+el.className+' '+Math.round(r.right)+' '+(el.textContent||'').slice(0,40)); } return out.slice(0,15); }"))
                screenshot(page, f"journey-{shot}-narrow")
            finally:
                page.set_viewport_size(size)

    def look_in_english(self, path: str | None = None, page=None, name: str = ""):
        """Open the same page for the same person in English and note any German left on it.
        Either `path` on the English context, or `page` (already in English) as it stands."""
        pg = page or self.english
        if path is not None:
            response = pg.goto(self.base + path)
            assert response.ok, f"{path}: {response.status}"
        assert pg.locator("html").get_attribute("lang") == "en", pg.url
        for text in pg.evaluate(PAGE_TEXTS):
            text = " ".join(text.split())
            rest = text
            for a in self.allowed:
                rest = rest.replace(a, " ")
            rest = re.sub(r"DQD-\d{4}-\d{4}\S*", " ", rest)
            if GERMAN.search(rest):
                self.untranslated.setdefault(text, set()).add(name or urlsplit(pg.url).path)

    def run_jobs(self):
        """What the job runner of `grants serve` does between two clicks: run every queued flow."""
        runtime.install(self.config, self.db)
        try:
            JobRunner(self.db).drain(timeout=180)
        finally:
            runtime.reset()


def _path(page) -> str:
    u = urlsplit(page.url)
    q = [(k, v) for k, v in parse_qsl(u.query) if k != "lang"]
    return urlunsplit(("", "", u.path, urlencode(q), ""))


def _status(page) -> str:
    return " ".join(page.get_by_role("status").all_inner_texts())


def _h1(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def test_the_whole_journey(browser, live_server, world, db, config, prefect_harness, tmp_path):
    _committee(db, world)                  # the chair, m1..m4 voting, staff advisory
    j = Journey(browser, live_server, config, db)
    try:
        _journey(j, live_server, db, tmp_path)
    finally:
        j.close()
    report = "\n".join(f"  {t!r}  ({', '.join(sorted(p))})" for t, p in sorted(j.untranslated.items()))
    assert not j.untranslated, f"German left on the applicant's English pages:\n{report}"


def _journey(j: Journey, base: str, db, tmp_path):
    today = clock.today()
    start, end = today + timedelta(days=45), today + timedelta(days=105)

    # ---- 1. the association registers, confirms its address and keeps its profile -------------
    a = j.person()
    en = j.english = j.person()
    en.goto(base + "/registrieren?lang=en")
    j.look_in_english(page=en, name="register")
    en.get_by_role("button", name="Register").click()
    j.check(en)
    j.look_in_english(page=en, name="register (errors)")

    a.goto(base + "/?lang=de")
    j.check(a, "01-start")
    a.get_by_role("link", name="Organisation registrieren").click()
    j.check(a)
    a.get_by_label("Name der Organisation").fill(ORG)
    a.get_by_label("Art der Organisation").select_option("association")
    a.get_by_label("Ihr Name").fill(PERSON)
    a.get_by_label("E-Mail-Adresse").fill(EMAIL)
    a.get_by_label("Passwort", exact=False).first.fill(PASSWORD)
    a.get_by_label("Passwort wiederholen").fill(PASSWORD)
    a.get_by_role("button", name="Registrieren").click()
    assert "Datenschutzhinweis" in a.get_by_role("alert").inner_text()
    a.get_by_text("Datenschutzhinweis", exact=True).click()          # the notice, unfolded
    j.check(a, "02-register-error")
    a.get_by_label("Ich habe den Datenschutzhinweis gelesen.").check()
    a.get_by_label("Passwort", exact=False).first.fill(PASSWORD)
    a.get_by_label("Passwort wiederholen").fill(PASSWORD)
    a.get_by_role("button", name="Registrieren").click()
    assert a.get_by_role("heading", name="Fast geschafft").is_visible()
    j.check(a)
    with db.session() as s:
        body = s.scalar(select(Message.body).where(Message.recipient == EMAIL))
    a.goto(base + re.search(r"(/bestaetigen/\S+)", body).group(1))
    j.check(a)
    a.get_by_label("E-Mail-Adresse").fill(EMAIL)
    a.get_by_label("Passwort").fill(PASSWORD)
    a.get_by_role("button", name="Anmelden").click()
    assert _h1(a) == "Meine Anträge"
    j.check(a, "03-applicant-home")

    en.goto(base + "/anmelden?lang=en")
    j.look_in_english(page=en, name="login")
    en.get_by_label("Email address").fill(EMAIL)
    en.get_by_label("Password").fill(PASSWORD)
    en.get_by_role("button", name="Log in").click()
    en.goto(base + "/antrag/?lang=en")
    j.look_in_english(page=en)
    a.goto(base + "/antrag/?lang=de")            # each window keeps its own language

    a.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Meine Organisation").click()
    j.check(a)
    a.get_by_label("Straße und Hausnummer").fill("Schinkelstraße 12")
    a.get_by_label("Postleitzahl").fill("49084")
    a.get_by_label("Stadt oder Gemeinde").fill("Osnabrück")
    a.get_by_label("Registergericht").fill("Amtsgericht Osnabrück")
    a.get_by_label("Registernummer").fill("VR 4711")
    a.get_by_label("IBAN").fill(IBAN)
    a.get_by_label("Kontoinhaber").fill(ORG)
    a.get_by_role("button", name="Speichern").first.click()
    assert "Die Angaben sind gespeichert." in _status(a)
    a.get_by_label("Art des Nachweises").select_option("exemption_notice")
    a.get_by_role("button", name="Nachweis speichern").click()
    assert "Datum wie 24.12.2026" in a.get_by_role("alert").first.inner_text()
    j.check(a, "04-organisation-error")
    a.get_by_label("Datum des Bescheids").fill((today - timedelta(days=400)).isoformat())
    a.get_by_label("Finanzamt").fill("Finanzamt Osnabrück-Land")
    a.get_by_label("Steuernummer").fill("66/270/01234")
    a.get_by_role("button", name="Nachweis speichern").click()
    assert "Der Nachweis ist gespeichert." in _status(a)
    a.get_by_label("Name, Zeile 1").fill("Aylin Demir")          # who signs for the association
    a.get_by_label("Funktion, Zeile 1").fill("Vorsitzende")
    a.get_by_role("region", name="Unterschriftsberechtigte").get_by_role("button", name="Speichern").click()
    assert "Die Unterschriftsberechtigten sind gespeichert." in _status(a)
    j.check(a)
    j.look_in_english(_path(a))

    # ---- 1b. it applies --------------------------------------------------------------------------
    a.get_by_role("link", name="Meine Anträge").click()
    a.get_by_role("button", name="Neuen Antrag beginnen").click()
    assert _h1(a) == "Ihr Projekt"
    a.get_by_label("Titel des Projekts").fill(TITLE)
    a.get_by_label("Stadtteil").select_option("Schinkel")
    a.get_by_label("Was haben Sie vor?").fill(TYPED[3])
    a.get_by_label("Wie begegnen sich").fill(TYPED[4])
    a.get_by_label("Wen wollen Sie erreichen?").fill(TYPED[5])
    a.get_by_label("Erwartete Teilnehmende").fill("viele")
    a.get_by_role("button", name="Weiter", exact=True).click()
    assert "Bitte geben Sie eine ganze Zahl an" in a.get_by_role("alert").inner_text()
    j.check(a, "05-apply-error")
    j.look_in_english(_path(a))
    en.get_by_label("Expected participants (number)").fill("many")
    en.get_by_role("button", name="Next", exact=True).click()
    assert "Please enter a whole number" in en.get_by_role("alert").inner_text()
    j.look_in_english(page=en, name="project step (errors)")
    a.get_by_label("Erwartete Teilnehmende").fill("40")
    a.get_by_role("button", name="Weiter", exact=True).click()
    assert _h1(a) == "Zeitraum"
    a.get_by_label("Beginn des Projekts").fill(start.isoformat())
    a.get_by_label("Ende des Projekts").fill(end.isoformat())
    j.check(a)
    j.look_in_english(_path(a))
    a.get_by_role("button", name="Weiter", exact=True).click()
    assert _h1(a) == "Kosten und Finanzierung"
    costs = a.get_by_role("group", name="Kosten")
    costs.get_by_label("Wofür, Zeile 1").fill("Saatgut und Erde")
    costs.get_by_label("Betrag in Euro, Zeile 1").fill("650,00")
    costs.get_by_label("Wofür, Zeile 2").fill("Werkzeug")
    costs.get_by_label("Betrag in Euro, Zeile 2").fill("450,00")
    a.get_by_label("Eigenmittel").fill("100")
    a.get_by_label("Beantragter Zuschuss").fill("1.000,00")
    j.check(a, "06-apply-costs")
    a.get_by_role("button", name="Weiter", exact=True).click()
    assert _h1(a) == "Anlagen"
    j.look_in_english(_path(a).replace("/anlagen", "/finanzen"))    # saved by now: the English page shows it
    pdf = tmp_path / "Angebot.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    a.get_by_label("Datei (PDF, JPEG oder PNG)").set_input_files(str(pdf))
    a.get_by_role("button", name="Hochladen").click()
    assert a.get_by_role("link", name="Angebot.pdf").is_visible()
    j.check(a)
    j.look_in_english(_path(a))
    a.get_by_role("button", name="Weiter", exact=True).click()
    assert _h1(a) == "Erklärungen"
    j.check(a)
    j.look_in_english(_path(a))
    for label in ("Das Projekt hat noch nicht begonnen.", "Ich habe alle anderen Geldgeber angegeben.",
                  "Ich habe den Datenschutzhinweis gelesen."):
        a.get_by_label(label).check()
    a.get_by_role("button", name="Weiter", exact=True).click()
    assert _h1(a) == "Prüfen und absenden"
    assert "Das fehlt noch" not in a.content()
    a.get_by_role("button", name="Antrag verbindlich absenden").click()
    assert "Bitte bestätigen Sie, dass die Angaben stimmen." in a.content()
    j.check(a, "07-apply-preview-error")
    j.look_in_english(_path(a))
    en.get_by_role("button", name="Submit application (binding)").click()
    assert "Please confirm that the information is correct." in en.content()
    j.look_in_english(page=en, name="preview (errors)")
    a.get_by_label("Ich versichere").check()
    a.get_by_role("button", name="Antrag verbindlich absenden").click()
    status = _status(a)
    assert "Ihr Antrag ist eingegangen. Ihr Aktenzeichen: DQD-" in status
    file_number = re.search(r"DQD-\d{4}-\d{4}", status).group(0)
    case_path = _path(a)
    j.check(a, "08-apply-submitted")
    j.look_in_english(case_path)
    with db.session() as s:
        case_id = s.scalar(select(Application.id).where(Application.file_number == file_number))

    # ---- 2. the screening flow runs; staff judge the purpose and release the case ------------
    j.run_jobs()
    staff = j.person("staff")
    staff.get_by_role("link", name="Prüfung").click()
    j.check(staff)
    staff.get_by_role("link", name=TITLE).click()
    assert staff.get_by_role("heading", name="Prüfergebnisse").is_visible()
    j.check(staff, "09-staff-case")
    staff.get_by_text("Ändern – Förderzweck").click()
    j.check(staff)
    row = staff.locator("details[open]")
    row.get_by_label("Neues Ergebnis").select_option("pass")
    row.get_by_role("button", name="Speichern").click()
    assert "Bitte begründen Sie die Änderung." in staff.get_by_role("alert").first.inner_text()
    j.check(staff)
    staff.get_by_text("Ändern – Förderzweck").click()
    row = staff.locator("details[open]")
    row.get_by_label("Neues Ergebnis").select_option("pass")
    row.get_by_label("Begründung").fill("Gärtnern verbindet Alteingesessene und Neue: passt.")
    row.get_by_role("button", name="Speichern").click()
    assert "protokolliert" in _status(staff)
    staff.get_by_role("button", name="Freigeben").click()
    j.check(staff)
    with db.session() as s:
        assert s.get(Application, case_id).state == "ready_for_committee"
    a.goto(base + case_path)
    j.check(a)

    # ---- 3. the committee: a session with a recusal ---------------------------------------------
    chair = j.person("chair")
    assert _h1(chair) == "Sitzungen des Koordinierungsstabs"
    chair.get_by_role("button", name="Ansetzen").click()
    assert "Bitte geben Sie Datum und Uhrzeit an." in chair.get_by_role("alert").first.inner_text()
    j.check(chair)
    chair.get_by_label("Datum").fill((today + timedelta(days=2)).isoformat())
    chair.get_by_label("Uhrzeit").fill("17:00")
    chair.get_by_label("Ort").fill("Rathaus, Raum 201")
    chair.get_by_role("button", name="Ansetzen").click()
    chair.get_by_role("button", name="Tagesordnung erstellen und einladen").click()
    assert chair.get_by_role("heading", name=re.compile(f"TOP 1: {TITLE}")).is_visible()
    j.check(chair)
    session_url = chair.url.split("#")[0]

    member2 = j.person("m2")                              # on the board of the association
    member2.get_by_role("table").get_by_role("link").first.click()
    member2.get_by_text("Befangenheit erklären").first.click()
    j.check(member2)
    member2.get_by_label("Grund der Befangenheit").fill("Ich bin im Vorstand des Vereins.")
    member2.get_by_role("button", name="Befangenheit erklären").click()
    assert "wegen Befangenheit ausgeschlossen" in member2.content()
    j.check(member2, "10-committee-recused")

    chair.goto(session_url)
    assert "Befangen (stimmt nicht mit): m2" in chair.content()
    chair.get_by_role("button", name="Sitzung eröffnen").click()
    for who in ("chair (Vorsitz)", "m1", "m2", "m3"):
        chair.get_by_label(who, exact=True).check()
    chair.get_by_role("button", name="Anwesenheit speichern").click()
    assert "Beschlussfähig: 4 von 5" in chair.content()
    j.check(chair)
    chair.get_by_label("Beschlussvorschlag").select_option("approve")
    chair.get_by_role("button", name="Zur Abstimmung stellen").click()
    chair.get_by_role("button", name=f"Ja – meine Stimme zu {TITLE}").click()

    member1 = j.person("m1")
    member1.goto(session_url)
    member1.get_by_role("button", name=f"Ja – meine Stimme zu {TITLE}").click()
    assert member1.get_by_role("button", name=re.compile("^Ja")).get_attribute("aria-pressed") == "true"
    j.check(member1)
    member2.goto(session_url)
    assert member2.get_by_role("button", name=re.compile("^(Ja|Nein|Enthaltung)")).count() == 0
    j.check(member2)

    chair.goto(session_url)
    chair.get_by_text("Stimmen eintragen").click()
    assert "befangen" in chair.get_by_role("row", name=re.compile("^m2")).inner_text()
    j.check(chair, "11-committee-votes")
    chair.get_by_role("button", name="Nein – m3").click()
    assert "Ja 2, Nein 1, Enthaltung 0" in chair.content()
    chair.get_by_role("button", name=f"Auszählen – {TITLE}").click()
    assert "Beschluss: bewilligen" in chair.content()
    chair.get_by_role("button", name="Sitzung schließen").click()
    assert "Die Sitzung ist geschlossen." in _status(chair)
    j.check(chair, "12-committee-closed")
    j.run_jobs()                                          # the decision flow, the letter, the mails

    # ---- 4. the approval letter in the portal -------------------------------------------------
    a.goto(base + case_path)
    letters = a.get_by_role("region", name="Bescheide und Schreiben")
    j.check(a, "13-applicant-letter")
    j.look_in_english(case_path)
    with a.expect_download() as dl:
        letters.get_by_role("link", name="Zuwendungsbescheid").click()
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(dl.value.path()).pages)
    assert file_number in text and "1.000,00" in text

    # ---- 5. finance: payout run under four eyes, SEPA file, bank statement ---------------------
    fin = j.person("finance")
    fin.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Auszahlungen").click()
    fin.get_by_role("button", name="Fällige Auszahlungen anlegen").click()
    assert file_number in fin.get_by_role("table").inner_text()
    fin.get_by_role("button", name="Zahllauf vorbereiten").click()
    assert "Freigabe durch eine zweite Person" in fin.content()
    assert fin.get_by_role("button", name="Freigeben").count() == 0        # not by the one who prepared it
    j.check(fin, "14-finance-prepared")
    fin2 = j.person("finance2")
    fin2.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Auszahlungen").click()
    fin2.get_by_role("button", name="Freigeben").click()
    j.check(fin2)
    with fin2.expect_download() as dl:
        fin2.get_by_role("button", name="SEPA-Datei erzeugen").click()
    pain = etree.parse(dl.value.path())
    ns = {"p": pain.getroot().nsmap[None]}
    e2e = pain.findtext(".//p:CdtTrfTxInf/p:PmtId/p:EndToEndId", namespaces=ns)
    amount = pain.findtext(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", namespaces=ns)
    assert e2e.startswith(file_number) and amount == "1000.00"
    camt = tmp_path / "kontoauszug.xml"
    camt.write_bytes(statement(FUND_IBAN, [N(amount, False, [T(amount, e2e, ORG, IBAN, f"Zuwendung {file_number}")],
                                             booked=today)]))
    fin2.get_by_role("link", name="Kontoauszug einlesen").click()
    fin2.get_by_role("button", name="Einlesen").click()
    assert "Bitte wählen Sie eine Datei aus." in fin2.content()
    j.check(fin2)
    fin2.get_by_label("Kontoauszug (camt.053 als XML oder ZIP)").set_input_files(str(camt))
    fin2.get_by_role("button", name="Einlesen").click()
    j.check(fin2)
    j.run_jobs()                                          # the page notices by itself and shows the result
    expect(fin2.get_by_role("status")).to_have_text("Fertig.")
    assert fin2.get_by_role("definition").nth(1).inner_text() == "1"          # matched automatically
    j.check(fin2, "15-finance-statement")
    with db.session() as s:
        assert s.get(Application, case_id).state == "paid"

    # ---- 6. the proof of use, and staff accept it -------------------------------------------------
    a.goto(base + case_path)
    j.check(a)
    a.get_by_role("link", name="Verwendungsnachweis ausfüllen").click()
    assert _h1(a) == "Sachbericht"
    a.get_by_label("Was ist im Projekt passiert?").fill(TYPED[14])
    a.get_by_label("Teilnehmende insgesamt (Anzahl)").fill("vierzig")
    a.get_by_role("button", name="Weiter", exact=True).click()
    assert "ganze Zahl" in a.get_by_role("alert").inner_text()
    j.check(a, "16-proof-error")
    j.look_in_english(_path(a))
    en.get_by_label("Participants in total (number)").fill("forty")
    en.get_by_role("button", name="Next", exact=True).click()
    assert "Please enter a whole number" in en.get_by_role("alert").inner_text()
    j.look_in_english(page=en, name="proof report step (errors)")
    a.get_by_label("Teilnehmende insgesamt (Anzahl)").fill("40")
    a.get_by_role("button", name="Weiter", exact=True).click()
    assert _h1(a) == "Ausgaben und Finanzierung"
    a.get_by_label("Saatgut und Erde").fill("650,00")
    a.get_by_label("Werkzeug").fill("450,00")
    a.get_by_label("Eingesetzte Eigenmittel in Euro").fill("100")
    a.get_by_label("Erhaltene Mittel anderer Geldgeber in Euro").fill("0")
    j.check(a)
    j.look_in_english(_path(a))
    a.get_by_role("button", name="Weiter", exact=True).click()
    assert _h1(a) == "Belegliste"
    for row, (paid_on, payee, purpose, amount) in enumerate(
            [(start + timedelta(days=1), "Gartencenter Meyer", "Saatgut und Erde", "650,00"),
             (start + timedelta(days=2), "Baumarkt Schinkel", "Werkzeug", "450,00")], start=1):
        a.get_by_label(f"Datum, Beleg {row}").fill(paid_on.isoformat())
        a.get_by_label(f"Empfänger, Beleg {row}").fill(payee)
        a.get_by_label(f"Zweck, Beleg {row}").fill(purpose)
        if row == 1:
            a.get_by_label(f"Betrag in Euro, Beleg {row}").fill(amount)
    a.get_by_role("button", name="Weiter", exact=True).click()
    summary = a.get_by_role("alert")
    link = summary.get_by_role("link", name="Belege, Zeile 2: Bitte füllen Sie die ganze Zeile aus.")
    assert link.get_attribute("href") == "#" + a.get_by_label("Betrag in Euro, Beleg 2").get_attribute("id")
    assert "{" not in summary.inner_text()                # each row's message, not the raw error mapping
    j.check(a, "17-proof-receipts-error")
    a.get_by_label("Betrag in Euro, Beleg 2").fill("450,00")
    a.get_by_role("button", name="Weiter", exact=True).click()
    assert _h1(a) == "Fotos und Unterlagen"
    j.look_in_english(_path(a).replace("/anlagen", "/belege"))
    photo = tmp_path / "Foto-Beete.png"
    photo.write_bytes(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"))
    a.get_by_label("Datei (PDF, JPEG oder PNG)").set_input_files(str(photo))
    a.get_by_label("Art der Datei").select_option(label="Foto")
    a.get_by_role("button", name="Hochladen").click()
    assert "Die Datei ist hochgeladen." in _status(a)
    j.check(a)
    j.look_in_english(_path(a))
    a.get_by_role("button", name="Weiter", exact=True).click()
    assert _h1(a) == "Verwendungsnachweis prüfen und absenden", a.locator("main").inner_text()
    assert "Das fehlt noch" not in a.content()
    a.get_by_role("button", name="Verwendungsnachweis verbindlich absenden").click()
    assert "Bitte bestätigen Sie, dass die Angaben stimmen." in a.content()
    j.check(a, "18-proof-preview-error")
    j.look_in_english(_path(a))
    en.get_by_role("button", name="Send the proof of use (binding)").click()
    assert "Please confirm that the information is correct." in en.content()
    j.look_in_english(page=en, name="proof preview (errors)")
    a.get_by_label("Ich bestätige").check()
    a.get_by_role("button", name="Verwendungsnachweis verbindlich absenden").click()
    j.check(a)
    with db.session() as s:
        assert s.get(Application, case_id).state == "report_submitted"
    a.goto(base + case_path)
    assert "Eingereicht. Der Fachdienst prüft Ihren Nachweis." in a.content()
    j.run_jobs()

    staff.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Nachweise").click()
    j.check(staff)
    staff.get_by_role("link", name=TITLE).click()
    assert staff.get_by_role("heading", name="Rechnerische Prüfung").is_visible()
    j.check(staff, "19-staff-proof-check")
    staff.get_by_role("button", name="Anerkennen und Antrag abschließen").click()
    j.check(staff)
    with db.session() as s:
        assert s.get(Application, case_id).state == "closed"
    a.goto(base + case_path)
    assert "Geprüft und abgeschlossen." in a.content()
    j.check(a, "20-applicant-closed")
    j.look_in_english(case_path)


def test_the_german_detector_tells_german_from_english():
    for german in ("Stand: eingereicht", "Zuwendungsbescheid", "Weiter", "Bitte wählen Sie eine Datei aus.",
                   "Die Datei ist hochgeladen.", "Zeile 2", "Belegliste"):
        assert GERMAN.search(german), german
    for english in ("Status: received", "Grant decision", "Next", "Please choose a file.", "Row 2",
                    "List of receipts", "Standard", "Date, Receipt 1", "€1,250.00", "Register organisation"):
        assert not GERMAN.search(english), english


def test_core_applicant_path_without_javascript(browser, live_server, world):
    """Log in, start and open a draft, save a step, add rows, reach the preview: no script needed."""
    ctx = browser.new_context(locale="de-DE", java_script_enabled=False)
    try:
        a = ctx.new_page()
        a.set_default_timeout(20_000)
        _login(a, live_server, "applicant_a")
        assert _h1(a) == "Meine Anträge"
        a.get_by_role("button", name="Neuen Antrag beginnen").click()
        assert _h1(a) == "Ihr Projekt"
        a.get_by_label("Titel des Projekts").fill("Sprachcafé ohne Skript")
        a.get_by_label("Erwartete Teilnehmende").fill("zwölf")
        a.get_by_role("button", name="Zwischenspeichern").click()
        assert "Bitte geben Sie eine ganze Zahl an" in a.get_by_role("alert").inner_text()
        assert a.get_by_label("Titel des Projekts").input_value() == "Sprachcafé ohne Skript"
        a.get_by_label("Erwartete Teilnehmende").fill("12")
        a.get_by_role("button", name="Zwischenspeichern").click()
        assert "Gespeichert" in _status(a)
        a.get_by_role("link", name="Meine Anträge").click()          # leave, and open the draft again
        a.get_by_role("link", name="Sprachcafé ohne Skript").click()
        a.get_by_role("link", name="Weiter ausfüllen").click()
        assert a.get_by_label("Erwartete Teilnehmende").input_value() == "12"
        a.get_by_role("button", name="Weiter", exact=True).click()
        assert _h1(a) == "Zeitraum"
        a.get_by_role("button", name="Weiter", exact=True).click()
        assert _h1(a) == "Kosten und Finanzierung"
        rows = a.get_by_label(re.compile(r"^Wofür, Zeile \d+$")).count()
        costs = a.get_by_role("group", name="Kosten")
        costs.get_by_label("Wofür, Zeile 1").fill("Kaffee und Tee")
        costs.get_by_label("Betrag in Euro, Zeile 1").fill("300,00")
        costs.get_by_role("button", name="Weitere Zeilen").click()     # more rows, by a round trip
        assert a.get_by_label(re.compile(r"^Wofür, Zeile \d+$")).count() > rows
        assert a.get_by_label("Wofür, Zeile 1").input_value() == "Kaffee und Tee"
        a.get_by_role("navigation", name="Fortschritt").get_by_role("link", name="Prüfen und absenden").click()
        assert _h1(a) == "Prüfen und absenden"
        assert "Das fehlt noch" in a.content() and "Kaffee und Tee" in a.content()
    finally:
        ctx.close()
