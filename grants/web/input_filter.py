"""Every text that reaches a view passes grants.domain.text first: form fields, query parameters
and the names of uploaded files are normalised (NFC, line ends) or, if they carry a control
character, the request is refused before anything is read or written, with a message that says
which character and where."""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.datastructures import ImmutableMultiDict

from grants.domain import text
from grants.services.errors import Invalid

MAX_ID = 2**31 - 1           # PostgreSQL's integer; SQLite's is larger, but no id gets there


def _filtered(pairs):
    out = []
    for key, value in pairs:
        bad = text.forbidden(key)
        if bad is None:
            value = text.normalise(value)
            bad = text.forbidden(value)
        if bad is not None:
            raise Invalid("Die Eingabe im Feld „%(field)s“ enthält ein unsichtbares Steuerzeichen (%(char)s), "
                          "etwa aus einem kopierten Text. Bitte entfernen Sie es und senden Sie das Formular noch "
                          "einmal; gespeichert wurde nichts.", field=text.printable(key)[:60], char=bad)
        out.append((key, value))
    return out


def install(app: Flask) -> None:
    @app.before_request
    def filter_input():
        # an id in the path beyond what the database stores is an id that does not exist: 404,
        # not an overflow in the driver (500)
        if request.view_args and any(isinstance(v, int) and not 0 <= v <= MAX_ID for v in request.view_args.values()):
            abort(404)
        if request.args:
            request.args = ImmutableMultiDict(_filtered(request.args.items(multi=True)))
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        if request.form:
            request.form = ImmutableMultiDict(_filtered(request.form.items(multi=True)))
        for upload in (u for _, uploads in request.files.lists() for u in uploads):
            name = text.normalise(upload.filename or "")
            bad = text.forbidden(name)
            if bad is not None:
                raise Invalid("Der Name der Datei enthält ein unsichtbares Steuerzeichen (%(char)s). Bitte benennen "
                              "Sie die Datei um und laden Sie sie noch einmal hoch; gespeichert wurde nichts.",
                              char=bad)
            upload.filename = name
