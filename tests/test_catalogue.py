"""Every text of the interface has its English translation (German is the source language)."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = ["_l", "lazy_gettext", "ServiceError", "Invalid", "Conflict", "NotFound", "Forbidden", "LoginThrottled",
            "get_or_404:4"]


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


def test_a_built_package_carries_what_a_checkout_has_beside_it(tmp_path):
    """`pip install .` installs a wheel: it must hold the compiled English catalogue, the files
    staff edit, the migrations and the base rates, since there is no checkout beside it."""
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    [wheel] = tmp_path.glob("grants-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "grants/translations/en/LC_MESSAGES/messages.mo" in names
    assert "grants/shipped/forms/dein_quartier_und_du.toml" in names
    assert {"grants/shipped/letter_templates/approval.html", "grants/shipped/letter_templates/letterhead.toml",
            "grants/shipped/letter_templates/fonts/LiberationSans-Regular.ttf", "grants/base_rates.toml",
            "grants/shipped/migrations/env.py", "grants/shipped/migrations/versions/0001_initial_schema.py"} <= names


def _catalogue_copy(tmp_path):
    import shutil

    package = tmp_path / "translations"
    shutil.copytree(ROOT / "grants/translations", package, ignore=shutil.ignore_patterns("*.mo"))
    return package


def test_missing_catalogues_are_compiled_at_start(tmp_path):
    from babel.support import Translations

    from grants.catalogues import translation_dirs

    package = _catalogue_copy(tmp_path)
    assert translation_dirs(tmp_path / "home", package) == [package]
    mo = package / "en/LC_MESSAGES/messages.mo"
    assert Translations.load(str(package), ["en"]).gettext("Anmelden") == "Log in"
    before = mo.stat().st_mtime_ns
    translation_dirs(tmp_path / "home", package)          # current: not compiled again
    assert mo.stat().st_mtime_ns == before


def test_a_read_only_package_gets_its_catalogues_in_grants_home(tmp_path, monkeypatch):
    from babel.support import Translations

    from grants import catalogues

    package = _catalogue_copy(tmp_path)
    monkeypatch.setattr(catalogues.os, "access", lambda path, mode: False)
    dirs = catalogues.translation_dirs(tmp_path / "home", package)
    assert dirs == [tmp_path / "home" / "translations", package]
    assert not (package / "en/LC_MESSAGES/messages.mo").exists()
    assert Translations.load(str(dirs[0]), ["en"]).gettext("Anmelden") == "Log in"
