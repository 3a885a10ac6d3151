"""Importing an uploaded bank statement and reconciling it, in the background."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task

from grants import runtime
from grants.banking.camt import StatementError
from grants.flows import NO_RESULTS
from grants.models import User
from grants.services import statements
from grants.services.actor import Actor


@task(name="import-and-reconcile", retries=2, retry_delay_seconds=5)
def import_task(path: str, display_name: str, user_id: int | None) -> dict:
    _, db = runtime.current()
    try:
        with db.session() as s:
            user = s.get(User, user_id) if user_id else None
            actor = Actor(user.id, user.email, user.role) if user else Actor.system("reconciliation")
            return statements.import_file(s, Path(path), actor, display_name=display_name).as_dict()
    except StatementError as e:
        # a refused file is an answer, not a failure to retry
        return {"file": display_name, "error": str(e)}


@flow(name="reconcile-statement", **NO_RESULTS)
def reconcile_statement(path: str, display_name: str, user_id: int | None = None) -> dict:
    return import_task(path, display_name, user_id)
