"""The workflow engine of the embedded default.

`grants serve` starts a local Prefect server (its UI for staff, the history of every run, its
scheduler for the daily flows) and a job runner: a few threads that take queued rows of
`flow_job` and run their flows in this process against that server. Why this pattern: see
bench/RESULTS-engine.md — a direct flow call costs a fraction of a second, while run_deployment
to a serve() process waits seconds for polling; the queue table makes the work durable (a crash
leaves the job queued, and it runs after the restart) and gives the web page something to watch.
"""

from __future__ import annotations

from grants.db import Database
from grants.engine.prefect_server import PrefectServer, use_environment
from grants.engine.runner import JobRunner
from grants.engine.scheduler import Scheduler


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
            use_environment(self.config)
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
