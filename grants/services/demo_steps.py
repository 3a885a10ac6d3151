"""What the people of the demo do outside the sittings, each action through the service a click on
its page calls, one transaction each: applying, screening decisions, releasing letters, payment runs,
bank statements, the daily reminders, proofs of use and their check (sittings: demo_sittings)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import clock
from grants.domain.form_spec import FormSpec, Step
from grants.domain.proof import ReceiptRow
from grants.domain.screening import FAIL
from grants.models import Application, Letter, Organisation, Program
from grants.services import (
    cases,
    drafts,
    jobs,
    letters,
    payouts,
    proof_check,
    proofs,
    reclaims,
    screening,
    statements,
)
from grants.services.actor import Actor
from grants.services.demo_statements import Entry
from grants.services.demo_world import World

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Project:
    org: str                   # the applying organisation's key (demo_world.ORGS)
    title: str
    quarter: str
    requested: str


def wait(**delta) -> None:
    """Time passes within one scene (the scene's own clock is restored when it ends)."""
    clock.set_to(clock.now() + timedelta(**delta))


def case_of(s: Session, w: World, title: str) -> Application:
    return s.get_one(Application, w.cases[title])


def applicant(s: Session, w: World, case: Application) -> Actor:
    key = next(k for k, org_id in w.orgs.items() if org_id == case.organisation_id)
    return w.actor(s, key)


def _form(p: Project, start: date, end: date, parish: bool) -> dict[str, dict]:
    """The answers of each step of the form, as the form's fields deliver them."""
    requested = Decimal(p.requested)
    own = (requested * Decimal("0.10")).quantize(CENT)
    fees = (requested * Decimal("0.6")).quantize(CENT)
    declarations = {"decl_not_started": True, "decl_other_funders": True, "decl_privacy": True}
    if parish:
        declarations["decl_parish_seal"] = True
    return {
        "projekt": {"title": p.title, "quarter": p.quarter,
                    "description": f"{p.title}: ein Projekt, bei dem sich alteingesessene Nachbarinnen und Nachbarn "
                                   "und Geflüchtete im Stadtteil begegnen und gemeinsam etwas gestalten.",
                    "aims": "Begegnung, gegenseitiges Kennenlernen, Stärkung der Nachbarschaft.",
                    "target_groups": "Familien, Jugendliche und Seniorinnen und Senioren aus dem Stadtteil",
                    "participants_expected": 20 + len(p.title) % 40, "partners": "Stadtteiltreff, Grundschule"},
        "zeitraum": {"project_start": start, "project_end": end, "early_start_requested": False},
        "finanzen": {"cost_items": [("Honorare", fees), ("Material und Verpflegung", requested + own - fees)],
                     "own_funds": own, "other_funding": [], "requested": requested},
        "erklaerungen": declarations,
    }


def apply(w: World, p: Project, start: date, end: date, *, steps: int = 4, submit: bool = True) -> None:
    """The organisation fills in the form step by step (a draft) and submits it."""
    with w.db.session() as s:
        me = w.actor(s, p.org)
        case = drafts.open_draft(s, me, w.orgs[p.org])
        spec = drafts.spec_for(s.get_one(Program, w.program_id))
        parish = s.get_one(Organisation, w.orgs[p.org]).kind.value == "parish"
        for step_id, values in list(_form(p, start, end, parish).items())[:steps]:
            drafts.save_step(s, me, case, _step(spec, step_id), values, {})
        w.cases[p.title] = case.id
    if submit:
        wait(minutes=35)
        with w.db.session() as s:
            drafts.submit(s, w.actor(s, p.org), case_of(s, w, p.title))


def _step(spec: FormSpec, step_id: str) -> Step:
    step = spec.step(step_id)
    if step is None:
        raise RuntimeError(f"the form {spec.name} has no step {step_id!r} any more; the demo needs updating")
    return step


def ready(w: World, title: str, note: str = "Förderfähig; Zuschuss in beantragter Höhe empfohlen.",
          amount: str = "") -> None:
    """Staff: every rule checked, ready for the committee, with the recommendation it will read."""
    with w.db.session() as s:
        staff, case = w.actor(s, "staff"), case_of(s, w, title)
        screening.recommend(s, staff, case, amount, note)
        cases.transition(s, case, "mark_ready", staff, reason=note)


def ask(w: World, title: str, text: str) -> None:
    """Staff: something is missing; the applicant reads what."""
    with w.db.session() as s:
        staff, case = w.actor(s, "staff"), case_of(s, w, title)
        screening.comment(s, staff, case.id, text, True)
        cases.transition(s, case, "request_info", staff, reason=text)


def ineligible(w: World, title: str, reason: str) -> None:
    """Staff judge the purpose not fundable (the rule's verdict, with the reason) and close the case."""
    with w.db.session() as s:
        staff, case = w.actor(s, "staff"), case_of(s, w, title)
        verdict = next(v for v in screening.latest_verdicts(s, case.id) if v.rule == "purpose")
        screening.override(s, staff, verdict.id, FAIL, reason)
    wait(minutes=4)
    with w.db.session() as s:
        cases.transition(s, case_of(s, w, title), "declare_ineligible", w.actor(s, "staff"), reason=reason)


def withdraw(w: World, title: str) -> None:
    with w.db.session() as s:
        case = case_of(s, w, title)
        cases.transition(s, case, "withdraw", applicant(s, w, case))


def release(w: World, titles: list[str]) -> None:
    """Staff read the held letters and send them out."""
    for title in titles:
        with w.db.session() as s:
            for letter in s.scalars(select(Letter).where(Letter.application_id == w.cases[title],
                                                         Letter.state == "held")):
                letters.release(s, w.actor(s, "staff"), letter.id)
        wait(minutes=3)
    w.settle()


def payment_run(w: World) -> None:
    """Finance: due payouts made, a run prepared by one person and released by the other."""
    with w.db.session() as s:
        payouts.plan(s, w.actor(s, "finance"))
    with w.db.session() as s:
        run_id = payouts.prepare_run(s, w.actor(s, "finance")).id
    wait(hours=2)
    with w.db.session() as s:
        payouts.release_run(s, w.actor(s, "finance2"), run_id)


def payout_file(w: World) -> Path:
    """Finance writes the SEPA file of the released runs for the bank."""
    folder = w.config.storage / "payout-files"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"pain001-{clock.local(clock.now()):%Y%m%d-%H%M%S}.xml"
    with w.db.session() as s:
        payouts.write_file(s, w.actor(s, "finance2"), target)
    return target


def bank_statement(w: World, entries: list[Entry], until: date) -> None:
    """Finance uploads the account's statement; the reconciliation flow books it."""
    data = w.bank.statement(entries, until)
    with w.db.session() as s:
        statements.accept_upload(s, w.actor(s, "finance"), f"camt053_{until:%Y%m%d}.xml", io.BytesIO(data),
                                 w.config.storage / "statements")
    w.settle()


def reminders(w: World) -> None:
    """The daily reminders flow (a Prefect schedule at 06:00) for today."""
    day = clock.today().isoformat()
    with w.db.session() as s:
        jobs.enqueue(s, "reminders", f"reminders:demo:{day}", today=day)
    w.settle()


def report(w: World, title: str, share: Decimal, text: str, participants: int) -> None:
    """The organisation writes its proof of use step by step and submits it; `share` of each planned
    cost was really spent, with one receipt per line."""
    with w.db.session() as s:
        case = case_of(s, w, title)
        me = applicant(s, w, case)
        case, p = proofs.open_proof(s, me, case.id)
        spec = proofs.spec_for(s.get_one(Program, case.program_id))
        spent = {c.id: (c.amount * share).quantize(CENT) for c in case.cost_items}
        payees = ("Honorarkräfte laut Vertrag", "Stadtteilladen und Großmarkt")
        first, last = case.project_start or clock.today(), case.project_end or clock.today()
        receipts = [ReceiptRow(min(first + timedelta(days=9 * (i + 1)), last), payees[i % 2], c.description, spent[c.id])
                    for i, c in enumerate(case.cost_items)]
        answers: dict[str, dict] = {"bericht": {"report": text, "participants_actual": participants, "events_held": 6,
                               "lessons": "Persönliche Einladungen über die Kitas haben am besten funktioniert."},
                   "ausgaben": {"actual_costs": spent, "own_funds_actual": case.own_funds,
                                "other_funding_actual": Decimal("0.00")},
                   "belege": {"receipts": receipts}}
        for step_id, values in answers.items():
            proofs.save_step(s, me, case, p, _step(spec, step_id), values, {})
    wait(minutes=25)
    with w.db.session() as s:
        case = case_of(s, w, title)
        proofs.submit(s, applicant(s, w, case), case.id)


def accept(w: World, title: str, note: str) -> None:
    with w.db.session() as s:
        proof_check.accept(s, w.actor(s, "staff"), w.cases[title], note)


def reclaim(w: World, title: str, reasons: str) -> None:
    """Staff reclaim what the arithmetic check found unspent; the Rückforderungsbescheid is made by
    its flow, held for review like every letter of the program, and released."""
    with w.db.session() as s:
        amount = reclaims.proposal(s, case_of(s, w, title))
        reclaims.start(s, w.actor(s, "staff"), w.cases[title], amount=amount, reasons=reasons)
    w.settle()
    wait(minutes=20)
    release(w, [title])
