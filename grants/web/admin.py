"""The admin front door: users, background jobs, the workflow engine's UI."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants.domain.money import AmountError, parse_amount
from grants.domain.roles import Perm
from grants.models import Committee, CommitteeMember, FlowJob, User
from grants.services import job_failures, ledger, manual_bookings
from grants.services.committee import members as membership
from grants.services.errors import NotFound, ServiceError
from grants.web.access import requires
from grants.web.forms import EmptyForm
from grants.web.labels import JOB_FLOW_LABELS
from grants.web.util import db, wake_engine

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@requires(Perm.ADMIN_USERS)
def home():
    with db().session() as s:
        users = s.scalars(select(User).order_by(User.role, User.email)).all()
        jobs = dict(s.execute(select(FlowJob.state, func.count()).group_by(FlowJob.state)).tuples().all())
        failed = s.scalars(select(FlowJob).where(FlowJob.state == "failed")
                           .order_by(FlowJob.id.desc()).limit(50)).all()
        retrying = s.scalars(select(FlowJob).where(FlowJob.state == "queued", FlowJob.not_before.is_not(None))
                             .order_by(FlowJob.not_before).limit(50)).all()
        c = s.scalar(select(Committee).order_by(Committee.id).limit(1))
        fund = ledger.default_fund(s)
        members = s.execute(select(CommitteeMember, User).join(User, User.id == CommitteeMember.user_id)
                            .where(CommitteeMember.committee_id == c.id).order_by(CommitteeMember.id)).all() if c else []
    engine = current_app.extensions["grants"].get("engine")
    api_url = current_app.extensions["grants"]["config"].prefect_api_url
    # under gunicorn (scale-out) no engine runs in the web process, but Prefect's UI is still there
    if engine is not None:
        prefect_ui = engine.ui_url
    else:
        prefect_ui = api_url.removesuffix("/").removesuffix("/api") if api_url else None
    return render_template("admin/home.html", users=users, jobs=jobs, failed=failed, retrying=retrying,
                           explain=job_failures.explain, flow_label=lambda f: JOB_FLOW_LABELS.get(f, f),
                           prefect_ui=prefect_ui,
                           committee=c, fund=fund, members=members, form=EmptyForm(), FUNCTIONS=membership.FUNCTIONS)


@bp.post("/auftraege/<int:job_id>/wiederholen")
@requires(Perm.ADMIN_SYSTEM)
def retry_job(job_id: int):
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(gettext("Das Formular ist abgelaufen. Bitte laden Sie die Seite neu."), "error")
        return redirect(url_for("admin.home"))
    try:
        with db().session() as s:
            job_failures.retry(s, g.actor, job_id)
    except ServiceError as e:
        flash(gettext(e.msgid, **e.params), "error")
    else:
        flash(gettext("Der Auftrag ist wieder in der Warteschlange."), "info")
        wake_engine()
    return redirect(url_for("admin.home") + "#h-engine")


@bp.post("/fonds/vier-augen")
@requires(Perm.ADMIN_SYSTEM)
def set_four_eyes():
    EmptyForm()
    try:
        amount = parse_amount(request.form.get("four_eyes_from", ""))
    except AmountError:
        flash(gettext("Bitte geben Sie einen Betrag wie 1.250,00 an (ohne Minus, höchstens zwei Nachkommastellen)."),
              "error")
        return redirect(url_for("admin.home") + "#h-fund")
    try:
        with db().session() as s:
            fund = ledger.default_fund(s)
            if fund is None:
                raise NotFound("Diesen Fonds gibt es nicht.")
            manual_bookings.set_four_eyes_from(s, g.actor, fund.id, amount)
    except ServiceError as e:
        flash(gettext(e.msgid, **e.params), "error")
    else:
        flash(gettext("Gespeichert."), "info")
    return redirect(url_for("admin.home") + "#h-fund")


def _committee(s: Session) -> Committee:
    """The one Koordinierungsstab the admin page shows (the first, as home() picks it)."""
    c = s.scalar(select(Committee).order_by(Committee.id).limit(1))
    if c is None:
        raise NotFound("Diesen Koordinierungsstab gibt es nicht.")
    return c


@bp.post("/koordinierungsstab/mitglied")
@requires(Perm.ADMIN_USERS)
def set_member():
    EmptyForm()
    try:
        with db().session() as s:
            c = _committee(s)
            membership.set_member(s, g.actor, c.id, int(request.form.get("user_id", "0") or 0),
                                         function=request.form.get("function", "member"),
                                         voting=request.form.get("voting") == "y",
                                         active=request.form.get("active", "y") == "y",
                                         department=request.form.get("department", ""))
    except (ServiceError, ValueError) as e:
        flash(gettext(e.msgid, **e.params) if isinstance(e, ServiceError) else gettext("Ungültige Eingabe."), "error")
    else:
        flash(gettext("Gespeichert."), "info")
    return redirect(url_for("admin.home") + "#h-committee")


@bp.post("/koordinierungsstab/regeln")
@requires(Perm.ADMIN_SYSTEM)
def set_rules():
    EmptyForm()
    try:
        with db().session() as s:
            c = _committee(s)
            membership.set_rules(s, g.actor, c.id, quorum_minimum=int(request.form.get("quorum_minimum", "3")),
                                        chair_decides_tie=request.form.get("chair_decides_tie") == "y",
                                        interval_days=int(request.form.get("interval_days", "14")),
                                        cutoff_days=int(request.form.get("cutoff_days", "5")))
    except (ServiceError, ValueError) as e:
        flash(gettext(e.msgid, **e.params) if isinstance(e, ServiceError) else gettext("Ungültige Eingabe."), "error")
    else:
        flash(gettext("Gespeichert."), "info")
    return redirect(url_for("admin.home") + "#h-committee")
