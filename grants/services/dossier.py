"""What the committee reads per agenda item: the application, the screening, the staff's
recommendation, the organisation's earlier grants, and the fund if it is approved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from grants import clock
from grants.documents import render
from grants.models import AgendaItem, Application, Comment, ConflictOfInterest, Organisation, ScreeningVerdict, Sitting
from grants.services import ledger, screening
from grants.services.committee.voting import approved_not_committed
from grants.services.rows import get_or_404


@dataclass
class ItemView:
    item: AgendaItem
    case: Application
    org: Organisation
    verdicts: list[ScreeningVerdict]
    earlier: Sequence[Row[tuple[str | None, str, Decimal | None, str]]]     # (file number, title, granted, state)
    fund_after: Decimal     # available if this item is approved as proposed
    conflicts: Sequence[ConflictOfInterest]
    staff_notes: Sequence[Comment]


def items(db: Session, session_id: int) -> list[ItemView]:
    out = []
    rows = db.execute(select(AgendaItem, Application, Organisation)
                      .join(Application, Application.id == AgendaItem.application_id)
                      .join(Organisation, Organisation.id == Application.organisation_id)
                      .where(AgendaItem.session_id == session_id).order_by(AgendaItem.position)).all()
    fund = ledger.default_fund(db)
    available = ledger.balances(db, fund.id).available if fund else Decimal("0")
    if fund:        # approvals the decision flow has not bound yet are gone all the same

        available -= approved_not_committed(db, fund.id)
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


def pdf(db: Session, session_id: int) -> bytes:
    """The dossier for printing, read and rendered in one go (CLI, tests). Pages read with
    context() in a read session and render afterwards: a render never holds a transaction."""
    return render_pdf(context(db, session_id))


def render_pdf(data: dict) -> bytes:
    return render.pdf("dossier.html", data, title=f"Unterlagen {data['number']}. Sitzung")


def context(db: Session, session_id: int) -> dict[str, Any]:
    """What the dossier shows: agenda and, per item, what the committee needs to decide."""
    m = get_or_404(db, Sitting, session_id, "Diese Sitzung gibt es nicht.")
    fund = ledger.default_fund(db)
    available = ledger.balances(db, fund.id).available if fund else Decimal("0")
    fmt = render.german_date
    listed: list[dict[str, Any]] = []
    data = {"recipient": ["Mitglieder des Koordinierungsstabs Integration"], "today": fmt(clock.local_date(m.starts_at)),
            "number": m.number, "date": clock.local(m.starts_at).strftime("%d.%m.%Y, %H:%M Uhr"), "place": m.place,
            "available": render.euro(available), "items": listed}
    for v in items(db, session_id):
        c = v.case
        listed.append({
            "position": v.item.position, "title": c.title, "file_number": c.file_number, "organisation": v.org.name,
            "quarter": c.quarter, "requested": render.euro(c.requested),
            "proposed": render.euro(v.item.proposed_amount or c.requested), "fund_after": render.euro(v.fund_after),
            "recommendation": v.item.recommendation, "description": c.description, "aims": c.aims,
            "period": f"{fmt(c.project_start)} – {fmt(c.project_end)}" if c.project_start and c.project_end else "–",
            "verdicts": [(x.rule, x.overridden_result or x.result, x.override_reason or x.reason) for x in v.verdicts],
            "earlier": [f"{fn} „{t}“ {render.euro(g)}" for fn, t, g, _ in v.earlier]})
    return data
