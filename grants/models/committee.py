"""The Koordinierungsstab: members, sessions, agenda, conflicts, votes, decisions, minutes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants import clock
from grants.models.base import Base, Money, UTCDateTime


class Committee(Base):
    __tablename__ = "committee"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    quorum_minimum: Mapped[int] = mapped_column(Integer, default=3)
    chair_decides_tie: Mapped[bool] = mapped_column(Boolean, default=False)
    interval_days: Mapped[int] = mapped_column(Integer, default=14)
    cutoff_days: Mapped[int] = mapped_column(Integer, default=5)
    default_place: Mapped[str] = mapped_column(String(200), default="")

    members: Mapped[list[CommitteeMember]] = relationship(back_populates="committee", order_by="CommitteeMember.id")


class CommitteeMember(Base):
    __tablename__ = "committee_member"
    __table_args__ = (UniqueConstraint("committee_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committee.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    department: Mapped[str] = mapped_column(String(200), default="")
    voting: Mapped[bool] = mapped_column(Boolean, default=True)      # else advisory
    function: Mapped[str] = mapped_column(String(20), default="member")  # chair | deputy | minute_taker | member
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    committee: Mapped[Committee] = relationship(back_populates="members")
    user = relationship("User")


class Sitting(Base):
    """A meeting of the committee, or a written circulation procedure (Umlaufverfahren)."""

    __tablename__ = "committee_session"
    __table_args__ = (UniqueConstraint("committee_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committee.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="meeting")   # meeting | circulation
    state: Mapped[str] = mapped_column(String(20), default="planned")  # planned | invited | open | closed | cancelled
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    cutoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # circulation
    place: Mapped[str] = mapped_column(String(200), default="")
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list[AgendaItem]] = relationship(back_populates="session", order_by="AgendaItem.position")


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("session_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("committee_session.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("committee_member.id"))
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class AgendaItem(Base):
    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("session_id", "application_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("committee_session.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    proposed_amount: Mapped[Decimal | None] = mapped_column(Money)
    recommendation: Mapped[str] = mapped_column(Text, default="")
    motion: Mapped[str | None] = mapped_column(String(20))        # approve | approve_partly | reject | defer
    motion_amount: Mapped[Decimal | None] = mapped_column(Money)
    motion_reasons: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(20))

    session: Mapped[Sitting] = relationship(back_populates="items")
    application = relationship("Application")


class ConflictOfInterest(Base):
    """§§ 20, 21 VwVfG: the member leaves discussion and vote of that item."""

    __tablename__ = "conflict_of_interest"
    __table_args__ = (UniqueConstraint("agenda_item_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("committee_member.id"))
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Vote(Base):
    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("agenda_item_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("committee_member.id"))
    choice: Mapped[str] = mapped_column(String(10))            # yes | no | abstain | object (circulation)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Decision(Base):
    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))              # approve | approve_partly | reject | defer
    amount: Mapped[Decimal | None] = mapped_column(Money)
    reasons: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[list] = mapped_column(JSON, default=list)
    votes_yes: Mapped[int] = mapped_column(Integer, default=0)
    votes_no: Mapped[int] = mapped_column(Integer, default=0)
    votes_abstain: Mapped[int] = mapped_column(Integer, default=0)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class MinutesSignature(Base):
    __tablename__ = "minutes_signature"
    __table_args__ = (UniqueConstraint("session_id", "capacity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("committee_session.id"), index=True)
    capacity: Mapped[str] = mapped_column(String(20))          # chair | minute_taker
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    content_sha256: Mapped[str] = mapped_column(String(64), default="")


class SittingNote(Base):
    __tablename__ = "session_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("committee_session.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
