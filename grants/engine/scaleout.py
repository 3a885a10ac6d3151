"""The workflow engine when PREFECT_API_URL names a Prefect server: no Prefect server
and no flow runs in this process — a dispatcher that hands queued jobs to Prefect, and the
scheduler. `grants serve` runs it beside the web application, every `grants worker` beside its
flow threads; any number of them may run at once."""

from __future__ import annotations

import logging

from grants.db import Database
from grants.engine.dispatch import Dispatcher
from grants.engine.prefect_server import use_client_environment
from grants.engine.scheduler import SharedScheduler

log = logging.getLogger("grants.scaleout")


def import_prefect() -> None:
    """Import what the threads use before they start: two threads importing Prefect at once can
    deadlock on its module locks ("Failed to initialize plugins: deadlock detected")."""
    import prefect.client.orchestration  # noqa: F401
    import prefect.deployments  # noqa: F401
    import prefect.flow_engine  # noqa: F401

    import grants.flows.registry  # noqa: F401


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
        use_client_environment(self.config)
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
