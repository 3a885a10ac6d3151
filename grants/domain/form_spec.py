"""The application form as data (forms/*.toml): loading, checking the file, and deciding what
is still missing. Pure: values in, verdicts out."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from grants.domain.money import fmt_german

TYPES = {"text", "textarea", "integer", "date", "select", "money", "checkbox", "cost_items",
         "other_funding", "attachments",
         "actual_costs", "receipts"}      # the last two: proof of use only
ORG_KINDS = {"association", "parish", "other"}
COLUMNS = {"title", "quarter", "description", "aims", "target_groups", "participants_expected", "partners",
           "project_start", "project_end", "early_start_requested", "own_funds", "requested"}


class SpecError(ValueError):
    """The form file is broken; the message names the step and field."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: dict[str, str]
    help: dict[str, str] = field(default_factory=dict)
    required: bool = False
    max_length: int | None = None
    min: Decimal | int | None = None
    max: Decimal | int | None = None
    choices: tuple[tuple[str, dict[str, str]], ...] = ()
    choices_from: str | None = None
    show_for: frozenset[str] = frozenset(ORG_KINDS)
    bounds: str | None = None
    kinds: tuple[str, ...] = ()

    def text(self, what: str, lang: str) -> str:
        d = getattr(self, what)
        return d.get(lang) or d.get("de", "")

    @property
    def is_column(self) -> bool:
        return self.name in COLUMNS


@dataclass(frozen=True)
class Step:
    id: str
    title: dict[str, str]
    fields: tuple[Field, ...]

    def fields_for(self, org_kind: str) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if org_kind in f.show_for)


@dataclass(frozen=True)
class FormSpec:
    name: str
    title: dict[str, str]
    privacy_notice: dict[str, str]
    steps: tuple[Step, ...]

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def all_fields(self, org_kind: str) -> list[tuple[Step, Field]]:
        return [(s, f) for s in self.steps for f in s.fields_for(org_kind)]


def _num(v, money: bool):
    if v is None:
        return None
    return Decimal(str(v)) if money else int(v)


def parse(text: str, name: str) -> FormSpec:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{name}: not valid TOML: {e}") from None
    steps, seen = [], set()
    for i, s in enumerate(data.get("steps", []), 1):
        sid = s.get("id") or f"step{i}"
        fields = []
        for f in s.get("fields", []):
            fname, ftype = f.get("name"), f.get("type")
            where = f"{name}: step {sid!r}, field {fname!r}"
            if not fname or fname in seen:
                raise SpecError(f"{where}: a field needs a unique name")
            if ftype not in TYPES:
                raise SpecError(f"{where}: unknown type {ftype!r} (known: {', '.join(sorted(TYPES))})")
            label = f.get("label") or {}
            if not label.get("de"):
                raise SpecError(f"{where}: needs a German label (label.de)")
            show_for = frozenset(f.get("show_for", ORG_KINDS))
            if not show_for <= ORG_KINDS:
                raise SpecError(f"{where}: show_for may name only {', '.join(sorted(ORG_KINDS))}")
            if ftype == "select" and not (f.get("choices") or f.get("choices_from")):
                raise SpecError(f"{where}: a select needs choices or choices_from")
            seen.add(fname)
            money = ftype == "money"
            fields.append(Field(
                name=fname, type=ftype, label=label, help=f.get("help") or {}, required=bool(f.get("required")),
                max_length=f.get("max_length"), min=_num(f.get("min"), money), max=_num(f.get("max"), money),
                choices=tuple((c["value"], c.get("label") or {"de": c["value"]}) for c in f.get("choices", [])),
                choices_from=f.get("choices_from"), show_for=show_for, bounds=f.get("bounds"),
                kinds=tuple(f.get("kinds", ()))))
        steps.append(Step(sid, s.get("title") or {"de": sid}, tuple(fields)))
    if not steps:
        raise SpecError(f"{name}: the form has no steps")
    form = data.get("form", {})
    return FormSpec(name, form.get("title") or {"de": name}, form.get("privacy_notice") or {}, tuple(steps))


def load(folder: Path, name: str) -> FormSpec:
    path = folder / f"{name}.toml"
    return parse(path.read_text(encoding="utf-8"), path.name)


# ---- what is missing -------------------------------------------------------------------------

@dataclass(frozen=True)
class Missing:
    step: str
    field: str
    message: str          # German msgid; the web translates it
    params: tuple[tuple[str, str], ...] = ()      # values for the msgid's %(name)s placeholders

    @property
    def kwargs(self) -> dict[str, str]:
        return dict(self.params)


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value is False


def required_missing(spec: FormSpec, values: dict, org_kind: str) -> list[Missing]:
    """Required fields left empty, in the order of the form."""
    return [Missing(step.id, f.name, "Bitte ausfüllen.") if f.type != "checkbox" else
            Missing(step.id, f.name, "Bitte bestätigen.")
            for step, f in spec.all_fields(org_kind) if f.required and _empty(values.get(f.name))]


def still_invalid(spec: FormSpec, org_kind: str, raw: dict, found: list[Missing]) -> list[Missing]:
    """Fields whose typed text could not be taken yet (kept raw for the next visit), unless
    `found` names them already."""
    out = []
    for name in raw:
        step = next((s.id for s, f in spec.all_fields(org_kind) if f.name == name), None)
        if step and not any(m.field == name for m in found):
            out.append(Missing(step, name, "Diese Eingabe ist noch nicht gültig."))
    return out


def values_to_keep(step: Step, cleaned: dict, raw_invalid: dict[str, str], raw: dict) -> list[tuple[Field, Any]]:
    """Saving a step is forgiving: the text of invalid fields goes into `raw` (shown again), valid
    ones leave it; returns the valid (field, value) pairs to store, each value of what its field's
    type cleans to (a Decimal, a date, the rows of a table, ...)."""
    keep: list[tuple[Field, Any]] = []
    for f in step.fields:
        if f.type == "attachments":
            continue
        if f.name in raw_invalid:
            raw[f.name] = raw_invalid[f.name]
            continue
        raw.pop(f.name, None)
        if f.name in cleaned:
            keep.append((f, cleaned[f.name]))
    return keep


def _whole_euros(amount: Decimal) -> str:
    """The program's bounds as the message names them: 5.000, or 5.000,50 if it has cents."""

    return fmt_german(amount).removesuffix(",00")


def missing(spec: FormSpec, values: dict, org_kind: str, *, min_amount: Decimal, max_amount: Decimal,
            today: date) -> list[Missing]:
    """Everything that keeps the application from being submitted, step by step."""
    out = required_missing(spec, values, org_kind)
    empty = {m.field for m in out}
    for step, f in spec.all_fields(org_kind):
        v = values.get(f.name)
        if f.name in empty:
            continue
        if f.bounds == "program" and isinstance(v, Decimal) and not (min_amount <= v <= max_amount):
            out.append(Missing(step.id, f.name, "Der Zuschuss muss zwischen %(min)s und %(max)s Euro liegen.",
                               (("min", _whole_euros(min_amount)), ("max", _whole_euros(max_amount)))))
    start, end = values.get("project_start"), values.get("project_end")
    if isinstance(start, date) and isinstance(end, date) and end < start:
        out.append(Missing("zeitraum", "project_end", "Das Ende liegt vor dem Beginn."))
    if isinstance(start, date) and start < today and not values.get("early_start_requested"):
        out.append(Missing("zeitraum", "project_start",
                           "Der Beginn liegt in der Vergangenheit. Ein Projekt darf erst nach der Entscheidung beginnen."))
    costs = values.get("cost_items") or []
    if costs:
        diff = plan_difference(costs, values.get("own_funds") or Decimal("0"), values.get("other_funding") or [],
                               values.get("requested") or Decimal("0"))
        if diff != 0:
            out.append(Missing("finanzen", "requested", "Der Finanzierungsplan geht nicht auf: Die Kosten müssen "
                                                        "gleich Eigenmittel + andere Geldgeber + Zuschuss sein."))
    return out


def plan_difference(costs: list[tuple[str, Decimal]], own: Decimal, other: list[tuple[str, Decimal]],
                    requested: Decimal) -> Decimal:
    """Costs minus financing; 0 when the cost and financing plan balances."""
    return sum((a for _, a in costs), Decimal("0")) - own - sum((a for _, a in other), Decimal("0")) - requested
