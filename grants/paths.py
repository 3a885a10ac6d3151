"""Where the files that staff edit without touching code live: the forms (`forms/`) and the
letter templates (`letter_templates/`).

In a checkout they are the folders beside the package; an installed package carries a copy
(`grants/shipped/`, put there when the wheel is built). GRANTS_FORMS_DIR and
GRANTS_LETTER_TEMPLATES name a city's own copies instead."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
SHIPPED = PACKAGE / "shipped"


def _resource(name: str, variable: str) -> Path:
    chosen = os.environ.get(variable)
    if chosen:
        return Path(chosen).resolve()
    checkout = PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    return SHIPPED / name


FORMS_DIR = _resource("forms", "GRANTS_FORMS_DIR")
LETTER_TEMPLATES = _resource("letter_templates", "GRANTS_LETTER_TEMPLATES")
