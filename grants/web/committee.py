"""The Koordinierungsstab's front door: sessions and their agendas."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from grants.domain.roles import Perm
from grants.models import AgendaItem, Session
from grants.web.access import requires
from grants.web.util import db

bp = Blueprint("committee", __name__, url_prefix="/koordinierungsstab")


@bp.get("/")
@requires(Perm.COMMITTEE_VIEW)
def home():
    with db().session() as s:
        rows = s.execute(
            select(Session, func.count(AgendaItem.id))
            .outerjoin(AgendaItem, AgendaItem.session_id == Session.id)
            .group_by(Session.id)
            .order_by(Session.starts_at.desc())
            .limit(20)
        ).all()
    return render_template("committee/home.html", rows=rows)
