"""The compiled message catalogues (.mo) the English interface needs.

A wheel carries them (setup.py compiles them while building); a source checkout or an editable
install has only the .po files. Then they are compiled at start-up: into the package if it is
writable, else into `$GRANTS_HOME/translations`, which is searched first."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

PACKAGE_DIR = Path(__file__).resolve().parent / "translations"
log = logging.getLogger("grants.catalogues")


def compile_catalogue(po: Path, mo: Path) -> None:
    with po.open("rb") as f:
        catalogue = read_po(f)
    mo.parent.mkdir(parents=True, exist_ok=True)
    tmp = mo.with_name(f".{mo.name}.{os.getpid()}")
    with tmp.open("wb") as f:
        write_mo(f, catalogue)
    tmp.replace(mo)     # atomic: a second process starting at once never reads half a file


def _current(po: Path, mo: Path) -> bool:
    return mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime


def translation_dirs(home: Path, package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The folders Flask-Babel should search, each with every catalogue compiled and current."""
    pos = sorted(package_dir.glob("*/LC_MESSAGES/*.po"))
    stale = [po for po in pos if not _current(po, po.with_suffix(".mo"))]
    if not stale:
        return [package_dir]
    if os.access(package_dir, os.W_OK) and all(os.access(po.parent, os.W_OK) for po in stale):
        for po in stale:
            compile_catalogue(po, po.with_suffix(".mo"))
        return [package_dir]
    cache = home / "translations"
    for po in pos:
        mo = cache / po.relative_to(package_dir).with_suffix(".mo")
        if not _current(po, mo):
            compile_catalogue(po, mo)
    log.info("message catalogues compiled into %s (the package folder is read-only)", cache)
    return [cache, package_dir]
