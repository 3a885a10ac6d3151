"""The applicant's front door: the organisation's applications."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from grants.domain.roles import Perm
from grants.services import queries
from grants.web.access import requires
from grants.web.util import db

bp = Blueprint("applicant", __name__, url_prefix="/antrag")


@bp.get("/")
@requires(Perm.APPLY)
def home():
    with db().session() as s:
        rows = queries.case_rows(s, g.actor)
    return render_template("applicant/home.html", rows=rows)
