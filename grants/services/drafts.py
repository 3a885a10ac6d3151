"""Working on an application: opening a draft, saving a step (forgiving: whatever was typed is
kept, also what is not valid yet), the preview's list of what is missing, and submitting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import clock
from grants.domain import form_spec
from grants.domain.roles import Perm
from grants.domain.workflow import State
from grants.models import Application, Attachment, CostItem, Organisation, OtherFunding, Program
from grants.paths import FORMS_DIR
from grants.services import applications, cases
from grants.services.actor import Actor
from grants.services.errors import Conflict, Forbidden, Invalid

# a draft, and a submitted case the staff sent back because something is missing
EDITABLE = {State.DRAFT.value, State.NEEDS_INFO.value}


@lru_cache(maxsize=8)
def _cached(name: str, mtime: float) -> form_spec.FormSpec:
    return form_spec.load(FORMS_DIR, name)


def spec_for(program: Program) -> form_spec.FormSpec:
    """The program's form; re-read when staff edited the file."""
    path = FORMS_DIR / f"{program.form_name}.toml"
    return _cached(program.form_name, path.stat().st_mtime)


def default_program(db: Session) -> Program:
    program = db.scalar(select(Program).where(Program.active.is_(True)).order_by(Program.id).limit(1))
    if program is None:
        raise Conflict("Zurzeit kann kein Antrag gestellt werden.")
    return program


def open_draft(db: Session, actor: Actor, organisation_id: int | None = None) -> Application:
    actor.require(Perm.APPLY)
    org_id = organisation_id or (min(actor.org_ids) if actor.org_ids else None)
    if org_id is None or not actor.member_of(org_id):
        raise Forbidden("Dafür fehlt Ihnen die Berechtigung.")
    return applications.create_draft(db, actor, default_program(db), org_id)


def editable_case(db: Session, actor: Actor, case_id: int) -> Application:
    case = cases.get_case(db, actor, case_id)
    if not actor.is_applicant:
        raise Forbidden("Dafür fehlt Ihnen die Berechtigung.")
    if case.state not in EDITABLE:
        raise Conflict("Dieser Antrag ist eingereicht und kann nicht mehr geändert werden.")
    return case


def values(case: Application) -> dict:
    """All answers of a case by field name, typed (Decimal, date, lists)."""
    v = {name: getattr(case, name) for name in form_spec.COLUMNS}
    v.update({k: val for k, val in (case.answers or {}).items() if not k.startswith("_")})
    v["cost_items"] = [(c.description, c.amount) for c in case.cost_items]
    v["other_funding"] = [(o.funder, o.amount) for o in case.other_funding]
    return v


def raw_inputs(case: Application) -> dict:
    """What the applicant typed that could not be taken yet (shown again, never lost)."""
    return dict((case.answers or {}).get("_raw", {}))


def save_step(db: Session, actor: Actor, case: Application, step: form_spec.Step, cleaned: dict,
              raw_invalid: dict[str, str]) -> Application:
    """Store the valid values of one step; keep the raw text of invalid ones for the next visit."""
    answers = dict(case.answers or {})
    raw = dict(answers.get("_raw", {}))
    for f, value in form_spec.values_to_keep(step, cleaned, raw_invalid, raw):
        if f.type == "cost_items":
            case.cost_items = [CostItem(position=i, description=d, amount=a) for i, (d, a) in enumerate(value)]
        elif f.type == "other_funding":
            case.other_funding = [OtherFunding(funder=n, amount=a) for n, a in value]
        elif f.is_column:
            if f.type in ("money",) and value is None:
                value = Decimal("0.00")
            setattr(case, f.name, value)
        else:
            answers[f.name] = value.isoformat() if isinstance(value, date) else value
    answers["_raw"] = raw
    case.answers = answers
    db.flush()
    return case


def missing(db: Session, case: Application, today: date | None = None) -> list[form_spec.Missing]:
    program = db.get_one(Program, case.program_id)
    org = db.get_one(Organisation, case.organisation_id)
    spec = spec_for(program)
    v = values(case)
    v["attachments"] = db.scalars(select(Attachment.id).where(Attachment.application_id == case.id)).all()
    found = form_spec.missing(spec, v, org.kind.value, min_amount=program.min_amount, max_amount=program.max_amount,
                              today=today or clock.today())
    return found + form_spec.still_invalid(spec, org.kind.value, raw_inputs(case), found)


def submit(db: Session, actor: Actor, case: Application) -> Application:
    """Submit a complete draft: file number, state submitted, receipt by mail, screening asked for."""
    if not actor.is_applicant or not actor.member_of(case.organisation_id):
        raise Forbidden("Dafür fehlt Ihnen die Berechtigung.")
    if case.state not in EDITABLE:
        raise Conflict("Dieser Antrag ist schon eingereicht.")
    problems = missing(db, case)
    if problems:
        raise Invalid("Der Antrag ist noch nicht vollständig. Bitte ergänzen Sie die markierten Angaben.")
    answers = dict(case.answers or {})
    answers.pop("_raw", None)
    case.answers = answers
    if case.state == State.NEEDS_INFO.value:
        cases.transition(db, case, "resubmit", actor)
        return case
    applications.submit(db, actor, case)
    return case
