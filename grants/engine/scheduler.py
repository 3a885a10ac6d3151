"""The scheduler thread: every tick it asks grants.services.schedule what is due by the clock (the
next session, the agenda at the cut-off, written procedures) and, in the embedded default, takes
the due runs that Prefect's scheduler made for the daily deployments, to run them here as those
very runs (so Prefect shows them completed, and a run is never run twice)."""

from __future__ import annotations

import logging
import threading
from uuid import UUID

from prefect.client.orchestration import get_client
from sqlalchemy import text

from grants import clock, runtime
from grants.config import Config
from grants.db import Database
from grants.engine import deployments
from grants.engine.runner import flow_settings
from grants.services import schedule

log = logging.getLogger("grants.engine")


class Scheduler:
    """Asks grants.services.schedule what is due, every `seconds` (a minute by default). Given a
    Prefect API (the embedded default) it also keeps the daily deployments there and turns their
    due runs into jobs; `runner` is what to wake when something was queued."""

    def __init__(self, db: Database, runner, seconds: float = 60, *, api_url: str | None = None,
                 config: Config | None = None):
        self.db, self.runner, self.seconds = db, runner, seconds
        self.api_url, self.config = api_url, config
        self.deployments: dict[UUID, str] = {}          # Prefect deployment id -> registry key
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[str]:
        with self.db.session() as s:
            queued = schedule.tick(s, clock.now())
        if self.api_url:
            try:
                queued += self.take_scheduled_runs()
            except Exception as e:  # Prefect away for a moment: its due runs wait there for the next tick
                log.warning("scheduled runs not read from Prefect: %s: %s", type(e).__name__, e)
        if queued:
            self.runner.wake()
        return queued

    def take_scheduled_runs(self) -> list[str]:
        config = self.config or runtime.current()[0]
        with flow_settings(self.api_url), get_client(sync_client=True) as client:
            if not self.deployments or deployments.missing_deployments(client, self.deployments):
                self.deployments = deployments.ensure_deployments(config, only=deployments.DAILY)
            # Prefect schedules by the wall clock, not by the application's
            runs = client.get_scheduled_flow_runs_for_deployments(deployment_ids=list(self.deployments),
                                                                  scheduled_before=clock.wall())
            runs, needless = deployments.latest_due([r for r in runs if r.deployment_id in self.deployments],
                                                    self.deployments)
            for run, newer in needless:
                deployments.skip_run(client, run, newer)
        with self.db.session() as s:
            return schedule.take_runs(s, [(str(r.id), self.deployments[r.deployment_id], dict(r.parameters or {}))
                                          for r in runs if r.deployment_id is not None])

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


def scheduler_lock(session) -> bool:
    """One scheduler tick at a time across machines (PostgreSQL); elsewhere there is one anyway."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(CAST(:ns AS integer), 1)"),
                                {"ns": 0x6773}).scalar())


class SharedScheduler(Scheduler):
    """The scheduler of scale-out, one tick at a time however many processes run it. Workers run
    the daily deployments' runs themselves, so it asks only grants.services.schedule."""

    def tick(self) -> list[str]:
        with self.db.session() as s:
            if not scheduler_lock(s):
                return []
            queued = schedule.tick(s, clock.now())
        if queued:
            self.runner.wake()
        return queued
