"""Test data kept inside the repository (see README.md here for where each file comes from)."""

from pathlib import Path

DATA = Path(__file__).resolve().parent
OCA_CAMT053 = DATA / "camt053" / "oca-test-camt053.001.02.xml"
