"""Read models for list pages and the CLI: a constant number of statements, whatever the size."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, load_only

from grants.domain.roles import Perm
from grants.models import Application, Organisation
from grants.services.actor import Actor


def case_rows(db: Session, actor: Actor, *, state: str | None = None, limit: int | None = None,
              offset: int = 0):
    """(Application, organisation name) rows the actor may see, newest first."""
    # Only what the lists show: whole rows carry the form's long texts, and loading them made this
    # query 25-30 % dearer (bench/load_bench.py); any other column raises instead of loading row by row.
    stmt = (select(Application, Organisation.name)
            .join(Organisation, Organisation.id == Application.organisation_id)
            .options(load_only(Application.id, Application.file_number, Application.title, Application.state,
                               Application.requested, Application.granted, raiseload=True))
            .order_by(Application.created_at.desc(), Application.id.desc()))
    if not (actor.is_system or actor.can(Perm.VIEW_ALL_CASES)):
        stmt = stmt.where(Application.organisation_id.in_(actor.org_ids or {-1}))
    if state:
        stmt = stmt.where(Application.state == state)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return list(db.execute(stmt))


def count_by_state(db: Session) -> dict[str, int]:
    return dict(db.execute(select(Application.state, func.count()).group_by(Application.state)).tuples().all())
