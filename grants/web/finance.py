"""The finance front door: balances and charts, donations, payouts with four eyes, the SEPA
file, bank statements and the queue of entries waiting for a person, the ledger export."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from grants import clock
from grants.domain.roles import Perm
from grants.models import Application, FlowJob, LedgerEntry, Payout, PayoutRun, User
from grants.services import bank_queue, ledger, ledger_export, manual_bookings, organisations, payouts, statements
from grants.services import fund as fund_service
from grants.services.errors import ServiceError
from grants.web.access import requires
from grants.web.finance_forms import (
    AssignForm,
    CancelRunForm,
    DecideBookingForm,
    DonationForm,
    ReclassifyForm,
    StatementUploadForm,
)
from grants.web.forms import EmptyForm
from grants.web.util import config, db, wake_engine

bp = Blueprint("finance", __name__, url_prefix="/finanzen")


def _fund(s):
    fund = ledger.default_fund(s)
    if fund is None:
        abort(404)
    return fund


@bp.get("/")
@requires(Perm.FINANCE_VIEW)
def home():
    with db().session() as s:
        fund = ledger.default_fund(s)
        balances = ledger.balances(s, fund.id) if fund else None
        # the twelve latest months with bookings: a chart of every month since the fund began
        # would be unreadable, and the page would grow with the fund's age (the export has all)
        months = dict(list(fund_service.monthly(s, fund.id).items())[-12:]) if fund else {}
        quarters = fund_service.paid_by_quarter(s, fund.id) if fund else []
        counts = fund_service.open_counts(s)
        problems = fund_service.reconciliation_problems(s, fund.id) if fund else []
    return render_template("finance/home.html", fund=fund, balances=balances, months=months,
                           quarters=quarters, counts=counts, problems=problems)


@bp.route("/spenden/neu", methods=["GET", "POST"])
@requires(Perm.FINANCE_PREPARE)
def donation():
    form = DonationForm()
    if form.validate_on_submit():
        try:
            with db().session() as s:
                booking = manual_bookings.propose_donation(
                    s, g.actor, _fund(s).id, form.request_key.data or "", donor=form.donor.data,
                    booked_on=form.booked_on.data, amount=form.amount.parsed, purpose=form.purpose.data or "")
                waiting = booking.state == "pending"
        except ServiceError as e:
            form.form_errors.append(gettext(e.msgid, **e.params))
        else:
            flash(gettext("Die Spende ist erfasst. Ab diesem Betrag bucht sie erst die Bestätigung durch eine "
                          "zweite Person.") if waiting else gettext("Die Spende ist gebucht."), "info")
            return redirect(url_for("finance.donations") if waiting else url_for("finance.home"))
    return render_template("finance/donation.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/spenden", methods=["GET", "POST"])
@requires(Perm.FINANCE_PREPARE)
def donations():
    form = ReclassifyForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with db().session() as s:
                    booking = manual_bookings.propose_reclassification(
                        s, g.actor, form.request_key.data or "", int(form.entry_id.data or 0), form.kind.data,
                        file_number=form.file_number.data or "", reason=form.reason.data)
                    waiting = booking.state == "pending"
            except ServiceError as e:
                flash(gettext(e.msgid, **e.params), "error")
            except ValueError:
                flash(gettext("Diese Spende gibt es nicht."), "error")
            else:
                flash(gettext("Die Umbuchung wartet auf die Bestätigung durch eine zweite Person.") if waiting
                      else gettext("Die Spende ist umgebucht (Storno und neue Buchung)."), "info")
        else:
            flash(gettext("Bitte geben Sie eine Begründung an."), "error")
        return redirect(url_for("finance.donations"))
    with db().session() as s:
        fund = _fund(s)
        rows = s.scalars(select(LedgerEntry).where(LedgerEntry.fund_id == fund.id, LedgerEntry.kind == "donation")
                         .order_by(LedgerEntry.booked_on.desc(), LedgerEntry.id.desc()).limit(200)).all()
        reversed_ids = set(s.scalars(select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.is_not(None))))
        pending = manual_bookings.pending(s)
    return render_template("finance/donations.html", rows=rows, reversed_ids=reversed_ids, form=form,
                           waiting=pending, decide=DecideBookingForm(), me=g.user.id, new_key=lambda: secrets.token_hex(16))


@bp.post("/buchungen/<int:booking_id>/<any(bestaetigen,ablehnen):verb>")
@requires(Perm.FINANCE_PREPARE)
def decide_booking(booking_id: int, verb: str):
    form = DecideBookingForm()
    if not form.validate_on_submit():
        flash(gettext("Bitte geben Sie eine Begründung an."), "error")
        return redirect(url_for("finance.donations"))
    try:
        with db().session() as s:
            if verb == "bestaetigen":
                manual_bookings.confirm(s, g.actor, booking_id)
            else:
                manual_bookings.refuse(s, g.actor, booking_id, form.note.data or "")
    except ServiceError as e:
        flash(gettext(e.msgid, **e.params), "error")
    else:
        flash(gettext("Die Buchung ist bestätigt und gebucht.") if verb == "bestaetigen"
              else gettext("Die Buchung ist abgelehnt und nicht gebucht."), "info")
    return redirect(url_for("finance.donations"))


@bp.get("/auszahlungen")
@requires(Perm.FINANCE_VIEW)
def payout_list():
    with db().session() as s:
        rows = fund_service.payouts(s)
        runs = s.execute(select(PayoutRun, User.email).outerjoin(User, User.id == PayoutRun.prepared_by_id)
                         .where(PayoutRun.state.in_(("prepared", "released"))).order_by(PayoutRun.id)).all()
        totals = payouts.run_totals(s, [r.id for r, _ in runs])
        files = s.scalars(select(PayoutRun).where(PayoutRun.state == "sent", PayoutRun.file_path.is_not(None))
                          .order_by(PayoutRun.id.desc()).limit(20)).all()
        blocked = payouts.blocked(s)
    return render_template("finance/payouts.html", rows=rows, runs=runs, totals=totals, files=files,
                           form=EmptyForm(), cancel=CancelRunForm(), me=g.user.id, blocked=blocked)


def _act(fn, ok_message: str):
    try:
        with db().session() as s:
            fn(s)
    except ServiceError as e:
        flash(gettext(e.msgid, **e.params), "error")
    else:
        flash(ok_message, "info")
    return redirect(url_for("finance.payout_list"))


@bp.post("/auszahlungen/planen")
@requires(Perm.FINANCE_PREPARE)
def plan():
    return _act(lambda s: payouts.plan(s, g.actor), gettext("Fällige Auszahlungen sind angelegt."))


@bp.post("/auszahlungen/zahllauf")
@requires(Perm.FINANCE_PREPARE)
def prepare():
    return _act(lambda s: payouts.prepare_run(s, g.actor),
                gettext("Der Zahllauf ist vorbereitet. Eine zweite Person muss ihn freigeben."))


@bp.post("/auszahlungen/zahllauf/<int:run_id>/freigeben")
@requires(Perm.FINANCE_RELEASE)
def release(run_id: int):
    return _act(lambda s: payouts.release_run(s, g.actor, run_id), gettext("Der Zahllauf ist freigegeben."))


@bp.post("/organisation/<int:org_id>/bankverbindung-bestaetigen")
@requires(Perm.FINANCE_PREPARE)
def confirm_bank(org_id: int):
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    return _act(lambda s: organisations.confirm_bank(s, g.actor, org_id),
                gettext("Die neue Bankverbindung ist bestätigt; Auszahlungen können angelegt werden."))


@bp.post("/auszahlungen/zahllauf/<int:run_id>/stornieren")
@requires(Perm.FINANCE_PREPARE)
def cancel_run(run_id: int):
    form = CancelRunForm()
    if not form.validate_on_submit():
        flash(gettext("Bitte geben Sie eine Begründung an."), "error")
        return redirect(url_for("finance.payout_list"))
    return _act(lambda s: payouts.cancel_run(s, g.actor, run_id, form.reason.data),
                gettext("Der Zahllauf ist storniert; seine Auszahlungen sind wieder fällig."))


@bp.get("/auszahlungen/zahllauf/<int:run_id>/sepa-datei")
@requires(Perm.FINANCE_RELEASE)
def run_file(run_id: int):
    """A file written before, again: a double click or a lost download must not mean a second file."""
    folder = (config().storage / "payout-files").resolve()
    with db().read() as s:
        run = s.get(PayoutRun, run_id)
        path = Path(run.file_path).resolve() if run is not None and run.file_path else None
    if path is None or path.parent != folder or not path.is_file():
        abort(404)
    return Response(path.read_bytes(), mimetype="application/xml",
                    headers={"Content-Disposition": f"attachment; filename={path.name}"})


@bp.post("/auszahlungen/sepa-datei")
@requires(Perm.FINANCE_RELEASE)
def payout_file():
    folder = config().storage / "payout-files"
    folder.mkdir(parents=True, exist_ok=True)

    target = folder / f"pain001-{clock.local(clock.now()):%Y%m%d-%H%M%S}.xml"
    try:
        with db().session() as s:
            result = payouts.write_file(s, g.actor, target)
    except ServiceError as e:
        flash(gettext(e.msgid, **e.params), "error")
        return redirect(url_for("finance.payout_list"))
    if result.count == 0 or result.path is None:
        flash(gettext("Es gibt keine freigegebenen Auszahlungen, die noch nicht versandt sind."), "info")
        return redirect(url_for("finance.payout_list"))
    return Response(result.path.read_bytes(), mimetype="application/xml",
                    headers={"Content-Disposition": f"attachment; filename={result.path.name}"})


@bp.route("/kontoauszug", methods=["GET", "POST"])
@requires(Perm.FINANCE_PREPARE)
def upload():
    form = StatementUploadForm()
    if form.validate_on_submit():
        f = form.statement.data
        try:
            with db().session() as s:
                job = statements.accept_upload(s, g.actor, f.filename, f.stream, config().storage / "statements")
                job_id = job.id
        except ServiceError as e:
            form.form_errors.append(gettext(e.msgid, **e.params))
        else:
            wake_engine()
            return redirect(url_for("finance.import_status", job_id=job_id))
    return render_template("finance/upload.html", form=form), 400 if request.method == "POST" else 200


@bp.get("/kontoauszug/<int:job_id>")
@requires(Perm.FINANCE_VIEW)
def import_status(job_id: int):
    with db().session() as s:
        job = s.get(FlowJob, job_id)
        if job is None or job.flow != statements.RECONCILE_FLOW:
            abort(404)
    return render_template("finance/import_status.html", job=job)


@bp.route("/offene-posten", methods=["GET", "POST"])
@requires(Perm.FINANCE_PREPARE)
def queue():
    form = AssignForm()
    with db().session() as s:
        sent = s.execute(select(Payout, Application.file_number)
                         .join(Application, Application.id == Payout.application_id)
                         .where(Payout.state == "sent")).all()
    form.payout_id.choices = [("", "–")] + [(str(p.id), f"{fn} · {p.amount} € · {p.account_holder}") for p, fn in sent]
    if request.method == "POST" and form.validate_on_submit():
        try:
            with db().session() as s:
                bank_queue.assign(s, g.actor, int(form.entry_id.data or 0), form.kind.data,
                                  file_number=form.file_number.data or "",
                                  payout_id=int(form.payout_id.data) if form.payout_id.data else None,
                                  note=form.note.data or "")
        except (ServiceError, ValueError) as e:
            msg = gettext(e.msgid, **e.params) if isinstance(e, ServiceError) else gettext("Ungültige Eingabe.")
            flash(msg, "error")
        else:
            flash(gettext("Die Buchung ist zugeordnet."), "info")
        return redirect(url_for("finance.queue"))
    with db().session() as s:
        items = bank_queue.open_items(s)
    return render_template("finance/queue.html", items=items, form=form)


@bp.get("/hauptbuch.csv")
@requires(Perm.FINANCE_VIEW)
def export_csv():
    with db().session() as s:
        data = ledger_export.to_csv(s, _fund(s).id)
    return Response(data, mimetype="text/csv", headers={"Content-Disposition": "attachment; filename=hauptbuch.csv"})


@bp.get("/hauptbuch.xlsx")
@requires(Perm.FINANCE_VIEW)
def export_xlsx():
    with db().session() as s:
        data = ledger_export.to_xlsx(s, _fund(s).id)
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=hauptbuch.xlsx"})


@bp.get("/kontoauszug/<int:job_id>/status")
@requires(Perm.FINANCE_VIEW)
def import_status_json(job_id: int):
    with db().session() as s:
        job = s.get(FlowJob, job_id)
        if job is None or job.flow != statements.RECONCILE_FLOW:
            abort(404)
        return {"done": job.state in ("done", "failed"), "state": job.state}
