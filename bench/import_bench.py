"""Benchmark: import and reconciliation of a camt.053.001.08 with 100,000 entries against a bare
streaming parse of the same file with lxml (goal: at most 3x), and the import's peak memory
(goal: under 200 MB). Each side runs in its own child process so that peak RSS is its own.

    .venv/bin/python bench/import_bench.py [--entries 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FUND_IBAN = "DE89370400440532013000"


def generate(path: Path, n: int) -> None:
    """A day's statement of a busy fund: mostly donations, some payouts, fees, pending entries."""
    ns = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
    with open(path, "w", encoding="utf-8") as f:
        f.write(f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="{ns}"><BkToCstmrStmt>'
                "<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-11-25T18:00:00</CreDtTm></GrpHdr>"
                "<Stmt><Id>BENCH-1</Id><ElctrncSeqNb>1</ElctrncSeqNb>"
                f"<Acct><Id><IBAN>{FUND_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
                '<Bal><Tp><CdOrPrtry><Cd>PRCD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt>'
                "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-25</Dt></Dt></Bal>")
        for i in range(n):
            kind = i % 20
            credit = kind != 0
            status = "PDNG" if kind == 19 else "BOOK"
            amount = f"{(i % 500) + 1}.{i % 100:02d}"
            role = "Dbtr" if credit else "Cdtr"
            rmt = f"Spende {i}" if credit else f"Rechnung {i}"
            f.write(f'<Ntry><NtryRef>{i}</NtryRef><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{"CRDT" if credit else "DBIT"}</CdtDbtInd>'
                    f"<Sts><Cd>{status}</Cd></Sts><BookgDt><Dt>2026-11-25</Dt></BookgDt><ValDt><Dt>2026-11-25</Dt></ValDt>"
                    f"<AcctSvcrRef>B-{i}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
                    f"<NtryDtls><TxDtls><Refs><EndToEndId>E2E-{i}</EndToEndId></Refs>"
                    f'<Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{"CRDT" if credit else "DBIT"}</CdtDbtInd>'
                    f"<RltdPties><{role}><Pty><Nm>Person {i}</Nm></Pty></{role}><{role}Acct><Id><IBAN>DE02120300000000202051</IBAN></Id></{role}Acct></RltdPties>"
                    f"<RmtInf><Ustrd>{rmt}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>")
        f.write("</Stmt></BkToCstmrStmt></Document>")


def child_bare(path: str) -> dict:
    from lxml import etree

    t0 = time.perf_counter()
    n = 0
    for _, el in etree.iterparse(path, events=("end",), tag="{*}Ntry"):
        n += 1
        el.clear(keep_tail=False)
        parent = el.getparent()
        while el.getprevious() is not None:
            del parent[0]
    return {"seconds": time.perf_counter() - t0, "entries": n}


def child_import(path: str, home: str) -> dict:
    os.environ["GRANTS_HOME"] = home
    from grants.config import load_config
    from grants.db import Database
    from grants.migrate import upgrade
    from grants.models import Fund, LedgerEntry
    from grants.services import statements
    from grants.services.actor import Actor

    config = load_config()
    upgrade(config.database_url)
    db = Database(config.database_url)
    with db.session() as s:
        s.add(Fund(name="Bench", iban=FUND_IBAN, account_holder="Stadt Osnabrück"))
    t0 = time.perf_counter()
    with db.session() as s:
        r = statements.import_file(s, Path(path), Actor.system("bench"))
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, **r.as_dict()}


def run_child(*args) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", nargs="*")
    a = ap.parse_args()
    if a.child is not None:
        kind, *rest = a.child
        result = child_bare(*rest) if kind == "bare" else child_import(*rest)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    tmp = Path(tempfile.mkdtemp(prefix="grants-bench-"))
    try:
        path = tmp / "camt053-100k.xml"
        generate(path, a.entries)
        size_mb = path.stat().st_size / 2**20
        bare, imp = [], []
        for i in range(a.repeat):
            bare.append(run_child("bare", str(path)))
            home = tmp / f"home{i}"
            imp.append(run_child("import", str(path), str(home)))
        b = sorted(x["seconds"] for x in bare)[len(bare) // 2]
        m = sorted(x["seconds"] for x in imp)[len(imp) // 2]
        print(json.dumps({
            "entries": a.entries, "file_mb": round(size_mb, 1),
            "bare_lxml_median_s": round(b, 2), "import_median_s": round(m, 2), "ratio": round(m / b, 2),
            "import_peak_rss_mb": round(max(x["peak_rss_mb"] for x in imp), 1),
            "bare_peak_rss_mb": round(max(x["peak_rss_mb"] for x in bare), 1),
            "result": {k: imp[0][k] for k in ("entries", "matched", "unmatched", "ignored")},
            "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}",
        }, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
