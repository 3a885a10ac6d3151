"""Language choice and locale formatting (German first, English available)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from flask import g, request, session
from flask_babel import Babel, format_date, format_datetime, get_locale

LANGUAGES = ("de", "en")


def select_locale() -> str:
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
        user = g.get("user")
        if user is not None and user.locale != lang:
            g.locale_changed = lang
        return lang
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    user = g.get("user")
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    return "de"


def money(value: Decimal | None) -> str:
    """1.250,00 € in German, €1,250.00 in English."""
    if value is None:
        return "–"
    return format_currency(value, "EUR", locale=str(get_locale()))


def init_app(app) -> Babel:
    babel = Babel(app, locale_selector=select_locale)
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["date"] = lambda d: format_date(d, "medium") if d else "–"
    app.jinja_env.filters["datetime"] = lambda d: format_datetime(d, "short") if d else "–"
    return babel
