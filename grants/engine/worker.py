"""`grants worker`: runs the grants deployments' flow runs for a Prefect server, on any machine.

Why not Prefect's own `serve()`: it starts a new Python process for every run, and with its
polling a run took 3–10 s from `run_deployment` to done (bench/RESULTS-engine.md). This worker
polls Prefect for the deployments' scheduled runs as `serve()` does, but runs them on warm threads
of this process with the flow heartbeat off, as the embedded engine does.

A run that belongs to a job is claimed in the application database before Prefect is told it is
Pending, so the job row always says which worker has it; the worker's life lock (liveness.py) lets
any dispatcher see when that worker is gone and queue the job again. On SIGTERM the worker takes
no new runs, lets running ones finish for a grace period and puts back in the queue what is left.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from uuid import UUID

from sqlalchemy import or_, select, update

from grants import clock, runtime
from grants.db import Database, rowcount
from grants.engine.deployments import DAILY, crash_run, ensure_deployments, job_of, latest_due, propose_pending, skip_run
from grants.engine.dispatch import return_to_queue
from grants.engine.liveness import LifeLock, worker_name
from grants.engine.runner import execute_run
from grants.flows.registry import FLOWS
from grants.models import FlowJob
from grants.services import job_failures

log = logging.getLogger("grants.worker")


class Worker:
    def __init__(self, db: Database, *, instance: str = "grants", threads: int = 2, poll_seconds: float = 1.0,
                 name: str | None = None):
        self.db = db
        self.instance = instance
        self.threads = threads
        self.poll_seconds = poll_seconds
        self.name = name or worker_name()
        self.life = LifeLock(db, self.name)
        self.deployments: dict[UUID, str] = {}
        self.last_error: str | None = None
        self.last_polled: float | None = None
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="flow")
        self._running: dict[UUID, int | None] = {}   # flow run id -> job id (None: a run started by hand)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._local = threading.local()
        self._clients: list = []

    def _client(self):
        """One Prefect client per thread for the worker's life: each new one costs round trips."""
        client = getattr(self._local, "client", None)
        if client is None:
            from prefect.client.orchestration import get_client

            client = get_client(sync_client=True)
            client.__enter__()
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def start(self) -> None:
        self.life.acquire()
        self._thread = threading.Thread(target=self._loop, name="worker-poll", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def busy(self) -> int:
        with self._lock:
            return len(self._running)

    def _loop(self) -> None:
        next_check = next_deployments_check = 0.0
        while not self._stop.is_set():
            try:
                if not self.deployments:
                    self.deployments = ensure_deployments(self._config())
                    log.info("worker %s serves %d deployments", self.name, len(self.deployments))
                self.poll_once()
                self.last_error = None
            except Exception as e:  # Prefect or the database away for a moment: keep asking
                self.last_error = f"{type(e).__name__}: {e}"[:300]
                log.warning("worker poll failed: %s", self.last_error)
            if time.monotonic() >= next_check:
                self.life.check()
                next_check = time.monotonic() + 5
            if time.monotonic() >= next_deployments_check:
                self._check_deployments()
                next_deployments_check = time.monotonic() + 60
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _config(self):
        """This process's configuration, under the instance name this worker serves."""
        return replace(runtime.current()[0], instance=self.instance)

    def _check_deployments(self) -> None:
        """A Prefect server set up anew has none of our deployments: make them again, or this
        worker would poll for runs of deployments that no longer exist."""
        from prefect.exceptions import ObjectNotFound

        if not self.deployments:
            return
        try:
            self._client().read_deployment(next(iter(self.deployments)))
        except ObjectNotFound:
            log.warning("the deployments are gone from Prefect; making them again")
            # the old ids stay known: a run of them may be starting on another thread
            self.deployments = {**self.deployments, **ensure_deployments(self._config())}
        except Exception:
            pass  # Prefect away: the poll reports that

    def poll_once(self) -> int:
        client = self._client()
        # asked even when every thread is busy: the poll tells Prefect this worker is there
        runs = client.get_scheduled_flow_runs_for_deployments(
            deployment_ids=list(self.deployments), scheduled_before=clock.wall() + timedelta(seconds=1))
        self.last_polled = time.monotonic()
        # several due runs of a daily deployment (Prefect was away for days): today's is enough
        runs, needless = latest_due(runs, {i: k for i, k in self.deployments.items() if k in DAILY})
        for run, newer in needless:
            skip_run(client, run, newer)
        runs.sort(key=lambda r: (r.next_scheduled_start_time is None, r.next_scheduled_start_time))
        started = 0
        for run in runs:
            if self._stop.is_set() or self.busy >= self.threads:
                break
            with self._lock:
                if run.id in self._running:
                    continue
            started += self._start(client, run)
        return started

    # -- one run ------------------------------------------------------------------------------
    def _start(self, client, run) -> bool:
        job_id = job_of(run.tags)
        if job_id is not None and not self._claim(job_id, run):
            self._drop_if_stale(client, job_id, run)
            return False
        try:
            # False: another worker was quicker (a run without a job: by hand or a schedule's), or it was crashed
            accepted = propose_pending(client, run.id)
        except BaseException:
            if job_id is not None:  # a claim nobody runs would hold the job while this worker lives
                self._unclaim(job_id, run.id)
            raise
        if not accepted:
            if job_id is not None:
                self._unclaim(job_id, run.id)
            return False
        with self._lock:
            self._running[run.id] = job_id
        log.info("run %s (%s, job %s) started", run.id, self.deployments.get(run.deployment_id), job_id)
        self._pool.submit(self._execute, run.id, job_id)
        return True

    def _claim(self, job_id: int, run) -> bool:
        # The dispatcher writes the run id after Prefect accepted the run; a worker may be quicker.
        with self.db.session() as s:
            res = s.execute(update(FlowJob)
                            .where(FlowJob.id == job_id, FlowJob.state == "queued",
                                   FlowJob.flow == self.deployments.get(run.deployment_id),
                                   or_(FlowJob.prefect_flow_run_id.is_(None),
                                       FlowJob.prefect_flow_run_id == str(run.id)))
                            .values(state="running", worker=self.name, started_at=clock.now(),
                                    prefect_flow_run_id=str(run.id), attempts=FlowJob.attempts + 1, error=""))
            return rowcount(res) == 1

    def _unclaim(self, job_id: int, run_id: UUID) -> None:
        with self.db.session() as s:
            s.execute(update(FlowJob)
                      .where(FlowJob.id == job_id, FlowJob.state == "running", FlowJob.worker == self.name,
                             FlowJob.prefect_flow_run_id == str(run_id))
                      .values(state="queued", worker=None, started_at=None, prefect_flow_run_id=None))

    def _drop_if_stale(self, client, job_id: int, run) -> None:
        """A run whose job is finished or belongs to another run must not wait in Prefect forever."""
        from prefect.states import Cancelled

        with self.db.session() as s:
            job = s.get(FlowJob, job_id)
            stale = (job is None or job.state in ("done", "failed")
                     or job.prefect_flow_run_id not in (None, str(run.id)))
        if stale:
            try:
                client.set_flow_run_state(run.id, Cancelled(message=f"job {job_id} is done or has another run"),
                                          force=True)
            except Exception as e:
                log.warning("could not cancel stale run %s: %s", run.id, e)

    def _execute(self, run_id: UUID, job_id: int | None) -> None:
        result, state, error = None, "failed", ""
        try:
            run = self._client().read_flow_run(run_id)
            # heartbeat off: it costs about a second a run, and the life lock tells a lost worker
            value = execute_run(FLOWS[self.deployments[run.deployment_id]], run)
            state, result = "done", value if isinstance(value, dict) else None
            log.info("run %s (job %s) done", run_id, job_id)
        except BaseException as e:  # noqa: BLE001 - Prefect's Abort is a BaseException; record, never raise
            log.exception("run %s (job %s) failed", run_id, job_id)
            error = f"{type(e).__name__}: {e}"[:4000]
        finally:
            try:
                if job_id is not None:
                    self._finish(job_id, run_id, state, error, result)
            finally:
                with self._lock:
                    self._running.pop(run_id, None)
                self._wake.set()

    def _finish(self, job_id, run_id, state, error, result) -> None:
        # only while the job is still ours: if it was given to another run meanwhile, that one reports
        ours = (FlowJob.id == job_id, FlowJob.state == "running", FlowJob.worker == self.name,
                FlowJob.prefect_flow_run_id == str(run_id))
        with self.db.session() as s:
            if state == "failed":
                job = s.scalar(select(FlowJob).where(*ours))
                if job is not None:
                    job_failures.after_failure(s, job, error)
                return
            s.execute(update(FlowJob).where(*ours)
                      .values(state=state, error=error, result=result, finished_at=clock.now()))

    # -- stopping -----------------------------------------------------------------------------
    def stop(self, grace: float = 30) -> int:
        """No new runs; wait up to `grace` seconds for running ones; put the rest back in the
        queue. Returns how many were put back (their threads are still running then)."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(self.poll_seconds + 30)
        deadline = time.monotonic() + grace
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.1)
        with self._lock:
            left = dict(self._running)
        if left:
            client = self._client()
            for run_id, job_id in left.items():
                if job_id is not None:
                    return_to_queue(self.db, job_id, str(run_id), reason=f"worker {self.name} stopped",
                                    claimed=True)
                crash_run(client, run_id, f"worker {self.name} stopped before the run finished")
        else:
            self._pool.shutdown(wait=True)
        for client in self._clients:
            try:
                client.__exit__(None, None, None)
            except Exception:
                pass
        self.life.release()
        return len(left)

