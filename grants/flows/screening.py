"""The screening flow: started on every submission and resubmission."""

from __future__ import annotations

from prefect import flow, task

from grants.flows import runtime
from grants.services import screening


@task(name="screen-case", retries=3, retry_delay_seconds=[2, 10, 30])
def screen_task(case_id: int) -> dict:
    _, db = runtime.current()
    with db.session() as s:
        return screening.screen_case(s, case_id)


@flow(name="screening")
def screen(case_id: int) -> dict:
    return screen_task(case_id)
