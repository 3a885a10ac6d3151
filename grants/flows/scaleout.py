"""The workflow engine when PREFECT_API_URL names a Prefect server (CONTRACT.md): no Prefect server
and no flow runs in this process — a dispatcher that hands queued jobs to Prefect, and the
scheduler. `grants serve` runs it beside the web application, every `grants worker` beside its
flow threads; any number of them may run at once."""

from __future__ import annotations

import logging
import os

from grants.db import Database
from grants.flows.dispatch import Dispatcher, scheduler_lock
from grants.flows.engine import Scheduler
from grants.models.base import utcnow

log = logging.getLogger("grants.scaleout")


def import_prefect() -> None:
    """Import what the threads use before they start: two threads importing Prefect at once can
    deadlock on its module locks ("Failed to initialize plugins: deadlock detected")."""
    import prefect.client.orchestration  # noqa: F401
    import prefect.deployments  # noqa: F401
    import prefect.flow_engine  # noqa: F401

    import grants.flows.registry  # noqa: F401


def prefect_client_environment(config) -> None:
    """Quiet, offline-safe Prefect clients whose files stay in GRANTS_HOME (set before Prefect is
    imported)."""
    os.environ.setdefault("PREFECT_HOME", str(config.prefect_home))
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # every short-lived client (run_deployment makes one a call) would ask the server's version first
    os.environ.setdefault("PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED", "false")


class SharedScheduler(Scheduler):
    """The scheduler, one tick at a time however many processes run it."""

    def tick(self) -> list[str]:
        from grants.services import schedule

        with self.db.session() as s:
            if not scheduler_lock(s):
                return []
            queued = schedule.tick(s, utcnow())
        if queued:
            self.runner.wake()
        return queued


class ScaleOutEngine:
    mode = "scale-out"

    def __init__(self, config, db: Database):
        self.config = config
        self.db = db
        self.dispatcher = Dispatcher(db, instance=config.instance, poll_seconds=config.poll_seconds,
                                     reap_seconds=max(2.0, 5 * config.poll_seconds))
        self.scheduler = SharedScheduler(db, self.dispatcher)
        self.error: str | None = None
        self.started = False

    @property
    def api_url(self) -> str | None:
        return self.config.prefect_api_url

    @property
    def ui_url(self) -> str | None:
        return self.config.prefect_api_url.removesuffix("/").removesuffix("/api")

    def start(self) -> None:
        prefect_client_environment(self.config)
        import_prefect()
        self.dispatcher.start()
        self.scheduler.start()
        self.started = True

    def wake(self) -> None:
        self.dispatcher.wake()

    def status(self) -> str:
        if not self.started:
            return "starting"
        if not self.dispatcher.alive:
            return "error: dispatcher stopped"
        return "ok"

    def stop(self) -> None:
        # nothing runs here: stopping loses no run (queued jobs wait in the database or in Prefect)
        self.scheduler.stop()
        self.dispatcher.stop()
