"""What the committee reads per agenda item: the application, the screening, the staff's
recommendation, the organisation's earlier grants, and the fund if it is approved."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.models import AgendaItem, Application, Comment, ConflictOfInterest, Organisation
from grants.services import fund as fund_service
from grants.services import screening


@dataclass
class ItemView:
    item: AgendaItem
    case: Application
    org: Organisation
    verdicts: list
    earlier: list           # (file number, title, granted, state)
    fund_after: Decimal     # available if this item is approved as proposed
    conflicts: list         # ConflictOfInterest rows
    staff_notes: list


def items(db: Session, session_id: int) -> list[ItemView]:
    out = []
    rows = db.execute(select(AgendaItem, Application, Organisation)
                      .join(Application, Application.id == AgendaItem.application_id)
                      .join(Organisation, Organisation.id == Application.organisation_id)
                      .where(AgendaItem.session_id == session_id).order_by(AgendaItem.position)).all()
    fund = fund_service.default_fund(db)
    available = fund_service.balances(db, fund.id).available if fund else Decimal("0")
    for item, case, org in rows:
        earlier = db.execute(select(Application.file_number, Application.title, Application.granted, Application.state)
                             .where(Application.organisation_id == org.id, Application.id != case.id,
                                    Application.granted.is_not(None))
                             .order_by(Application.submitted_at)).all()
        conflicts = db.scalars(select(ConflictOfInterest).where(ConflictOfInterest.agenda_item_id == item.id)).all()
        notes = db.scalars(select(Comment).where(Comment.application_id == case.id,
                                                 Comment.visible_to_applicant.is_(False))).all()
        proposed = item.proposed_amount or case.requested
        after = available - proposed if item.outcome is None else available
        out.append(ItemView(item, case, org, screening.latest_verdicts(db, case.id), earlier, after, conflicts, notes))
    return out
