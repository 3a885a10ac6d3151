"""The applicant's front door: the organisation's applications, the form step by step with
drafts, the preview and submission, each case with its history, answers and withdrawal."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import BooleanField, SelectField, TextAreaField

from grants.domain.roles import Perm
from grants.domain.workflow import State
from grants.models import Application, Attachment, Comment, FlowJob, Letter, Organisation, Program
from grants.services import cases, drafts, queries, reclaims, uploads
from grants.services.errors import ServiceError
from grants.web import wizard
from grants.web.access import requires
from grants.web.forms import EmptyForm
from grants.web.util import config, db, page_cache, page_number, reading, wake_engine

bp = Blueprint("applicant", __name__, url_prefix="/antrag")


PAGE = 50


@bp.get("/")
@requires(Perm.APPLY)
def home():
    page = page_number()
    orgs = tuple(sorted(g.actor.org_ids))

    def read(r):
        for org in orgs:
            r.depends(f"org-cases:{org}")
        return queries.case_rows(r.session, g.actor, limit=PAGE + 1, offset=(page - 1) * PAGE)

    rows = page_cache().get(("applicant_list", orgs, page), read, session=reading)
    return render_template("applicant/home.html", rows=rows[:PAGE], form=EmptyForm(), page=page,
                           has_next=len(rows) > PAGE)


@bp.post("/neu")
@requires(Perm.APPLY)
def new():
    with db().session() as s:
        case = drafts.open_draft(s, g.actor)
        case_id = case.id
        first = drafts.spec_for(s.get_one(Program, case.program_id)).steps[0].id
    return redirect(url_for("applicant.step", case_id=case_id, step_id=first))


def _context(s, case_id: int):
    case = drafts.editable_case(s, g.actor, case_id)
    program = s.get(Program, case.program_id)
    org = s.get(Organisation, case.organisation_id)
    return case, drafts.spec_for(program), org.kind.value


ATTACHMENT_KINDS = {"quote": _l("Angebot / Kostenvoranschlag"), "flyer": _l("Flyer oder Einladung"),
                    "partner_letter": _l("Zusage eines Partners"), "other": _l("Sonstiges")}


class UploadForm(FlaskForm):
    file = FileField()
    kind = SelectField(choices=[])


def _uploads(s, case, step) -> dict:
    """The case's files and the form to add one, offering the kinds the step's attachment field asks for."""
    attachments = s.scalars(select(Attachment).where(Attachment.application_id == case.id)
                            .order_by(Attachment.id)).all()
    upload_form = UploadForm(prefix="up")
    att_field = next((f for f in step.fields if f.type == "attachments"), None)
    if att_field:
        upload_form.kind.choices = ([(k, ATTACHMENT_KINDS.get(k, k)) for k in att_field.kinds]
                                    or [("other", ATTACHMENT_KINDS["other"])])
    return {"attachments": attachments, "upload_form": upload_form, "kind_labels": ATTACHMENT_KINDS,
            "download_endpoint": "applicant.download"}


def _sheet(s, case_id: int) -> wizard.Sheet:
    case, spec, kind = _context(s, case_id)
    return wizard.Sheet(case, spec, kind, drafts.values(case), drafts.raw_inputs(case),
                        save=lambda step, good, bad: drafts.save_step(s, g.actor, case, step, good, bad),
                        extras=lambda step: _uploads(s, case, step))


STEPS = wizard.Wizard(endpoint="applicant.step", preview="applicant.preview", template="applicant/step.html",
                      load=_sheet, rows_anchor="cost_items", max_extra_rows=20)


@bp.route("/<int:case_id>/schritt/<step_id>", methods=["GET", "POST"])
@requires(Perm.APPLY)
def step(case_id: int, step_id: str):
    return STEPS.page(case_id, step_id)


@bp.post("/<int:case_id>/anlagen")
@requires(Perm.APPLY)
def upload(case_id: int):
    form = UploadForm(prefix="up")
    f = request.files.get("up-file")
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    if f is None or not f.filename:
        flash(gettext("Bitte wählen Sie eine Datei aus."), "error")
    else:
        try:
            with db().session() as s:
                case, spec, kind = _context(s, case_id)
                uploads.store(s, g.actor, config().uploads_dir, organisation_id=case.organisation_id,
                              application_id=case.id, kind=request.form.get("up-kind", "other"),
                              filename=f.filename, stream=f.stream)
        except ServiceError as e:
            flash(gettext(e.msgid, **e.params), "error")
        else:
            flash(gettext("Die Datei ist hochgeladen."), "info")
    step_id = request.args.get("step", "anlagen")
    return redirect(url_for("applicant.step", case_id=case_id, step_id=step_id))


@bp.post("/<int:case_id>/anlagen/<int:attachment_id>/loeschen")
@requires(Perm.APPLY)
def remove_upload(case_id: int, attachment_id: int):
    with db().session() as s:
        _context(s, case_id)
        path = uploads.remove(s, g.actor, config().uploads_dir, attachment_id, case_id)
    path.unlink(missing_ok=True)
    flash(gettext("Die Datei ist entfernt."), "info")
    return redirect(url_for("applicant.step", case_id=case_id, step_id=request.args.get("step", "anlagen")))


@bp.get("/<int:case_id>/anlagen/<int:attachment_id>")
@requires(Perm.APPLY)
def download(case_id: int, attachment_id: int):
    with db().session() as s:
        case = cases.get_case(s, g.actor, case_id)
        att = s.get(Attachment, attachment_id)
        if att is None or att.application_id != case.id:
            abort(404)
        path = uploads.path_of(config().uploads_dir, att)
    return send_file(path, mimetype=att.content_type, as_attachment=True, download_name=att.filename)


class SubmitForm(FlaskForm):
    confirm = BooleanField(_l("Ich versichere, dass die Angaben richtig und vollständig sind."))


@bp.route("/<int:case_id>/vorschau", methods=["GET", "POST"])
@requires(Perm.APPLY)
def preview(case_id: int):
    lang = str(get_locale())
    form = SubmitForm()
    submitted, file_number = False, None
    with db().session() as s:
        case, spec, kind = _context(s, case_id)
        missing = drafts.missing(s, case)
        if request.method == "POST" and form.validate_on_submit():
            if not form.confirm.data:
                form.confirm.errors = [gettext("Bitte bestätigen Sie, dass die Angaben stimmen.")]
            elif not missing:
                try:
                    drafts.submit(s, g.actor, case)
                except ServiceError as e:
                    flash(gettext(e.msgid, **e.params), "error")
                else:
                    file_number = case.file_number
                    submitted = True
        values = drafts.values(case)
        attachments = s.scalars(select(Attachment).where(Attachment.application_id == case.id)).all()
    if submitted:
        wake_engine()
        flash(gettext("Ihr Antrag ist eingegangen. Ihr Aktenzeichen: %(fn)s. Eine Eingangsbestätigung "
                      "kommt per E-Mail.", fn=file_number), "info")
        return redirect(url_for("applicant.case", case_id=case_id))
    return render_template("applicant/preview.html", case=case, spec=spec, kind=kind, lang=lang, values=values,
                           missing=missing, form=form, attachments=attachments,
                           kind_labels=ATTACHMENT_KINDS), 400 if request.method == "POST" else 200


class WithdrawForm(FlaskForm):
    sure = BooleanField(_l("Ja, ich ziehe den Antrag zurück."))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Ihre Antwort"))


@bp.get("/<int:case_id>")
@requires(Perm.APPLY)
def case(case_id: int):
    def read(r):
        r.depends(f"case:{case_id}")
        s = r.session
        case = s.get(Application, case_id)
        if case is None:
            return None
        return {"case": case, "history": cases.applicant_history(s, case.id),
                "comments": s.scalars(select(Comment).where(Comment.application_id == case.id,
                                                            Comment.visible_to_applicant.is_(True))
                                      .order_by(Comment.created_at)).all(),
                "letters": s.scalars(select(Letter).where(Letter.application_id == case.id,
                                                          Letter.state.in_(("released", "dispatched")))
                                     .order_by(Letter.created_at)).all()}

    view = page_cache().get(("applicant_case", case_id), read, session=reading)
    case = cases.visible(g.actor, view and view["case"])
    # what depends on more than the case (the profile, running jobs, the ledger) is read each
    # time, and only in the states where there is something to read
    missing = drafts.missing(reading(), case) if case.state == State.DRAFT.value else []
    working = case.state in SCREENING_STATES and _screening_running(reading(), case)
    reclaim = reclaims.reclaim_of(reading(), case.id) if case.state in (State.RECLAIM.value, State.CLOSED.value) else None
    outstanding = reclaims.outstanding(reading(), case.id, reclaim) if reclaim else None
    return render_template("applicant/case.html", **view, withdraw_form=WithdrawForm(), answer_form=AnswerForm(),
                           missing=missing, State=State, working=working, reclaim=reclaim, outstanding=outstanding)


SCREENING_STATES = (State.SUBMITTED.value, State.SCREENING.value)


def _screening_running(s, case) -> bool:
    """Is the automatic check of this case still to come or under way?"""

    if case.state not in SCREENING_STATES:
        return False
    jobs = s.scalars(select(FlowJob.state).where(FlowJob.flow == "screening",
                                                 FlowJob.key.like(f"screening:{case.id}:%"))).all()
    return any(j in ("queued", "running") for j in jobs)


@bp.get("/<int:case_id>/status")
@requires(Perm.APPLY)
def status(case_id: int):
    with db().session() as s:
        case = cases.get_case(s, g.actor, case_id)
        return {"done": not _screening_running(s, case), "state": case.state}


@bp.post("/<int:case_id>/zurueckziehen")
@requires(Perm.APPLY)
def withdraw(case_id: int):
    form = WithdrawForm()
    if not form.validate_on_submit() or not form.sure.data:
        flash(gettext("Bitte bestätigen Sie, dass Sie den Antrag zurückziehen wollen."), "error")
        return redirect(url_for("applicant.case", case_id=case_id))
    with db().session() as s:
        case = cases.get_case(s, g.actor, case_id)
        cases.transition(s, case, "withdraw", g.actor)
    flash(gettext("Der Antrag ist zurückgezogen."), "info")
    return redirect(url_for("applicant.case", case_id=case_id))


@bp.post("/<int:case_id>/antworten")
@requires(Perm.APPLY)
def answer(case_id: int):
    form = AnswerForm()
    text = (form.answer.data or "").strip() if form.validate_on_submit() else ""
    if not text:
        flash(gettext("Bitte schreiben Sie eine Antwort."), "error")
        return redirect(url_for("applicant.case", case_id=case_id))
    with db().session() as s:
        case = cases.get_case(s, g.actor, case_id)
        s.add(Comment(application_id=case.id, author_id=g.actor.user_id, body=text[:10000], visible_to_applicant=True))
        cases.transition(s, case, "resubmit", g.actor, reason=text[:500])
    wake_engine()
    flash(gettext("Danke! Ihre Antwort ist beim Fachdienst; die Prüfung geht weiter."), "info")
    return redirect(url_for("applicant.case", case_id=case_id))


@bp.get("/<int:case_id>/schreiben/<int:letter_id>.pdf")
@requires(Perm.APPLY)
def letter_pdf(case_id: int, letter_id: int):
    with db().session() as s:
        case = cases.get_case(s, g.actor, case_id)
        letter = s.get(Letter, letter_id)
        if letter is None or letter.application_id != case.id or letter.state not in ("released", "dispatched"):
            abort(404)
        path = config().storage / letter.pdf_path
        name = f"{LETTER_NAMES.get(letter.kind, letter.kind)}-{case.file_number}-v{letter.version}.pdf"
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=name)


LETTER_NAMES = {"receipt": "Eingangsbestaetigung", "approval": "Zuwendungsbescheid", "partial_approval": "Zuwendungsbescheid",
                "rejection": "Ablehnungsbescheid", "request_info": "Nachforderung", "reminder": "Erinnerung",
                "reclaim": "Rueckforderungsbescheid"}
