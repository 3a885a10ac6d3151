"""WTForms classes built from a form spec (forms/*.toml), one per step, language and organisation
kind, for the application and the proof of use alike; filling them from stored values and taking
the values back out. Validation here is about format; what is missing is judged at the preview."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from grants.domain.form_spec import Field, Step
from grants.domain.money import AmountError, fmt_plain, parse_amount
from grants.domain.program import QUARTERS
from grants.domain.proof import PlanLine, ReceiptRow

CHOICE_SOURCES = {"quarters": QUARTERS}
EXTRA_ROWS = 2      # empty rows offered below the filled ones of a table
ROW_TABLES = ("cost_items", "other_funding", "receipts")     # lists of rows that "more rows" lengthens
PROOF_TABLES = ("actual_costs", "receipts")
AMOUNT = Field("amount", "money", {"de": ""})                 # an amount in a table row: no bounds


def _money(field: Field):
    def check(form, f):
        text = (f.data or "").strip()
        if not text:
            f.parsed = None
            return
        try:
            f.parsed = parse_amount(text)
        except AmountError:
            raise ValidationError(gettext("Bitte geben Sie einen Betrag wie 1.250,00 an "
                                          "(ohne Minus, höchstens zwei Nachkommastellen).")) from None
        if field.min is not None and f.parsed < field.min:
            raise ValidationError(gettext("Der Betrag darf nicht kleiner als %(n)s sein.", n=field.min))
        if field.max is not None and f.parsed > field.max:
            raise ValidationError(gettext("Der Betrag darf nicht größer als %(n)s sein.", n=field.max))
    return check


def _integer(field: Field):
    def check(form, f):
        text = (f.data or "").strip().replace(".", "")
        if not text:
            f.parsed = None
            return
        if not text.isdigit():
            raise ValidationError(gettext("Bitte geben Sie eine ganze Zahl an, z. B. 25."))
        f.parsed = int(text)
        if field.min is not None and f.parsed < field.min:
            raise ValidationError(gettext("Die Zahl muss mindestens %(n)s sein.", n=field.min))
        if field.max is not None and f.parsed > field.max:
            raise ValidationError(gettext("Die Zahl darf höchstens %(n)s sein.", n=field.max))
    return check


def _date(form, f):
    text = (f.data or "").strip()
    if not text:
        f.parsed = None
        return
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            f.parsed = datetime.strptime(text, fmt).date()
            if f.parsed.year < 2000 or f.parsed.year > 2100:
                break
            return
        except ValueError:
            continue
    raise ValidationError(gettext("Bitte geben Sie ein Datum wie 24.12.2026 an."))


def _money_field(label, field: Field = AMOUNT, **kw) -> StringField:
    return StringField(label, validators=[_money(field)], render_kw={"inputmode": "decimal"}, **kw)


def _date_field(label, **kw) -> StringField:
    return StringField(label, validators=[_date], render_kw={"type": "date"}, **kw)


def _typed(amount) -> str:
    """An amount as a German types it: 1250,00."""
    return fmt_plain(amount).replace(".", ",")


# ---- rows of the tables: each row form knows how to show a stored row and to give it back ------

def _row_form(name_label: str, amount_label: str):
    class Row(Form):
        name = StringField(name_label, validators=[Optional(), Length(max=300)])
        amount = _money_field(amount_label)

        def validate_name(self, f):
            if (self.amount.data or "").strip() and not (f.data or "").strip():
                raise ValidationError(gettext("Bitte sagen Sie, wofür der Betrag ist."))

        def validate_amount(self, f):
            if (self.name.data or "").strip() and not (f.data or "").strip():
                raise ValidationError(gettext("Bitte geben Sie den Betrag an."))

        def put(self, row: tuple) -> None:
            name, amount = row
            self.name.data, self.amount.data = name, _typed(amount)

        def row(self) -> tuple | None:
            name, amount = (self.name.data or "").strip(), getattr(self.amount, "parsed", None)
            return (name, amount) if name and amount is not None else None

    return Row


class ReceiptForm(Form):
    paid_on = _date_field(_l("Datum"))
    payee = StringField(_l("Empfänger"), validators=[Optional(), Length(max=200)])
    purpose = StringField(_l("Zweck"), validators=[Optional(), Length(max=300)])
    amount = _money_field(_l("Betrag in Euro"))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        filled = [f for f in (self.paid_on, self.payee, self.purpose, self.amount) if (f.data or "").strip()]
        if filled and len(filled) < 4:
            for f in (self.paid_on, self.payee, self.purpose, self.amount):
                if not (f.data or "").strip():
                    f.errors = list(f.errors) + [gettext("Bitte füllen Sie die ganze Zeile aus.")]
            return False
        return ok

    def put(self, r: ReceiptRow) -> None:
        self.paid_on.data = r.paid_on.isoformat()
        self.payee.data, self.purpose.data = r.payee, r.purpose
        self.amount.data = _typed(r.amount)

    def row(self) -> ReceiptRow | None:
        if self.errors or not (self.amount.data or "").strip():
            return None
        return ReceiptRow(self.paid_on.parsed, self.payee.data.strip(), self.purpose.data.strip(), self.amount.parsed)


def actual_name(line: PlanLine) -> str:
    """The input for what one line of the approved plan actually cost."""
    return f"actual_{line.cost_item_id}"


def _plan(values: dict) -> list[PlanLine]:
    # proofs.values keeps the approved plan under this key whatever the field is called
    return values.get("actual_costs") or []


# ---- the form of a step ------------------------------------------------------------------------

def _fields(f: Field, lang: str, values: dict, extra_rows: int) -> dict:
    label = f.text("label", lang)
    kw = {"description": f.text("help", lang)}
    if f.type == "text":
        return {f.name: StringField(label, validators=[Optional(), Length(max=f.max_length or 500)], **kw)}
    if f.type == "textarea":
        return {f.name: TextAreaField(label, validators=[Optional(), Length(max=f.max_length or 10000,
                message=gettext("Bitte kürzen Sie den Text auf höchstens %(n)d Zeichen.", n=f.max_length or 10000))], **kw)}
    if f.type == "integer":
        return {f.name: StringField(label, validators=[_integer(f)], render_kw={"inputmode": "numeric"}, **kw)}
    if f.type == "money":
        return {f.name: _money_field(label, f, **kw)}
    if f.type == "date":
        return {f.name: _date_field(label, **kw)}
    if f.type == "select":
        source = CHOICE_SOURCES.get(f.choices_from or "", ())
        choices = [("", gettext("Bitte wählen"))] + [(c, c) for c in source] + [
            (v, lbl.get(lang) or lbl.get("de", v)) for v, lbl in f.choices]
        allowed = {c[0] for c in choices}

        def one_of(form, fld):
            if fld.data not in (None, "") and fld.data not in allowed:
                raise ValidationError(gettext("Bitte wählen Sie einen Eintrag aus der Liste."))

        return {f.name: SelectField(label, choices=choices, validate_choice=False, validators=[one_of], **kw)}
    if f.type == "checkbox":
        return {f.name: BooleanField(label, **kw)}
    if f.type in ROW_TABLES:
        if f.type == "cost_items":
            row = _row_form(gettext("Wofür"), gettext("Betrag in Euro"))
        elif f.type == "other_funding":
            row = _row_form(gettext("Geldgeber"), gettext("Betrag in Euro"))
        else:
            row = ReceiptForm
        return {f.name: FieldList(FormField(row), label=label, **kw,
                                  min_entries=len(values.get(f.name) or []) + extra_rows + EXTRA_ROWS)}
    if f.type == "actual_costs":
        return {actual_name(line): _money_field(line.description) for line in _plan(values)}
    return {}


def build(step: Step, lang: str, org_kind: str, values: dict, extra_rows: int = 0):
    """A FlaskForm class for `step`; its tables get a row for each stored one and `extra_rows` more."""
    # the proof's own tables come after the plain fields: the error summary lists the fields in the
    # order they were made, and has always named the plain ones first
    fields = sorted(step.fields_for(org_kind), key=lambda f: f.type in PROOF_TABLES)
    attrs = {}
    for f in fields:
        attrs.update(_fields(f, lang, values, extra_rows))
    return type(f"Step_{step.id}", (FlaskForm,), attrs)


def cleaned(form, step: Step, org_kind: str, values: dict) -> tuple[dict, dict[str, str]]:
    """(values that are valid, raw text of those that are not) for saving; a table with a wrong
    row is not taken at all."""
    good: dict[str, Any] = {}
    bad: dict[str, str] = {}
    for f in step.fields_for(org_kind):
        if f.type == "actual_costs":
            inputs = {line.cost_item_id: form[actual_name(line)] for line in _plan(values)}
            if any(field.errors for field in inputs.values()):
                bad[f.name] = "table"
            else:
                good[f.name] = {item: getattr(field, "parsed", None) for item, field in inputs.items()}
            continue
        if f.name not in form:
            continue
        field = form[f.name]
        if f.type in ROW_TABLES:
            if any(entry.form.errors for entry in field.entries):
                bad[f.name] = "table"
            else:
                good[f.name] = [r for r in (entry.form.row() for entry in field.entries) if r is not None]
        elif field.errors:
            bad[f.name] = field.data if isinstance(field.data, str) else ""
        elif f.type in ("money", "integer", "date"):
            good[f.name] = getattr(field, "parsed", None)
        elif f.type == "checkbox":
            good[f.name] = bool(field.data)
        else:
            good[f.name] = (field.data or "").strip()
    return good, bad


def fill(form, step: Step, org_kind: str, values: dict, raw: dict) -> None:
    """Put stored values (or the raw text kept from an earlier visit) into a fresh form."""
    for f in step.fields_for(org_kind):
        if f.type == "actual_costs":
            for line in _plan(values):
                if line.actual is not None:
                    form[actual_name(line)].data = _typed(line.actual)
            continue
        if f.name not in form:
            continue
        field = form[f.name]
        v = values.get(f.name)
        if f.type in ROW_TABLES:
            # the table has rows to spare, so every stored row finds one
            for entry, row in zip(field.entries, v or [], strict=False):
                entry.form.put(row)
        elif f.name in raw and raw[f.name] != "table":
            field.data = raw[f.name]
        elif f.type == "money":
            field.data = _typed(v) if v is not None and (v != 0 or f.required or f.name == "own_funds") else ""
        elif f.type == "date":
            field.data = v.isoformat() if isinstance(v, date) else (v or "")
        elif f.type == "integer":
            field.data = str(v) if v is not None else ""
        elif f.type == "checkbox":
            field.data = bool(v)
        else:
            field.data = v or ""


def mark_required(form, step: Step, org_kind: str) -> None:
    """Show which fields the submission will need (the form itself saves without them)."""
    for f in step.fields_for(org_kind):
        if f.required and f.name in form and f.type not in ROW_TABLES:
            form[f.name].flags.required = True
