"""The fund's append-only ledger and the payouts (SEPA credit transfers)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from grants import clock
from grants.models.base import Base, Money, UTCDateTime


class EntryKind(StrEnum):
    DONATION = "donation"
    COMMITMENT = "commitment"                  # at approval
    COMMITMENT_RELEASE = "commitment_release"  # commitment not needed any more (reclaim, renunciation)
    PAYOUT = "payout"                          # booked on the bank statement
    PAYOUT_RETURN = "payout_return"            # bank returned a payout (still owed)
    REFUND = "refund"                          # money paid back by a recipient
    RECLAIM = "reclaim"                        # expected refund after a Rückforderungsbescheid
    REVERSAL = "reversal"                      # corrects an earlier entry; never edit, never delete


class LedgerEntry(Base):
    """Append-only: rows are inserted, never updated or deleted (corrections by REVERSAL)."""

    __tablename__ = "ledger_entry"
    # the finance pages ask for a fund's entries of a few kinds (payouts, a grant's kinds): with
    # fund and kind in one index they never read the donations, which are most of a long ledger
    __table_args__ = (Index("ix_ledger_entry_fund_kind", "fund_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("fund.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)           # positive; the kind gives the sign
    booked_on: Mapped[date] = mapped_column(Date, index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payout.id"), index=True)
    bank_entry_id: Mapped[int | None] = mapped_column(ForeignKey("bank_entry.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    donor: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class LedgerMonth(Base):
    """The ledger summed per fund, month and kind, kept by database triggers on every insert into
    ledger_entry (migration 0006): balances and the monthly chart read a few hundred rows, not the
    whole ledger, however long it grows. `reversed_kind` is the kind a reversal takes back."""

    __tablename__ = "ledger_month"

    fund_id: Mapped[int] = mapped_column(ForeignKey("fund.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)          # YYYY-MM
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    reversed_kind: Mapped[str] = mapped_column(String(30), primary_key=True, default="")
    total: Mapped[Decimal] = mapped_column(Money)
    entries: Mapped[int] = mapped_column(Integer, default=0)


class PayoutRun(Base):
    """A batch of payouts prepared by one person and released by another (four eyes)."""

    __tablename__ = "payout_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("fund.id"))
    state: Mapped[str] = mapped_column(String(20), default="prepared")  # prepared | released | sent | cancelled
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    message_id: Mapped[str | None] = mapped_column(String(35), index=True)   # one file may carry several runs
    file_path: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Payout(Base):
    __tablename__ = "payout"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("fund.id"), index=True)
    instalment: Mapped[int] = mapped_column(Integer, default=1)
    amount: Mapped[Decimal] = mapped_column(Money)
    end_to_end_id: Mapped[str] = mapped_column(String(35), unique=True)
    state: Mapped[str] = mapped_column(String(20), default="due", index=True)  # due | released | sent | booked | returned
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    account_holder: Mapped[str] = mapped_column(String(140))
    remittance: Mapped[str] = mapped_column(String(140))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("payout_run.id"), index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    booked_on: Mapped[date | None] = mapped_column(Date)
    return_reason: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ManualBooking(Base):
    """A booking finance enters by hand (a donation, a reclassified credit). Each form carries its
    own key, so a double click or a reload books once; from the fund's `four_eyes_from` on it
    waits for a second finance person before it reaches the ledger."""

    __tablename__ = "manual_booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("fund.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))                       # donation | reclassify
    amount: Mapped[Decimal] = mapped_column(Money)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending | booked | refused
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
