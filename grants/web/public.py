"""Pages for everybody: start page, health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import text

from grants.domain.roles import FRONT_DOOR, Role
from grants.engine.health import engine_health
from grants.web.access import public
from grants.web.util import db

bp = Blueprint("public", __name__)


@bp.get("/")
@public
def index():
    if g.user is not None:

        return redirect(url_for(FRONT_DOOR[Role(g.user.role)]))
    return render_template("public/index.html")


@bp.get("/healthz")
@public
def healthz():
    """200 with status ok once the application, its database and its workflow engine are ready;
    503 naming what is not. The engine's details say which mode runs and what it sees."""

    ext = current_app.extensions["grants"]
    body: dict[str, Any] = {}
    try:
        with db().session() as s:
            s.execute(text("SELECT 1"))
        body["database"] = "ok"
    except Exception as e:  # reported, not raised: this page exists to tell
        body["database"] = f"error: {type(e).__name__}"
    body["engine"] = engine_health(ext["config"], db(), ext.get("engine"), ext.setdefault("health_cache", {}))
    engine_ok = body["engine"]["status"] in ("ok", "not started")
    if not ext.get("ready") or body["engine"]["status"] == "starting":
        status = "starting"
    elif body["database"] != "ok":
        status = "error: database unavailable"
    elif not engine_ok:
        status = "error: workflow engine unavailable"
    else:
        status = "ok"
    # the details (job counts, engine mode, addresses) are for the machine itself and for admins;
    # a load balancer elsewhere needs only the status
    local = request.remote_addr in ("127.0.0.1", "::1")
    admin = g.get("user") is not None and g.user.role == "admin"
    if not (local or admin):
        body = {}
    return jsonify({"status": status, **body}), 200 if status == "ok" else 503


@bp.get("/barrierefreiheit")
@public
def accessibility():
    return render_template("public/accessibility.html")


@bp.get("/datenschutz")
@public
def privacy():
    return render_template("public/privacy.html")


@bp.get("/hilfe")
@public
def help_page():
    return render_template("public/help.html")
