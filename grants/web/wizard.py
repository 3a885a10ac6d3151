"""The page of one step of a form filled in step by step, shared by the application and the proof
of use: it saves on every post (the valid values, and the raw text of the rest to show again),
answers the page's autosave, and moves between the steps and on to the preview. What differs
between the two (the case, its spec and values, how a step is saved, the template and what more
it shows) comes in through a `Wizard` and the `Sheet` it opens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from sqlalchemy.orm import Session

from grants import clock
from grants.domain.form_spec import FormSpec, Step
from grants.web import form_builder
from grants.web.util import db


@dataclass
class Sheet:
    """One case's form as its blueprint opened it for this request."""

    case: Any
    spec: FormSpec
    kind: str                   # the organisation's kind, which decides the fields a step shows
    values: dict                # the stored answers, typed, by field name
    raw: dict                   # text typed earlier that could not be taken yet
    save: Callable[[Step, dict, dict[str, str]], object]    # (step, valid values, raw text of the invalid ones)
    extras: Callable[[Step], dict]                          # more for the template


@dataclass(frozen=True)
class Wizard:
    """The step page of one blueprint."""

    endpoint: str               # the step page's own
    preview: str                # where "next" leads after the last step
    template: str
    load: Callable[[Session, int], Sheet]     # may raise what the services raise (404, 409, ...)
    rows_anchor: str            # the table the page scrolls to after "more rows"
    max_extra_rows: int         # the most ?rows= may add, so a link cannot ask for a huge form

    def page(self, case_id: int, step_id: str):
        posted = request.method == "POST"
        lang = str(get_locale())
        with db().session() as s:
            sheet = self.load(s, case_id)
            step = sheet.spec.step(step_id)
            if step is None:
                abort(404)
            form = form_builder.build(step, lang, sheet.kind, sheet.values, self._extra_rows())()
            form_builder.mark_required(form, step, sheet.kind)
            if posted:
                answer = self._take(form, sheet, step, case_id)
                if answer is not None:
                    return answer
            else:
                form_builder.fill(form, step, sheet.kind, sheet.values, sheet.raw)
            extras = sheet.extras(step)
        # a post that did not move on shows the step again with what is wrong in it
        return render_template(self.template, case=sheet.case, spec=sheet.spec, steps=sheet.spec.steps, step=step,
                               form=form, lang=lang, kind=sheet.kind, step_endpoint=self.endpoint,
                               **extras), 400 if posted else 200

    def _extra_rows(self) -> int:
        asked = request.args.get("rows", "")
        if asked.isdigit():
            return min(int(asked), self.max_extra_rows)
        return 1 if request.method == "POST" and request.form.get("action") == "add_row" else 0

    def _take(self, form, sheet: Sheet, step: Step, case_id: int):
        """Save the posted step; the answer to send, or None to show the step again."""
        valid = form.validate_on_submit()
        if "csrf_token" in form.errors:
            abort(400)
        good, bad = form_builder.cleaned(form, step, sheet.kind, sheet.values)
        sheet.save(step, good, bad)
        if request.headers.get("X-Autosave") == "1":
            return jsonify({"saved": True, "at": clock.now().isoformat(), "invalid": sorted(bad)})
        if not valid:
            return None
        action = request.form.get("action", "save")
        if action == "add_row":
            return redirect(url_for(self.endpoint, case_id=case_id, step_id=step.id, rows=3) + "#" + self.rows_anchor)
        ids = [st.id for st in sheet.spec.steps]
        index = ids.index(step.id)
        if action == "next" and index + 1 < len(ids):
            return redirect(url_for(self.endpoint, case_id=case_id, step_id=ids[index + 1]))
        if action == "back" and index > 0:
            return redirect(url_for(self.endpoint, case_id=case_id, step_id=ids[index - 1]))
        if action in ("next", "preview"):
            return redirect(url_for(self.preview, case_id=case_id))
        flash(gettext("Gespeichert. Sie können jederzeit hier weitermachen."), "info")
        return redirect(url_for(self.endpoint, case_id=case_id, step_id=step.id))
