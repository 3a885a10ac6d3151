"""The flows of grants.flows.registry as Prefect deployments, and what the engine tells Prefect
about their runs.

Scale-out: every flow is deployed under the installation's name (GRANTS_INSTANCE, "grants" by
default), so `screening/grants` is what a dispatcher runs and what a worker serves, and two
installations on one Prefect server never run each other's work. Both sides create the deployments
(idempotent), so runs can be queued before the first worker is up and wait in Prefect until one is.
A run that belongs to a job carries the tag `grants-job:<id>`; runs started by hand in Prefect's UI
and the runs of the daily schedules have none and simply run.

The daily flows (DAILY) carry a cron schedule in both modes. Prefect's own scheduler service makes
their runs ahead of time, so the UI lists the upcoming ones and the history of every day's run.
The embedded default deploys only those and runs their due runs in its own process
(grants.engine.scheduler); in scale-out a worker runs them like any other run.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any, TypeVar
from uuid import UUID

from prefect.exceptions import Abort
from prefect.schedules import Cron
from prefect.states import Cancelled, Crashed, Pending
from prefect.utilities.engine import propose_state_sync

from grants import clock
from grants.config import Config
from grants.flows.registry import FLOWS

log = logging.getLogger("grants.deployments")

T = TypeVar("T")

JOB_TAG = "grants-job:"
# registry key -> the setting (grants.config.Config) that says at what time of day it runs
DAILY = {"reminders": "reminders_at", "retention": "retention_at"}


def daily_schedules(config: Config) -> dict:
    """registry key -> its Prefect schedule: every day at the configured time on the city's clock
    (a cron in Europe/Berlin keeps 06:00 at 06:00 across summer time)."""
    schedules = {}
    for key, setting in DAILY.items():
        hours, minutes = getattr(config, setting).split(":")
        schedules[key] = Cron(f"{int(minutes)} {int(hours)} * * *", timezone=clock.TIMEZONE, slug=f"daily-{key}")
    return schedules


def deployment_name(flow_key: str, instance: str) -> str:
    return f"{FLOWS[flow_key].name}/{instance}"


def ensure_deployments(config: Config, only=None) -> dict[UUID, str]:
    """Create or update one deployment per registered flow (or per key in `only`), the daily ones
    with their schedule; returns deployment id -> registry key."""
    schedules = daily_schedules(config)
    ids: dict[UUID, str] = {}
    for key, flow in FLOWS.items():
        if only is not None and key not in only:
            continue
        schedule = schedules.get(key)
        # _sync: Prefect would hand back a coroutine where this thread runs an event loop. Its
        # async_dispatch methods take _sync, though their types do not name it.
        deployment = _synced(flow.to_deployment(  # type: ignore[call-arg]
            name=config.instance, tags=["grants", config.instance], schedules=[schedule] if schedule else None,
            description=f"grants ({config.instance}): the `{key}` flow"
                        + (", every day" if schedule else ", run by `grants worker`"),
            _sync=True))
        ids[_synced(deployment.apply(_sync=True))] = key  # type: ignore[call-arg]
    return ids


def _synced(result: T | Coroutine[Any, Any, T]) -> T:
    """The result of a Prefect method called with _sync=True: never the coroutine its type allows."""
    if isinstance(result, Coroutine):
        result.close()
        raise TypeError("Prefect returned a coroutine to a call made with _sync=True")
    return result


def missing_deployments(client, deployments: dict[UUID, str]) -> bool:
    """True if any of these deployments is gone from Prefect (deleted in the UI, or a Prefect home
    set up anew): they must be made again, or nobody would run their runs."""
    from prefect.exceptions import ObjectNotFound

    for deployment_id in deployments:
        try:
            client.read_deployment(deployment_id)
        except ObjectNotFound:
            return True
    return False


def latest_due(runs: list, daily: dict[UUID, str]) -> tuple[list, list[tuple]]:
    """Split due scheduled runs into those to run and (run, newer run) pairs where a later run of
    the same daily deployment makes the run needless: after a machine was off for three days, the
    reminders run once, for today (the daily flows always work for the day they run on, and never
    send anything twice)."""
    latest: dict[UUID, Any] = {}          # deployment -> its latest due run
    for run in runs:
        if run.deployment_id in daily:
            held = latest.get(run.deployment_id)
            if held is None or run.expected_start_time > held.expected_start_time:
                latest[run.deployment_id] = run
    keep = [r for r in runs if r.deployment_id not in daily or latest[r.deployment_id] is r]
    skip = [(r, latest[r.deployment_id]) for r in runs if r.deployment_id in daily and latest[r.deployment_id] is not r]
    return keep, skip


def skip_run(client, run, newer) -> None:
    """Cancel a due daily run that a newer one replaces; Prefect's history says why."""
    try:
        client.set_flow_run_state(run.id, Cancelled(
            message=f"not run: the run due {newer.expected_start_time:%Y-%m-%d %H:%M} UTC does today's work"),
            force=True)
    except Exception as e:  # it stays due and is skipped again next time
        log.warning("could not skip run %s: %s", run.id, e)


def job_of(tags) -> int | None:
    for tag in tags or ():
        if tag.startswith(JOB_TAG) and tag[len(JOB_TAG):].isdigit():
            return int(tag[len(JOB_TAG):])
    return None


def crash_run(client, run_id, message: str) -> None:
    """Tell Prefect a run is over, so its history is true and no worker starts it later."""
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
    try:
        return propose_state_sync(client, Pending(), flow_run_id=run_id).is_pending()
    except Abort:
        return False
