"""All models, imported here so that Base.metadata knows every table."""

from grants.models.audit import AuditEvent
from grants.models.banking import BankEntry, BankStatement
from grants.models.base import Base
from grants.models.case import Application, Attachment, Comment, CostItem, OtherFunding, ScreeningVerdict
from grants.models.committee import (
                                     AgendaItem,
                                     Attendance,
                                     Committee,
                                     CommitteeMember,
                                     ConflictOfInterest,
                                     Decision,
                                     MinutesSignature,
                                     Sitting,
                                     SittingNote,
                                     Vote,
)
from grants.models.fund import EntryKind, LedgerEntry, LedgerMonth, ManualBooking, Payout, PayoutRun
from grants.models.jobs import FlowJob
from grants.models.letter import Letter
from grants.models.messaging import Message
from grants.models.organisation import NonProfitProof, Organisation, OrgKind, OrgNote, ProofKind, Signatory
from grants.models.program import FileNumberCounter, Fund, Program
from grants.models.proof import ActualCost, ProofOfUse, Receipt, Reclaim, Reminder
from grants.models.user import LoginAttempt, Membership, User

__all__ = ["ActualCost", "AgendaItem", "Application", "Attachment", "Attendance", "AuditEvent", "BankEntry",
    "BankStatement", "Base", "Comment", "Committee", "CommitteeMember", "ConflictOfInterest", "CostItem",
    "Decision", "EntryKind", "FileNumberCounter", "FlowJob", "Fund", "LedgerEntry", "LedgerMonth", "Letter",
    "LoginAttempt", "ManualBooking",
    "Membership", "Message", "MinutesSignature", "NonProfitProof", "OrgKind", "OrgNote", "Organisation",
    "OtherFunding", "Payout", "PayoutRun", "Program", "ProofKind", "ProofOfUse", "Receipt", "Reclaim",
    "Reminder", "ScreeningVerdict", "Signatory", "Sitting", "SittingNote", "User", "Vote"]
