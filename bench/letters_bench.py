"""Benchmark of the letter flow against a bare WeasyPrint render of the same HTML, all in one run:

  (a) bare: `HTML(...).write_pdf()` of the same rendered approval letter, same stylesheet and fonts,
      plain and with the process's long-lived objects frozen for the collector (as the flow renders);
      the faster of the two medians is the reference
  (b) one letter in its own run of the `decision-letters` flow
  (c) a batch in the flow, one letter after another (`workers=1`): the cost of a letter on one core
  (d) the same batch on both cores (`workers=2`: this process and a helper process)
  (e) a session-sized batch as the decision flow sends it (default `workers`: a helper process only
      for a batch of 8 or more and an idle core), and the same on one core
(c) and (d) run alternately `--rounds` times; their medians are compared.

Goals: the flow's time per letter at most 1.2x a bare render; the batch on both cores at
least 1.6x faster than one after another. Real flow (Prefect test server), database, files, mails.

    .venv/bin/python bench/letters_bench.py [--batch 100] [--single 10] [--session 12] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from grants import clock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--single", type=int, default=10)
    ap.add_argument("--session", type=int, default=12, help="letters of one committee session")
    ap.add_argument("--rounds", type=int, default=3,
                    help="(c) and (d) alternately this many times, medians: this machine's neighbours come and go")
    a = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="grants-bench-"))
    os.environ.update({"GRANTS_HOME": str(home), "GRANTS_SECRET_KEY": "bench", "DO_NOT_TRACK": "1",
                       "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"})
    for k in ("PREFECT_API_URL", "GRANTS_STORAGE", "GRANTS_DATABASE_URL"):
        os.environ.pop(k, None)
    from prefect.testing.utilities import prefect_test_harness
    from weasyprint import HTML

    from grants import runtime
    from grants.config import load_config
    from grants.db import Database
    from grants.documents import batch, decision_letter, render
    from grants.engine.runner import run_flow
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
    n = 1 + a.single + 2 * a.batch * a.rounds + 2 * a.session
    ids = []
    with db.session() as s:
        org = s.get(Organisation, world.org_ids["a"])
        org.street, org.postcode, org.city = "Bremer Straße 12", "49084", "Osnabrück"
        program = s.get(Program, world.program_id)
        for i in range(n):
            start = clock.today() + timedelta(days=30)
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

    def take(k: int) -> list[int]:
        taken = ids[:k]
        del ids[:k]
        return taken

    cpu: dict[str, float] = {}
    bare_cpu: dict[bool, list[float]] = {False: [], True: []}

    def flow(case_ids: list[int], workers: int | None, key: str = "") -> float:
        c0, t0 = time.thread_time(), time.perf_counter()
        made = run_flow("decision_letters", {"case_ids": case_ids, "workers": workers})["letters"]
        took = time.perf_counter() - t0
        if key:
            cpu[key] = cpu.get(key, 0.0) + time.thread_time() - c0
        assert made == len(case_ids), (made, len(case_ids))
        return took

    loads = {"start": _load()}
    with prefect_test_harness(server_startup_timeout=120):
        run_flow("noop", {})                                  # warm the engine and the imports
        flow(take(1), 1)                                      # warm this process's letter caches
        with db.session() as s:
            kind, data = letters.context(s, ids[0])
        html = render.html(decision_letter.TEMPLATE_OF[kind], data)
        css, fonts = render._stylesheet()

        bares: dict[bool, list[float]] = {False: [], True: []}

        def bare(frozen: bool) -> None:
            # frozen: with the long-lived objects out of the collector's way, as the flow renders
            if frozen:
                gc.freeze()
            c0, t0 = time.thread_time(), time.perf_counter()
            HTML(string=html, base_url=str(render.TEMPLATES) + "/", url_fetcher=render.fetcher()).write_pdf(
                stylesheets=[css], font_config=fonts)
            took, took_cpu = time.perf_counter() - t0, time.thread_time() - c0
            if frozen:
                gc.unfreeze()
            bares[frozen].append(took)
            bare_cpu[frozen].append(took_cpu)

        def bare_both(k: int) -> None:
            for _ in range(k):
                bare(False)
                bare(True)

        bare_both(1)
        for v in (*bares.values(), *bare_cpu.values()):
            v.clear()
        singles, empty = [], []
        for case_id in take(a.single):                        # (a) and (b) interleaved: same conditions
            bare_both(1)
            singles.append(flow([case_id], None, "single"))
            t0 = time.perf_counter()
            run_flow("noop", {})                              # what any flow run costs, letters or not
            empty.append(time.perf_counter() - t0)
        # bare renders between the batches too: the reference follows the machine's load
        loads["before_batches"] = _load()
        bare_both(3)
        sequentials, parallels = [], []
        for _ in range(a.rounds):
            sequentials.append(flow(take(a.batch), 1, "sequential"))     # (c)
            bare_both(2)
            parallels.append(flow(take(a.batch), os.cpu_count()))       # (d)
            bare_both(2)
        loads["after_c_and_d"] = _load()
        sequential, parallel = statistics.median(sequentials), statistics.median(parallels)
        helpers = batch._helpers(None, a.session)             # what the default picks now
        session_default = flow(take(a.session), None)         # (e)
        session_one = flow(take(a.session), 1)
        bare_both(3)
        loads["end"] = _load()
    # the reference is the faster of the plain and the frozen bare render: the stricter one
    mb = min(statistics.median(bares[False]), statistics.median(bares[True]))
    # CPU time of the thread that renders and runs the flow (Prefect runs a synchronous flow in the
    # calling thread; its server is another process): less disturbed by other work on the machine
    # than wall time; only where this thread does all the rendering.
    cpu_bare = min(statistics.median(bare_cpu[False]), statistics.median(bare_cpu[True]))
    cpu_per = {"a_bare": round(cpu_bare, 3),
               "b_single": round(cpu["single"] / a.single, 3), "b_ratio": round(cpu["single"] / a.single / cpu_bare, 2),
               "c_batch_one_after_another": round(cpu["sequential"] / a.batch / a.rounds, 3),
               "c_ratio": round(cpu["sequential"] / a.batch / a.rounds / cpu_bare, 2)}

    def per(total: float, k: int) -> dict:
        return {"per_letter_s": round(total / k, 3), "ratio_to_bare": round(total / k / mb, 2)}

    print(json.dumps({
        "a_bare_weasyprint_s": {
            "reference_median": round(mb, 3),
            "plain_median": round(statistics.median(bares[False]), 3), "plain_mean": round(statistics.mean(bares[False]), 3),
            "frozen_median": round(statistics.median(bares[True]), 3), "frozen_mean": round(statistics.mean(bares[True]), 3),
            "range": [round(min(bares[False] + bares[True]), 3), round(max(bares[False] + bares[True]), 3)],
            "samples": len(bares[False]) + len(bares[True])},
        "b_single_letter_own_flow_run": {"median_s": round(statistics.median(singles), 3),
                                         "ratio_to_bare": round(statistics.median(singles) / mb, 2),
                                         "empty_flow_run_median_s": round(statistics.median(empty), 3)},
        "c_batch_one_after_another": {"letters": a.batch, "total_s": round(sequential, 2), **per(sequential, a.batch),
                                      "rounds_s": [round(x, 2) for x in sequentials]},
        "d_batch_all_cores": {"letters": a.batch, "total_s": round(parallel, 2), **per(parallel, a.batch),
                              "speedup_over_c": round(sequential / parallel, 2),
                              "rounds_s": [round(x, 2) for x in parallels],
                              "speedup_per_round": [round(x / y, 2) for x, y in zip(sequentials, parallels)]},
        "e_session_default_workers": {"letters": a.session, "helper_processes": helpers,
                                      "total_s": round(session_default, 2), **per(session_default, a.session)},
        "e_session_one_core": {"letters": a.session, "total_s": round(session_one, 2), **per(session_one, a.session)},
        "cpu_per_letter_s": cpu_per,
        "cores": os.cpu_count(), "load_average_1_5_15": loads,
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }, indent=2))


if __name__ == "__main__":
    main()
