"""Handing out file numbers: gap-free per program and year, safe under concurrent submits."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grants.domain.file_numbers import format_file_number
from grants.models import FileNumberCounter, Program


def next_file_number(db: Session, program: Program, year: int) -> str:
    counter = db.scalar(select(FileNumberCounter).where(
        FileNumberCounter.program_id == program.id, FileNumberCounter.year == year))
    if counter is None:
        db.add(FileNumberCounter(program_id=program.id, year=year, last=0))
        db.flush()
    # an UPDATE ... RETURNING increments atomically (row lock on PostgreSQL; SQLite's
    # BEGIN IMMEDIATE already serialises writers)
    seq = db.scalar(update(FileNumberCounter)
                    .where(FileNumberCounter.program_id == program.id, FileNumberCounter.year == year)
                    .values(last=FileNumberCounter.last + 1)
                    .returning(FileNumberCounter.last))
    return format_file_number(program.code, year, seq)
