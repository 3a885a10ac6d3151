"""Staff screening: the queue by age, and each case with its verdicts, overrides, comments,
and the decisions that need a person (ready for the committee, ask the applicant, not eligible)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField

from grants.documents import render
from grants.documents.demo_data import TEMPLATES
from grants.domain.roles import Perm
from grants.models import Application, Attachment, AuditEvent, Comment, Letter, Organisation, User
from grants.services import cases, drafts, letters, screening
from grants.services.errors import ServiceError
from grants.web.access import requires
from grants.web.util import config, db, page_cache, reading, wake_engine

bp = Blueprint("screening", __name__, url_prefix="/fachdienst")

RESULT_LABELS = {"pass": _l("bestanden"), "fail": _l("nicht bestanden"), "warn": _l("Hinweis")}
RULE_LABELS = {
    "applicant_type": _l("Antragsberechtigt"), "non_profit_proof": _l("Gemeinnützigkeit"),
    "amount_bounds": _l("Betrag im Rahmen"), "financing_plan": _l("Finanzierungsplan"),
    "project_dates": _l("Zeitraum"), "attachments": _l("Anlagen"), "declarations": _l("Erklärungen"),
    "bank_account": _l("Bankverbindung"), "purpose": _l("Förderzweck"), "duplicate": _l("Doppelantrag"),
    "fund_balance": _l("Fondsstand"),
}


OUTCOMES = {
    "propose_reject": _l("Vorschlag der Prüfung: nicht förderfähig. Bitte entscheiden Sie – abgelehnt wird nie automatisch."),
    "await_staff": _l("Die automatische Prüfung ist fertig. Bitte beurteilen Sie die Hinweise und geben Sie den Antrag frei."),
    "request_info": _l("Die Antragstellenden wurden um Ergänzung gebeten."),
    "mark_ready": _l("Alle Regeln bestanden; der Antrag ging automatisch an den Koordinierungsstab."),
}


class OverrideForm(FlaskForm):
    verdict_id = HiddenField()
    result = SelectField(_l("Neues Ergebnis"), choices=[("pass", _l("bestanden")), ("warn", _l("Hinweis")),
                                                        ("fail", _l("nicht bestanden"))])
    reason = TextAreaField(_l("Begründung"))


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Nachricht oder Notiz"))
    visible = BooleanField(_l("Für die Antragstellenden sichtbar (und per E-Mail)"))


class DecisionForm(FlaskForm):
    action = HiddenField()
    reason = TextAreaField(_l("Begründung oder Nachricht an die Antragstellenden"))
    proposed = StringField(_l("Vorgeschlagener Betrag"))


@bp.get("/pruefung")
@requires(Perm.SCREEN)
def queue():
    with db().session() as s:
        rows = s.execute(select(Application, Organisation.name)
                         .join(Organisation, Organisation.id == Application.organisation_id)
                         .where(Application.state.in_(("submitted", "screening", "needs_info")))
                         .order_by(Application.submitted_at.asc().nulls_last(), Application.id)
                         .limit(200)).all()
    return render_template("staff/queue.html", rows=rows)


@bp.get("/antrag/<int:case_id>")
@requires(Perm.SCREEN)
def case(case_id: int):
    def read(r):
        r.depends(f"case:{case_id}")
        s = r.session
        case = s.get(Application, case_id)
        if case is None:
            return None
        r.depends(f"org:{case.organisation_id}")
        outcome = s.scalar(select(AuditEvent.data).where(AuditEvent.application_id == case.id,
                                                         AuditEvent.action == "screening_done")
                           .order_by(AuditEvent.id.desc()).limit(1))
        return {
            "case": case, "org": s.get(Organisation, case.organisation_id),
            "verdicts": screening.latest_verdicts(s, case.id),
            # an author's changed address shows once the copy expires (page_cache.ttl)
            "comments": s.execute(select(Comment, User.email).outerjoin(User, User.id == Comment.author_id)
                                  .where(Comment.application_id == case.id).order_by(Comment.created_at)).all(),
            "attachments": s.scalars(select(Attachment).where(Attachment.application_id == case.id)).all(),
            "history": cases.history(s, case.id), "values": drafts.values(case),
            "letters": s.scalars(select(Letter).where(Letter.application_id == case.id)
                                 .order_by(Letter.kind, Letter.version)).all(),
            "outcome": (outcome or {}).get("outcome")}

    view = page_cache().get(("staff_case", case_id), read, session=reading)
    cases.visible(g.actor, view and view["case"])
    return render_template("staff/case.html", **view, OUTCOMES=OUTCOMES, override_form=OverrideForm(),
                           comment_form=CommentForm(), decision_form=DecisionForm(), RESULT_LABELS=RESULT_LABELS,
                           RULE_LABELS=RULE_LABELS)


def _back(case_id):
    return redirect(url_for("screening.case", case_id=case_id))


@bp.post("/antrag/<int:case_id>/pruefergebnis")
@requires(Perm.SCREEN)
def override(case_id: int):
    form = OverrideForm()
    if form.validate_on_submit():
        try:
            with db().session() as s:
                cases.get_case(s, g.actor, case_id)
                v = screening.override(s, g.actor, int(form.verdict_id.data or 0), form.result.data, form.reason.data or "")
                if v.application_id != case_id:
                    abort(404)
        except (ServiceError, ValueError) as e:
            flash(gettext(e.msgid, **e.params) if isinstance(e, ServiceError) else gettext("Ungültige Eingabe."), "error")
        else:
            flash(gettext("Das Prüfergebnis ist geändert; die Änderung ist protokolliert."), "info")
    return _back(case_id)


@bp.post("/antrag/<int:case_id>/nachricht")
@requires(Perm.SCREEN)
def add_comment(case_id: int):
    form = CommentForm()
    if form.validate_on_submit():
        try:
            with db().session() as s:
                cases.get_case(s, g.actor, case_id)
                screening.comment(s, g.actor, case_id, form.body.data or "", bool(form.visible.data))
        except ServiceError as e:
            flash(gettext(e.msgid, **e.params), "error")
        else:
            wake_engine()
            flash(gettext("Gespeichert."), "info")
    return _back(case_id)


DECISIONS = {"mark_ready": _l("Der Antrag ist bereit für den Koordinierungsstab."),
             "request_info": _l("Die Antragstellenden sind um Ergänzung gebeten."),
             "declare_ineligible": _l("Der Antrag ist als nicht förderfähig abgeschlossen.")}


@bp.post("/antrag/<int:case_id>/entscheidung")
@requires(Perm.SCREEN)
def decide(case_id: int):
    form = DecisionForm()
    action = form.action.data if form.validate_on_submit() else None
    if action not in DECISIONS:
        abort(400)
    reason = (form.reason.data or "").strip()
    try:
        with db().session() as s:
            case = cases.get_case(s, g.actor, case_id)
            if action == "request_info" and reason:
                screening.comment(s, g.actor, case_id, reason, True)
            if action == "mark_ready":
                screening.recommend(s, g.actor, case, form.proposed.data or "", reason)
            cases.transition(s, case, action, g.actor, reason=reason)
    except ServiceError as e:
        flash(gettext(e.msgid, **e.params), "error")
    else:
        wake_engine()
        flash(str(DECISIONS[action]), "info")
    return _back(case_id)


@bp.post("/antrag/<int:case_id>/schreiben/<int:letter_id>/freigeben")
@requires(Perm.MANAGE_LETTERS)
def release_letter(case_id: int, letter_id: int):

    FlaskForm().validate_on_submit()
    try:
        with db().session() as s:
            cases.get_case(s, g.actor, case_id)
            letter = s.get(Letter, letter_id)
            if letter is None or letter.application_id != case_id:
                abort(404)
            letters.release(s, g.actor, letter_id)
    except ServiceError as e:
        flash(gettext(e.msgid, **e.params), "error")
    else:
        wake_engine()
        flash(gettext("Das Schreiben ist freigegeben und verschickt."), "info")
    return _back(case_id)


@bp.get("/antrag/<int:case_id>/schreiben/<int:letter_id>.<fmt>")
@requires(Perm.MANAGE_LETTERS)
def letter_file(case_id: int, letter_id: int, fmt: str):
    from flask import send_file


    if fmt not in ("pdf", "docx"):
        abort(404)
    with db().session() as s:
        letter = s.get(Letter, letter_id)
        if letter is None or letter.application_id != case_id:
            abort(404)
        rel = letter.pdf_path if fmt == "pdf" else letter.docx_path
        if not rel:
            abort(404)
        path = config().storage / rel
    mime = "application/pdf" if fmt == "pdf" else "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return send_file(path, mimetype=mime, as_attachment=True, download_name=path.name)


@bp.get("/vorlagen")
@requires(Perm.MANAGE_LETTERS)
def templates():

    return render_template("staff/templates.html", names=sorted(TEMPLATES))


@bp.get("/vorlagen/<name>.pdf")
@requires(Perm.MANAGE_LETTERS)
def template_preview(name: str):
    """A template rendered with demo data, as staff edit the wording in letter_templates/."""
    from flask import Response


    if name + ".html" not in TEMPLATES:
        abort(404)
    try:
        pdf = render.pdf(name + ".html", TEMPLATES[name + ".html"], title=f"Vorschau {name}")
    except Exception as e:  # a template staff just broke: say where, instead of a 500
        return render_template("error.html", status=422,
                               message=gettext("Die Vorlage lässt sich nicht darstellen: %(err)s", err=str(e)[:300])), 422
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f"inline; filename=vorschau-{name}.pdf"})
