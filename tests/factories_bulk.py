"""Many applications at once, for tests and benchmarks of list pages."""

from __future__ import annotations

from datetime import timedelta

from grants import clock
from grants.models import Application
from grants.services import bulk

STATES = ["submitted", "screening", "needs_info", "ready_for_committee", "on_agenda", "approved", "rejected",
          "letter_sent", "paid", "closed"]


def many_applications(db, program_id: int, org_ids: list[int], n: int, *, year: int = 2025) -> None:
    now = clock.now()
    with db.session() as s:
        table = Application.__table__
        ids = bulk.allocate_ids(s, table, n)
        rows = []
        for i, id_ in enumerate(ids):
            rows.append({
                "id": id_, "program_id": program_id, "organisation_id": org_ids[i % len(org_ids)],
                "file_number": f"BLK-{year}-{i + 1:05d}", "state": STATES[i % len(STATES)],
                "title": f"Projekt {i}", "quarter": "Schinkel", "description": "x", "aims": "", "target_groups": "",
                "partners": "", "early_start_requested": False, "own_funds": 0, "requested": 1000,
                "answers": "{}", "created_at": now - timedelta(minutes=i), "updated_at": now,
                "state_changed_at": now, "version": 1,
            })
        bulk.insert(s, table, rows)
