"""The committee's dossier PDF for sessions of 5, 12 and 40 items, against one letter's bare render,
all in one run.

Each session's cases are real rows: applied, screened by the screening service (its verdicts in
the dossier), with a staff recommendation and an earlier grant of the organisation. The dossier is
read in a read session and rendered after it, as the page does; the time per item is compared
with a bare WeasyPrint render (PDF only) of an approval letter with the same stylesheet and fonts.

Goals: per item at most 1.5x one letter's bare render; the time per item does not grow with the
number of items (per item at 40 items at most 1.5x the per-item time at 5).

    .venv/bin/python bench/dossier_bench.py [--sizes 5 12 40] [--rounds 3]
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
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DESCRIPTION = ("Einmal im Monat kochen Nachbarinnen und Nachbarn aus dem Quartier mit Menschen, die neu nach "
               "Osnabrück gekommen sind. Jede Gruppe bringt ein Rezept mit; gegessen wird gemeinsam im "
               "Gemeindesaal. Dazu gibt es Kinderbetreuung und eine Sprachpatenschaft für alle, die möchten. ") * 3


def _session(db, world, n: int) -> int:
    from grants import clock
    from grants.models import Committee, Program
    from grants.services import applications, cases, screening
    from grants.services.actor import Actor
    from grants.services.committee import sessions
    from tests.factories import actor_for

    system = Actor.system("bench")
    applicants = {k: actor_for(db, world.users[f"applicant_{k}"]) for k in ("a", "b")}
    staff = actor_for(db, world.users["staff"])
    chair = actor_for(db, world.users["chair"])
    start = clock.today() + timedelta(days=60)
    for i in range(n):
        org = "a" if i % 2 else "b"
        applicant = applicants[org]
        with db.session() as s:
            case = applications.create_draft(
                s, applicant, s.get(Program, world.program_id), world.org_ids[org],
                title=f"Kochen verbindet {i + 1}", quarter="Schinkel", requested=Decimal("2400.00"),
                own_funds=Decimal("240.00"), cost_items=[("Honorare", Decimal("1440.00")),
                                                         ("Material und Verpflegung", Decimal("1200.00"))],
                project_start=start, project_end=start + timedelta(days=90))
            case.description, case.aims = DESCRIPTION, DESCRIPTION[:300]
            applications.submit(s, applicant, case)
            cases.transition(s, case, "start_screening", system)
            case_id = case.id
        with db.session() as s:
            screening.screen_case(s, case_id)
        with db.session() as s:
            from grants.models import Application

            case = s.get(Application, case_id)
            if case.state == "screening":
                cases.transition(s, case, "mark_ready", system)
            if case.state == "needs_info":
                case.state = "ready_for_committee"
            screening.recommend(s, staff, case, "2.400,00", "Förderung empfohlen: klarer Bezug zum Quartier.")
    with db.session() as s:
        committee_id = s.query(Committee.id).scalar()
        m = sessions.plan_session(s, chair, committee_id, clock.now() + timedelta(days=3 + n))
        items = sessions.build_agenda(s, m.id)
        assert len(items) == n, (len(items), n)
        return m.id


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[5, 12, 40])
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="grants-bench-dossier-"))
    os.environ.update({"GRANTS_HOME": str(home), "GRANTS_SECRET_KEY": "bench", "DO_NOT_TRACK": "1"})
    os.environ.pop("GRANTS_DATABASE_URL", None)
    from weasyprint import HTML

    from grants.config import load_config
    from grants.db import Database
    from grants.documents import render
    from grants.documents.demo_data import DEMO
    from grants.migrate import upgrade
    from grants.models import AgendaItem, Committee, CommitteeMember, Sitting
    from grants.services import dossier
    from tests.factories import build_world

    config = load_config()
    config.ensure_dirs()
    upgrade(config.database_url)
    db = Database(config.database_url)
    world = build_world(db)
    with db.session() as s:        # the chair plans the sessions
        s.add(CommitteeMember(committee_id=s.query(Committee.id).scalar(), user_id=world.users["chair"],
                              function="chair"))
    sessions_by_size = {}
    for n in a.sizes:
        sessions_by_size[n] = _session(db, world, n)
        with db.session() as s:        # the next session's agenda takes only new cases
            assert s.get(Sitting, sessions_by_size[n]) is not None
            assert s.query(AgendaItem).filter(AgendaItem.session_id == sessions_by_size[n]).count() == n

    css, fonts = render._stylesheet()
    letter_html = render.html("approval.html", DEMO)

    def bare_letter() -> float:
        t0 = time.perf_counter()
        HTML(string=letter_html, base_url=str(render.TEMPLATES) + "/", url_fetcher=render.fetcher()).write_pdf(
            stylesheets=[css], font_config=fonts)
        return time.perf_counter() - t0

    def dossier_once(session_id: int) -> float:
        t0 = time.perf_counter()
        with db.read() as s:
            data = dossier.context(s, session_id)
        pdf = dossier.render_pdf(data)
        assert pdf.startswith(b"%PDF")
        return time.perf_counter() - t0

    bare_letter()
    dossier_once(sessions_by_size[a.sizes[0]])         # warm: fonts, stylesheet, caches
    letters, per_item = [], {n: [] for n in a.sizes}
    for _ in range(a.rounds):
        letters.append(statistics.median(bare_letter() for _ in range(5)))
        for n in a.sizes:
            per_item[n].append(dossier_once(sessions_by_size[n]) / n)
    letter = statistics.median(letters)
    result = {"bare_letter_s": round(letter, 3)}
    for n in a.sizes:
        item = statistics.median(per_item[n])
        result[f"dossier_{n}_items_s"] = round(item * n, 2)
        result[f"per_item_{n}_s"] = round(item, 3)
        result[f"per_item_{n}_to_letter"] = round(item / letter, 2)
    result["growth_per_item_largest_to_smallest"] = round(
        statistics.median(per_item[a.sizes[-1]]) / statistics.median(per_item[a.sizes[0]]), 2)
    with db.read() as s:
        t0 = time.perf_counter()
        dossier.context(s, sessions_by_size[a.sizes[-1]])
        result["context_largest_s"] = round(time.perf_counter() - t0, 3)
    result["goals"] = "per item <= 1.5x a bare letter; per item at the largest size <= 1.5x at the smallest"
    result["machine"] = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    result["date"] = time.strftime("%Y-%m-%d")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
