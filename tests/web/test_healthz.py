"""/healthz: 200 {"status": "ok"} when ready, details of the database and the workflow
engine, and 503 naming what is down."""

from dataclasses import replace
from types import SimpleNamespace

from grants.db import Database
from grants.web.app import create_app


class FakeRunner:
    alive = True


class FakeEmbedded:
    """Looks like grants.engine.embedded.EmbeddedEngine to /healthz."""

    def __init__(self, status="ok", runner=True):
        self._status = status
        self.server = SimpleNamespace(healthy=lambda: status == "ok")
        self.runner = FakeRunner() if runner else None

    def status(self):
        return self._status

    def wake(self):
        pass


def _get(app):
    resp = app.test_client().get("/healthz")
    return resp.status_code, resp.get_json()


def _app(config, db, engine=None, ready=True):
    app = create_app(config, db, engine)
    app.extensions["grants"]["ready"] = ready
    return app


def test_ready_embedded_engine_reports_its_parts(config, db):
    status, body = _get(_app(config, db, FakeEmbedded()))
    assert status == 200 and body["status"] == "ok" and body["database"] == "ok"
    assert body["engine"] == {"mode": "embedded", "status": "ok", "prefect": "ok", "runner": "ok",
                              "jobs": {"queued": 0, "running": 0, "failed": 0}}


def test_starting_then_engine_down_is_503(config, db):
    status, body = _get(_app(config, db, FakeEmbedded(), ready=False))
    assert status == 503 and body["status"] == "starting"
    status, body = _get(_app(config, db, FakeEmbedded("error: prefect server not healthy")))
    assert status == 503 and body["status"] == "error: workflow engine unavailable"
    assert body["database"] == "ok" and body["engine"]["prefect"] == "not answering"


def test_database_down_is_503(config, db, tmp_path):
    broken = Database(f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    status, body = _get(_app(config, broken, FakeEmbedded()))
    assert status == 503 and body["status"] == "error: database unavailable"
    assert body["database"].startswith("error: ")


def test_scale_out_without_a_reachable_prefect_server_is_503(config, db):
    cfg = replace(config, prefect_api_url="http://127.0.0.1:9/api")   # the discard port: nobody answers
    status, body = _get(_app(cfg, db))
    assert status == 503 and body["status"] == "error: workflow engine unavailable"
    assert body["engine"]["mode"] == "scale-out" and body["engine"]["prefect"].startswith("error: ")


def test_the_details_are_for_the_machine_itself_and_for_admins(config, db):
    from tests.factories import build_world
    from tests.web.helpers import login

    build_world(db)
    app = _app(config, db, FakeEmbedded())
    outside = app.test_client().get("/healthz", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert outside.status_code == 200 and outside.get_json() == {"status": "ok"}
    admin = app.test_client()
    login(admin, "admin@test.example")
    seen = admin.get("/healthz", environ_base={"REMOTE_ADDR": "203.0.113.9"}).get_json()
    assert seen["status"] == "ok" and "engine" in seen and "database" in seen
    staff = app.test_client()
    login(staff, "staff@test.example")
    assert staff.get("/healthz", environ_base={"REMOTE_ADDR": "203.0.113.9"}).get_json() == {"status": "ok"}


def test_https_sites_ask_browsers_to_stay_on_https(config, db):
    plain = create_app(config, db).test_client().get("/")
    assert "Strict-Transport-Security" not in plain.headers
    secure = create_app(replace(config, base_url="https://foerderung.osnabrueck.de"), db).test_client().get("/")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
