"""The staff's front door (Fachdienst Integration): all cases by state."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request

from grants.domain.roles import Perm
from grants.domain.workflow import State
from grants.services import queries
from grants.web.access import requires
from grants.web.util import page_cache, page_number, reading

bp = Blueprint("staff", __name__, url_prefix="/fachdienst")

PAGE = 50


@bp.get("/")
@requires(Perm.VIEW_ALL_CASES)
def home():
    state = request.args.get("state") or None
    if state is not None and state not in {s.value for s in State}:
        abort(404)
    page = page_number()
    def read(r):
        r.depends("cases")
        return (queries.count_by_state(r.session),
                queries.case_rows(r.session, g.actor, state=state, limit=PAGE + 1, offset=(page - 1) * PAGE))

    # the same for every member of staff: they all see every case
    counts, rows = page_cache().get(("staff_list", state, page), read, session=reading)
    has_next = len(rows) > PAGE
    return render_template("staff/home.html", rows=rows[:PAGE], counts=counts, state=state,
                           page=page, has_next=has_next, states=list(State))
