"""Applications as the applicant works on them: drafts, submission."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from grants import clock
from grants.domain.roles import Perm
from grants.models import Application, CostItem, OtherFunding, Program
from grants.services import audit, cases
from grants.services.actor import Actor
from grants.services.errors import Forbidden
from grants.services.file_numbers import next_file_number


def create_draft(db: Session, actor: Actor, program: Program, organisation_id: int, *, title: str = "",
                 quarter: str = "", description: str = "", aims: str = "", target_groups: str = "",
                 participants_expected: int | None = None, partners: str = "",
                 project_start: date | None = None, project_end: date | None = None,
                 own_funds: Decimal = Decimal("0.00"), requested: Decimal = Decimal("0.00"),
                 cost_items: Sequence[tuple[str, Decimal]] = (), other_funding: Sequence[tuple[str, Decimal]] = (),
                 answers: dict | None = None) -> Application:
    if not actor.is_system:
        actor.require(Perm.APPLY)
        if not actor.member_of(organisation_id):
            raise Forbidden("Dafür fehlt Ihnen die Berechtigung.")
    case = Application(program_id=program.id, organisation_id=organisation_id, title=title, quarter=quarter,
                       description=description, aims=aims, target_groups=target_groups,
                       participants_expected=participants_expected, partners=partners,
                       project_start=project_start, project_end=project_end, own_funds=own_funds,
                       requested=requested, answers=answers or {}, created_by_id=actor.user_id)
    case.cost_items = [CostItem(position=i, description=d, amount=a) for i, (d, a) in enumerate(cost_items)]
    case.other_funding = [OtherFunding(funder=f, amount=a) for f, a in other_funding]
    db.add(case)
    db.flush()
    audit.record(db, actor, "draft_created", obj=case, application_id=case.id, to_state=case.state)
    return case


def submit(db: Session, actor: Actor, case: Application) -> Application:
    """Draft -> submitted: the file number is given here, once."""
    now = clock.now()
    if case.file_number is None:
        case.file_number = next_file_number(db, case.program, clock.local_date(now).year)
    case.submitted_at = now
    cases.transition(db, case, "submit", actor)
    return case
