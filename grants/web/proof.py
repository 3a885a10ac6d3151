"""The proof of use in the web: the organisation fills it in step by step (drafts, autosave,
attachments, preview with the arithmetic result, submit); staff check it (accept, send back,
reclaim); finance sees open reclaims and may settle one by hand."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from grants import clock
from grants.domain.money import AmountError, parse_amount
from grants.domain.roles import Perm
from grants.domain.workflow import State
from grants.models import Application, Organisation, Program, Reclaim
from grants.services import cases, ledger, proof_check, proofs, reclaims, uploads
from grants.services.errors import ServiceError
from grants.web import form_builder, wizard
from grants.web.access import requires
from grants.web.forms import EmptyForm
from grants.web.util import config, db, wake_engine

bp = Blueprint("proof", __name__)

KIND_LABELS = {"proof_photo": _l("Foto"), "proof_document": _l("Unterlage")}


def _context(s, case_id: int):
    case, p = proofs.open_proof(s, g.actor, case_id)
    program = s.get(Program, case.program_id)
    org = s.get(Organisation, case.organisation_id)
    return case, p, proofs.spec_for(program), org.kind.value


class UploadForm(FlaskForm):
    kind = SelectField(_l("Art der Datei"), choices=list(KIND_LABELS.items()))


def _sheet(s, case_id: int) -> wizard.Sheet:
    case, p, spec, kind = _context(s, case_id)
    values = proofs.values(s, case, p)
    return wizard.Sheet(case, spec, kind, values, proofs.raw_inputs(p),
                        save=lambda step, good, bad: proofs.save_step(s, g.actor, case, p, step, good, bad),
                        extras=lambda step: {"lines": values["actual_costs"], "attachments": proofs.attachments(s, case),
                                             "upload_form": UploadForm(prefix="up"), "kind_labels": KIND_LABELS,
                                             "download_endpoint": None, "actual_name": form_builder.actual_name})


STEPS = wizard.Wizard(endpoint="proof.step", preview="proof.preview", template="proof/step.html",
                      load=_sheet, rows_anchor="receipts", max_extra_rows=50)


@bp.route("/antrag/<int:case_id>/nachweis/<step_id>", methods=["GET", "POST"])
@requires(Perm.APPLY)
def step(case_id: int, step_id: str):
    return STEPS.page(case_id, step_id)


@bp.post("/antrag/<int:case_id>/nachweis/anlagen/hochladen")
@requires(Perm.APPLY)
def upload(case_id: int):
    form = UploadForm(prefix="up")
    f = request.files.get("up-file")
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(gettext("Bitte wählen Sie die Art der Datei aus der Liste."), "error")
    elif f is None or not f.filename:
        flash(gettext("Bitte wählen Sie eine Datei aus."), "error")
    else:
        try:
            with db().session() as s:
                case, _, _, _ = _context(s, case_id)
                uploads.store(s, g.actor, config().uploads_dir, organisation_id=case.organisation_id,
                              application_id=case.id, kind=form.kind.data, filename=f.filename, stream=f.stream)
        except ServiceError as e:
            flash(gettext(e.msgid, **e.params), "error")
        else:
            flash(gettext("Die Datei ist hochgeladen."), "info")
    return redirect(url_for("proof.step", case_id=case_id, step_id="anlagen"))


@bp.post("/antrag/<int:case_id>/nachweis/anlagen/<int:attachment_id>/loeschen")
@requires(Perm.APPLY)
def remove_upload(case_id: int, attachment_id: int):
    EmptyForm().validate_on_submit() or abort(400)
    with db().session() as s:
        case, _, _, _ = _context(s, case_id)
        if attachment_id not in {a.id for a in proofs.attachments(s, case)}:
            abort(404)
        path = uploads.remove(s, g.actor, config().uploads_dir, attachment_id, case.id)
    path.unlink(missing_ok=True)
    flash(gettext("Die Datei ist entfernt."), "info")
    return redirect(url_for("proof.step", case_id=case_id, step_id="anlagen"))


class SubmitForm(FlaskForm):
    confirm = BooleanField(_l("Ich bestätige, dass die Ausgaben notwendig waren, dass wirtschaftlich und sparsam "
                              "gearbeitet wurde und dass die Angaben mit den Büchern und Belegen übereinstimmen."))


@bp.route("/antrag/<int:case_id>/nachweis/vorschau", methods=["GET", "POST"])
@requires(Perm.APPLY)
def preview(case_id: int):
    lang = str(get_locale())
    form = SubmitForm()
    with db().session() as s:
        case, p, spec, kind = _context(s, case_id)
        missing = proofs.missing(s, case, p)
        if request.method == "POST" and form.validate_on_submit():
            if not form.confirm.data:
                form.confirm.errors = [gettext("Bitte bestätigen Sie, dass die Angaben stimmen.")]
            elif not missing:
                try:
                    proofs.submit(s, g.actor, case_id)
                except ServiceError as e:
                    flash(gettext(e.msgid, **e.params), "error")
                else:
                    flash(gettext("Ihr Verwendungsnachweis ist eingegangen. Wir melden uns, sobald er geprüft ist."), "info")
                    return redirect(url_for("applicant.case", case_id=case_id))
        values = proofs.values(s, case, p)
        check = proofs.check_of(s, case, p)
        attachments = proofs.attachments(s, case)
    return render_template("proof/preview.html", case=case, spec=spec, kind=kind, lang=lang, values=values,
                           missing=missing, form=form, check=check, attachments=attachments,
                           kind_labels=KIND_LABELS), 400 if request.method == "POST" else 200


# ---- staff: the content check ---------------------------------------------------------------------

class CheckForm(FlaskForm):
    note = TextAreaField(_l("Vermerk zur Prüfung (intern)"))


class ReturnForm(FlaskForm):
    reason = TextAreaField(_l("Was fehlt oder ist unklar? (geht an die Antragstellenden)"))


class ReclaimForm(FlaskForm):
    amount = StringField(_l("Zurückzufordernder Betrag in Euro"), render_kw={"inputmode": "decimal"})
    reasons = TextAreaField(_l("Begründung für den Bescheid"))
    waive_interest = BooleanField(_l("Keine Zinsen erheben (§ 49a Abs. 3 Satz 2 VwVfG)"))


@bp.get("/fachdienst/nachweise")
@requires(Perm.CHECK_PROOF)
def queue():
    with db().session() as s:
        rows = s.execute(select(Application, Organisation.name)
                         .join(Organisation, Organisation.id == Application.organisation_id)
                         .where(Application.state.in_((State.REPORT_SUBMITTED.value, State.REPORT_DUE.value,
                                                       State.RECLAIM.value)))
                         .order_by(Application.report_due_on.asc().nulls_last(), Application.id).limit(500)).all()
    return render_template("proof/queue.html", rows=rows)


@bp.get("/fachdienst/nachweis/<int:case_id>")
@requires(Perm.CHECK_PROOF)
def check(case_id: int):

    with db().session() as s:
        case = cases.get_case(s, g.actor, case_id)
        p = proofs.proof_of(s, case)
        if p is None and case.state not in (State.REPORT_DUE.value, State.RECLAIM.value):
            abort(404)
        org = s.get(Organisation, case.organisation_id)
        values = proofs.values(s, case, p) if p else None
        result = proofs.check_of(s, case, p) if p else None
        attachments = proofs.attachments(s, case)
        proposal = reclaims.proposal(s, case)
        paid = ledger.paid(s, case.id)
        reclaim = reclaims.reclaim_of(s, case.id)
        outstanding = reclaims.outstanding(s, case.id)
        rates = reclaims.base_rates(s.get(Program, case.program_id))
    reclaim_form = ReclaimForm()
    if not reclaim_form.amount.data:
        reclaim_form.amount.data = f"{proposal:.2f}".replace(".", ",") if proposal else ""
    return render_template("proof/check.html", case=case, org=org, p=p, values=values, result=result,
                           attachments=attachments, paid=paid, proposal=proposal, reclaim=reclaim,
                           outstanding=outstanding, check_form=CheckForm(), return_form=ReturnForm(),
                           reclaim_form=reclaim_form, rates_outdated=reclaims.base_rate_outdated(rates, clock.today()),
                           kind_labels=KIND_LABELS, State=State)


def _act(case_id: int, do, done: str):
    try:
        with db().session() as s:
            do(s)
    except ServiceError as e:
        flash(gettext(e.msgid, **e.params), "error")
    else:
        wake_engine()
        flash(done, "info")
    return redirect(url_for("proof.check", case_id=case_id))


@bp.post("/fachdienst/nachweis/<int:case_id>/annehmen")
@requires(Perm.CHECK_PROOF)
def accept(case_id: int):
    form = CheckForm()
    form.validate_on_submit() or abort(400)
    return _act(case_id, lambda s: proof_check.accept(s, g.actor, case_id, form.note.data or ""),
                gettext("Der Verwendungsnachweis ist anerkannt; der Antrag ist abgeschlossen."))


@bp.post("/fachdienst/nachweis/<int:case_id>/zurueck")
@requires(Perm.CHECK_PROOF)
def send_back(case_id: int):
    form = ReturnForm()
    form.validate_on_submit() or abort(400)
    return _act(case_id, lambda s: proof_check.return_to_applicant(s, g.actor, case_id, form.reason.data or ""),
                gettext("Der Verwendungsnachweis ist mit Ihrer Rückfrage an die Organisation zurückgegangen."))


@bp.post("/fachdienst/nachweis/<int:case_id>/rueckforderung")
@requires(Perm.CHECK_PROOF)
def reclaim(case_id: int):
    form = ReclaimForm()
    form.validate_on_submit() or abort(400)

    try:
        amount = parse_amount(form.amount.data or "")
    except AmountError:
        flash(gettext("Bitte geben Sie einen Betrag wie 250,00 an."), "error")
        return redirect(url_for("proof.check", case_id=case_id))
    return _act(case_id, lambda s: reclaims.start(s, g.actor, case_id, amount=amount, reasons=form.reasons.data or "",
                                                  waive_interest=bool(form.waive_interest.data)),
                gettext("Die Rückforderung ist angelegt; der Rückforderungsbescheid wird erstellt."))


# ---- finance: open reclaims ---------------------------------------------------------------------

class SettleForm(FlaskForm):
    note = TextAreaField(_l("Begründung"))


@bp.get("/finanzen/rueckforderungen")
@requires(Perm.FINANCE_VIEW)
def reclaim_list():
    with db().session() as s:
        rows = []
        for r, case in s.execute(select(Reclaim, Application).join(Application, Application.id == Reclaim.application_id)
                                 .order_by(Reclaim.settled_at.is_not(None), Reclaim.pay_by, Reclaim.id)):
            rows.append((r, case, reclaims.outstanding(s, case.id)))
    return render_template("proof/reclaims.html", rows=rows, form=SettleForm())


@bp.post("/finanzen/rueckforderungen/<int:case_id>/abschliessen")
@requires(Perm.FINANCE_RELEASE)
def settle(case_id: int):
    form = SettleForm()
    form.validate_on_submit() or abort(400)
    try:
        with db().session() as s:
            reclaims.settle_by_hand(s, g.actor, case_id, form.note.data or "")
    except ServiceError as e:
        flash(gettext(e.msgid, **e.params), "error")
    else:
        flash(gettext("Die Rückforderung ist abgeschlossen."), "info")
    return redirect(url_for("proof.reclaim_list"))
