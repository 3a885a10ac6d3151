"""Programs as data: one city runs several, each with its form, rules, fund,
committee and file-number prefix."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grants import clock
from grants.domain import program_rules
from grants.models.base import Base, Money, UTCDateTime


class Fund(Base):
    """A fund with its bank account, e.g. Spendenfonds "Osnabrück hilft"."""

    __tablename__ = "fund"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    iban: Mapped[str] = mapped_column(String(34), unique=True)
    bic: Mapped[str | None] = mapped_column(String(11))
    account_holder: Mapped[str] = mapped_column(String(140))
    # manual donations and reclassifications from this amount on need a second finance person
    four_eyes_from: Mapped[Decimal] = mapped_column(Money, default=Decimal("1000.00"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Program(Base):
    __tablename__ = "program"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)       # file-number prefix, e.g. DQD
    name: Mapped[str] = mapped_column(String(200))
    form_name: Mapped[str] = mapped_column(String(100))             # file in forms/
    fund_id: Mapped[int] = mapped_column(ForeignKey("fund.id"))
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committee.id"))
    min_amount: Mapped[Decimal] = mapped_column(Money, default=program_rules.ProgramRules.min_amount)
    max_amount: Mapped[Decimal] = mapped_column(Money, default=program_rules.ProgramRules.max_amount)
    # city decisions as stored; read them through `typed_rules`, which knows the keys and defaults
    rules: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def typed_rules(self) -> program_rules.ProgramRules:
        """`rules` and the amount columns, checked and with every default filled in; raises
        ProgramRulesError for a rule it does not know or a value of the wrong type.

        A property next to the column rather than a service, since every reader already holds the
        Program; parsed once per distinct content (see program_rules.from_stored), so reading it
        in a loop costs a dict lookup."""
        return program_rules.from_stored(self.rules, self.min_amount, self.max_amount)


class FileNumberCounter(Base):
    """The running number per program and year; incremented under a row lock."""

    __tablename__ = "file_number_counter"
    __table_args__ = (UniqueConstraint("program_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"))
    year: Mapped[int] = mapped_column(Integer)
    last: Mapped[int] = mapped_column(Integer, default=0)
