"""The flows of grants.flows.registry as Prefect deployments.

Scale-out: every flow is deployed under the installation's name (GRANTS_INSTANCE, "grants" by
default), so `screening/grants` is what a dispatcher runs and what a worker serves, and two
installations on one Prefect server never run each other's work. Both sides create the deployments
(idempotent), so runs can be queued before the first worker is up and wait in Prefect until one is.
A run that belongs to a job carries the tag `grants-job:<id>`; runs started by hand in Prefect's UI
and the runs of the daily schedules have none and simply run.

The daily flows (DAILY) carry a cron schedule in both modes, so Prefect's UI shows when they run
and the history of every day's run. The embedded default deploys only those and runs their due
runs in its own process (grants.flows.engine.Scheduler); in scale-out a worker runs them.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from uuid import UUID

from grants.config import TIMEZONE

log = logging.getLogger("grants.deployments")

JOB_TAG = "grants-job:"
# registry key -> the setting (grants.config.Config) that says at what time of day it runs
DAILY = {"reminders": "reminders_at", "retention": "retention_at"}


def daily_schedules(config) -> dict:
    """registry key -> its Prefect schedule: every day at the configured time on the city's clock
    (a cron in Europe/Berlin keeps 06:00 at 06:00 across summer time)."""
    from prefect.schedules import Cron

    schedules = {}
    for key, setting in DAILY.items():
        hours, minutes = getattr(config, setting).split(":")
        schedules[key] = Cron(f"{int(minutes)} {int(hours)} * * *", timezone=TIMEZONE, slug=f"daily-{key}")
    return schedules


def deployment_name(flow_key: str, instance: str) -> str:
    from grants.flows.registry import FLOWS

    return f"{FLOWS[flow_key].name}/{instance}"


def ensure_deployments(instance: str, only=None, config=None) -> dict[UUID, str]:
    """Create or update one deployment per registered flow (or per key in `only`), the daily ones
    with their schedule; returns deployment id -> registry key."""
    from grants.flows import runtime
    from grants.flows.registry import FLOWS

    schedules = daily_schedules(config or runtime.current()[0])
    ids: dict[UUID, str] = {}
    for key, flow in FLOWS.items():
        if only is not None and key not in only:
            continue
        schedule = schedules.get(key)
        deployment = flow.to_deployment(name=instance, tags=["grants", instance],
                                        schedules=[schedule] if schedule else None,
                                        description=f"grants ({instance}): the `{key}` flow"
                                                    + (", every day" if schedule else ", run by `grants worker`"),
                                        _sync=True)
        # _sync: Prefect would hand back a coroutine where this thread runs an event loop
        ids[deployment.apply(_sync=True)] = key
    return ids


def make_due_runs(client, deployments: dict[UUID, str], now: datetime | None = None) -> tuple[list, list[UUID]]:
    """Make the latest due run of every active schedule of these deployments, unless there is a run
    for that time or a later one (a time changed at noon is not made up for yesterday); returns the
    runs made and the deployments that are gone (deleted in the UI, a Prefect home set up anew).

    Prefect 3.8.8's scheduler service cannot insert its runs under SQLAlchemy 2.1 ("Can't evaluate
    bulk DML statement" for FlowRun.state), so with this project's pins it never makes them. Where
    it works it made the run days ahead and it is found here. The idempotency key makes the runs of
    several processes (every worker asks) one; only the latest time is made, so a machine that was
    off for days runs the flow once, and the flows work for today."""
    from prefect.client.schemas.filters import (DeploymentFilter, DeploymentFilterId, FlowRunFilter,
                                                FlowRunFilterExpectedStartTime)
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Scheduled

    now = now or datetime.now(timezone.utc)
    made, gone = [], []
    for deployment_id, key in deployments.items():
        try:
            deployment = client.read_deployment(deployment_id)
        except ObjectNotFound:
            gone.append(deployment_id)
            continue
        if deployment.paused:
            continue
        for item in deployment.schedules:
            when = _last_due(item.schedule, now) if item.active else None
            if when is None or client.read_flow_runs(
                    deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])),
                    flow_run_filter=FlowRunFilter(expected_start_time=FlowRunFilterExpectedStartTime(after_=when)),
                    limit=1):
                continue
            made.append(client.create_flow_run_from_deployment(
                deployment.id, parameters=dict(item.parameters or {}), state=Scheduled(scheduled_time=when),
                idempotency_key=f"grants-schedule {deployment.id} {when.isoformat()}"))
            log.info("made the run of %s/%s due at %s", key, deployment.name, when)
    return made, gone


def _last_due(schedule, now: datetime, back: timedelta = timedelta(days=7)) -> datetime | None:
    """The latest time at or before `now` the schedule names, by Prefect's own reading of it (cron
    with its timezone and summer time, or whatever staff set in the UI)."""
    from prefect.server.schemas import schedules

    kind = getattr(schedules, type(schedule).__name__, None)
    if kind is None:
        return None
    dates = _run(kind(**schedule.model_dump()).get_dates(start=now - back, end=now))
    return dates[-1] if dates else None


def _run(coroutine):
    """Run a coroutine to its end from synchronous code, also where this thread runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def job_of(tags) -> int | None:
    for tag in tags or ():
        if tag.startswith(JOB_TAG) and tag[len(JOB_TAG):].isdigit():
            return int(tag[len(JOB_TAG):])
    return None


def crash_run(client, run_id, message: str) -> None:
    """Tell Prefect a run is over, so its history is true and no worker starts it later."""
    from prefect.states import Crashed

    try:
        run = client.read_flow_run(UUID(str(run_id)))
        if run.state is not None and run.state.is_final():
            return
        client.set_flow_run_state(run.id, Crashed(message=message), force=True)
    except Exception as e:  # the job is back in the queue either way; the history is a nicety
        log.warning("could not mark run %s crashed: %s", run_id, e)


def propose_pending(client, run_id) -> bool:
    """Ask Prefect to let this process start a run; False if another one was quicker or the run
    was cancelled or is over."""
    from prefect.exceptions import Abort
    from prefect.states import Pending
    from prefect.utilities.engine import propose_state_sync

    try:
        return propose_state_sync(client, Pending(), flow_run_id=run_id).is_pending()
    except Abort:
        return False


def execute_run(flow, run, api_url: str | None = None):
    """Run a flow run Prefect let this process start, on this thread and as that run (so its
    history is the deployment's), with the flow heartbeat off as every flow of ours."""
    from prefect.flow_engine import run_flow

    from grants.flows.engine import flow_settings, thread_client

    with flow_settings(api_url):
        thread_client()
        return run_flow(flow, flow_run=run)


class RunNotStarted(Exception):
    """A scheduled run that had ended in Prefect (cancelled in the UI, say) before it ran here."""


def run_scheduled(flow_key: str, run_id: str, parameters: dict, api_url: str | None):
    """The embedded default's way to run a due run of a daily deployment, once its job is claimed."""
    from prefect.context import SyncClientContext

    from grants.flows.engine import flow_settings, run_flow, thread_client
    from grants.flows.registry import FLOWS

    with flow_settings(api_url):
        thread_client()
        client = SyncClientContext.get().client
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
