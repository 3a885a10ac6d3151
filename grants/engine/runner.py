"""Running flows in this process: a registered flow called on a warm thread with the flow heartbeat
off, and the job runner that takes queued rows of `flow_job` and runs their flows on a small
thread pool (the embedded default; bench/RESULTS-engine.md says why not `serve()`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, update

from grants import clock
from grants.db import Database, rowcount
from grants.engine.deployments import crash_run, propose_pending
from grants.flows.registry import FLOWS
from grants.models import FlowJob
from grants.services import job_failures, jobs

if TYPE_CHECKING:        # Prefect is imported where used: it must not load before its environment is set
    from prefect.context import SyncClientContext
    from prefect.settings import Settings

log = logging.getLogger("grants.engine")


def run_flow(name: str, parameters: dict, api_url: str | None = None):
    """Run a registered flow here, synchronously, with the flow heartbeat off (it costs ~1 s a run
    and the job table already tells a crashed run)."""
    with flow_settings(api_url):
        thread_client()
        return FLOWS[name](**parameters)


_settings_cache: dict[tuple[int, str | None], tuple[Settings, Settings]] = {}
_settings_lock = threading.Lock()


def flow_settings(api_url: str | None = None):
    """The current Prefect settings with the heartbeat off (and another API, if given), as a
    settings context. Made once per base settings: Prefect's `temporary_settings` validates a whole
    new settings object each time, about 50 ms of CPU, a third of an empty flow run."""
    import prefect.context
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY

    context = prefect.context.get_settings_context()
    key = (id(context.settings), api_url)
    with _settings_lock:
        cached = _settings_cache.get(key)
        if cached is None or cached[0] is not context.settings:
            updates: dict[Any, Any] = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}     # setting -> value
            if api_url:
                updates[PREFECT_API_URL] = api_url
            # the base object is kept with its copy, so its id cannot be reused by another one
            cached = _settings_cache[key] = (context.settings, context.settings.copy_with_update(updates=updates))
    return prefect.context.SettingsContext(profile=context.profile, settings=cached[1])


_local = threading.local()


def thread_client() -> SyncClientContext:
    """Keep one Prefect client per thread and API, for every flow run this thread makes. Without
    it each run builds a client of its own: certifi's certificates loaded into a new TLS context
    (about 30 ms of CPU, also for a plain-http API), a new connection and a version check.
    Returns the client's context, the current one from now on."""
    from prefect.context import SyncClientContext
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    held = getattr(_local, "client", None)
    current = SyncClientContext.get()
    if held is not None and held[0] == url and current is not None and current is held[1]:
        return current
    if held is not None:
        _local.client = None
        try:
            held[1].__exit__(None, None, None)
        except Exception:  # noqa: BLE001 - an old connection that is gone is gone
            log.debug("closing an old Prefect client failed", exc_info=True)
    ctx = SyncClientContext()
    ctx.__enter__()          # left open on purpose: it lives as long as the thread
    _local.client = (url, ctx)
    return ctx


def execute_run(flow, run, api_url: str | None = None):
    """Run a flow run Prefect let this process start, on this thread and as that run (so its
    history is the deployment's), with the flow heartbeat off as every flow of ours."""
    from prefect.flow_engine import run_flow as prefect_run_flow

    with flow_settings(api_url):
        thread_client()
        return prefect_run_flow(flow, flow_run=run)


class RunNotStarted(Exception):
    """A scheduled run that had ended in Prefect (cancelled in the UI, say) before it ran here."""


def run_scheduled(flow_key: str, run_id: str, parameters: dict, api_url: str | None):
    """The embedded default's way to run a due run of a daily deployment, once its job is claimed."""
    from uuid import UUID

    with flow_settings(api_url):
        client = thread_client().client
        run = client.read_flow_run(UUID(run_id))
        if run.state is None or run.state.is_scheduled():
            if propose_pending(client, run.id):
                return execute_run(FLOWS[flow_key], client.read_flow_run(run.id), api_url)
            run = client.read_flow_run(run.id)
            if run.state is not None and run.state.is_scheduled():
                raise RunNotStarted(f"Prefect did not let run {run_id} start")
        if run.state is not None and run.state.is_final():
            raise RunNotStarted(f"run {run_id} ended as {run.state.name} in Prefect before it ran here")
        # Pending or Running: only this process runs these runs, so an earlier life of it died
        # during the run; the history says so, and the work is done again in a new flow run (the
        # flows are written to be run twice).
        crash_run(client, run.id, "grants stopped before the run finished; it ran again as a new flow run")
    return run_flow(flow_key, parameters, api_url)


# Flows nobody watches while they run: they start only when no other job is waiting or running,
# so that their CPU work (PDF rendering) does not slow down a flow a person is waiting for.
BACKGROUND = frozenset({"send_receipt", "deliver_message", "decision_letter", "decision_letters"})


class JobRunner:
    """Takes queued jobs from the database and runs their flows on a small thread pool."""

    def __init__(self, db: Database, *, api_url: str | None = None, workers: int = 2,
                 poll_seconds: float = 1.0, name: str | None = None):
        self.db = db
        self.api_url = api_url
        self.poll_seconds = poll_seconds
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flow")
        self.slots = threading.Semaphore(workers)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="job-runner", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 60) -> None:
        """Take no new jobs; let running ones finish (a flow cut off would be re-run anyway)."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        self.pool.shutdown(wait=True, cancel_futures=True)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def recover(self, older_than: timedelta = timedelta(0)) -> int:
        """Jobs left 'running' by a process that died go back to the queue."""
        with self.db.session() as s:
            res = s.execute(update(FlowJob)
                            .where(FlowJob.state == "running",
                                   or_(FlowJob.started_at.is_(None), FlowJob.started_at <= clock.now() - older_than))
                            .values(state="queued", worker=None))
            return rowcount(res)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_pending()
            except Exception:  # the database may be briefly unavailable; keep the engine alive
                log.exception("job runner poll failed")
                ran = 0
            if not ran:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def run_pending(self, limit: int = 20) -> int:
        """Start every queued job there is a free thread for; returns how many were started."""
        with self.db.session() as s:
            queued = list(s.execute(select(FlowJob.id, FlowJob.flow).where(jobs.runnable())
                                    .order_by(FlowJob.id).limit(limit)))
            foreground_running = s.scalar(select(FlowJob.id).where(
                FlowJob.state == "running", FlowJob.flow.notin_(BACKGROUND)).limit(1)) is not None
        foreground = [i for i, f in queued if f not in BACKGROUND]
        ids = foreground if (foreground or foreground_running) else [i for i, _ in queued]
        if not foreground and foreground_running:
            ids = []
        started = 0
        for job_id in ids:
            if self._stop.is_set() or not self.slots.acquire(timeout=self.poll_seconds):
                break
            if not self._claim(job_id):
                self.slots.release()
                continue
            self.pool.submit(self._run, job_id)
            started += 1
        return started

    def _claim(self, job_id: int) -> bool:
        with self.db.session() as s:
            res = s.execute(update(FlowJob)
                            .where(FlowJob.id == job_id, FlowJob.state == "queued")
                            .values(state="running", worker=self.name, started_at=clock.now(),
                                    attempts=FlowJob.attempts + 1))
            return rowcount(res) == 1

    def _run(self, job_id: int) -> None:
        try:
            with self.db.session() as s:
                job = s.get_one(FlowJob, job_id)      # claimed by this runner a moment ago
                flow, params, run_id = job.flow, dict(job.parameters), job.prefect_flow_run_id
            result = None
            try:
                if run_id:        # a due run of a Prefect schedule: run as that run (Scheduler)
                    value = run_scheduled(flow, run_id, params, self.api_url)
                else:
                    value = run_flow(flow, params, self.api_url)
                state, error = "done", ""
                result = value if isinstance(value, dict) else None
            except RunNotStarted as e:
                # Prefect ended the run (cancelled by hand, say): a decision, not a fault to retry
                log.warning("flow %s not run: %s", flow, e)
                state, error = "failed", f"{type(e).__name__}: {e}"[:4000]
            except Exception as e:
                log.exception("flow %s failed", flow)
                state, error = "retry", f"{type(e).__name__}: {e}"[:4000]
            with self.db.session() as s:
                if state == "retry":
                    job_failures.after_failure(s, s.get_one(FlowJob, job_id), error)
                else:
                    s.execute(update(FlowJob).where(FlowJob.id == job_id)
                              .values(state=state, error=error, result=result, finished_at=clock.now()))
        finally:
            self.slots.release()
            self._wake.set()

    def drain(self, timeout: float = 60) -> None:
        """Run until no job is queued or running (tests, `grants jobs run`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.run_pending()
            with self.db.session() as s:
                # a job waiting for its retry time is not work for now
                busy = s.scalar(select(FlowJob.id).where(jobs.runnable() | (FlowJob.state == "running")).limit(1))
            if busy is None:
                return
            time.sleep(0.05)
        raise TimeoutError("jobs still running")


