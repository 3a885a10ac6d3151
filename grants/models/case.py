"""The application (the case), its financing plan, attachments, screening and comments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants import clock
from grants.domain.workflow import State
from grants.models.base import Base, Money, UTCDateTime


class Application(Base):
    __tablename__ = "application"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    file_number: Mapped[str | None] = mapped_column(String(20), unique=True)
    state: Mapped[str] = mapped_column(String(30), default=State.DRAFT.value, index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    quarter: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    aims: Mapped[str] = mapped_column(Text, default="")
    target_groups: Mapped[str] = mapped_column(Text, default="")
    participants_expected: Mapped[int | None] = mapped_column(Integer)
    partners: Mapped[str] = mapped_column(Text, default="")
    project_start: Mapped[date | None] = mapped_column(Date)
    project_end: Mapped[date | None] = mapped_column(Date)
    early_start_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    own_funds: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    requested: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    granted: Mapped[Decimal | None] = mapped_column(Money)
    # further answers of the form in forms/ that have no column of their own
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    report_due_on: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # retention: personal data removed, figures kept for statistics
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # optimistic locking: two tabs or a flow and a person cannot overwrite each other
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    organisation = relationship("Organisation")
    program = relationship("Program")
    cost_items: Mapped[list[CostItem]] = relationship(
        back_populates="application", order_by="CostItem.position", cascade="all, delete-orphan")
    other_funding: Mapped[list[OtherFunding]] = relationship(
        back_populates="application", order_by="OtherFunding.id", cascade="all, delete-orphan")


class CostItem(Base):
    __tablename__ = "cost_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal] = mapped_column(Money)

    application: Mapped[Application] = relationship(back_populates="cost_items")


class OtherFunding(Base):
    __tablename__ = "other_funding"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    funder: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)

    application: Mapped[Application] = relationship(back_populates="other_funding")


class Attachment(Base):
    """An uploaded file; the bytes live in storage under `storage_key`, checked by content."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)
    kind: Mapped[str] = mapped_column(String(50))          # e.g. non_profit_proof, budget, flyer
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ScreeningVerdict(Base):
    __tablename__ = "screening_verdict"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    run_key: Mapped[str] = mapped_column(String(100), index=True)   # one screening run
    rule: Mapped[str] = mapped_column(String(50))
    result: Mapped[str] = mapped_column(String(10))                  # pass | fail | warn
    fail_kind: Mapped[str | None] = mapped_column(String(20))       # missing | ineligible
    reason: Mapped[str] = mapped_column(Text, default="")
    needs_judgement: Mapped[bool] = mapped_column(Boolean, default=False)
    overridden_result: Mapped[str | None] = mapped_column(String(10))
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    overridden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Comment(Base):
    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    visible_to_applicant: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
