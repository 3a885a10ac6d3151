"""What /healthz says about the workflow engine, in either mode.

Embedded: the local Prefect server and the job runner of this process. Scale-out: the Prefect
server answers, and a worker asked it for runs lately (Prefect records when a deployment was last
polled) — also from a web process under gunicorn that runs no engine itself. Answers are kept for
a few seconds so that a load balancer polling every second does not poll Prefect as often.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from grants import clock
from grants.engine.deployments import deployment_name
from grants.models import FlowJob

CACHE_SECONDS = 3.0
_lock = threading.Lock()


def engine_health(config, db, engine, cache: dict | None = None) -> dict:
    """{"mode": ..., "status": "ok" | "not started" | "starting" | "error: ...", ...details};
    `cache` (one per application) keeps the answer for CACHE_SECONDS."""
    cache = {} if cache is None else cache
    with _lock:
        hit = cache.get("engine")
        if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
    if config.prefect_api_url:
        info = _scaleout(config, engine)
    elif engine is None:
        info = {"mode": "embedded", "status": "not started"}
    else:
        info = _embedded(engine)
    try:
        info["jobs"] = _job_counts(db)
    except Exception as e:  # the database part of /healthz reports this
        info["jobs"] = f"error: {type(e).__name__}"
    with _lock:
        cache["engine"] = (time.monotonic(), info)
    return info


def _job_counts(db) -> dict:
    with db.session() as s:
        counts = dict(s.execute(select(FlowJob.state, func.count())
                                .where(FlowJob.state.in_(("queued", "running", "failed")))
                                .group_by(FlowJob.state)).all())
    return {k: counts.get(k, 0) for k in ("queued", "running", "failed")}


def _embedded(engine) -> dict:
    status = engine.status()
    info = {"mode": "embedded", "status": status}
    if engine.server is not None:
        info["prefect"] = "ok" if engine.server.healthy() else "not answering"
    info["runner"] = "ok" if engine.runner is not None and engine.runner.alive else "not running"
    return info


def _scaleout(config, engine) -> dict:
    info: dict = {"mode": "scale-out"}
    problems = []
    if engine is not None:
        info["dispatcher"] = engine.status()
        if info["dispatcher"] == "starting":
            problems.append("starting")
        elif info["dispatcher"] != "ok":
            problems.append(info["dispatcher"])
        elif engine.dispatcher.last_error:
            info["dispatcher"] = f"retrying: {engine.dispatcher.last_error}"
    try:
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_REQUEST_TIMEOUT, PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

        # the configured server, whatever this thread's Prefect settings say; a health check answers
        # quickly rather than retrying for a minute
        quick = {PREFECT_API_URL: config.prefect_api_url, PREFECT_API_REQUEST_TIMEOUT: 5, PREFECT_CLIENT_MAX_RETRIES: 0}
        with temporary_settings(updates=quick), get_client(sync_client=True) as client:
            failed = client.api_healthcheck()
            if failed is not None:
                raise failed
            info["prefect"] = "ok"
            deployment = client.read_deployment_by_name(deployment_name("noop", config.instance))
        polled = deployment.last_polled
        age = (clock.wall() - polled).total_seconds() if polled else None
        # a worker polls every GRANTS_POLL_SECONDS; Prefect itself calls a deployment not ready after 60 s
        if age is not None and age <= max(60, 10 * config.poll_seconds):
            info["workers"] = "ok"
            info["last_poll_seconds_ago"] = round(age, 1)
        else:
            info["workers"] = "none polling"
            problems.append("error: no worker polls Prefect")
    except Exception as e:
        name = type(e).__name__
        if name == "ObjectNotFound":
            info.setdefault("prefect", "ok")
            info["workers"] = "none started yet"
            problems.append("error: no worker has started yet")
        else:
            info["prefect"] = f"error: {name}"
            problems.append("error: Prefect server not answering")
    info["status"] = ("starting" if problems == ["starting"] else problems[0]) if problems else "ok"
    return info
