"""The bookkeeping that keeps scale-out runs at exactly once, on SQLite (no Prefect needed)."""

import os
import socket
import subprocess
import sys

from grants.engine.dispatch import MAX_ATTEMPTS, return_to_queue
from grants.engine.liveness import is_alive, worker_name
from grants.models import FlowJob
from grants.services import jobs


def _job(db, state="running", run="run-1", attempts=1):
    with db.session() as s:
        job = jobs.enqueue(s, "noop", f"noop:{state}:{run}:{attempts}")
        job.state, job.prefect_flow_run_id, job.attempts, job.worker = state, run, attempts, "elsewhere:1"
        return job.id


def _get(db, job_id):
    with db.session() as s:
        return s.get(FlowJob, job_id)


def test_a_lost_run_puts_its_job_back_once_and_only_while_the_job_is_its(db):
    job_id = _job(db)
    assert not return_to_queue(db, job_id, "another-run", reason="gone", claimed=True)
    assert return_to_queue(db, job_id, "run-1", reason="worker w is gone", claimed=True)
    job = _get(db, job_id)
    assert (job.state, job.prefect_flow_run_id, job.worker, job.attempts) == ("queued", None, None, 1)
    assert "worker w is gone" in job.error
    assert not return_to_queue(db, job_id, "run-1", reason="gone", claimed=True)     # a second reaper


def test_a_run_that_never_claimed_counts_an_attempt_and_a_job_lost_too_often_fails(db):
    job_id = _job(db, state="queued", attempts=0)
    assert return_to_queue(db, job_id, "run-1", reason="crashed", claimed=False)
    assert _get(db, job_id).attempts == 1                  # the next run gets a new idempotency key
    doomed = _job(db, run="run-9", attempts=MAX_ATTEMPTS)
    assert return_to_queue(db, doomed, "run-9", reason="worker gone", claimed=True)
    job = _get(db, doomed)
    assert job.state == "failed" and job.finished_at is not None


def test_a_job_run_again_gets_a_new_prefect_run(db):
    job_id = _job(db, state="done")
    with db.session() as s:
        jobs.requeue(s, _get(db, job_id).key)
    job = _get(db, job_id)
    assert (job.state, job.prefect_flow_run_id, job.worker) == ("queued", None, None)


def test_without_postgresql_a_worker_on_this_machine_is_alive_while_its_process_is(db):
    assert is_alive(db, worker_name())
    host = socket.gethostname()
    dead_pid = max(int(p) for p in os.listdir("/proc") if p.isdigit()) + 100000
    assert not is_alive(db, f"{host}:{dead_pid}")
    assert is_alive(db, "another-machine:1")               # cannot tell: assume it is
    assert not is_alive(db, None)


def test_worker_refuses_to_start_without_a_prefect_server(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GRANTS_"))}
    env.update(GRANTS_HOME=str(tmp_path), GRANTS_SECRET_KEY="x")
    r = subprocess.run([sys.executable, "-m", "grants", "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "PREFECT_API_URL" in r.stderr
