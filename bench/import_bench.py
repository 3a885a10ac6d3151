"""Benchmark: import and reconciliation of a camt.053.001.08 with 100,000 entries against a bare
streaming parse of the same file with lxml (goal: at most 3x), and the import's peak memory
(goal: under 200 MB). Each side runs in its own child process so that peak RSS is its own; the
import's peak is that of the importing process and its reading process together (sampled).

    .venv/bin/python bench/import_bench.py [--entries 100000] [--repeat 3] [--breakdown]

--breakdown also times the steps one after another in one process (parse, parse + rows, checks,
booking with the database) to show where the time goes.
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
import threading
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


def _rss_kb(pid: int | str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cmdline(pid: int | str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


class _PeakRss(threading.Thread):
    """Peak RSS of this process plus its children (the statement reader), sampled every 20 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak_kb, self.running = 0, True
        self.children = f"/proc/{os.getpid()}/task/{os.getpid()}/children"

    def run(self):
        own = _cmdline("self")
        while self.running:
            try:
                with open(self.children) as f:
                    kids = f.read().split()
            except OSError:
                kids = []
            # a child forked but not yet the reader still shows this process's pages: not counted twice
            self.peak_kb = max(self.peak_kb, _rss_kb("self") + sum(_rss_kb(k) for k in kids if _cmdline(k) != own))
            time.sleep(0.02)


def child_import(path: str, home: str, *options) -> dict:
    os.environ["GRANTS_HOME"] = home
    from grants.config import load_config
    from grants.db import Database
    from grants.migrate import upgrade
    from grants.models import Fund
    from grants.services import statements
    from grants.services.actor import Actor

    config = load_config()
    upgrade(config.database_url)
    db = Database(config.database_url)
    with db.session() as s:
        s.add(Fund(name="Bench", iban=FUND_IBAN, account_holder="Stadt Osnabrück"))
    sampler = _PeakRss()
    sampler.start()
    separate = False if "in-process" in options else None
    cpu0, t0 = time.process_time(), time.perf_counter()
    with db.session() as s:
        r = statements.import_file(s, Path(path), Actor.system("bench"), separate=separate)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    sampler.running = False
    sampler.join()
    reader = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": seconds, "cpu_s": cpu, "reader_cpu_s": reader.ru_utime + reader.ru_stime,
            "peak_rss_total_mb": sampler.peak_kb / 1024, **r.as_dict()}


def breakdown(path: str, home: str) -> dict:
    """The steps, each added to the one before, in this one process: CPU seconds, best of three."""
    import marshal

    from grants.banking import camt
    from grants.banking.camt_entries import Memo, entry

    def rows(pipe: bool, check: bool) -> None:
        memo, chunk = Memo(), []
        with open(path, "rb") as f:
            for item in camt.read(f, "bench"):
                chunk.append(item)
                if len(chunk) == 1000:
                    if pipe:
                        chunk = marshal.loads(marshal.dumps([r for r in chunk if r.__class__ is tuple]))
                    if check:
                        for row in chunk:
                            if row.__class__ is tuple:
                                memo.learn(row) if row[0] is None else entry(row, memo)
                    chunk = []

    def best(fn) -> float:
        times = []
        for _ in range(3):
            t0 = time.process_time()
            fn()
            times.append(time.process_time() - t0)
        return min(times)

    out = {"parse": best(lambda: child_bare(path)),
           "+ rows": best(lambda: rows(False, False)),
           "+ through the pipe (marshal)": best(lambda: rows(True, False)),
           "+ checks": best(lambda: rows(True, True))}
    result = child_import(path, home, "in-process")
    out["+ matching and database (the whole import in one process)"] = result["cpu_s"]
    return {k: round(v, 2) for k, v in out.items()}


def run_child(*args) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--breakdown", action="store_true")
    ap.add_argument("--child", nargs="*")
    a = ap.parse_args()
    if a.child is not None:
        kind, *rest = a.child
        result = {"bare": child_bare, "import": child_import, "breakdown": breakdown}[kind](*rest)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    tmp = Path(tempfile.mkdtemp(prefix="grants-bench-"))
    try:
        path = tmp / "camt053-100k.xml"
        generate(path, a.entries)
        size_mb = path.stat().st_size / 2**20
        load_before = os.getloadavg()
        bare, imp = [], []
        for i in range(a.repeat):
            bare.append(run_child("bare", str(path)))
            home = tmp / f"home{i}"
            imp.append(run_child("import", str(path), str(home)))
        load_after = os.getloadavg()
        b = sorted(x["seconds"] for x in bare)[len(bare) // 2]
        m = sorted(x["seconds"] for x in imp)[len(imp) // 2]
        out = {
            "entries": a.entries, "file_mb": round(size_mb, 1),
            "bare_lxml_median_s": round(b, 2), "import_median_s": round(m, 2), "ratio": round(m / b, 2),
            "ratios_per_round": [round(i["seconds"] / x["seconds"], 2) for x, i in zip(bare, imp)],
            "import_cpu_s": [round(x["cpu_s"], 2) for x in imp],
            "reader_cpu_s": [round(x["reader_cpu_s"], 2) for x in imp],
            "import_peak_rss_mb": round(max(x["peak_rss_total_mb"] for x in imp), 1),
            "importer_alone_peak_rss_mb": round(max(x["peak_rss_mb"] for x in imp), 1),
            "bare_peak_rss_mb": round(max(x["peak_rss_mb"] for x in bare), 1),
            "result": {k: imp[0][k] for k in ("entries", "matched", "unmatched", "ignored")},
            "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
            "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}",
        }
        if a.breakdown:
            out["breakdown_s"] = run_child("breakdown", str(path), str(tmp / "home-breakdown"))
            out["breakdown_s"].pop("peak_rss_mb", None)
        print(json.dumps(out, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
