"""Writing the audit trail."""

from __future__ import annotations

from sqlalchemy.orm import Session

from grants.models import AuditEvent
from grants.services.actor import Actor


def record(db: Session, actor: Actor, action: str, *, obj=None, application_id: int | None = None,
           from_state: str | None = None, to_state: str | None = None, reason: str = "",
           data: dict | None = None) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.user_id,
        actor=actor.label,
        action=action,
        object_type=type(obj).__tablename__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        application_id=application_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason or "",
        data=data or {},
    )
    db.add(event)
    return event
