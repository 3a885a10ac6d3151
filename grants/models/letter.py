"""Letters (Bescheide, receipts, reminders, minutes): versioned, never overwritten."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grants import clock
from grants.models.base import Base, UTCDateTime


class Letter(Base):
    __tablename__ = "letter"
    __table_args__ = (UniqueConstraint("application_id", "session_id", "kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("committee_session.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))     # approval | partial_approval | rejection | ...
    version: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(20), default="held")   # held | released | dispatched
    pdf_path: Mapped[str] = mapped_column(String(300))               # relative to GRANTS_HOME
    docx_path: Mapped[str] = mapped_column(String(300))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    docx_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
