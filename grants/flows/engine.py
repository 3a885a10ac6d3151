"""The workflow engine of the embedded default.

`grants serve` starts a local Prefect server (its UI for staff, the history of every run) and
a job runner: a few threads that take queued rows of `flow_job` and run their flows in this
process against that server. Why this pattern: see bench/RESULTS-engine.md — a direct flow call
costs a fraction of a second, while run_deployment to a serve() process waits seconds for
polling; the queue table makes the work durable (a crash leaves the job queued, and it runs
after the restart) and gives the web page something to watch.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select, update

from grants.db import Database
from grants.models import FlowJob
from grants.models.base import utcnow

log = logging.getLogger("grants.engine")


def prefect_environment(prefect_home: Path) -> dict[str, str]:
    """Settings for every Prefect process of the embedded default."""
    return {
        "PREFECT_HOME": str(prefect_home),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "true",
        "PREFECT_LOGGING_LEVEL": os.environ.get("PREFECT_LOGGING_LEVEL", "WARNING"),
        # SQLite under Prefect's server answers 503 "database is locked" under parallel writes;
        # the client retries those.
        "PREFECT_CLIENT_MAX_RETRIES": "8",
    }


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


class PrefectServer:
    """A `prefect server start` subprocess with its home under $GRANTS_HOME/prefect."""

    def __init__(self, prefect_home: Path, host: str = "127.0.0.1", port: int = 4200):
        self.home = prefect_home
        self.host = host
        self.port = port
        self.proc: subprocess.Popen | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 90) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        port = self.port
        while not _port_free(self.host, port):
            port += 1
        self.port = port
        env = {**os.environ, **prefect_environment(self.home)}
        env.pop("PREFECT_API_URL", None)
        # Prefect 3.8.8's scheduler service fails under SQLAlchemy 2.1 on every loop (a traceback a
        # minute in server.log) and makes no run; the engine makes the due runs of the daily
        # schedules itself (grants.flows.deployments.make_due_runs)
        env.setdefault("PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED", "false")
        logf = open(self.home / "server.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", self.host, "--port", str(port)],
            env=env, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Prefect server exited with {self.proc.returncode}; see {self.home / 'server.log'}")
            if self.healthy():
                return
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"Prefect server did not become healthy in {timeout} s")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def run_flow(name: str, parameters: dict, api_url: str | None = None):
    """Run a registered flow here, synchronously, with the flow heartbeat off (it costs ~1 s a run
    and the job table already tells a crashed run)."""
    from grants.flows.registry import FLOWS

    with flow_settings(api_url):
        thread_client()
        return FLOWS[name](**parameters)


_settings_cache: dict[tuple[int, str | None], tuple[object, object]] = {}
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
            updates = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
            if api_url:
                updates[PREFECT_API_URL] = api_url
            # the base object is kept with its copy, so its id cannot be reused by another one
            cached = _settings_cache[key] = (context.settings, context.settings.copy_with_update(updates=updates))
    return prefect.context.SettingsContext(profile=context.profile, settings=cached[1])


_local = threading.local()


def thread_client() -> None:
    """Keep one Prefect client per thread and API, for every flow run this thread makes. Without
    it each run builds a client of its own: certifi's certificates loaded into a new TLS context
    (about 30 ms of CPU, also for a plain-http API), a new connection and a version check."""
    from prefect.context import SyncClientContext
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    held = getattr(_local, "client", None)
    if held is not None and held[0] == url and SyncClientContext.get() is held[1]:
        return
    if held is not None:
        _local.client = None
        try:
            held[1].__exit__(None, None, None)
        except Exception:  # noqa: BLE001 - an old connection that is gone is gone
            log.debug("closing an old Prefect client failed", exc_info=True)
    ctx = SyncClientContext()
    ctx.__enter__()          # left open on purpose: it lives as long as the thread
    _local.client = (url, ctx)


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
                                   or_(FlowJob.started_at.is_(None), FlowJob.started_at <= utcnow() - older_than))
                            .values(state="queued", worker=None))
            return res.rowcount or 0

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
            queued = list(s.execute(select(FlowJob.id, FlowJob.flow).where(FlowJob.state == "queued")
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
                            .values(state="running", worker=self.name, started_at=utcnow(),
                                    attempts=FlowJob.attempts + 1))
            return res.rowcount == 1

    def _run(self, job_id: int) -> None:
        try:
            with self.db.session() as s:
                job = s.get(FlowJob, job_id)
                flow, params, run_id = job.flow, dict(job.parameters), job.prefect_flow_run_id
            result = None
            try:
                if run_id:        # a due run of a Prefect schedule: run as that run (Scheduler)
                    from grants.flows.deployments import run_scheduled

                    value = run_scheduled(flow, run_id, params, self.api_url)
                else:
                    value = run_flow(flow, params, self.api_url)
                state, error = "done", ""
                result = value if isinstance(value, dict) else None
            except Exception as e:
                log.exception("flow %s failed", flow)
                state, error = "failed", f"{type(e).__name__}: {e}"[:4000]
            with self.db.session() as s:
                s.execute(update(FlowJob).where(FlowJob.id == job_id)
                          .values(state=state, error=error, result=result, finished_at=utcnow()))
        finally:
            self.slots.release()
            self._wake.set()

    def drain(self, timeout: float = 60) -> None:
        """Run until no job is queued or running (tests, `grants jobs run`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.run_pending()
            with self.db.session() as s:
                busy = s.scalar(select(FlowJob.id).where(FlowJob.state.in_(("queued", "running"))).limit(1))
            if busy is None:
                return
            time.sleep(0.05)
        raise TimeoutError("jobs still running")


class Scheduler:
    """Asks grants.services.schedule what is due, every `seconds` (a minute by default). Given a
    Prefect API (the embedded default) it also keeps the daily deployments there and turns their
    due scheduled runs into jobs that run here as those runs."""

    def __init__(self, db: Database, runner: "JobRunner", seconds: float = 60, *, api_url: str | None = None,
                 config=None):
        self.db, self.runner, self.seconds = db, runner, seconds
        self.api_url, self.config = api_url, config
        self.deployments: dict = {}          # Prefect deployment id -> registry key
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[str]:
        from grants.services import schedule

        with self.db.session() as s:
            queued = schedule.tick(s, utcnow())
        if self.api_url:
            try:
                queued += self.take_scheduled_runs()
            except Exception as e:  # Prefect away for a moment: its due runs wait there for the next tick
                log.warning("scheduled runs not read from Prefect: %s: %s", type(e).__name__, e)
        if queued:
            self.runner.wake()
        return queued

    def take_scheduled_runs(self) -> list[str]:
        from prefect.client.orchestration import get_client

        from grants.flows import runtime
        from grants.flows.deployments import DAILY, ensure_deployments, make_due_runs
        from grants.services import schedule

        config = self.config or runtime.current()[0]
        with flow_settings(self.api_url), get_client(sync_client=True) as client:
            if not self.deployments:          # the first tick that reaches Prefect
                self.deployments = ensure_deployments(config.instance, only=DAILY, config=config)
            _, gone = make_due_runs(client, self.deployments)
            if gone:                          # deleted in the UI, or a Prefect home set up anew
                self.deployments = ensure_deployments(config.instance, only=DAILY, config=config)
                make_due_runs(client, self.deployments)
            runs = client.get_scheduled_flow_runs_for_deployments(deployment_ids=list(self.deployments),
                                                                  scheduled_before=utcnow())
        with self.db.session() as s:
            return schedule.take_runs(s, [(str(r.id), self.deployments[r.deployment_id], dict(r.parameters or {}))
                                          for r in runs if r.deployment_id in self.deployments])

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("scheduler tick failed")
            self._stop.wait(self.seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)


class EmbeddedEngine:
    """What `grants serve` runs beside the web application: the Prefect server (unless the user
    points PREFECT_API_URL at one) and the job runner."""

    def __init__(self, config, db: Database, *, start_server: bool = True, workers: int = 2):
        self.config = config
        self.db = db
        self.server = (PrefectServer(config.prefect_home, port=config.prefect_ui_port)
                       if start_server and config.embedded_engine else None)
        self.runner: JobRunner | None = None
        self.workers = workers
        self.scheduler: Scheduler | None = None
        self.error: str | None = None

    @property
    def api_url(self) -> str | None:
        return self.server.api_url if self.server else self.config.prefect_api_url

    @property
    def ui_url(self) -> str | None:
        if self.server:
            return self.server.ui_url
        if self.config.prefect_api_url:
            return self.config.prefect_api_url.removesuffix("/api")
        return None

    def start(self) -> None:
        try:
            for k, v in prefect_environment(self.config.prefect_home).items():
                if k != "PREFECT_HOME" or self.server:
                    os.environ.setdefault(k, v)
            if self.server:
                self.server.start()
            self.runner = JobRunner(self.db, api_url=self.api_url, workers=self.workers)
            self.runner.start()
            # every 30 s: Prefect's UI calls a deployment "not ready" when nobody asked for its runs for 60 s
            self.scheduler = Scheduler(self.db, self.runner, seconds=30, api_url=self.api_url,
                                       config=self.config)
            self.scheduler.start()
        except Exception as e:
            self.error = f"{type(e).__name__}: {e}"
            raise

    def wake(self) -> None:
        if self.runner:
            self.runner.wake()

    def status(self) -> str:
        if self.error:
            return f"error: {self.error}"
        if self.runner is None or not self.runner.alive:
            return "starting"
        if self.server and not self.server.healthy():
            return "error: prefect server not healthy"
        return "ok"

    def stop(self) -> None:
        if self.scheduler:
            self.scheduler.stop()
        if self.runner:
            self.runner.stop()
        if self.server:
            self.server.stop()
