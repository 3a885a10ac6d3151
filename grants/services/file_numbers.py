"""Handing out file numbers: gap-free per program and year, safe under concurrent submits."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grants.domain.file_numbers import format_file_number
from grants.models import Application, FileNumberCounter, Program
from grants.services.errors import Conflict


def next_file_number(db: Session, program: Program, year: int) -> str:
    counter = db.scalar(select(FileNumberCounter).where(
        FileNumberCounter.program_id == program.id, FileNumberCounter.year == year))
    if counter is None:
        db.add(FileNumberCounter(program_id=program.id, year=year, last=0))
        db.flush()
    # an UPDATE ... RETURNING increments atomically (row lock on PostgreSQL; SQLite's
    # BEGIN IMMEDIATE already serialises writers)
    seq = db.execute(update(FileNumberCounter)
                     .where(FileNumberCounter.program_id == program.id, FileNumberCounter.year == year)
                     .values(last=FileNumberCounter.last + 1)
                     .returning(FileNumberCounter.last)).scalar_one()
    return format_file_number(program.code, year, seq)


def of(case: Application) -> str:
    """The case's file number, which it has from its submission on (letters, receipts and
    reclaims are filed under it)."""
    if case.file_number is None:
        raise Conflict("Dieser Antrag ist noch nicht eingereicht.")
    return case.file_number
