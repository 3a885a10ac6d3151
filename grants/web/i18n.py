"""Language choice and locale formatting (German first, English available).

The choice is kept in a cookie of its own, written only by the response to the request that
made it (`?lang=`). Kept in the session cookie, which is sent again with every response, a
slower response to an older request (a stylesheet, a poll) could put the old language back.
A logged-in user's choice is also stored on the account, so it follows them to other devices.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from flask import g, request
from flask_babel import Babel, format_date, format_datetime, get_locale
from sqlalchemy import update

from grants import changes
from grants.models import User
from grants.web.util import db

LANGUAGES = ("de", "en")
LANG_COOKIE = "grants_lang"
ONE_YEAR = 365 * 24 * 3600


def chosen_language() -> str | None:
    lang = request.args.get("lang")
    return lang if lang in LANGUAGES else None


def select_locale() -> str:
    lang = chosen_language() or request.cookies.get(LANG_COOKIE)
    if lang in LANGUAGES:
        return lang
    user = g.get("user")
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    return "de"


def remember_choice(resp):
    lang = chosen_language()
    if lang is None:
        return resp
    from flask import current_app

    if request.cookies.get(LANG_COOKIE) != lang:
        resp.set_cookie(LANG_COOKIE, lang, max_age=ONE_YEAR, httponly=True, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    user = g.get("user")
    if user is not None and user.locale != lang:

        with db().session() as s:
            s.execute(update(User).where(User.id == user.id).values(locale=lang))
            changes.touch(s, f"user:{user.id}")
    return resp


def money(value: Decimal | None) -> str:
    """1.250,00 € in German, €1,250.00 in English."""
    if value is None:
        return "–"
    return format_currency(value, "EUR", locale=str(get_locale()))


def amount_input(value: Decimal | None) -> str:
    """An amount as an input's value: 1.000,00 in German, 1,000.00 in English (both are read back)."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.00", locale=str(get_locale()))


def month(value: str, width: str = "MMMM") -> str:
    """'2026-01' as the locale names it: 'Januar 2026' (width 'MMM': 'Jan. 2026')."""
    from datetime import date

    try:
        year, number = map(int, value.split("-"))
        return format_date(date(year, number, 1), f"{width} y")
    except ValueError:
        return value


def init_app(app) -> Babel:
    babel = Babel(app, locale_selector=select_locale)
    app.after_request(remember_choice)
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["date"] = lambda d: format_date(d, "medium") if d else "–"
    app.jinja_env.filters["datetime"] = lambda d: format_datetime(d, "short") if d else "–"
    app.jinja_env.filters["month"] = month
    app.jinja_env.filters["amount_input"] = amount_input
    return babel
