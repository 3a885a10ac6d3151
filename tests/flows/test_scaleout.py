"""Scale-out for real: a `prefect server start`, PostgreSQL for the application, `grants serve` and
`grants worker` as separate processes with their own GRANTS_HOME and one shared GRANTS_STORAGE.

One Prefect server for the module (it takes 10-30 s to start); every test has its own database."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from grants import clock
from grants.db import Database, make_engine
from grants.migrate import upgrade
from grants.models import (
    Application,
    Committee,
    CommitteeMember,
    Decision,
    FlowJob,
    Letter,
    Message,
    NonProfitProof,
    Organisation,
    Program,
    ProofKind,
    Signatory,
    User,
)
from grants.services import accounts, applications, cases, jobs
from grants.services.actor import Actor
from grants.services.committee import sessions, voting
from tests.factories import PASSWORD, actor_for, build_world

pytestmark = pytest.mark.postgres

PG = os.environ.get("GRANTS_TEST_PG_URL")
SYSTEM = Actor.system("test")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, timeout: float, what: str, logs=None, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}" + (f"\n{logs()}" if logs else ""))


def _kill_group(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory):
    """`prefect server start` with its own PREFECT_HOME (SQLite: production uses PostgreSQL, the
    flows do not care); the API URL."""
    if not PG:
        pytest.skip("no PostgreSQL for tests (scripts/test.sh starts one when Debian's package is there)")
    home = tmp_path_factory.mktemp("prefect-server")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_UI_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_LOGGING_LEVEL="WARNING")
    # Prefect's scheduler makes the daily deployments' runs (every second here, not every minute);
    # services grants does not use are off: less CPU on a two-core CI machine shared with the suite
    env["PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS"] = "1"
    for service in ("LATE_RUNS", "FOREMAN", "PAUSE_EXPIRATIONS", "CANCELLATION_CLEANUP", "REPOSSESSOR",
                    "TRIGGERS"):
        env[f"PREFECT_SERVER_SERVICES_{service}_ENABLED"] = "false"
    with open(home / "server.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                 "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"

    def healthy():
        assert proc.poll() is None, (home / "server.log").read_text()
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        _wait(healthy, 180, "the Prefect server", every=0.25)
        yield url
    finally:
        _kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            _kill_group(proc)


@pytest.fixture
def pg_url():
    """A database of its own on the test PostgreSQL, migrated; dropped afterwards."""
    if not PG:
        pytest.skip("no PostgreSQL for tests (scripts/test.sh starts one when Debian's package is there)")
    name = f"grants_scaleout_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(PG).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


class Cluster:
    """`grants` processes, each with its own GRANTS_HOME: only the database, Prefect and the
    storage folder are shared, as between machines."""

    def __init__(self, tmp_path, api_url: str, db_url: str):
        self.tmp, self.api_url, self.db_url = tmp_path, api_url, db_url
        self.storage = tmp_path / "storage"
        self.instance = f"test-{uuid.uuid4().hex[:8]}"     # tests share the Prefect server, not their work
        self.procs: dict[str, subprocess.Popen] = {}

    def env(self, name: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GRANTS_"))}
        env.update(GRANTS_HOME=str(self.tmp / f"home-{name}"), GRANTS_STORAGE=str(self.storage),
                   GRANTS_DATABASE_URL=self.db_url, GRANTS_SECRET_KEY="test-secret", PREFECT_API_URL=self.api_url,
                   GRANTS_POLL_SECONDS="0.5", GRANTS_INSTANCE=self.instance, DO_NOT_TRACK="1",
                   PREFECT_SERVER_ANALYTICS_ENABLED="false")
        return env

    def start(self, name: str, *args: str) -> subprocess.Popen:
        with open(self.tmp / f"{name}.log", "wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "grants", *args], env=self.env(name), stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs[name] = proc
        return proc

    def logs(self) -> str:
        return "\n".join(f"--- {n}.log\n{(self.tmp / f'{n}.log').read_text(errors='replace')[-4000:]}"
                         for n in self.procs)

    def stop(self, name: str, timeout: float = 60) -> int:
        proc = self.procs[name]
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{name} did not stop on SIGTERM\n{self.logs()}")

    def kill_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                _kill_group(proc)
                proc.wait(10)


@pytest.fixture
def cluster(tmp_path, prefect_api, pg_url):
    c = Cluster(tmp_path, prefect_api, pg_url)
    yield c
    c.kill_all()


def _runs(cluster: Cluster, job_id: int) -> list[dict]:
    """The Prefect flow runs of one job, oldest first."""
    body = json.dumps({"flow_runs": {"tags": {"all_": [cluster.instance, f"grants-job:{job_id}"]}},
                       "sort": "EXPECTED_START_TIME_ASC"})
    req = urllib.request.Request(f"{cluster.api_url}/flow_runs/filter", data=body.encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def _healthz(port: int):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
    except OSError:
        return None, None


def _job(db, key_prefix: str) -> FlowJob | None:
    with db.session() as s:
        return s.scalar(select(FlowJob).where(FlowJob.key.like(f"{key_prefix}%")).order_by(FlowJob.id))


def _assert_letter_files(storage, letter: Letter) -> None:
    for rel, sha in ((letter.pdf_path, letter.pdf_sha256), (letter.docx_path, letter.docx_sha256)):
        path = storage / rel
        assert path.is_file(), path
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha


def test_submit_to_letter_through_prefect_server_and_a_separate_worker(cluster):
    db = Database(cluster.db_url)
    world = build_world(db)
    worker = cluster.start("worker", "worker", "--no-dispatch")     # the web process dispatches here
    port = _free_port()
    cluster.start("web", "serve", "--port", str(port))
    with db.session() as s:                                            # an organisation screening passes
        org = s.get(Organisation, world.org_ids["a"])
        org.register_court, org.register_number = "Amtsgericht Osnabrück", "VR 1"
        s.add(Signatory(organisation_id=org.id, name="Aylin Demir", function="Vorsitzende"))
        s.add(NonProfitProof(organisation_id=org.id, kind=ProofKind.EXEMPTION_NOTICE,
                             issued_on=clock.today() - timedelta(days=300), tax_office="FA", tax_number="1"))
        c = s.scalar(select(Committee))
        chair = s.scalar(select(User).where(User.email == "chair@test.example"))
        s.add(CommitteeMember(committee_id=c.id, user_id=chair.id, function="chair"))
        for i in (1, 2):
            u = accounts.create_user(s, SYSTEM, f"m{i}@test.example", "committee", PASSWORD)
            s.add(CommitteeMember(committee_id=c.id, user_id=u.id))
        committee_id, chair_id = c.id, chair.id

    status, body = _wait(lambda: (h := _healthz(port))[0] == 200 and h, 120, "/healthz 200", cluster.logs)
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["engine"]["mode"] == "scale-out" and body["engine"]["prefect"] == "ok"
    assert body["engine"]["workers"] == "ok" and body["engine"]["dispatcher"] == "ok"

    applicant = actor_for(db, world.users["applicant_a"])
    start = clock.today() + timedelta(days=40)
    with db.session() as s:
        case = applications.create_draft(
            s, applicant, s.get(Program, world.program_id), world.org_ids["a"], title="Sprachcafé",
            quarter="Schinkel", requested=D("1000.00"), own_funds=D("100.00"), cost_items=[("Honorar", D("1100.00"))],
            project_start=start, project_end=start + timedelta(days=30),
            answers={"decl_not_started": True, "decl_other_funders": True, "decl_privacy": True})
        applications.submit(s, applicant, case)
        case_id = case.id

    def screened():
        job = _job(db, f"screening:{case_id}")
        assert job is None or job.state != "failed", job.error
        return job is not None and job.state == "done"

    _wait(screened, 90, "the screening flow", cluster.logs)
    chair = actor_for(db, chair_id)
    with db.session() as s:
        case = s.get(Application, case_id)
        assert case.state == "screening"                       # complete: staff decide the rest
        cases.transition(s, case, "mark_ready", SYSTEM)
        m = sessions.plan_session(s, chair, committee_id, clock.now() + timedelta(days=3))
        [item] = sessions.build_agenda(s, m.id)
        sessions.invite(s, m.id, "http://x")
        session_id, item_id = m.id, item.id
    with db.session() as s:
        sessions.open_session(s, chair, session_id)
        members = {cm.user_id: cm.id for cm in s.scalars(select(CommitteeMember))}
        for member in members.values():
            sessions.set_attendance(s, chair, session_id, member, True)
        voting.set_motion(s, chair, item_id, "approve")
        for member in members.values():
            voting.cast_vote(s, chair, item_id, member, "yes")
        voting.conclude_item(s, chair, item_id)
        sessions.close_session(s, chair, session_id)          # -> decide_session -> decision_letters

    def letter_sent():
        with db.session() as s:
            job = s.scalar(select(FlowJob).where(FlowJob.flow == "decision_letters"))
            return s.get(Application, case_id).state == "letter_sent" and job.state == "done"

    _wait(letter_sent, 120, "the decision letter", cluster.logs)
    with db.session() as s:
        letter = s.scalar(select(Letter).where(Letter.application_id == case_id, Letter.kind == "approval"))
        receipt = s.scalar(select(Letter).where(Letter.application_id == case_id, Letter.kind == "receipt"))
        assert s.scalar(select(Decision.kind).where(Decision.application_id == case_id)) == "approve"
        _assert_letter_files(cluster.storage, letter)
        assert (cluster.storage / receipt.pdf_path).is_file()
        flow_jobs = {j.flow: j for j in s.scalars(select(FlowJob).where(FlowJob.flow.in_(
            ("screening", "send_receipt", "decide_session", "decision_letters"))))}
    assert set(flow_jobs) == {"screening", "send_receipt", "decide_session", "decision_letters"}
    for job in flow_jobs.values():
        assert job.state == "done" and job.attempts == 1 and job.worker.endswith(f":{worker.pid}"), job.flow
        [run] = _runs(cluster, job.id)
        assert run["id"] == job.prefect_flow_run_id and run["state"]["type"] == "COMPLETED"
    # files are in the shared storage only, never in a process's own GRANTS_HOME
    for home in ("home-worker", "home-web"):
        assert not list((cluster.tmp / home).rglob("*.pdf"))

    assert cluster.stop("web") == 0
    assert cluster.stop("worker") == 0
    assert "stopped" in (cluster.tmp / "worker.log").read_text()


def _decided_cases(db, world, n: int) -> list[int]:
    applicant = actor_for(db, world.users["applicant_a"])
    ids = []
    with db.session() as s:
        org = s.get(Organisation, world.org_ids["a"])
        org.street, org.postcode, org.city = "Bremer Straße 12", "49084", "Osnabrück"
        for i in range(n):
            case = applications.create_draft(s, applicant, s.get(Program, world.program_id), world.org_ids["a"],
                                              title=f"Projekt {i}", quarter="Schinkel", requested=D("900.00"),
                                              own_funds=D("0"), cost_items=[("Honorar", D("900.00"))],
                                              project_start=clock.today() + timedelta(days=30),
                                              project_end=clock.today() + timedelta(days=90))
            applications.submit(s, applicant, case)
            for action in ("start_screening", "mark_ready", "put_on_agenda"):
                cases.transition(s, case, action, SYSTEM)
            s.add(Decision(application_id=case.id, kind="approve", amount=D("900.00"), votes_yes=3))
            cases.transition(s, case, "approve", SYSTEM, reason="x")
            ids.append(case.id)
        # the submissions' own jobs are not what this test is about
        s.execute(FlowJob.__table__.update().values(state="done"))
    return ids


def test_a_killed_worker_s_letter_batch_runs_again_and_every_letter_exists_once(cluster):
    db = Database(cluster.db_url)
    world = build_world(db)
    n = 4
    case_ids = _decided_cases(db, world, n)
    with db.session() as s:
        job_id = jobs.enqueue(s, "decision_letters", "decision_letters:batch", case_ids=case_ids).id
    first = cluster.start("w1", "worker", "--threads", "1")

    def letters() -> int:
        with db.session() as s:
            return s.scalar(select(func.count()).select_from(Letter).where(Letter.application_id.in_(case_ids),
                                                                           Letter.kind == "approval"))

    def running():
        with db.session() as s:
            return s.get(FlowJob, job_id).state == "running"

    _wait(running, 90, "the batch to start on the first worker", cluster.logs)
    _wait(lambda: letters() >= 1, 120, "the first letter", cluster.logs, every=0.02)
    _kill_group(first)                                   # SIGKILL, in the middle of storing the batch
    first.wait(10)
    stored_before = letters()
    with db.session() as s:
        assert s.get(FlowJob, job_id).state == "running"  # nobody could tell it otherwise

    second = cluster.start("w2", "worker", "--threads", "1")

    def running_again():
        with db.session() as s:
            job = s.get(FlowJob, job_id)
            return job.state in ("running", "done") and job.worker.endswith(f":{second.pid}")

    _wait(running_again, 120, "the batch to run again on the second worker", cluster.logs)
    # SIGTERM while the batch runs: the worker takes nothing new, finishes it and exits cleanly
    assert cluster.stop("w2", timeout=90) == 0
    with db.session() as s:
        job = s.get(FlowJob, job_id)
        assert (job.state, job.attempts) == ("done", 2) and job.worker.endswith(f":{second.pid}")
        for case_id in case_ids:
            [letter] = s.scalars(select(Letter).where(Letter.application_id == case_id, Letter.kind == "approval"))
            assert letter.version == 1 and letter.state == "dispatched"
            _assert_letter_files(cluster.storage, letter)
            assert s.get(Application, case_id).state == "letter_sent"
            assert s.scalar(select(func.count()).select_from(Message).where(
                Message.application_id == case_id, Message.template == "letter")) == 1
    runs = _runs(cluster, job_id)
    assert [r["state"]["type"] for r in runs] == ["CRASHED", "COMPLETED"], (
        stored_before, [(r["name"], r["state"]["type"], r["state"]["message"]) for r in runs], cluster.logs())


def test_a_worker_runs_the_daily_schedule_s_run(cluster):
    """The daily deployments carry their cron; Prefect's scheduler makes their runs and a worker
    runs the due one as it is: no job tag, no parameters, no job row."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.states import Scheduled

    db = Database(cluster.db_url)
    cluster.start("worker", "worker", "--no-dispatch")
    with temporary_settings(updates={PREFECT_API_URL: cluster.api_url}), get_client(sync_client=True) as client:
        def deployment():
            try:
                return client.read_deployment_by_name(f"reminders/{cluster.instance}")
            except ObjectNotFound:
                return None

        reminders = _wait(deployment, 90, "the worker's deployments", cluster.logs)
        [schedule] = reminders.schedules
        assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 6 * * *", "Europe/Berlin")

        def runs():
            return client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[reminders.id])))

        upcoming = _wait(lambda: [r for r in runs() if r.auto_scheduled], 60, "Prefect's scheduled runs", cluster.logs)
        assert {clock.local(r.expected_start_time).strftime("%H:%M") for r in upcoming} == {"06:00"}
        # this morning's run, as Prefect's scheduler made it yesterday
        due = client.create_flow_run_from_deployment(reminders.id, state=Scheduled(
            scheduled_time=clock.wall() - timedelta(minutes=5)))
        _wait(lambda: client.read_flow_run(due.id).state.is_final(), 90, "the due run", cluster.logs)
        run = client.read_flow_run(due.id)
        assert run.state.is_completed(), cluster.logs()
        assert run.parameters == {} and not any(t.startswith("grants-job:") for t in run.tags)
        assert all(r.state.is_scheduled() for r in runs() if r.id != due.id)    # the future ones wait
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(FlowJob)) == 0     # no job: Prefect's own run
    db.dispose()


def test_a_worker_is_alive_while_its_connection_holds_the_lock():
    """What lets a dispatcher on any machine see at once that a worker was killed."""
    if not PG:
        pytest.skip("no PostgreSQL for tests (scripts/test.sh starts one when Debian's package is there)")
    from grants.engine.liveness import LifeLock, is_alive

    db = Database(PG)
    name = f"host-{uuid.uuid4().hex[:6]}:4711"
    life = LifeLock(db, name)
    try:
        assert not is_alive(db, name)
        life.acquire()
        assert is_alive(db, name) and is_alive(db, name)   # asking does not take the lock away
        life._conn.invalidate()                            # the connection dies with the process
        assert not is_alive(db, name)
        assert life.check() is False and is_alive(db, name)   # a worker that lost it takes it again
        life.release()
        assert not is_alive(db, name)
    finally:
        life.release()
        db.dispose()
