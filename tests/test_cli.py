"""The command line as users and scripts call it (README.md "Command line"): real processes, real exit codes,
JSON alone on standard output."""

import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from tests.data import OCA_CAMT053
from tests.flows.test_demo import copy_home, demo_home_once


def grants(config, *args, stdin=None):
    home = config if isinstance(config, (str, os.PathLike)) else config.home
    env = {**os.environ, "GRANTS_HOME": str(home), "GRANTS_SECRET_KEY": "test-secret"}
    env.pop("GRANTS_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "grants", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory, template_db):
    """The session's one demo installation (tests/flows/test_demo.py reads it too); tests here
    that change it only add what the others do not look at."""
    home, out = demo_home_once(tmp_path_factory, template_db)
    assert "vorstand@nachbarschaft-schinkel.example" in out
    return home


def test_help_lists_the_contract_commands(config):
    out = grants(config, "--help").stdout
    for cmd in ("init", "demo", "serve", "user", "finance", "fund", "cases"):
        assert f"  {cmd}" in out
    assert "add" in grants(config, "user", "--help").stdout
    fin = grants(config, "finance", "--help").stdout
    assert "payments" in fin
    assert "show" in grants(config, "cases", "--help").stdout


def test_init_is_safe_to_run_again(config):
    assert grants(config, "init").returncode == 0
    assert grants(config, "init").returncode == 0


def _dump(home) -> list[str]:
    import sqlite3

    with sqlite3.connect(home / "grants.db") as con:
        return list(con.iterdump())


def test_demo_prints_passwords_once_and_is_safe_to_run_again(demo_home, tmp_path_factory, template_db):
    out = demo_home_once(tmp_path_factory, template_db)[1]
    lines = [line.split() for line in out.splitlines()[1:]]
    assert {role for role, _, _ in lines} == {"admin", "staff", "chair", "committee", "finance", "applicant"}
    assert len({password for _, _, password in lines}) == len(lines) == 12
    before = _dump(demo_home)
    again = grants(demo_home, "demo")
    assert again.returncode == 0 and "already" in again.stdout
    assert not any(password in again.stdout for _, _, password in lines)
    assert _dump(demo_home) == before


def test_demo_has_cases_in_every_state_and_json_is_clean(demo_home):
    from grants.domain.workflow import State

    r = grants(demo_home, "cases", "--json")
    assert r.returncode == 0
    doc = json.loads(r.stdout)  # nothing but JSON on stdout
    states = {c["state"] for c in doc["cases"]}
    assert states == {s.value for s in State}
    for c in doc["cases"]:
        assert isinstance(c["requested"], str) and Decimal(c["requested"]).as_tuple().exponent == -2
        assert c["granted"] is None or isinstance(c["granted"], str)
    only = json.loads(grants(demo_home, "cases", "--state", "paid", "--json").stdout)["cases"]
    assert only and {c["state"] for c in only} == {"paid"}


def test_cases_show_json(demo_home):
    paid = json.loads(grants(demo_home, "cases", "--state", "paid", "--json").stdout)["cases"][0]
    r = grants(demo_home, "cases", "show", paid["file_number"], "--json")
    doc = json.loads(r.stdout)
    assert doc["file_number"] == paid["file_number"] and doc["state"] == "paid"
    assert [h["to"] for h in doc["history"]][-1] == "paid"
    assert all({"at", "from", "to", "by"} <= set(h) for h in doc["history"])
    assert doc["payouts"][0]["state"] == "booked" and doc["payouts"][0]["amount"] == paid["granted"]
    assert doc["decision"]["kind"] == "approve"


def test_fund_balance_json_reconciles(demo_home):
    b = json.loads(grants(demo_home, "fund", "balance", "--json").stdout)
    assert set(b) == {"donations", "committed", "paid", "refunded", "available"}
    d = {k: Decimal(v) for k, v in b.items()}
    assert d["available"] == d["donations"] - d["committed"] - d["paid"] + d["refunded"]
    assert all(len(v.split(".")[1]) == 2 for v in b.values())


def test_payments_json(demo_home):
    doc = json.loads(grants(demo_home, "finance", "payments", "--json").stdout)
    states = {p["state"] for p in doc["payments"]}
    assert "released" in states and "booked" in states
    assert {"file_number", "end_to_end_id", "amount", "iban", "state"} <= set(doc["payments"][0])


def test_bad_input_exits_2_with_a_message(demo_home):
    r = grants(demo_home, "cases", "--state", "flying")
    assert r.returncode == 2 and "flying" in r.stderr and r.stdout == ""
    r = grants(demo_home, "cases", "show", "DQD-1999-9999")
    assert r.returncode == 2 and "DQD-1999-9999" in r.stderr


def test_user_add_with_password_on_stdin(demo_home):
    r = grants(demo_home, "user", "add", "neu@verein.example", "--role", "applicant",
               "--org", "Nachbarschaftshilfe Schinkel e.V.", "--password-stdin", stdin="ein gutes Passwort\n")
    assert r.returncode == 0, r.stderr
    again = grants(demo_home, "user", "add", "neu@verein.example", "--role", "staff", "--password-stdin",
                   stdin="ein gutes Passwort\n")
    assert again.returncode == 2 and "schon ein Konto" in again.stderr
    bad = grants(demo_home, "user", "add", "x@y.example", "--role", "emperor", "--password-stdin", stdin="ein gutes Passwort\n")
    assert bad.returncode == 2 and "emperor" in bad.stderr


def test_commands_refuse_an_unmigrated_database(tmp_path):
    r = grants(tmp_path / "empty", "cases")
    assert r.returncode == 1 and "grants init" in r.stderr


def test_payout_file_statement_round_trip_through_the_cli(tmp_path, demo_home):
    """What a cron job does: payout file -> the bank's statement -> import; again -> nothing changes."""

    from lxml import etree

    from tests.camt_builder import N, T, statement

    home = tmp_path / "home"
    copy_home(demo_home, home)
    released = [p for p in json.loads(grants(home, "finance", "payments", "--json").stdout)["payments"]
                if p["state"] == "released"]
    assert len(released) >= 2
    out = tmp_path / "pain.xml"
    r = grants(home, "finance", "payout-file", str(out))
    assert r.returncode == 0, r.stderr
    ns = "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.09}"
    root = etree.parse(str(out)).getroot()
    fund_iban = root.findtext(f".//{ns}DbtrAcct/{ns}Id/{ns}IBAN")
    txs = [(t.findtext(f"{ns}PmtId/{ns}EndToEndId"), t.find(f"{ns}Amt/{ns}InstdAmt").text,
            t.findtext(f"{ns}CdtrAcct/{ns}Id/{ns}IBAN")) for t in root.iter(f"{ns}CdtTrfTxInf")]
    assert {t[0] for t in txs} == {p["end_to_end_id"] for p in released}
    states = {p["end_to_end_id"]: p["state"] for p in json.loads(grants(home, "finance", "payments", "--json").stdout)["payments"]}
    assert all(states[e] == "sent" for e, _, _ in txs)
    before = json.loads(grants(home, "fund", "balance", "--json").stdout)

    stmt = tmp_path / "camt.xml"
    stmt.write_bytes(statement(fund_iban, [N(a, False, [T(a, e, "x", i)]) for e, a, i in txs]
                               + [N("100.00", True, [T("100.00", None, "Neue Spenderin", None, "Spende")])]))
    r = grants(home, "finance", "import-statement", str(stmt), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)["files"][0]
    assert (doc["entries"], doc["matched"], doc["unmatched"], doc["already_imported"]) == (len(txs) + 1, len(txs) + 1, 0, 0)
    after = json.loads(grants(home, "fund", "balance", "--json").stdout)
    paid = sum(Decimal(a) for _, a, _ in txs)
    assert Decimal(after["paid"]) - Decimal(before["paid"]) == paid
    assert Decimal(after["donations"]) - Decimal(before["donations"]) == Decimal("100.00")
    states = {p["end_to_end_id"]: p["state"] for p in json.loads(grants(home, "finance", "payments", "--json").stdout)["payments"]}
    assert all(states[e] == "booked" for e, _, _ in txs)

    again = json.loads(grants(home, "finance", "import-statement", str(stmt), "--json").stdout)["files"][0]
    assert (again["matched"], again["already_imported"]) == (0, len(txs) + 1)
    assert json.loads(grants(home, "fund", "balance", "--json").stdout) == after


def test_import_statement_refuses_bad_files_with_exit_2(demo_home, tmp_path):
    bad = tmp_path / "broken.xml"
    bad.write_text("<Document><oops>")
    missing = tmp_path / "missing.xml"
    r = grants(demo_home, "finance", "import-statement", str(bad), str(missing), "--json")
    assert r.returncode == 2
    assert "broken.xml" in r.stderr and "missing.xml" in r.stderr
    doc = json.loads(r.stdout)
    assert [f["file"] for f in doc["files"]] == [str(bad), str(missing)]
    assert all("error" in f for f in doc["files"])
    sample = OCA_CAMT053
    r = grants(demo_home, "finance", "import-statement", str(sample))
    assert r.returncode == 2 and "not a fund account" in r.stderr
