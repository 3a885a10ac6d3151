"""Demo data for the template preview: every field a template may use, with hostile and long text
so that staff see at once how the layout copes."""

from __future__ import annotations

from grants import clock
from grants.documents import render

DEMO = {
    "recipient": ["Nachbarschaftshilfe Schinkel e.V.", "Bremer Straße 12", "49084 Osnabrück"],
    "today": render.german_date(clock.today()), "file_number": "DQD-2026-0042", "title": "Interkulturelles Nachbarschaftsfest",
    "quarter": "Schinkel", "submitted_on": "01.10.2026", "decided_on": "04.11.2026", "requested": "2.400,00 €",
    "reasons": "Die Honorarkosten werden nur zur Hälfte gefördert.", "partial": False, "amount": "2.400,00 €",
    "amount_words": "zweitausendvierhundert Euro",
    "costs": [("Honorare", "1.440,00 €"), ("Material und Verpflegung", "1.200,00 €")], "costs_total": "2.640,00 €",
    "period": "01.01.2027 bis 31.03.2027", "iban_masked": "DE02 … 2051", "account_holder": "Nachbarschaftshilfe Schinkel e.V.",
    "report_due": "30.09.2027", "instalments": [],
    "missing": "- der Kosten- und Finanzierungsplan mit Angeboten\n- der Freistellungsbescheid",
    "answer_by": "", "overdue": False, "submitted": "01.10.2026",
    "reclaim_amount": "420,00 €", "interest_from": "15.02.2027", "interest_until": "30.10.2027", "interest": "12,94 €",
    "total": "432,94 €", "pay_by": "30.11.2027", "fund_iban": "DE89 3704 0044 0532 0130 00", "interest_waived": False,
}
SESSION = {
    "recipient": ["Koordinierungsstab Integration"], "today": render.german_date(clock.today()), "number": 7,
    "date": "25.11.2026", "place": "Rathaus, Raum 201", "opened": "14:00", "closed": "15:30",
    "present": ["Dr. Meral Yıldız, Vorsitz", "Thomas Brandt", "Anna Kowalski"], "absent": ["Leyla Demir"],
    "quorum": "gegeben (3 von 4 stimmberechtigten Mitgliedern)",
    "items": [{"position": 1, "title": "Sprachcafé", "file_number": "DQD-2026-0042", "organisation": "St. Marien",
               "requested": "1.200,00 €", "recusals": [], "motions": [{"motion": "bewilligen", "amount": None, "yes": 3,
                                                                       "no": 0, "abstain": 0, "result": "angenommen"}],
               "outcome": "bewilligt", "reasons": "", "quarter": "Innenstadt", "proposed": "1.200,00 €",
               "fund_after": "20.000,00 €", "recommendation": "", "description": "…", "aims": "…", "period": "–",
               "verdicts": [], "earlier": []}],
    "signatures": [], "available": "21.200,00 €",
}
TEMPLATES = {"receipt.html": DEMO, "reclaim.html": DEMO, "approval.html": DEMO, "rejection.html": DEMO, "request_info.html": DEMO,
             "reminder.html": DEMO, "minutes.html": SESSION, "dossier.html": SESSION}
