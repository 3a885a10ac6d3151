"""The organisation's profile, kept once and used by every application."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import BooleanField, EmailField, FieldList, Form, FormField, SelectField, StringField
from wtforms.validators import Email, Length, Optional, ValidationError

from grants.domain.roles import Perm
from grants.models import Membership, NonProfitProof, Organisation, OrgKind, User
from grants.services import data_export, organisations, uploads
from grants.services.errors import ServiceError
from grants.web.access import requires
from grants.web.form_builder import _date
from grants.web.util import config, db, wake_engine

bp = Blueprint("organisation", __name__, url_prefix="/antrag/organisation")


class ProfileForm(FlaskForm):
    street = StringField(_l("Straße und Hausnummer"), validators=[Optional(), Length(max=200)],
                         render_kw={"autocomplete": "street-address"})
    postcode = StringField(_l("Postleitzahl"), validators=[Optional(), Length(max=10)], render_kw={"autocomplete": "postal-code"})
    city = StringField(_l("Stadt oder Gemeinde"), validators=[Optional(), Length(max=100)],
                       render_kw={"autocomplete": "address-level2"})
    email = StringField(_l("E-Mail der Organisation"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("Telefon"), validators=[Optional(), Length(max=50)])
    register_court = StringField(_l("Registergericht"), validators=[Optional(), Length(max=100)],
                                 description=_l("Zum Beispiel „Amtsgericht Osnabrück“."))
    register_number = StringField(_l("Registernummer"), validators=[Optional(), Length(max=50)],
                                  description=_l("Zum Beispiel „VR 1234“."))
    parish_resolution_on = StringField(_l("Datum des Kirchenvorstandsbeschlusses"), validators=[_date],
                                       render_kw={"type": "date"})
    seal_confirmed = BooleanField(_l("Der Antrag wird mit dem Kirchensiegel unterschrieben."))
    iban = StringField(_l("IBAN"), validators=[Optional(), Length(max=42)], render_kw={"autocomplete": "off"})
    account_holder = StringField(_l("Kontoinhaber"), validators=[Optional(), Length(
        max=organisations.HOLDER_MAX, message=_l("Höchstens 70 Zeichen – so viel überträgt eine SEPA-Überweisung."))],
                                 description=_l("Genau so, wie die Bank den Namen führt – die Bank prüft ihn bei "
                                                "jeder Überweisung."))


class ProofForm(FlaskForm):
    kind = SelectField(_l("Art des Nachweises"), choices=[
        ("exemption_notice", _l("Freistellungsbescheid (höchstens 5 Jahre alt)")),
        ("tax_notice_annex", _l("Anlage zum Körperschaftsteuerbescheid (höchstens 5 Jahre alt)")),
        ("notice_60a", _l("Feststellung nach § 60a AO (höchstens 3 Jahre alt)"))])
    issued_on = StringField(_l("Datum des Bescheids"), validators=[_date], render_kw={"type": "date"})
    tax_office = StringField(_l("Finanzamt"), validators=[Optional(), Length(max=100)])
    tax_number = StringField(_l("Steuernummer"), validators=[Optional(), Length(max=30)])
    document = FileField(_l("Bescheid als Datei (PDF, JPEG oder PNG)"))

    def validate_issued_on(self, field):
        if getattr(field, "parsed", None) is None:
            raise ValidationError(gettext("Bitte geben Sie ein Datum wie 24.12.2026 an."))


class PersonForm(Form):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    function = StringField(_l("Funktion"), validators=[Optional(), Length(max=100)])


class SignatoriesForm(FlaskForm):
    people = FieldList(FormField(PersonForm), min_entries=3)


class InviteForm(FlaskForm):
    email = EmailField(_l("E-Mail-Adresse der Person"), validators=[Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse an."))])


def _org_id() -> int:
    if not g.actor.org_ids:
        abort(404)
    return min(g.actor.org_ids)


def _page(profile=None, proof=None, signatories=None, invite=None, status=200):
    org_id = _org_id()
    with db().session() as s:
        org = s.get(Organisation, org_id)
        if org is None:
            abort(404)
        proofs = s.scalars(select(NonProfitProof).where(NonProfitProof.organisation_id == org_id)
                           .order_by(NonProfitProof.issued_on.desc())).all()
        members = s.execute(select(User, Membership.manager).join(Membership, Membership.user_id == User.id)
                            .where(Membership.organisation_id == org_id).order_by(User.email)).all()
        people = list(org.signatories)
    if profile is None:
        profile = ProfileForm(prefix="p", data={
            "street": org.street, "postcode": org.postcode, "city": org.city, "email": org.email, "phone": org.phone,
            "register_court": org.register_court, "register_number": org.register_number,
            "parish_resolution_on": org.parish_resolution_on.isoformat() if org.parish_resolution_on else "",
            "seal_confirmed": org.seal_confirmed, "iban": org.iban or "", "account_holder": org.account_holder or ""})
    if signatories is None:
        signatories = SignatoriesForm(prefix="s", data={"people": [{"name": p.name, "function": p.function} for p in people]})
        while len(signatories.people.entries) < max(3, len(people) + 1):
            signatories.people.append_entry()
    return render_template("applicant/organisation.html", org=org, proofs=proofs, members=members,
                           profile=profile, proof=proof or ProofForm(prefix="n"), signatories=signatories,
                           invite=invite or InviteForm(prefix="i"), OrgKind=OrgKind), status


@bp.get("/")
@requires(Perm.APPLY)
def show():
    return _page()


def _save(form, slot: str, work, ok: str, after=None):
    """Run `work(session)` for a valid form. A refusal from the service goes to the form and the
    page is shown again with everything typed; success goes back to the profile."""
    if form.validate_on_submit():
        try:
            with db().session() as s:
                work(s)
        except ServiceError as e:
            form.form_errors.append(gettext(e.msgid, **e.params))
        else:
            if after:
                after()
            flash(ok, "info")
            return redirect(url_for("organisation.show"))
    return _page(**{slot: form}, status=400)


@bp.post("/profil")
@requires(Perm.APPLY)
def save_profile():
    form = ProfileForm(prefix="p")
    return _save(form, "profile", lambda s: organisations.update_profile(s, g.actor, _org_id(), {
        **{k: form[k].data for k in organisations.PROFILE_FIELDS},
        "parish_resolution_on": getattr(form.parish_resolution_on, "parsed", None),
        "seal_confirmed": form.seal_confirmed.data, "iban": form.iban.data,
        "account_holder": form.account_holder.data}), gettext("Die Angaben sind gespeichert."))


@bp.post("/nachweis")
@requires(Perm.APPLY)
def add_proof():
    form = ProofForm(prefix="n")

    def work(s):
        att_id = None
        f = request.files.get("n-document")
        if f is not None and f.filename:
            att_id = uploads.store(s, g.actor, config().uploads_dir, organisation_id=_org_id(), application_id=None,
                                   kind="non_profit_proof", filename=f.filename, stream=f.stream).id
        organisations.add_proof(s, g.actor, _org_id(), kind=form.kind.data, issued_on=form.issued_on.parsed,
                                tax_office=form.tax_office.data or "", tax_number=form.tax_number.data or "",
                                attachment_id=att_id)
    return _save(form, "proof", work, gettext("Der Nachweis ist gespeichert."))


@bp.post("/unterschriften")
@requires(Perm.APPLY)
def save_signatories():
    form = SignatoriesForm(prefix="s")
    return _save(form, "signatories", lambda s: organisations.set_signatories(s, g.actor, _org_id(), [
        (e.form.name.data or "", e.form.function.data or "") for e in form.people.entries]),
        gettext("Die Unterschriftsberechtigten sind gespeichert."))


@bp.post("/einladen")
@requires(Perm.APPLY)
def invite():
    form = InviteForm(prefix="i")
    return _save(form, "invite", lambda s: organisations.invite(s, g.actor, _org_id(), form.email.data,
                                                                config().secret_key, config().base_url),
                 gettext("Die Einladung ist verschickt."), after=wake_engine)


@bp.get("/daten.zip")
@requires(Perm.APPLY)
def export():
    from flask import Response


    with db().session() as s:
        data = data_export.build(s, g.actor, _org_id(), config().storage)
    return Response(data, mimetype="application/zip",
                    headers={"Content-Disposition": "attachment; filename=daten-organisation.zip"})
