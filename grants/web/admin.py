"""The admin front door: users, background jobs, the workflow engine's UI."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from sqlalchemy import func, select

from grants.domain.roles import Perm
from grants.models import FlowJob, User
from grants.web.access import requires
from grants.web.util import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@requires(Perm.ADMIN_USERS)
def home():
    with db().session() as s:
        users = s.scalars(select(User).order_by(User.role, User.email)).all()
        jobs = dict(s.execute(select(FlowJob.state, func.count()).group_by(FlowJob.state)).all())
        failed = s.scalars(select(FlowJob).where(FlowJob.state == "failed")
                           .order_by(FlowJob.id.desc()).limit(20)).all()
    engine = current_app.extensions["grants"].get("engine")
    prefect_ui = engine.ui_url if engine is not None else None
    return render_template("admin/home.html", users=users, jobs=jobs, failed=failed, prefect_ui=prefect_ui)
