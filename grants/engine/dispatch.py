"""Scale-out: queued jobs go to Prefect as deployment runs; jobs a lost worker left go back.

A job row (grants.services.jobs, written with the change that asks for it) is handed to Prefect
with `run_deployment(..., timeout=0)` and an idempotency key made of its id and attempt, and only
then gets the flow run's id. A dispatcher that dies in between asks again after its restart and
Prefect answers with the same run: nothing lost, nothing doubled. A job keeps the state `queued`
until a worker claims it, so pages that wait for it need not know where it runs.

Any number of dispatchers may run (in `grants serve` and in every `grants worker`): each step is
a conditional update, and the idempotency key makes two of them create one run.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import timedelta
from uuid import UUID

from sqlalchemy import select, update

from grants import clock, runtime
from grants.db import Database, rowcount
from grants.engine.deployments import JOB_TAG, crash_run, deployment_name, ensure_deployments
from grants.engine.liveness import is_alive
from grants.flows.registry import FLOWS
from grants.models import FlowJob
from grants.services import jobs

log = logging.getLogger("grants.dispatch")

# A job whose runs were lost this often (a flow that kills its worker, say) fails instead.
MAX_ATTEMPTS = 5


def return_to_queue(db: Database, job_id: int, run_id: str, *, reason: str, claimed: bool) -> bool:
    """Put a job whose run `run_id` will not finish back in the queue (or fail it after
    MAX_ATTEMPTS). Only if the job still belongs to that run; returns whether it did."""
    with db.session() as s:
        job = s.get(FlowJob, job_id)
        if job is None or job.prefect_flow_run_id != str(run_id) or job.state not in ("queued", "running"):
            return False
        # a claim counted the attempt already; a run that never claimed its job did not
        attempts = job.attempts + (0 if claimed else 1)
        give_up = attempts >= MAX_ATTEMPTS
        res = s.execute(update(FlowJob)
                        .where(FlowJob.id == job_id, FlowJob.prefect_flow_run_id == str(run_id),
                               FlowJob.state == job.state, FlowJob.attempts == job.attempts)
                        .values(state="failed" if give_up else "queued", prefect_flow_run_id=None, worker=None,
                                attempts=attempts, error=f"{reason} (attempt {attempts})"[:4000],
                                finished_at=clock.now() if give_up else None))
        if rowcount(res) != 1:
            return False
    log.warning("job %s: %s; %s", job_id, reason, "given up" if give_up else "queued again")
    return True


class Dispatcher:
    """Hands queued jobs to Prefect and takes back those of lost workers, on a thread."""

    def __init__(self, db: Database, *, instance: str = "grants", poll_seconds: float = 1.0,
                 reap_seconds: float = 5.0, stale_after: timedelta = timedelta(seconds=30)):
        self.db = db
        self.instance = instance
        self.poll_seconds = poll_seconds
        self.reap_seconds = reap_seconds
        self.stale_after = stale_after
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_reap = 0.0

    # -- thread -------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="dispatcher", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        import time

        while not self._stop.is_set():
            try:
                sent = self.dispatch_pending()
                if time.monotonic() >= self._next_reap:
                    self.reap()
                    self._next_reap = time.monotonic() + self.reap_seconds
                self.last_error = None
            except Exception as e:  # Prefect or the database briefly away: keep trying
                log.warning("dispatcher: %s: %s", type(e).__name__, e)
                self.last_error = f"{type(e).__name__}: {e}"[:300]
                sent = 0
            if not sent:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    # -- dispatching --------------------------------------------------------------------------
    def dispatch_pending(self, limit: int = 50) -> int:
        with self.db.session() as s:
            pending = list(s.execute(select(FlowJob.id, FlowJob.flow, FlowJob.parameters, FlowJob.attempts)
                                     .where(jobs.runnable(), FlowJob.prefect_flow_run_id.is_(None))
                                     .order_by(FlowJob.id).limit(limit)))
        sent = 0
        for job in pending:
            if self._stop.is_set():
                break
            sent += self.dispatch(*job)
        return sent

    def dispatch(self, job_id: int, flow: str, parameters: dict, attempts: int) -> bool:
        from prefect.deployments import run_deployment

        if flow not in FLOWS:
            with self.db.session() as s:
                s.execute(update(FlowJob).where(FlowJob.id == job_id, FlowJob.state == "queued")
                          .values(state="failed", error=f"unknown flow {flow!r}", finished_at=clock.now()))
            return False
        from prefect.exceptions import ObjectNotFound

        def send():
            return run_deployment(
                deployment_name(flow, self.instance), parameters=dict(parameters or {}), timeout=0, as_subflow=False,
                idempotency_key=f"{self.instance}:job:{job_id}:{attempts}", tags=[self.instance, f"{JOB_TAG}{job_id}"],
                flow_run_name=f"{flow}-{job_id}-{attempts}")

        try:
            run = send()
        except ObjectNotFound:
            # no worker has started yet: the deployments are made here, and the run waits in Prefect
            ensure_deployments(replace(runtime.current()[0], instance=self.instance))
            run = send()
        with self.db.session() as s:
            if run.state is not None and run.state.is_final():
                # the key named a run of an earlier attempt (the job was queued again): next attempt
                s.execute(update(FlowJob).where(FlowJob.id == job_id, FlowJob.state == "queued",
                                                FlowJob.prefect_flow_run_id.is_(None), FlowJob.attempts == attempts)
                          .values(attempts=attempts + 1))
                return False
            s.execute(update(FlowJob).where(FlowJob.id == job_id, FlowJob.state == "queued",
                                            FlowJob.prefect_flow_run_id.is_(None))
                      .values(prefect_flow_run_id=str(run.id)))
        log.info("job %s (%s) sent to Prefect as run %s", job_id, flow, run.id)
        return True

    # -- taking back what was lost ------------------------------------------------------------
    def reap(self) -> int:
        """Jobs of dead workers, and dispatched runs Prefect ended without running them, go back."""
        from prefect.client.orchestration import get_client

        back = 0
        with self.db.session() as s:
            running = list(s.execute(select(FlowJob.id, FlowJob.worker, FlowJob.prefect_flow_run_id)
                                     .where(FlowJob.state == "running", FlowJob.prefect_flow_run_id.is_not(None))))
            waiting = list(s.execute(select(FlowJob.id, FlowJob.prefect_flow_run_id)
                                     .where(FlowJob.state == "queued", FlowJob.prefect_flow_run_id.is_not(None),
                                            FlowJob.created_at <= clock.now() - self.stale_after)
                                     .order_by(FlowJob.id).limit(200)))
        alive = {w: is_alive(self.db, w) for w in {w for _, w, _ in running}}
        dead = [(j, w, r) for j, w, r in running if not alive[w]]
        if not dead and not waiting:
            return 0
        with get_client(sync_client=True) as client:
            for job_id, worker, run_id in dead:
                if return_to_queue(self.db, job_id, run_id, reason=f"worker {worker} is gone", claimed=True):
                    crash_run(client, run_id, f"worker {worker} is gone; the job runs again")
                    back += 1
            if waiting:
                back += self._ended_unclaimed(client, waiting)
        if back:
            self.wake()
        return back

    def _ended_unclaimed(self, client, waiting) -> int:
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        ids = [UUID(r) for _, r in waiting]
        states = {str(r.id): r.state for r in client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)), limit=len(ids))}
        back = 0
        for job_id, run_id in waiting:
            state = states.get(run_id)
            if state is not None and not state.is_final():
                continue  # still waiting for a worker
            if state is not None and state.is_cancelled():
                with self.db.session() as s:
                    s.execute(update(FlowJob).where(FlowJob.id == job_id, FlowJob.state == "queued",
                                                    FlowJob.prefect_flow_run_id == run_id)
                              .values(state="failed", error="cancelled in Prefect", finished_at=clock.now()))
                continue
            what = f"run {run_id} ended as {state.name}" if state is not None else f"run {run_id} is unknown to Prefect"
            back += return_to_queue(self.db, job_id, run_id, reason=f"{what} before a worker took the job",
                                    claimed=False)
        return back


