"""WTForms for the proof of use: the usual field types come from form_builder; the two kinds only
the proof has are built here: one amount per line of the approved plan, and the receipts list."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import FieldList, Form, FormField, StringField
from wtforms.validators import Length, Optional

from grants.domain.form_spec import Field, Step
from grants.domain.money import fmt_plain
from grants.domain.proof import PlanLine, ReceiptRow
from grants.web import form_builder

MONEY = Field("amount", "money", {"de": ""})


class ReceiptForm(Form):
    paid_on = StringField(_l("Datum"), validators=[form_builder._date], render_kw={"type": "date"})
    payee = StringField(_l("Empfänger"), validators=[Optional(), Length(max=200)])
    purpose = StringField(_l("Zweck"), validators=[Optional(), Length(max=300)])
    amount = StringField(_l("Betrag in Euro"), validators=[form_builder._money(MONEY)], render_kw={"inputmode": "decimal"})

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        filled = [f for f in (self.paid_on, self.payee, self.purpose, self.amount) if (f.data or "").strip()]
        if filled and len(filled) < 4:
            for f in (self.paid_on, self.payee, self.purpose, self.amount):
                if not (f.data or "").strip():
                    f.errors = list(f.errors) + [gettext("Bitte füllen Sie die ganze Zeile aus.")]
            return False
        return ok

    def row(self) -> ReceiptRow | None:
        if self.errors or not (self.amount.data or "").strip():
            return None
        return ReceiptRow(self.paid_on.parsed, self.payee.data.strip(), self.purpose.data.strip(), self.amount.parsed)


def actual_name(line: PlanLine) -> str:
    return f"actual_{line.cost_item_id}"


def build(step: Step, lang: str, org_kind: str, lines: list[PlanLine], receipt_rows: int):
    """A FlaskForm class for one step of the proof."""
    base = form_builder.build(step, lang, org_kind, {})
    attrs = {}
    for f in step.fields_for(org_kind):
        if f.type == "actual_costs":
            for line in lines:
                attrs[actual_name(line)] = StringField(line.description, validators=[form_builder._money(MONEY)],
                                                       render_kw={"inputmode": "decimal"})
        elif f.type == "receipts":
            attrs[f.name] = FieldList(FormField(ReceiptForm), label=f.text("label", lang),
                                      description=f.text("help", lang),
                                      min_entries=receipt_rows + form_builder.EXTRA_ROWS)
    return type(f"Proof_{step.id}", (base,), attrs)


def cleaned(form, step: Step, org_kind: str, lines: list[PlanLine]) -> tuple[dict, dict[str, str]]:
    good, bad = form_builder.cleaned(form, step, org_kind)
    for f in step.fields_for(org_kind):
        if f.type == "actual_costs":
            amounts, broken = {}, False
            for line in lines:
                field = form[actual_name(line)]
                if field.errors:
                    broken = True
                else:
                    amounts[line.cost_item_id] = getattr(field, "parsed", None)
            if broken:
                bad[f.name] = "table"
            else:
                good[f.name] = amounts
        elif f.type == "receipts":
            entries = form[f.name].entries
            if any(e.form.errors for e in entries):
                bad[f.name] = "table"
            else:
                good[f.name] = [r for r in (e.form.row() for e in entries) if r is not None]
    return good, bad


def fill(form, step: Step, org_kind: str, values: dict, raw: dict) -> None:
    form_builder.fill(form, step, org_kind, values, raw)
    for f in step.fields_for(org_kind):
        if f.type == "actual_costs":
            for line in values.get("actual_costs") or []:
                if line.actual is not None:
                    form[actual_name(line)].data = fmt_plain(line.actual).replace(".", ",")
        elif f.type == "receipts":
            for entry, r in zip(form[f.name].entries, values.get("receipts") or []):
                entry.form.paid_on.data = r.paid_on.isoformat()
                entry.form.payee.data, entry.form.purpose.data = r.payee, r.purpose
                entry.form.amount.data = fmt_plain(r.amount).replace(".", ",")
