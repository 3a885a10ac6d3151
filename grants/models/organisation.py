"""Organisations that apply: associations (e.V.), parishes, other non-profit corporations."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants import clock
from grants.models.base import Base, UTCDateTime


class OrgKind(StrEnum):
    ASSOCIATION = "association"    # eingetragener Verein
    PARISH = "parish"              # Kirchengemeinde (Körperschaft des öffentlichen Rechts)
    OTHER = "other"                # gGmbH, Stiftung, other non-profit corporation


class ProofKind(StrEnum):
    EXEMPTION_NOTICE = "exemption_notice"        # Freistellungsbescheid (<= 5 years)
    TAX_NOTICE_ANNEX = "tax_notice_annex"        # Anlage zum Körperschaftsteuerbescheid (<= 5 years)
    NOTICE_60A = "notice_60a"                    # Feststellung nach § 60a AO (<= 3 years)


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrgKind] = mapped_column(Enum(OrgKind, native_enum=False, length=20))
    street: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="DE")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    # association / other: register entry, e.g. "Amtsgericht Osnabrück" + "VR 1234"
    register_court: Mapped[str | None] = mapped_column(String(100))
    register_number: Mapped[str | None] = mapped_column(String(50))
    # parish: Kirchenvorstand resolution and church seal
    parish_resolution_on: Mapped[date | None] = mapped_column(Date)
    seal_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # bank account for payouts; the holder must match the bank's name exactly (VoP since 10/2025)
    iban: Mapped[str | None] = mapped_column(String(34), index=True)
    bic: Mapped[str | None] = mapped_column(String(11))
    account_holder: Mapped[str | None] = mapped_column(String(140))
    # set when a manager changes the bank details that payouts go to; until finance confirms the
    # new account (by telephone, on paper) nothing is paid to it
    bank_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    proofs: Mapped[list[NonProfitProof]] = relationship(back_populates="organisation", order_by="NonProfitProof.issued_on")
    signatories: Mapped[list[Signatory]] = relationship(back_populates="organisation", order_by="Signatory.id")


class NonProfitProof(Base):
    """Proof of non-profit status (Gemeinnützigkeit) from the tax office."""

    __tablename__ = "non_profit_proof"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[ProofKind] = mapped_column(Enum(ProofKind, native_enum=False, length=20))
    issued_on: Mapped[date] = mapped_column(Date)
    tax_office: Mapped[str] = mapped_column(String(100))
    tax_number: Mapped[str] = mapped_column(String(30))
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    organisation: Mapped[Organisation] = relationship(back_populates="proofs")


class Signatory(Base):
    """People who sign for the organisation (board; for parishes chair/deputy and a member)."""

    __tablename__ = "signatory"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    function: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)

    organisation: Mapped[Organisation] = relationship(back_populates="signatories")


class OrgNote(Base):
    """Free text about an organisation kept by staff (never shown to the applicant)."""

    __tablename__ = "org_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
