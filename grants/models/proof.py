"""Proof of use (Verwendungsnachweis): report, actual costs, receipts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from grants import clock
from grants.models.base import Base, Money, UTCDateTime


class ProofOfUse(Base):
    __tablename__ = "proof_of_use"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), unique=True)
    state: Mapped[str] = mapped_column(String(20), default="draft")   # draft | submitted | accepted | returned
    report: Mapped[str] = mapped_column(Text, default="")
    participants_actual: Mapped[int | None] = mapped_column(Integer)
    other_funding_actual: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_note: Mapped[str] = mapped_column(Text, default="")
    unspent: Mapped[Decimal | None] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ActualCost(Base):
    __tablename__ = "actual_cost"

    id: Mapped[int] = mapped_column(primary_key=True)
    proof_id: Mapped[int] = mapped_column(ForeignKey("proof_of_use.id"), index=True)
    cost_item_id: Mapped[int | None] = mapped_column(ForeignKey("cost_item.id"))
    description: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal] = mapped_column(Money)


class Receipt(Base):
    __tablename__ = "receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    proof_id: Mapped[int] = mapped_column(ForeignKey("proof_of_use.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    payee: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal] = mapped_column(Money)


class Reminder(Base):
    """A reminder sent for a deadline; the unique key makes 'never the same reminder twice' hold."""

    __tablename__ = "reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)   # e.g. "report:42:before-30"
    due_on: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Reclaim(Base):
    """A Rückforderung after a (partial) revocation: what is owed, with § 49a interest up to the
    payment date named in the letter. The ledger holds the same claim as a `reclaim` entry."""

    __tablename__ = "reclaim"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), unique=True)
    principal: Mapped[Decimal] = mapped_column(Money)
    interest: Mapped[Decimal] = mapped_column(Money)
    interest_from: Mapped[date] = mapped_column(Date)
    interest_until: Mapped[date] = mapped_column(Date)
    pay_by: Mapped[date] = mapped_column(Date)
    reasons: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_note: Mapped[str] = mapped_column(Text, default="")

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest
