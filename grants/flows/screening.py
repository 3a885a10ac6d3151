"""The screening flow: started on every submission and resubmission.

One flow, no tasks: the applicant's page waits for it, and a task run costs extra round trips
to Prefect's API. The whole flow is retried, which is safe because screening is idempotent."""

from __future__ import annotations

from prefect import flow

from grants import runtime
from grants.flows import NO_RESULTS
from grants.services import screening


@flow(name="screening", retries=3, retry_delay_seconds=5, **NO_RESULTS)
def screen(case_id: int) -> dict:
    _, db = runtime.current()
    with db.session() as s:
        return screening.screen_case(s, case_id)
