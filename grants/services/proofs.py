"""The applicant's proof of use (Verwendungsnachweis): a draft kept step by step like the
application (whatever was typed is kept), the list of what is still missing, and submitting it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import clock
from grants.domain import form_spec, proof
from grants.domain.workflow import State
from grants.models import ActualCost, Application, Attachment, Organisation, Program, ProofOfUse, Receipt
from grants.paths import FORMS_DIR
from grants.services import cases
from grants.services.actor import Actor
from grants.services.errors import Conflict, Forbidden, Invalid

# The proof can be written once the money is there; it is due when the project has ended.
EDITABLE = {State.PAID.value, State.REPORT_DUE.value}
COLUMNS = {"report", "participants_actual"}
PROOF_KINDS = ("proof_photo", "proof_document")


@lru_cache(maxsize=8)
def _cached(name: str, mtime: float) -> form_spec.FormSpec:
    return form_spec.load(FORMS_DIR, name)


def spec_for(program: Program) -> form_spec.FormSpec:
    name = program.typed_rules.proof_form
    return _cached(name, (FORMS_DIR / f"{name}.toml").stat().st_mtime)


def proof_of(db: Session, case: Application) -> ProofOfUse | None:
    return db.scalar(select(ProofOfUse).where(ProofOfUse.application_id == case.id))


def open_proof(db: Session, actor: Actor, case_id: int) -> tuple[Application, ProofOfUse]:
    """The case and its proof draft (made on the first visit); only the organisation's own users,
    only while the proof may still be written."""
    case = cases.get_case(db, actor, case_id)
    if not actor.is_applicant:
        raise Forbidden("Dafür fehlt Ihnen die Berechtigung.")
    if case.state not in EDITABLE:
        raise Conflict("Der Verwendungsnachweis kann in diesem Stand des Antrags nicht bearbeitet werden.")
    p = proof_of(db, case)
    if p is None:
        p = ProofOfUse(application_id=case.id, state="draft", answers={})
        db.add(p)
        db.flush()
    return case, p


def plan_lines(db: Session, case: Application, p: ProofOfUse) -> list[proof.PlanLine]:
    """Every line of the approved financing plan with what was reported for it so far."""
    actual = {a.cost_item_id: a.amount for a in db.scalars(select(ActualCost).where(ActualCost.proof_id == p.id))}
    return [proof.PlanLine(c.id, c.description, c.amount, actual.get(c.id)) for c in case.cost_items]


def receipts(db: Session, p: ProofOfUse) -> list[proof.ReceiptRow]:
    return [proof.ReceiptRow(r.paid_on, r.payee, r.purpose, r.amount)
            for r in db.scalars(select(Receipt).where(Receipt.proof_id == p.id).order_by(Receipt.id))]


def attachments(db: Session, case: Application) -> list[Attachment]:
    return list(db.scalars(select(Attachment).where(Attachment.application_id == case.id,
                                                    Attachment.kind.in_(PROOF_KINDS)).order_by(Attachment.id)))


def values(db: Session, case: Application, p: ProofOfUse) -> dict:
    answers = {k: v for k, v in (p.answers or {}).items() if not k.startswith("_")}
    return {**answers, "report": p.report, "participants_actual": p.participants_actual,
            "own_funds_actual": _money(answers.get("own_funds_actual")),
            "other_funding_actual": _money(answers.get("other_funding_actual")),
            "actual_costs": plan_lines(db, case, p), "receipts": receipts(db, p),
            "attachments": [a.id for a in attachments(db, case)]}


def _money(v) -> Decimal | None:
    return None if v in (None, "") else Decimal(v)


def raw_inputs(p: ProofOfUse) -> dict:
    return dict((p.answers or {}).get("_raw", {}))


def save_step(db: Session, actor: Actor, case: Application, p: ProofOfUse, step: form_spec.Step,
              cleaned: dict, raw_invalid: dict[str, str]) -> ProofOfUse:
    """Keep the valid values of one step and the raw text of the invalid ones (shown again)."""
    if not actor.is_applicant or not actor.member_of(case.organisation_id):
        raise Forbidden("Dafür fehlt Ihnen die Berechtigung.")
    answers = dict(p.answers or {})
    raw = dict(answers.get("_raw", {}))
    for f, value in form_spec.values_to_keep(step, cleaned, raw_invalid, raw):
        if f.type == "actual_costs":
            _save_actual(db, case, p, value)
        elif f.type == "receipts":
            db.query(Receipt).filter(Receipt.proof_id == p.id).delete()
            db.add_all(Receipt(proof_id=p.id, paid_on=r.paid_on, payee=r.payee[:200], purpose=r.purpose[:300],
                               amount=r.amount) for r in value)
        elif f.name in COLUMNS:
            setattr(p, f.name, value)
        elif isinstance(value, Decimal):
            answers[f.name] = str(value)
        else:
            answers[f.name] = value.isoformat() if isinstance(value, date) else value
    answers["_raw"] = raw
    p.answers = answers
    db.flush()
    return p


def _save_actual(db: Session, case: Application, p: ProofOfUse, amounts: dict[int, Decimal | None]) -> None:
    known = {c.id: c for c in case.cost_items}
    db.query(ActualCost).filter(ActualCost.proof_id == p.id).delete()
    for item_id, amount in amounts.items():
        if item_id in known and amount is not None:
            db.add(ActualCost(proof_id=p.id, cost_item_id=item_id, description=known[item_id].description,
                              amount=amount))


def missing(db: Session, case: Application, p: ProofOfUse) -> list[form_spec.Missing]:
    program = db.get_one(Program, case.program_id)
    org = db.get_one(Organisation, case.organisation_id)
    spec = spec_for(program)
    found = proof.missing(spec, values(db, case, p), org.kind.value)
    return found + form_spec.still_invalid(spec, org.kind.value, raw_inputs(p), found)


def check_of(db: Session, case: Application, p: ProofOfUse) -> proof.Check:
    """The arithmetic check of what the applicant reported (also shown to them before sending)."""
    v = values(db, case, p)
    lines = [proof.Line(pl.description, pl.approved, pl.actual or Decimal("0.00")) for pl in v["actual_costs"]]
    return proof.check(lines, v["receipts"], granted=case.granted or Decimal("0.00"),
                       own_funds=v["own_funds_actual"] or Decimal("0.00"),
                       other_funding=v["other_funding_actual"] or Decimal("0.00"),
                       project_start=case.project_start, project_end=case.project_end)


def submit(db: Session, actor: Actor, case_id: int) -> Application:
    """Send the complete proof to the city: state report_submitted, the figures frozen."""
    case, p = open_proof(db, actor, case_id)
    if missing(db, case, p):
        raise Invalid("Der Verwendungsnachweis ist noch nicht vollständig. Bitte ergänzen Sie die markierten Angaben.")
    check = check_of(db, case, p)
    p.state, p.submitted_at, p.unspent = "submitted", clock.now(), check.unspent
    p.other_funding_actual = _money((p.answers or {}).get("other_funding_actual")) or Decimal("0.00")
    answers = dict(p.answers or {})
    answers.pop("_raw", None)
    p.answers = answers
    if case.state == State.PAID.value:       # handed in before the project's end was noticed
        cases.transition(db, case, "request_report", Actor.system("proof"))
    cases.transition(db, case, "submit_report", actor, data={"unspent": f"{check.unspent:.2f}"})
    return case
