"""Benchmark: from the submit request to the stored screening verdicts in the embedded default
(`grants serve`'s engine: a local Prefect server and the job runner), median and p95 over 50
submissions, next to an empty Prefect flow run on the same engine.

    .venv/bin/python bench/screening_bench.py [--n 50]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from grants import clock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * len(xs))) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50)
    a = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="grants-bench-"))
    os.environ.update({"GRANTS_HOME": str(home), "GRANTS_SECRET_KEY": "bench", "DO_NOT_TRACK": "1",
                       "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    os.environ.pop("PREFECT_API_URL", None)
    from sqlalchemy import select
    from waitress.server import create_server

    from grants import runtime
    from grants.config import load_config
    from grants.db import Database
    from grants.engine.embedded import EmbeddedEngine
    from grants.migrate import upgrade
    from grants.models import FlowJob, NonProfitProof, Organisation, Program, ProofKind, ScreeningVerdict, Signatory
    from grants.services import applications, jobs
    from grants.web.app import create_app
    from tests.factories import actor_for, build_world

    config = load_config()
    config.ensure_dirs()
    upgrade(config.database_url)
    db = Database(config.database_url)
    world = build_world(db)
    with db.session() as s:
        org = s.get(Organisation, world.org_ids["a"])
        org.register_court, org.register_number = "Amtsgericht Osnabrück", "VR 1"
        s.add(Signatory(organisation_id=org.id, name="Aylin Demir", function="Vorsitzende"))
        s.add(NonProfitProof(organisation_id=org.id, kind=ProofKind.EXEMPTION_NOTICE,
                             issued_on=clock.today() - timedelta(days=300), tax_office="FA", tax_number="1"))
    runtime.install(config, db)
    engine = EmbeddedEngine(config, db)
    t0 = time.perf_counter()
    engine.start()
    engine_start = time.perf_counter() - t0
    app = create_app(config, db, engine)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    token = lambda html: re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # noqa: E731
    page = op.open(base + "/anmelden").read().decode()
    op.open(base + "/anmelden", urllib.parse.urlencode({"csrf_token": token(page), "email": "applicant_a@test.example",
                                                        "password": "correct horse battery"}).encode())
    applicant = actor_for(db, world.users["applicant_a"])

    def draft(i):
        start = clock.today() + timedelta(days=40 + i)
        with db.session() as s:
            return applications.create_draft(
                s, applicant, s.get(Program, world.program_id), world.org_ids["a"], title=f"Projekt {i}",
                quarter="Schinkel", description="x", aims="x", target_groups="x", participants_expected=10,
                requested=Decimal("1000.00"), own_funds=Decimal("100.00"), cost_items=[("Honorar", Decimal("1100.00"))],
                project_start=start, project_end=start + timedelta(days=30),
                answers={"decl_not_started": True, "decl_other_funders": True, "decl_privacy": True}).id

    def wait_for(check, timeout=60):
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with db.session() as s:
                if check(s):
                    return time.perf_counter()
            time.sleep(0.005)
        raise TimeoutError

    def wait_idle():
        wait_for(lambda s: s.scalar(select(FlowJob.id).where(FlowJob.state.in_(("queued", "running"))).limit(1)) is None, 120)

    # warm-up: one submission and one empty flow
    for i in range(2):
        cid = draft(1000 + i)
        html = op.open(f"{base}/antrag/{cid}/vorschau").read().decode()
        op.open(f"{base}/antrag/{cid}/vorschau", urllib.parse.urlencode({"csrf_token": token(html), "confirm": "y"}).encode())
    wait_idle()

    screening_times, request_times = [], []
    for i in range(a.n):
        cid = draft(i)
        html = op.open(f"{base}/antrag/{cid}/vorschau").read().decode()
        body = urllib.parse.urlencode({"csrf_token": token(html), "confirm": "y"}).encode()
        t0 = time.perf_counter()
        op.open(f"{base}/antrag/{cid}/vorschau", body).read()
        request_times.append(time.perf_counter() - t0)
        t1 = wait_for(lambda s: s.scalar(select(ScreeningVerdict.id).where(ScreeningVerdict.application_id == cid).limit(1)) is not None)
        screening_times.append(t1 - t0)
        wait_idle()       # the receipt flow of this submission too: each measurement starts from an idle engine

    noop_times = []
    for i in range(a.n):
        with db.session() as s:
            job_id = jobs.enqueue(s, "noop", f"noop:{i}").id
        t0 = time.perf_counter()
        engine.wake()
        t1 = wait_for(lambda s: s.get(FlowJob, job_id).state == "done")
        noop_times.append(t1 - t0)

    server.close()
    engine.stop()
    m_s, m_n = statistics.median(screening_times), statistics.median(noop_times)
    print(json.dumps({
        "submissions": a.n,
        "submit_request_median_s": round(statistics.median(request_times), 3),
        "submit_to_verdict_median_s": round(m_s, 3), "submit_to_verdict_p95_s": round(pct(screening_times, 95), 3),
        "empty_flow_median_s": round(m_n, 3), "empty_flow_p95_s": round(pct(noop_times, 95), 3),
        "ratio_median": round(m_s / m_n, 2),
        "engine_start_s": round(engine_start, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
