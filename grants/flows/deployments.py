"""The flows of grants.flows.registry as Prefect deployments (scale-out).

Every flow is deployed under the installation's name (GRANTS_INSTANCE, "grants" by default), so
`screening/grants` is what a dispatcher runs and what a worker serves, and two installations on
one Prefect server never run each other's work. Both sides create the deployments (idempotent), so
runs can be queued before the first worker is up and wait in Prefect until one is. A run that
belongs to a job carries the tag `grants-job:<id>`; runs started by hand in Prefect's UI have none
and simply run.
"""

from __future__ import annotations

import logging
from uuid import UUID

log = logging.getLogger("grants.deployments")

JOB_TAG = "grants-job:"


def deployment_name(flow_key: str, instance: str) -> str:
    from grants.flows.registry import FLOWS

    return f"{FLOWS[flow_key].name}/{instance}"


def ensure_deployments(instance: str) -> dict[UUID, str]:
    """Create or update one deployment per registered flow; returns deployment id -> registry key."""
    from grants.flows.registry import FLOWS

    ids: dict[UUID, str] = {}
    for key, flow in FLOWS.items():
        deployment = flow.to_deployment(name=instance, tags=["grants", instance],
                                        description=f"grants ({instance}): the `{key}` flow, run by `grants worker`")
        ids[deployment.apply()] = key
    return ids


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
