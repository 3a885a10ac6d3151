"""The finance start page (/finanzen/) with a short and a long ledger, side by side in one run.

Two databases, each with the same world and a few paid grants; one gets 100 ledger entries, the
other 100,000 (donations over ten years, inserted as a statement import inserts them, so the
database's own monthly sums are kept as in use). Each page is asked for by a logged-in finance
user through the Flask test client, warmed up, then `--requests` times; medians compared.

Goal: the long ledger's page at most 1.5x the short one's.

    .venv/bin/python bench/finance_page_bench.py [--long 100000] [--short 100] [--requests 40]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _ledger(db, fund_id: int, n: int) -> None:
    """n donations spread over ten years, in batches, with one statement insert's SQL."""
    from sqlalchemy import insert

    from grants.models import LedgerEntry

    start = date(2017, 1, 1)
    rows = [{"fund_id": fund_id, "kind": "donation", "amount": f"{(i % 400) + 5}.00",
             "booked_on": start + timedelta(days=i * 3650 // max(n, 1)), "donor": f"Spender {i}", "purpose": "Spende"}
            for i in range(n)]
    with db.session() as s:
        for i in range(0, n, 5000):
            s.execute(insert(LedgerEntry), rows[i:i + 5000])


def _site(tmp: Path, entries: int):
    from grants.config import load_config
    from grants.db import Database
    from grants.migrate import upgrade
    from grants.web.app import create_app
    from tests.factories import build_world, granted_case

    home = tmp / f"home-{entries}"
    home.mkdir()
    os.environ["GRANTS_HOME"] = str(home)
    config = load_config()
    config.ensure_dirs()
    upgrade(config.database_url)
    db = Database(config.database_url)
    world = build_world(db)
    for amount in ("650.00", "1200.00", "2400.00"):
        granted_case(db, world, amount)
    _ledger(db, world.fund_id, entries - 4)        # the world brings one donation, the grants three commitments
    app = create_app(config, db)
    client = app.test_client()
    page = client.get("/anmelden").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/anmelden", data={"csrf_token": token, "email": "finance@test.example",
                                   "password": "correct horse battery"})
    return client, db


def _time(client, requests: int) -> float:
    for _ in range(5):
        assert client.get("/finanzen/").status_code == 200
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        client.get("/finanzen/")
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--short", type=int, default=100)
    ap.add_argument("--long", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=40)
    a = ap.parse_args()
    os.environ.update({"GRANTS_SECRET_KEY": "bench", "DO_NOT_TRACK": "1"})
    os.environ.pop("GRANTS_DATABASE_URL", None)
    tmp = Path(tempfile.mkdtemp(prefix="grants-bench-finance-"))
    short_client, short_db = _site(tmp, a.short)
    long_client, long_db = _site(tmp, a.long)
    from sqlalchemy import func, select

    from grants.models import LedgerEntry

    with long_db.session() as s:
        entries = s.scalar(select(func.count()).select_from(LedgerEntry))
    # alternately, twice: neighbours on this machine come and go
    short_ms, long_ms = [], []
    for _ in range(2):
        short_ms.append(_time(short_client, a.requests))
        long_ms.append(_time(long_client, a.requests))
    result = {"short_entries": a.short, "long_entries": entries,
              "short_median_ms": round(min(short_ms), 1), "long_median_ms": round(min(long_ms), 1),
              "ratio_long_to_short": round(min(long_ms) / min(short_ms), 2), "goal": "<= 1.5",
              "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
                         f"Python {platform.python_version()}",
              "date": date.today().isoformat()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
