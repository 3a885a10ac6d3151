"""Screening an application, rule by rule (docs/domain.md, "Screening"). Pure: facts in, verdicts out.

Each rule gives pass / fail / warn with a reason in German (shown to staff, and to the applicant
where something is missing). A fail is either `missing` (the applicant can add it: the case goes
to needs_info) or `ineligible` (only staff may decide to reject, never this code). The program's
choices (amounts, kinds, proof ages, ...) come in as its ProgramRules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher

from grants.domain.eligibility import proof_valid_on, proof_valid_until
from grants.domain.money import fmt_german
from grants.domain.program_rules import ProgramRules

PASS, FAIL, WARN = "pass", "fail", "warn"


@dataclass(frozen=True)
class Proof:
    kind: str
    issued_on: date


@dataclass(frozen=True)
class OtherCase:
    file_number: str
    title: str
    start: date | None
    end: date | None


@dataclass(frozen=True)
class Facts:
    org_kind: str
    register_court: str | None
    register_number: str | None
    proofs: tuple[Proof, ...]
    parish_resolution_on: date | None
    seal_confirmed: bool
    signatories: int
    iban: str | None
    account_holder: str | None
    title: str
    requested: Decimal
    own_funds: Decimal
    costs: tuple[Decimal, ...]
    other_funding: tuple[Decimal, ...]
    project_start: date | None
    project_end: date | None
    early_start_requested: bool
    submitted_on: date
    attachment_kinds: tuple[str, ...]
    declarations: dict[str, bool]
    open_cases_same_org: tuple[OtherCase, ...] = ()
    other_orgs_same_iban: tuple[str, ...] = ()
    fund_available: Decimal | None = None
    signatory_functions: tuple[str, ...] = ()
    next_decision_on: date | None = None     # the next session the case can still reach, if planned


@dataclass(frozen=True)
class Verdict:
    rule: str
    result: str
    reason: str
    kind: str | None = None          # missing | ineligible (for fails)
    needs_judgement: bool = False


def _v(rule, result, reason, kind=None, judge=False) -> Verdict:
    return Verdict(rule, result, reason, kind, judge)


def _euro(d: Decimal) -> str:
    return f"{fmt_german(d)} €"


def _de(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def applicant_type(f: Facts, r: ProgramRules) -> Verdict:
    names = {"association": "eingetragener Verein", "parish": "Kirchengemeinde", "other": "gemeinnützige Körperschaft"}
    if f.org_kind in r.allowed_kinds:
        return _v("applicant_type", PASS, f"Antragsberechtigt: {names.get(f.org_kind, f.org_kind)}.")
    return _v("applicant_type", FAIL, f"Organisationen der Art „{names.get(f.org_kind, f.org_kind)}“ sind in diesem "
                                      "Programm nicht antragsberechtigt.", "ineligible")


# who leads a parish council: chair (often the Pfarrer or Pastor) or deputy
_LEADS = re.compile(r"vorsitz|stellv|pfarr|pastor", re.IGNORECASE)


def non_profit_proof(f: Facts, r: ProgramRules) -> Verdict:
    rule = "non_profit_proof"
    if f.org_kind == "parish":
        missing = []
        if f.parish_resolution_on is None:
            missing.append("das Datum des Kirchenvorstandsbeschlusses")
        if f.signatories < 2:
            missing.append("zwei Unterschriftsberechtigte (Vorsitz oder Stellvertretung und ein weiteres Mitglied)")
        if not f.seal_confirmed:
            missing.append("die Bestätigung, dass mit dem Kirchensiegel unterschrieben wird")
        if missing:
            return _v(rule, FAIL, "Es fehlt: " + "; ".join(missing) + ".", "missing")
        if not any(_LEADS.search(fn or "") for fn in f.signatory_functions):
            # the functions are free text: a person judges, the rule only points at it
            return _v(rule, WARN, "Unter den Unterschriftsberechtigten ist kein Vorsitz und keine Stellvertretung "
                                  "des Kirchenvorstands angegeben. Bitte prüfen.", judge=True)
        return _v(rule, PASS, "Kirchengemeinde (Körperschaft des öffentlichen Rechts): Beschluss, zwei "
                              "Unterschriften und Siegel liegen vor.")
    if not (f.register_court and f.register_number):
        return _v(rule, FAIL, "Es fehlen Registergericht und Registernummer.", "missing")
    if f.signatories < 1:
        return _v(rule, FAIL, "Es fehlen die Unterschriftsberechtigten (vertretungsberechtigter Vorstand).", "missing")
    # a § 60a notice counts only while no exemption notice exists
    exemption = [p for p in f.proofs if p.kind in ("exemption_notice", "tax_notice_annex")]
    candidates = exemption or [p for p in f.proofs if p.kind == "notice_60a"]
    valid = [p for p in candidates if proof_valid_on(p.kind, p.issued_on, f.submitted_on, r.proof_years)]
    if not valid:
        if candidates:
            newest = max(candidates, key=lambda p: p.issued_on)
            limit = r.proof_years[newest.kind]
            return _v(rule, FAIL, f"Der Nachweis der Gemeinnützigkeit vom {_de(newest.issued_on)} ist älter als "
                                  f"{limit} Jahre. Bitte reichen Sie einen aktuellen Bescheid ein.", "missing")
        return _v(rule, FAIL, "Es fehlt der Nachweis der Gemeinnützigkeit (Freistellungsbescheid oder "
                              "Bescheid nach § 60a AO).", "missing")
    best = max(valid, key=lambda p: proof_valid_until(p.kind, p.issued_on, r.proof_years))
    until = proof_valid_until(best.kind, best.issued_on, r.proof_years)
    if f.project_end and until < f.project_end:
        return _v(rule, WARN, f"Der Nachweis gilt nur bis {_de(until)}, das Projekt endet am {_de(f.project_end)}. "
                              "Bitte rechtzeitig einen neuen Bescheid anfordern.")
    return _v(rule, PASS, f"Nachweis der Gemeinnützigkeit vom {_de(best.issued_on)}, gültig bis {_de(until)}.")


def amount_bounds(f: Facts, r: ProgramRules) -> Verdict:
    if r.min_amount <= f.requested <= r.max_amount:
        return _v("amount_bounds", PASS, f"Beantragt {_euro(f.requested)}: im Rahmen von {_euro(r.min_amount)} "
                                         f"bis {_euro(r.max_amount)}.")
    return _v("amount_bounds", FAIL, f"Beantragt {_euro(f.requested)}: Das Programm fördert {_euro(r.min_amount)} "
                                     f"bis {_euro(r.max_amount)}.", "ineligible")


def financing_plan(f: Facts, r: ProgramRules) -> Verdict:
    costs = sum(f.costs, Decimal("0"))
    financing = f.own_funds + sum(f.other_funding, Decimal("0")) + f.requested
    if not f.costs:
        return _v("financing_plan", FAIL, "Der Kosten- und Finanzierungsplan fehlt.", "missing")
    if costs == financing:
        return _v("financing_plan", PASS, f"Kosten {_euro(costs)} = Eigenmittel, andere Geldgeber und Zuschuss.")
    return _v("financing_plan", FAIL, f"Der Finanzierungsplan geht nicht auf: Kosten {_euro(costs)}, Finanzierung "
                                      f"{_euro(financing)} (Unterschied {_euro(abs(costs - financing))}).", "missing")


def project_dates(f: Facts, r: ProgramRules) -> Verdict:
    rule = "project_dates"
    if f.project_start is None or f.project_end is None:
        return _v(rule, FAIL, "Beginn und Ende des Projekts fehlen.", "missing")
    if f.project_end < f.project_start:
        return _v(rule, FAIL, "Das Projektende liegt vor dem Beginn.", "missing")
    if f.project_start < f.submitted_on:
        if f.early_start_requested:
            return _v(rule, WARN, "Das Projekt beginnt vor der Entscheidung; ein vorzeitiger Maßnahmebeginn ist "
                                  "beantragt. Bitte entscheiden.", judge=True)
        return _v(rule, FAIL, f"Das Projekt hat am {_de(f.project_start)} schon begonnen, ohne dass ein vorzeitiger "
                              "Maßnahmebeginn zugelassen war.", "ineligible")
    if (f.project_end - f.project_start).days > r.max_project_days:
        return _v(rule, WARN, "Das Projekt dauert länger als ein Jahr.", judge=True)
    if not f.early_start_requested and f.next_decision_on and f.project_start < f.next_decision_on:
        return _v(rule, WARN, f"Das Projekt soll am {_de(f.project_start)} beginnen, entschieden wird frühestens am "
                              f"{_de(f.next_decision_on)}. Ohne vorzeitigen Maßnahmebeginn darf es erst nach der "
                              "Entscheidung beginnen: bitte mit der Organisation klären.", judge=True)
    if f.early_start_requested:
        return _v(rule, WARN, "Ein vorzeitiger Maßnahmebeginn ist beantragt. Bitte entscheiden.", judge=True)
    return _v(rule, PASS, f"Projekt vom {_de(f.project_start)} bis {_de(f.project_end)}, noch nicht begonnen.")


ATTACHMENT_NAMES = {"quote": "ein Angebot oder Kostenvoranschlag", "flyer": "ein Flyer oder eine Einladung",
                    "partner_letter": "die Zusage eines Partners", "other": "eine weitere Anlage"}


def attachments(f: Facts, r: ProgramRules) -> Verdict:
    missing = [k for k in r.required_attachments if k not in f.attachment_kinds]
    if missing:
        return _v("attachments", FAIL, "Es fehlt: " + ", ".join(ATTACHMENT_NAMES.get(k, k) for k in missing) + ".",
                  "missing")
    return _v("attachments", PASS, f"{len(f.attachment_kinds)} Anlage(n); alle verlangten liegen vor.")


def declarations(f: Facts, r: ProgramRules) -> Verdict:
    missing = [k for k, v in f.declarations.items() if not v]
    if missing:
        return _v("declarations", FAIL, "Nicht alle Erklärungen sind abgegeben.", "missing")
    return _v("declarations", PASS, "Alle Erklärungen sind abgegeben.")


def bank_account(f: Facts, r: ProgramRules) -> Verdict:
    if not f.iban or not f.account_holder:
        return _v("bank_account", FAIL, "Es fehlt die Bankverbindung (IBAN und Kontoinhaber) im Profil der "
                                        "Organisation.", "missing")
    if f.other_orgs_same_iban:
        return _v("bank_account", WARN, "Dieselbe IBAN nutzt auch: " + ", ".join(f.other_orgs_same_iban) +
                  ". Bitte klären.", judge=True)
    return _v("bank_account", PASS, "Bankverbindung vorhanden.")


def purpose(f: Facts, r: ProgramRules) -> Verdict:
    if not r.purpose_judgement:
        return _v("purpose", PASS, "Der Förderzweck wird vom Koordinierungsstab beurteilt.")
    return _v("purpose", WARN, "Passt das Projekt zum Förderzweck (Begegnung von Alteingesessenen und "
                               "Geflüchteten im Quartier)? Bitte beurteilen.", judge=True)


def _fold(t: str) -> str:
    t = t.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))


def _words(t: str) -> set[str]:
    return {w for w in re.findall(r"\w+", _fold(t)) if len(w) > 2}


def similar(a: str, b: str) -> bool:
    """Titles that name the same project: most words shared, one inside the other, or nearly equal."""
    if not a or not b:
        return False
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return False
    jaccard = len(wa & wb) / len(wa | wb)
    return jaccard >= 0.5 or wa <= wb or wb <= wa or SequenceMatcher(None, _fold(a), _fold(b)).ratio() >= 0.8


def _overlap(a1, a2, b1, b2) -> bool:
    if None in (a1, a2, b1, b2):
        return False
    return a1 <= b2 and b1 <= a2


def duplicates(f: Facts, r: ProgramRules) -> Verdict:
    clashes = [c for c in f.open_cases_same_org
               if _overlap(f.project_start, f.project_end, c.start, c.end) or similar(f.title, c.title)]
    if clashes:
        names = ", ".join(f"{c.file_number} „{c.title}“" for c in clashes)
        return _v("duplicate", WARN, f"Die Organisation hat einen offenen Antrag mit überschneidendem Zeitraum oder "
                                     f"ähnlichem Titel: {names}. Bitte prüfen, ob es ein Doppelantrag ist.", judge=True)
    return _v("duplicate", PASS, "Kein offener Antrag derselben Organisation überschneidet sich.")


def fund_balance(f: Facts, r: ProgramRules) -> Verdict:
    if f.fund_available is None or f.fund_available >= f.requested:
        return _v("fund_balance", PASS, "Der Fonds reicht für diesen Antrag." if f.fund_available is not None
                  else "Fondsstand unbekannt.")
    return _v("fund_balance", WARN, f"Im Fonds sind nur {_euro(f.fund_available)} verfügbar.")


RULES = (applicant_type, non_profit_proof, amount_bounds, financing_plan, project_dates, attachments, declarations,
         bank_account, purpose, duplicates, fund_balance)


def screen(f: Facts, r: ProgramRules) -> list[Verdict]:
    return [rule(f, r) for rule in RULES]


@dataclass(frozen=True)
class Outcome:
    action: str            # request_info | propose_reject | await_staff | mark_ready
    message: str = ""      # for request_info: exactly what to add (German, to the applicant)


def decide(verdicts: list[Verdict], r: ProgramRules) -> Outcome:
    """What happens next. Never rejects: an ineligible case waits for a staff decision."""
    results = {v.rule: v.result for v in verdicts}
    missing = [v for v in verdicts if results[v.rule] == FAIL and v.kind == "missing"]
    ineligible = [v for v in verdicts if results[v.rule] == FAIL and v.kind == "ineligible"]
    if ineligible:
        return Outcome("propose_reject", "\n".join(f"- {v.reason}" for v in ineligible))
    if missing:
        return Outcome("request_info", "Bitte ergänzen Sie Ihren Antrag:\n" + "\n".join(f"- {v.reason}" for v in missing))
    if r.staff_confirmation or any(v.needs_judgement and results[v.rule] != PASS for v in verdicts):
        return Outcome("await_staff")
    return Outcome("mark_ready")
