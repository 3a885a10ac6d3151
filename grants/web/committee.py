"""The Koordinierungsstab's front door: sessions, the dossier per item, conflicts of interest,
and holding the session (attendance, quorum, motions, votes, closing)."""

from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import SelectField, StringField, TextAreaField

from grants import clock
from grants.domain.money import AmountError, parse_amount
from grants.domain.roles import Perm
from grants.models import AgendaItem, Application, Committee, CommitteeMember, Letter, Sitting, User, Vote
from grants.services import dossier, ledger, minutes
from grants.services.committee import circulation as written_procedure
from grants.services.committee import members as membership
from grants.services.committee import sessions, voting
from grants.services.errors import ServiceError
from grants.web.access import requires
from grants.web.forms import EmptyForm
from grants.web.util import config, db, wake_engine

bp = Blueprint("committee", __name__, url_prefix="/koordinierungsstab")

MOTION_LABELS = {"approve": _l("bewilligen"), "approve_partly": _l("teilweise bewilligen"),
                 "reject": _l("ablehnen"), "defer": _l("vertagen")}
VOTE_LABELS = {"yes": _l("Ja"), "no": _l("Nein"), "abstain": _l("Enthaltung")}
SESSION_STATES = {"planned": _l("geplant"), "invited": _l("eingeladen"), "open": _l("eröffnet"),
                  "closed": _l("geschlossen"), "cancelled": _l("abgesagt")}


class PlanForm(FlaskForm):
    day = StringField(_l("Datum"), render_kw={"type": "date"})
    at = StringField(_l("Uhrzeit"), default="14:00", render_kw={"type": "time"})
    place = StringField(_l("Ort"))


class MotionForm(FlaskForm):
    motion = SelectField(_l("Beschlussvorschlag"), choices=list(MOTION_LABELS.items()))
    amount = StringField(_l("Betrag (bei teilweiser Bewilligung)"), render_kw={"inputmode": "decimal"})
    reasons = TextAreaField(_l("Gründe"))


class ConflictForm(FlaskForm):
    reason = TextAreaField(_l("Grund der Befangenheit"))


def _committee_id() -> int:
    with db().session() as s:
        c = s.scalar(select(Committee.id).order_by(Committee.id).limit(1))
    if c is None:
        abort(404)
    return c


@bp.get("/")
@requires(Perm.COMMITTEE_VIEW)
def home():

    with db().session() as s:
        rows = s.execute(select(Sitting, func.count(AgendaItem.id))
                         .outerjoin(AgendaItem, AgendaItem.session_id == Sitting.id)
                         .group_by(Sitting.id).order_by(Sitting.starts_at.desc()).limit(20)).all()
        ready = s.execute(select(Application.id, Application.file_number, Application.title, Application.requested)
                          .where(Application.state == "ready_for_committee").order_by(Application.submitted_at)).all()
    return render_template("committee/home.html", rows=rows, plan_form=PlanForm(), SESSION_STATES=SESSION_STATES,
                           ready=ready)


@bp.post("/umlaufverfahren")
@requires(Perm.CHAIR_SESSION)
def circulation():
    EmptyForm()
    ids = [int(x) for x in request.form.getlist("case") if x.isdigit()]
    try:
        day = datetime.strptime(request.form.get("deadline", ""), "%Y-%m-%d").date()
    except ValueError:
        flash(gettext("Bitte geben Sie eine Frist an."), "error")
        return redirect(url_for("committee.home"))
    try:
        with db().session() as s:
            m = written_procedure.start_circulation(s, g.actor, _committee_id(), ids,
                                            clock.at(day, time(23, 59)),
                                            config().base_url)
            sid = m.id
    except ServiceError as e:
        flash(gettext(e.msgid, **e.params), "error")
        return redirect(url_for("committee.home"))
    wake_engine()
    flash(gettext("Das Umlaufverfahren läuft; alle Mitglieder sind benachrichtigt."), "info")
    return redirect(url_for("committee.session", session_id=sid))


@bp.post("/sitzung/<int:session_id>/punkt/<int:item_id>/schriftlich")
@requires(Perm.VOTE)
def written_vote(session_id: int, item_id: int):
    EmptyForm()
    return _act(session_id, lambda s: written_procedure.cast_written_vote(s, g.actor, item_id, request.form.get("choice", "")),
                gettext("Ihre Stimme ist gespeichert."))


@bp.post("/sitzungen")
@requires(Perm.CHAIR_SESSION)
def plan():
    form = PlanForm()
    try:
        day = datetime.strptime(form.day.data or "", "%Y-%m-%d").date()
        at = datetime.strptime(form.at.data or "14:00", "%H:%M").time()
    except ValueError:
        flash(gettext("Bitte geben Sie Datum und Uhrzeit an."), "error")
        return redirect(url_for("committee.home"))
    if not form.validate_on_submit():
        abort(400)
    try:
        with db().session() as s:
            m = sessions.plan_session(s, g.actor, _committee_id(),
                                       clock.at(day, at),
                                       place=form.place.data or "")
            sid = m.id
    except ServiceError as e:
        flash(gettext(e.msgid, **e.params), "error")
        return redirect(url_for("committee.home"))
    return redirect(url_for("committee.session", session_id=sid))


@bp.get("/sitzung/<int:session_id>")
@requires(Perm.COMMITTEE_VIEW)
def session(session_id: int):
    with db().session() as s:
        m = s.get(Sitting, session_id)
        if m is None:
            abort(404)
        me = membership.member_of(s, g.actor, m.committee_id)
        members = s.execute(select(CommitteeMember, User).join(User, User.id == CommitteeMember.user_id)
                            .where(CommitteeMember.committee_id == m.committee_id, CommitteeMember.active.is_(True))
                            .order_by(CommitteeMember.id)).all()
        present = sessions.present_ids(s, m.id)
        quorum = sessions.quorum_of(s, m.id)
        views = dossier.items(s, m.id)
        votes: dict[int, dict[int, str]] = {}
        for v in s.scalars(select(Vote).join(AgendaItem, AgendaItem.id == Vote.agenda_item_id)
                           .where(AgendaItem.session_id == m.id)):
            votes.setdefault(v.agenda_item_id, {})[v.member_id] = v.choice
        tallies = {iv.item.id: voting.count(s, iv.item.id) for iv in views if iv.item.motion}
        fund = ledger.default_fund(s)
        available = ledger.balances(s, fund.id).available if fund else None
    return render_template("committee/session.html", m=m, me=me, members=members, present=present, quorum=quorum,
                           views=views, votes=votes, tallies=tallies, available=available, form=EmptyForm(),
                           motion_form=MotionForm(), conflict_form=ConflictForm(), MOTION_LABELS=MOTION_LABELS,
                           VOTE_LABELS=VOTE_LABELS, SESSION_STATES=SESSION_STATES,
                           is_chair=g.actor.can(Perm.CHAIR_SESSION))


def _act(session_id: int, fn, ok: str | None = None):
    try:
        with db().session() as s:
            fn(s)
    except ServiceError as e:
        flash(gettext(e.msgid, **e.params), "error")
    else:
        wake_engine()
        if ok:
            flash(ok, "info")
    anchor = request.form.get("anchor", "")
    return redirect(url_for("committee.session", session_id=session_id) + (f"#{anchor}" if anchor else ""))


@bp.post("/sitzung/<int:session_id>/tagesordnung")
@requires(Perm.CHAIR_SESSION)
def agenda(session_id: int):
    def run(s):
        sessions.build_agenda(s, session_id)
        sessions.invite(s, session_id, config().base_url)
    return _act(session_id, run, gettext("Die Tagesordnung steht; alle Mitglieder sind eingeladen."))


@bp.post("/sitzung/<int:session_id>/eroeffnen")
@requires(Perm.CHAIR_SESSION)
def open_(session_id: int):
    return _act(session_id, lambda s: sessions.open_session(s, g.actor, session_id), gettext("Die Sitzung ist eröffnet."))


@bp.post("/sitzung/<int:session_id>/anwesenheit")
@requires(Perm.CHAIR_SESSION)
def attendance(session_id: int):
    ids = {int(x) for x in request.form.getlist("present") if x.isdigit()}

    def run(s):
        m = s.get(Sitting, session_id)
        for member in s.scalars(select(CommitteeMember).where(CommitteeMember.committee_id == m.committee_id)):
            sessions.set_attendance(s, g.actor, session_id, member.id, member.id in ids)
    return _act(session_id, run, gettext("Die Anwesenheit ist gespeichert."))


@bp.post("/sitzung/<int:session_id>/punkt/<int:item_id>/befangenheit")
@requires(Perm.COMMITTEE_VIEW)
def conflict(session_id: int, item_id: int):
    form = ConflictForm()
    member_id = request.form.get("member_id", "")

    def run(s):
        m = s.get(Sitting, session_id)
        me = membership.member_of(s, g.actor, m.committee_id)
        target = int(member_id) if member_id.isdigit() else (me.id if me else 0)
        voting.declare_conflict(s, g.actor, item_id, target, form.reason.data or "")
    if not form.validate_on_submit():
        abort(400)
    return _act(session_id, run, gettext("Die Befangenheit ist vermerkt; dieses Mitglied stimmt bei diesem Punkt nicht mit."))


@bp.post("/sitzung/<int:session_id>/punkt/<int:item_id>/antrag")
@requires(Perm.CHAIR_SESSION)
def motion(session_id: int, item_id: int):
    form = MotionForm()
    if not form.validate_on_submit():
        abort(400)
    amount = None
    if form.motion.data == "approve_partly":
        try:
            amount = parse_amount(form.amount.data or "")
        except AmountError:
            flash(gettext("Bitte geben Sie einen Betrag wie 1.250,00 an (ohne Minus, höchstens zwei Nachkommastellen)."), "error")
            return redirect(url_for("committee.session", session_id=session_id))
    return _act(session_id, lambda s: voting.set_motion(s, g.actor, item_id, form.motion.data, amount=amount,
                                                           reasons=form.reasons.data or ""),
                gettext("Der Beschlussvorschlag steht zur Abstimmung."))


@bp.post("/sitzung/<int:session_id>/punkt/<int:item_id>/stimme")
@requires(Perm.VOTE)
def vote(session_id: int, item_id: int):
    EmptyForm()
    choice = request.form.get("choice", "")
    member_id = request.form.get("member_id", "")

    def run(s):
        m = s.get(Sitting, session_id)
        me = membership.member_of(s, g.actor, m.committee_id)
        target = int(member_id) if member_id.isdigit() else (me.id if me else 0)
        voting.cast_vote(s, g.actor, item_id, target, choice)
    return _act(session_id, run, gettext("Die Stimme ist gezählt."))


@bp.post("/sitzung/<int:session_id>/punkt/<int:item_id>/auszaehlen")
@requires(Perm.CHAIR_SESSION)
def conclude(session_id: int, item_id: int):
    return _act(session_id, lambda s: voting.conclude_item(s, g.actor, item_id), gettext("Ausgezählt."))


@bp.post("/sitzung/<int:session_id>/schliessen")
@requires(Perm.CHAIR_SESSION)
def close(session_id: int):
    return _act(session_id, lambda s: sessions.close_session(s, g.actor, session_id),
                gettext("Die Sitzung ist geschlossen. Die Entscheidungen werden jetzt verbucht und die "
                        "Antragstellenden informiert."))


@bp.post("/sitzung/<int:session_id>/niederschrift/unterschreiben")
@requires(Perm.COMMITTEE_VIEW)
def sign_minutes(session_id: int):
    signed = []

    def run(s):
        before = minutes.signature_count(s, session_id)
        minutes.sign(s, g.actor, session_id)
        if minutes.signature_count(s, session_id) > before:
            signed.append(True)
    EmptyForm()
    response = _act(session_id, run, gettext("Die Niederschrift ist unterschrieben."))
    if signed:          # a refused or repeated signature changes nothing: no new version of the minutes
        with db().session() as s:
            data = minutes.context(s, session_id)
        pdf, docx_bytes = minutes.render_minutes(data)
        with db().session() as s:
            minutes.store(s, config().storage, session_id, pdf, docx_bytes)
    return response


@bp.get("/sitzung/<int:session_id>/niederschrift.<fmt>")
@requires(Perm.COMMITTEE_VIEW)
def minutes_file(session_id: int, fmt: str):
    from flask import send_file


    if fmt not in ("pdf", "docx"):
        abort(404)
    with db().session() as s:
        m = s.get(Sitting, session_id)
        if m is None or m.state != "closed":
            abort(404)
        letter = s.scalar(select(Letter).where(Letter.session_id == session_id, Letter.kind == "minutes")
                          .order_by(Letter.version.desc()).limit(1))
        data = None if letter else minutes.context(s, session_id)
    if data is not None:             # no minutes yet: rendered outside the transaction, then kept
        pdf, docx_bytes = minutes.render_minutes(data)
        with db().session() as s:
            letter = minutes.store(s, config().storage, session_id, pdf, docx_bytes)
    if letter is None:
        abort(404)
    path = config().storage / (letter.pdf_path if fmt == "pdf" else letter.docx_path)
    mime = "application/pdf" if fmt == "pdf" else "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return send_file(path, mimetype=mime, as_attachment=True, download_name=f"Niederschrift-{m.number}-v{letter.version}.{fmt}")


@bp.get("/sitzung/<int:session_id>/unterlagen.pdf")
@requires(Perm.COMMITTEE_VIEW)
def dossier_pdf(session_id: int):
    from flask import Response

    # read without a write transaction, render after it: on SQLite a render inside db().session()
    # held the write lock for as long as the PDF took, and autosaves and logins failed meanwhile
    with db().read() as s:
        if s.get(Sitting, session_id) is None:
            abort(404)
        data = dossier.context(s, session_id)
    return Response(dossier.render_pdf(data), mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=unterlagen-sitzung-{session_id}.pdf"})


@bp.get("/sitzung/<int:session_id>/live")
@requires(Perm.COMMITTEE_VIEW)
def live(session_id: int):
    """The quorum as it stands, for the session page to update itself without reloading."""
    with db().session() as s:
        if s.get(Sitting, session_id) is None:
            abort(404)
        q = sessions.quorum_of(s, session_id)
    if q.reached:
        text = gettext("Beschlussfähig: %(p)d von %(v)d stimmberechtigten Mitgliedern anwesend (nötig: %(n)d).",
                       p=q.present_voting, v=q.voting_members, n=q.needed)
    else:
        text = gettext("Nicht beschlussfähig: %(p)d von %(v)d stimmberechtigten Mitgliedern anwesend, nötig sind %(n)d.",
                       p=q.present_voting, v=q.voting_members, n=q.needed)
    return {"text": text, "reached": q.reached}
