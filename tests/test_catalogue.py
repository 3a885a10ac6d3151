"""Every text of the interface has its English translation (German is the source language)."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = ["_l", "lazy_gettext", "ServiceError", "Invalid", "Conflict", "NotFound", "Forbidden", "LoginThrottled"]


def test_every_message_in_the_code_is_translated(tmp_path):
    pot = tmp_path / "messages.pot"
    args = [str(Path(sys.executable).parent / "pybabel"), "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(pot),
            "--no-location", "--omit-header"]
    for k in KEYWORDS:
        args += ["-k", k]
    subprocess.run(args + ["."], check=True, cwd=ROOT, capture_output=True)
    with open(pot, "rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    assert len(wanted) > 400          # the extraction found the interface's texts
    with open(ROOT / "grants/translations/en/LC_MESSAGES/messages.po", "rb") as f:
        have = {m.id: m.string for m in read_po(f) if m.id}
    missing = sorted(i if isinstance(i, str) else i[0] for i in wanted if not have.get(i))
    assert missing == [], f"untranslated (run scripts/i18n.sh, then translate): {missing[:10]}"
