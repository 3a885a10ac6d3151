"""Only for what pyproject.toml cannot say: a built package carries compiled message catalogues
(.mo), so that `pip install .` alone gives the English interface, and a copy of the forms and
letter templates that staff edit and of the database migrations (grants/paths.py finds them)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCatalogues(build_py):
    def run(self):
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(Path("grants/translations").glob("*/LC_MESSAGES/*.po")):
            mo = Path(self.build_lib) / po.with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as src, mo.open("wb") as dst:
                write_mo(dst, read_po(src))
        for name in ("forms", "letter_templates", "migrations"):
            target = Path(self.build_lib) / "grants" / "shipped" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(name, target, ignore=shutil.ignore_patterns("__pycache__"))


setup(cmdclass={"build_py": BuildPyWithCatalogues})
