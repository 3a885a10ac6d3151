"""Where the folders beside the package live: the forms (`forms/`) and the letter templates
(`letter_templates/`) that staff edit without touching code, and the database migrations.

In a checkout they are the folders beside the package; an installed package carries a copy
(`grants/shipped/`, put there when the wheel is built). GRANTS_FORMS_DIR and
GRANTS_LETTER_TEMPLATES name a city's own copies of the first two instead."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
SHIPPED = PACKAGE / "shipped"


def _resource(name: str, variable: str | None = None) -> Path:
    chosen = os.environ.get(variable) if variable else None
    if chosen:
        return Path(chosen).resolve()
    checkout = PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    return SHIPPED / name


FORMS_DIR = _resource("forms", "GRANTS_FORMS_DIR")
LETTER_TEMPLATES = _resource("letter_templates", "GRANTS_LETTER_TEMPLATES")
MIGRATIONS = _resource("migrations")
