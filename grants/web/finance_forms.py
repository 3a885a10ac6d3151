"""Forms of the finance front door."""

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from grants import clock
from grants.domain.money import AmountError, parse_amount


def amount_validator(form, field):
    try:
        field.parsed = parse_amount(field.data or "")
    except AmountError:
        raise ValidationError(
            _l("Bitte geben Sie einen Betrag wie 1.250,00 an (ohne Minus, höchstens zwei Nachkommastellen).")) from None
    if field.parsed <= 0:
        raise ValidationError(_l("Der Betrag muss größer als 0 sein."))


class DonationForm(FlaskForm):
    donor = StringField(_l("Spender oder Spenderin"), validators=[
        DataRequired(_l("Bitte geben Sie an, wer gespendet hat.")), Length(max=200)])
    booked_on = DateField(_l("Eingangsdatum"), default=clock.today, validators=[
        DataRequired(_l("Bitte geben Sie ein Datum an."))])
    amount = StringField(_l("Betrag in Euro"), validators=[DataRequired(_l("Bitte geben Sie einen Betrag an.")),
                                                          amount_validator], render_kw={"inputmode": "decimal"})
    purpose = TextAreaField(_l("Verwendungszweck"), validators=[Optional(), Length(max=1000)])
    # one key per form shown: the same form sent twice (double click, reload) books once
    request_key = HiddenField(default=lambda: secrets.token_hex(16))


class StatementUploadForm(FlaskForm):
    statement = FileField(_l("Kontoauszug (camt.053 als XML oder ZIP)"), validators=[
        FileRequired(_l("Bitte wählen Sie eine Datei aus."))])


class AssignForm(FlaskForm):
    entry_id = HiddenField()
    kind = SelectField(_l("Zuordnung"), choices=[
        ("donation", _l("Spende")), ("refund", _l("Rückzahlung zu einem Antrag")),
        ("payout", _l("Auszahlung")), ("other", _l("Sonstiges (nicht fondsrelevant)"))])
    file_number = StringField(_l("Aktenzeichen (bei Rückzahlung)"), validators=[Optional(), Length(max=20)])
    payout_id = SelectField(_l("Auszahlung (bei Auszahlung)"), coerce=str, choices=[], validate_choice=False)
    note = StringField(_l("Notiz"), validators=[Optional(), Length(max=500)])


class ReclassifyForm(FlaskForm):
    entry_id = HiddenField()
    kind = SelectField(_l("Richtig ist"), choices=[("refund", _l("Rückzahlung zu einem Antrag")),
                                                   ("other", _l("Sonstiges (nicht fondsrelevant)"))])
    file_number = StringField(_l("Aktenzeichen (bei Rückzahlung)"), validators=[Optional(), Length(max=20)])
    reason = StringField(_l("Begründung"), validators=[DataRequired(_l("Bitte geben Sie eine Begründung an.")),
                                                      Length(max=500)])
    request_key = HiddenField()


class DecideBookingForm(FlaskForm):
    note = StringField(_l("Begründung (bei Ablehnung)"), validators=[Optional(), Length(max=500)])


class CancelRunForm(FlaskForm):
    reason = StringField(_l("Begründung"), validators=[DataRequired(_l("Bitte geben Sie eine Begründung an.")),
                                                      Length(max=500)])
