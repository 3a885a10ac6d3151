"""Imported bank statements (camt.053) and their entries, with the reconciliation result."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grants import clock
from grants.models.base import Base, Money, UTCDateTime


class BankStatement(Base):
    __tablename__ = "bank_statement"
    __table_args__ = (UniqueConstraint("account_iban", "statement_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("fund.id"), index=True)
    account_iban: Mapped[str] = mapped_column(String(34))
    statement_ref: Mapped[str] = mapped_column(String(140))    # Stmt/Id (+ ElctrncSeqNb)
    message_id: Mapped[str] = mapped_column(String(140), default="")
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    created_on: Mapped[datetime | None] = mapped_column(UTCDateTime)
    from_date: Mapped[date | None] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    opening_balance: Mapped[Decimal | None] = mapped_column(Money)
    opening_negative: Mapped[bool] = mapped_column(default=False)
    closing_balance: Mapped[Decimal | None] = mapped_column(Money)
    closing_negative: Mapped[bool] = mapped_column(default=False)
    entry_count: Mapped[int] = mapped_column(Integer, default=0)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class BankEntry(Base):
    """One booked (or pending) transaction; a batch booking is split into one row per detail."""

    __tablename__ = "bank_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("bank_statement.id"), index=True)
    entry_ref: Mapped[str] = mapped_column(String(140), default="")
    status: Mapped[str] = mapped_column(String(10))             # BOOK | PDNG | INFO
    credit: Mapped[bool] = mapped_column()                      # CRDT (in) or DBIT (out)
    reversal: Mapped[bool] = mapped_column(default=False)
    amount: Mapped[Decimal] = mapped_column(Money)
    booking_date: Mapped[date | None] = mapped_column(Date, index=True)
    value_date: Mapped[date | None] = mapped_column(Date)
    end_to_end_id: Mapped[str | None] = mapped_column(String(35), index=True)
    counterparty_name: Mapped[str] = mapped_column(String(140), default="")
    counterparty_iban: Mapped[str | None] = mapped_column(String(34))
    remittance: Mapped[str] = mapped_column(Text, default="")
    return_reason: Mapped[str | None] = mapped_column(String(10))
    bank_tx_code: Mapped[str] = mapped_column(String(50), default="")
    # reconciliation
    # matched | unmatched | ignored | assigned
    match_state: Mapped[str] = mapped_column(String(20), default="unmatched", index=True)
    match_kind: Mapped[str | None] = mapped_column(String(30))  # payout | payout_return | refund | donation
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payout.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
