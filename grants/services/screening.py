"""Screening a submitted case: gather the facts, run the rules, store the verdicts, move the case.

Safe to run twice: verdicts are stored once per submission (run key), and the outcome is
applied once; everything happens in one transaction, so a crash leaves the case where it was."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants import clock
from grants.domain import screening as rules_
from grants.domain.money import AmountError, parse_amount
from grants.domain.program_rules import ProgramRules
from grants.domain.roles import Perm
from grants.domain.workflow import FINAL, State
from grants.models import (
    Application,
    Attachment,
    AuditEvent,
    Comment,
    NonProfitProof,
    Organisation,
    Program,
    ScreeningVerdict,
    Signatory,
    Sitting,
)
from grants.services import audit, cases, ledger, messenger
from grants.services.actor import Actor
from grants.services.errors import Conflict, Invalid, NotFound

SCREENING_FLOW = "screening"
CLOSED = {s.value for s in FINAL} | {"rejected", "withdrawn", "ineligible", "closed"}


def run_key(db: Session, case_id: int) -> str:
    n = db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.application_id == case_id, AuditEvent.action.in_(("submit", "resubmit"))))
    return f"{case_id}:{n}"


def gather(db: Session, case: Application) -> tuple[rules_.Facts, ProgramRules]:
    org = db.get_one(Organisation, case.organisation_id)
    program = db.get_one(Program, case.program_id)
    proofs = tuple(rules_.Proof(p.kind.value, p.issued_on) for p in db.scalars(
        select(NonProfitProof).where(NonProfitProof.organisation_id == org.id)))
    functions = tuple(db.scalars(select(Signatory.function).where(Signatory.organisation_id == org.id)))
    signatories = len(functions)
    others = db.scalars(select(Application).where(
        Application.organisation_id == org.id, Application.id != case.id,
        Application.state.notin_(CLOSED | {"draft"}))).all()
    same_iban = db.scalars(select(Organisation.name).where(Organisation.iban == org.iban, Organisation.id != org.id)).all() \
        if org.iban else []
    kinds = tuple(db.scalars(select(Attachment.kind).where(Attachment.application_id == case.id)))
    spec_decls = {k: bool(v) for k, v in (case.answers or {}).items() if k.startswith("decl_")}
    fund_available = ledger.balances(db, program.fund_id).available
    facts = rules_.Facts(
        org_kind=org.kind.value, register_court=org.register_court, register_number=org.register_number,
        proofs=proofs, parish_resolution_on=org.parish_resolution_on, seal_confirmed=org.seal_confirmed,
        signatories=signatories, signatory_functions=functions, iban=org.iban, account_holder=org.account_holder,
        title=case.title,
        requested=case.requested, own_funds=case.own_funds, costs=tuple(c.amount for c in case.cost_items),
        other_funding=tuple(o.amount for o in case.other_funding), project_start=case.project_start,
        project_end=case.project_end, early_start_requested=case.early_start_requested,
        submitted_on=clock.local_date(case.submitted_at or clock.now()), attachment_kinds=kinds, declarations=spec_decls,
        open_cases_same_org=tuple(rules_.OtherCase(o.file_number or "", o.title, o.project_start, o.project_end)
                                  for o in others),
        other_orgs_same_iban=tuple(same_iban), fund_available=fund_available,
        next_decision_on=_next_decision_on(db, program))
    return facts, program.typed_rules


def _next_decision_on(db: Session, program: Program):
    """The day of the next session whose agenda is still open (None when none is planned)."""
    if program.committee_id is None:
        return None
    now = clock.now()
    starts = db.scalar(select(func.min(Sitting.starts_at)).where(
        Sitting.committee_id == program.committee_id, Sitting.kind == "meeting",
        Sitting.state.in_(("planned", "invited")), Sitting.starts_at > now,
        (Sitting.cutoff_at.is_(None)) | (Sitting.cutoff_at > now)))
    if starts is None:
        return None
    return clock.local_date(starts)


def latest_verdicts(db: Session, case_id: int) -> list[ScreeningVerdict]:
    key = db.scalar(select(ScreeningVerdict.run_key).where(ScreeningVerdict.application_id == case_id)
                    .order_by(ScreeningVerdict.id.desc()).limit(1))
    if key is None:
        return []
    return list(db.scalars(select(ScreeningVerdict).where(ScreeningVerdict.application_id == case_id,
                                                          ScreeningVerdict.run_key == key)
                           .order_by(ScreeningVerdict.id)))


def effective(v: ScreeningVerdict) -> rules_.Verdict:
    """A stored verdict as the rules see it, with a staff override applied."""
    result = v.overridden_result or v.result
    # a fail set by staff on a rule that passed counts as something the applicant must add
    kind = (v.fail_kind or "missing") if result == rules_.FAIL else None
    return rules_.Verdict(v.rule, result, v.override_reason or v.reason, kind, v.needs_judgement and not v.overridden_result)


def screen_case(db: Session, case_id: int) -> dict:
    case = db.get(Application, case_id)
    if case is None:
        return {"case_id": case_id, "outcome": "missing"}
    if case.state not in (State.SUBMITTED.value, State.SCREENING.value):
        return {"case_id": case_id, "outcome": "skipped", "state": case.state}
    system = Actor.system("screening")
    if case.state == State.SUBMITTED.value:
        cases.transition(db, case, "start_screening", system)
    key = run_key(db, case_id)
    done = db.scalar(select(AuditEvent.id).where(AuditEvent.application_id == case_id,
                                                 AuditEvent.action == "screening_done",
                                                 AuditEvent.object_type == key))
    if done is not None:
        return {"case_id": case_id, "outcome": "already_done"}
    facts, cfg = gather(db, case)
    verdicts = rules_.screen(facts, cfg)
    if db.scalar(select(ScreeningVerdict.id).where(ScreeningVerdict.run_key == key)) is None:
        for v in verdicts:
            db.add(ScreeningVerdict(application_id=case.id, run_key=key, rule=v.rule, result=v.result,
                                    fail_kind=v.kind, reason=v.reason, needs_judgement=v.needs_judgement))
    outcome = rules_.decide(verdicts, cfg)
    if outcome.action == "request_info":
        _ask_applicant(db, case, outcome.message, key)
        cases.transition(db, case, "request_info", system, reason=outcome.message)
    elif outcome.action == "mark_ready":
        cases.transition(db, case, "mark_ready", system)
    ev = audit.record(db, system, "screening_done", application_id=case.id,
                      data={"run_key": key, "outcome": outcome.action,
                            "verdicts": {v.rule: v.result for v in verdicts}})
    ev.object_type = key   # the run this outcome belongs to: found again on a re-run
    return {"case_id": case_id, "outcome": outcome.action, "run_key": key}


def _ask_applicant(db: Session, case: Application, message: str, key: str) -> None:
    db.add(Comment(application_id=case.id, author_id=None, body=message, visible_to_applicant=True))
    for email in messenger.organisation_recipients(db, case.organisation_id):
        messenger.send(db, key=f"needs_info:{key}:{email}", to=email, template="needs_info", application_id=case.id,
                       subject=f"Bitte ergänzen Sie Ihren Antrag {case.file_number}",
                       body=(f"Guten Tag,\n\nbei der Prüfung Ihres Antrags „{case.title}“ ({case.file_number}) fehlt "
                             f"noch etwas.\n\n{message}\n\nBitte ergänzen Sie die Angaben im Antragsportal und senden "
                             "Sie den Antrag wieder ab.\n\nStadt Osnabrück – Fachdienst Integration"))



def override(db: Session, actor: Actor, verdict_id: int, result: str, reason: str) -> ScreeningVerdict:

    actor.require(Perm.SCREEN)
    v = db.get(ScreeningVerdict, verdict_id)
    if v is None:
        raise NotFound("Dieses Prüfergebnis gibt es nicht.")
    if result not in (rules_.PASS, rules_.FAIL, rules_.WARN):
        raise Invalid("Bitte wählen Sie bestanden, nicht bestanden oder Hinweis.")
    if not reason.strip():
        raise Invalid("Bitte begründen Sie die Änderung.")
    case = db.get_one(Application, v.application_id)
    if case.state not in (State.SCREENING.value, State.NEEDS_INFO.value, State.SUBMITTED.value):
        raise Conflict("Die Prüfung dieses Antrags ist abgeschlossen.")
    old = v.overridden_result or v.result
    v.overridden_result, v.override_reason = result, reason.strip()
    v.overridden_by_id, v.overridden_at = actor.user_id, clock.now()
    audit.record(db, actor, "verdict_overridden", obj=v, application_id=v.application_id, reason=reason.strip(),
                 data={"rule": v.rule, "from": old, "to": result})
    return v


def comment(db: Session, actor: Actor, case_id: int, body: str, visible: bool) -> Comment:

    actor.require(Perm.SCREEN)
    case = db.get(Application, case_id)
    if case is None:
        raise NotFound("Diesen Antrag gibt es nicht.")
    if not body.strip():
        raise Invalid("Bitte schreiben Sie einen Text.")
    c = Comment(application_id=case_id, author_id=actor.user_id, body=body.strip()[:10000], visible_to_applicant=visible)
    db.add(c)
    db.flush()
    if visible:
        for email in messenger.organisation_recipients(db, case.organisation_id):
            messenger.send(db, key=f"comment:{c.id}:{email}", to=email, template="staff_message", application_id=case_id,
                           subject=f"Nachricht zu Ihrem Antrag {case.file_number}",
                           body=f"Guten Tag,\n\n{body.strip()}\n\nStadt Osnabrück – Fachdienst Integration")
    audit.record(db, actor, "comment_added", obj=c, application_id=case_id, data={"visible": visible})
    return c


def recommend(db: Session, actor: Actor, case: Application, proposed: str, text: str) -> None:
    """The staff's recommendation for the committee: an amount (default: as requested) and a note."""

    amount = case.requested
    if proposed.strip():
        try:
            amount = parse_amount(proposed)
        except AmountError:
            raise Invalid("Bitte geben Sie einen Betrag wie 1.250,00 an (ohne Minus, höchstens zwei Nachkommastellen).") from None
        if amount <= 0 or amount > case.requested:
            raise Invalid("Der vorgeschlagene Betrag muss größer als 0 und höchstens der beantragte sein.")
    answers = dict(case.answers or {})
    answers["_recommendation"] = {"amount": f"{amount:.2f}", "text": text.strip()}
    case.answers = answers
    audit.record(db, actor, "recommendation", obj=case, application_id=case.id, data=answers["_recommendation"])
