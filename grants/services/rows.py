"""Fetching a row a use case cannot do without: by its id, or the user is told it is not there."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from grants.services.errors import NotFound

T = TypeVar("T")


def get_or_404(db: Session, model: type[T], ident: object, message: str, **params: object) -> T:
    """The row of `model` with primary key `ident`; NotFound(message) when there is none.

    The message is a German msgid like those of the errors (scripts/i18n.sh extracts the
    fourth argument). For a row a foreign key guarantees, use `db.get_one` instead: its
    absence is a bug, not something to tell the user."""
    row = db.get(model, ident)
    if row is None:
        raise NotFound(message, **params)
    return row
