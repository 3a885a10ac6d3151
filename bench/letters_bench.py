"""Benchmark: (1) the letter flow's time per letter against a bare WeasyPrint render of the same
HTML (goal: at most 1.2x); (2) a batch of 100 letters on both cores against one after another
(goal: at least 1.6x faster). Runs the real flow (Prefect test server), real files, real database.

    .venv/bin/python bench/letters_bench.py [--batch 100]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--single", type=int, default=10)
    a = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="grants-bench-"))
    os.environ.update({"GRANTS_HOME": str(home), "GRANTS_SECRET_KEY": "bench", "DO_NOT_TRACK": "1",
                       "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"})
    os.environ.pop("PREFECT_API_URL", None)
    from prefect.testing.utilities import prefect_test_harness

    from grants.config import load_config
    from grants.db import Database
    from grants.documents import render
    from grants.flows import runtime
    from grants.flows.engine import run_flow
    from grants.migrate import upgrade
    from grants.models import Decision, Organisation, Program
    from grants.services import applications, cases, letters
    from grants.services.actor import Actor
    from tests.factories import actor_for, build_world

    config = load_config()
    config.ensure_dirs()
    upgrade(config.database_url)
    db = Database(config.database_url)
    world = build_world(db)
    applicant = actor_for(db, world.users["applicant_a"])
    system = Actor.system("bench")
    n = a.single + 2 * a.batch
    ids = []
    with db.session() as s:
        org = s.get(Organisation, world.org_ids["a"])
        org.street, org.postcode, org.city = "Bremer Straße 12", "49084", "Osnabrück"
        program = s.get(Program, world.program_id)
        for i in range(n):
            start = date.today() + timedelta(days=30)
            case = applications.create_draft(s, applicant, program, org.id, title=f"Projekt {i}", quarter="Schinkel",
                                              requested=Decimal("1500.00"), cost_items=[("Honorar", Decimal("1000.00")),
                                                                                         ("Miete", Decimal("500.00"))],
                                              project_start=start, project_end=start + timedelta(days=60))
            applications.submit(s, applicant, case)
            for action in ("start_screening", "mark_ready", "put_on_agenda"):
                cases.transition(s, case, action, system)
            s.add(Decision(application_id=case.id, kind="approve", amount=Decimal("1500.00"), votes_yes=4))
            cases.transition(s, case, "approve", system)
            ids.append(case.id)
    runtime.install(config, db)
    from weasyprint import HTML

    with prefect_test_harness(server_startup_timeout=120):
        run_flow("noop", {})                                 # warm the engine and the imports
        with db.session() as s:
            kind, data = letters.context(s, ids[0])
        html = render.html(letters.TEMPLATE_OF[kind], data)
        css, fonts = render._stylesheet()
        HTML(string=html, base_url=str(render.TEMPLATES) + "/", url_fetcher=render.fetcher()).write_pdf(
            stylesheets=[css], font_config=fonts)
        bare, flow_times = [], []
        for case_id in ids[:a.single]:
            t0 = time.perf_counter()
            HTML(string=html, base_url=str(render.TEMPLATES) + "/", url_fetcher=render.fetcher()).write_pdf(
                stylesheets=[css], font_config=fonts)
            bare.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            run_flow("decision_letters", {"case_ids": [case_id]})
            flow_times.append(time.perf_counter() - t0)
        first = ids[a.single:a.single + a.batch]
        second = ids[a.single + a.batch:]
        t0 = time.perf_counter()
        r1 = run_flow("decision_letters", {"case_ids": first, "workers": 1})
        sequential = time.perf_counter() - t0
        t0 = time.perf_counter()
        r2 = run_flow("decision_letters", {"case_ids": second, "workers": os.cpu_count()})
        parallel = time.perf_counter() - t0
    assert r1["letters"] == r2["letters"] == a.batch
    mb, mf = statistics.median(bare), statistics.median(flow_times)
    print(json.dumps({
        "bare_weasyprint_median_s": round(mb, 3), "letter_flow_per_letter_median_s": round(mf, 3),
        "ratio_per_letter": round(mf / mb, 2), "batch": a.batch, "batch_one_after_another_s": round(sequential, 1),
        "batch_on_all_cores_s": round(parallel, 1), "speedup": round(sequential / parallel, 2),
        "cores": os.cpu_count(), "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }, indent=2))


if __name__ == "__main__":
    main()
