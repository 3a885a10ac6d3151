"""Pages for everybody: start page, health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for, g
from sqlalchemy import text

from grants.web.access import public
from grants.web.util import db

bp = Blueprint("public", __name__)


@bp.get("/")
@public
def index():
    if g.user is not None:
        from grants.domain.roles import FRONT_DOOR, Role

        return redirect(url_for(FRONT_DOOR[Role(g.user.role)]))
    return render_template("public/index.html")


@bp.get("/healthz")
@public
def healthz():
    """200 with status ok once the application, its database and its workflow engine are ready."""
    ext = current_app.extensions["grants"]
    checks = {}
    try:
        with db().session() as s:
            s.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as e:  # reported, not raised: this page exists to tell
        checks["database"] = f"error: {type(e).__name__}"
    engine = ext.get("engine")
    if engine is None:
        checks["engine"] = "not started"
    else:
        checks["engine"] = engine.status()
    ok = checks["database"] == "ok" and ext.get("ready") and checks["engine"] in ("ok", "not started")
    body = {"status": "ok" if ok else "starting" if not ext.get("ready") else "error", **checks}
    return jsonify(body), 200 if ok else 503


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
