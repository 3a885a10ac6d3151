"""WTForms classes built from the form spec (forms/*.toml), one per step, language and
organisation type. Validation here is about format; what is missing is judged at the preview."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from grants.domain.form_spec import Field, Step
from grants.domain.money import AmountError, parse_amount
from grants.domain.program import QUARTERS

CHOICE_SOURCES = {"quarters": QUARTERS}
EXTRA_ROWS = 2      # empty rows offered below the filled ones of a table
BUILT_ELSEWHERE = ("actual_costs", "receipts")   # the proof of use's own types (grants.web.proof_forms)


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


def _row_form(name_label: str, amount_label: str):
    class Row(Form):
        name = StringField(name_label, validators=[Optional(), Length(max=300)])
        amount = StringField(amount_label, validators=[_money(Field("amount", "money", {"de": ""}, min=None))],
                             render_kw={"inputmode": "decimal"})

        def validate_name(self, f):
            if (self.amount.data or "").strip() and not (f.data or "").strip():
                raise ValidationError(gettext("Bitte sagen Sie, wofür der Betrag ist."))

        def validate_amount(self, f):
            if (self.name.data or "").strip() and not (f.data or "").strip():
                raise ValidationError(gettext("Bitte geben Sie den Betrag an."))

    return Row


def build(step: Step, lang: str, org_kind: str, rows: dict[str, int]):
    """A FlaskForm class for `step`; `rows` says how many rows the tables need."""
    attrs = {}
    for f in step.fields_for(org_kind):
        label = f.text("label", lang)
        kw = {"description": f.text("help", lang)}
        if f.type == "text":
            attrs[f.name] = StringField(label, validators=[Optional(), Length(max=f.max_length or 500)], **kw)
        elif f.type == "textarea":
            attrs[f.name] = TextAreaField(label, validators=[Optional(), Length(max=f.max_length or 10000,
                message=gettext("Bitte kürzen Sie den Text auf höchstens %(n)d Zeichen.", n=f.max_length or 10000))], **kw)
        elif f.type == "integer":
            attrs[f.name] = StringField(label, validators=[_integer(f)], render_kw={"inputmode": "numeric"}, **kw)
        elif f.type == "money":
            attrs[f.name] = StringField(label, validators=[_money(f)], render_kw={"inputmode": "decimal"}, **kw)
        elif f.type == "date":
            attrs[f.name] = StringField(label, validators=[_date], render_kw={"type": "date"}, **kw)
        elif f.type == "select":
            source = CHOICE_SOURCES.get(f.choices_from or "", ())
            choices = [("", gettext("Bitte wählen"))] + [(c, c) for c in source] + [
                (v, lbl.get(lang) or lbl.get("de", v)) for v, lbl in f.choices]
            allowed = {c[0] for c in choices}

            def one_of(form, fld, allowed=allowed):
                if fld.data not in (None, "") and fld.data not in allowed:
                    raise ValidationError(gettext("Bitte wählen Sie einen Eintrag aus der Liste."))

            attrs[f.name] = SelectField(label, choices=choices, validate_choice=False, validators=[one_of], **kw)
        elif f.type == "checkbox":
            attrs[f.name] = BooleanField(label, **kw)
        elif f.type == "cost_items":
            row = _row_form(gettext("Wofür"), gettext("Betrag in Euro"))
            attrs[f.name] = FieldList(FormField(row), label=label, min_entries=rows.get(f.name, 0) + EXTRA_ROWS, **kw)
        elif f.type == "other_funding":
            row = _row_form(gettext("Geldgeber"), gettext("Betrag in Euro"))
            attrs[f.name] = FieldList(FormField(row), label=label, min_entries=rows.get(f.name, 0) + EXTRA_ROWS, **kw)
    return type(f"Step_{step.id}", (FlaskForm,), attrs)


def cleaned(form, step: Step, org_kind: str) -> tuple[dict, dict[str, str]]:
    """(values that are valid, raw text of those that are not) for saving."""
    good, bad = {}, {}
    for f in step.fields_for(org_kind):
        if f.name not in form or f.type in BUILT_ELSEWHERE:
            continue
        field = form[f.name]
        if f.type in ("cost_items", "other_funding"):
            rows, ok = [], True
            for entry in field.entries:
                name = (entry.form.name.data or "").strip()
                amount = getattr(entry.form.amount, "parsed", None)
                if entry.form.errors:
                    ok = False
                elif name and amount is not None:
                    rows.append((name, amount))
            if ok:
                good[f.name] = rows
            else:
                bad[f.name] = "table"
            continue
        if field.errors:
            bad[f.name] = field.data if isinstance(field.data, str) else ""
            continue
        if f.type in ("money", "integer", "date"):
            good[f.name] = getattr(field, "parsed", None)
        elif f.type == "checkbox":
            good[f.name] = bool(field.data)
        else:
            good[f.name] = (field.data or "").strip()
    return good, bad


def fill(form, step: Step, org_kind: str, values: dict, raw: dict) -> None:
    """Put stored values (or the raw text kept from an earlier visit) into a fresh form."""
    from grants.domain.money import fmt_plain

    for f in step.fields_for(org_kind):
        if f.name not in form or f.type in BUILT_ELSEWHERE:
            continue
        field = form[f.name]
        v = values.get(f.name)
        if f.type in ("cost_items", "other_funding"):
            for entry, (name, amount) in zip(field.entries, v or []):
                entry.form.name.data = name
                entry.form.amount.data = fmt_plain(amount).replace(".", ",")
            continue
        if f.name in raw and raw[f.name] != "table":
            field.data = raw[f.name]
        elif f.type == "money":
            field.data = fmt_plain(v).replace(".", ",") if v is not None and (v != 0 or f.required or f.name == "own_funds") else ""
        elif f.type == "date":
            field.data = v.isoformat() if hasattr(v, "isoformat") else (v or "")
        elif f.type == "integer":
            field.data = str(v) if v is not None else ""
        elif f.type == "checkbox":
            field.data = bool(v)
        else:
            field.data = v or ""


def mark_required(form, step: Step, org_kind: str) -> None:
    """Show which fields the submission will need (the form itself saves without them)."""
    for f in step.fields_for(org_kind):
        if f.required and f.name in form and f.type not in ("cost_items", "other_funding"):
            form[f.name].flags.required = True
