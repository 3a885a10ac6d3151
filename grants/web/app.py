"""The Flask application factory."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, g, jsonify, render_template, request, session
from flask_babel import gettext
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import select
from sqlalchemy.exc import DataError, StatementError
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import HTTPException

from grants import catalogues, changes, clock
from grants.config import Config, load_config
from grants.db import Database
from grants.domain.roles import FRONT_DOOR, Role
from grants.models import User
from grants.services.actor import SYSTEM_LABEL, Actor
from grants.services.errors import ServiceError
from grants.web import (
    access,
    admin,
    applicant,
    auth,
    committee,
    finance,
    i18n,
    input_filter,
    organisation,
    proof,
    public,
    staff,
    staff_case,
)
from grants.web.charts import grouped_bars
from grants.web.labels import JOB_STATE_LABELS, LETTER_LABELS, PAYOUT_STATE_LABELS, ROLE_LABELS, STATE_HELP, STATE_LABELS
from grants.web.nav import NAV
from grants.web.page_cache import PageCache
from grants.web.util import close_reading, page_cache, reading

log = logging.getLogger("grants.web")
csrf = CSRFProtect()

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def create_app(config: Config | None = None, db: Database | None = None, engine=None) -> Flask:
    config = config or load_config()
    config.ensure_dirs()
    db = db or Database(config.database_url)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_NAME="grants_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead: long forms must not expire
        BABEL_DEFAULT_LOCALE="de",
        BABEL_DEFAULT_TIMEZONE=clock.TIMEZONE,      # every time a page shows is Berlin time
        BABEL_TRANSLATION_DIRECTORIES=";".join(str(d) for d in catalogues.translation_dirs(config.home)),
    )
    app.extensions["grants"] = {"config": config, "db": db, "engine": engine, "ready": engine is None,
                                "cache": _page_cache(db)}
    csrf.init_app(app)
    i18n.init_app(app)
    app.jinja_env.globals["chart"] = grouped_bars


    for bp in (public.bp, auth.bp, applicant.bp, organisation.bp, staff.bp, staff_case.bp, proof.bp, committee.bp,
               finance.bp, admin.bp):
        app.register_blueprint(bp)

    missing = access.undeclared_routes(app)
    if missing:
        raise RuntimeError(f"routes without an access declaration: {missing}")

    @app.before_request
    def load_user():
        g.user = None
        g.actor = None
        uid = session.get("uid")
        if uid is None:
            return
        def load(r):
            r.depends(f"user:{uid}")
            # joined, not selectin: for one user a second query costs about 1 ms of CPU
            return r.session.execute(select(User).options(joinedload(User.memberships))
                                     .where(User.id == uid)).unique().scalar_one_or_none()

        user = page_cache().get(("user", uid), load, session=reading)
        if request.method not in ("GET", "HEAD"):
            close_reading()          # a change opens its own unit of work: one connection at a time
        # a changed password or "log out everywhere" bumps the epoch and ends old sessions
        if user is None or not user.active or session.get("epoch") != user.session_epoch:
            session.clear()
            return
        g.user = user
        g.actor = Actor.of(user)

    app.teardown_request(close_reading)
    input_filter.install(app)          # after load_user: its refusal is a page of the user's own

    https = config.base_url.startswith("https://")

    @app.after_request
    def security_headers(resp):
        resp.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if g.get("user") is not None:
            resp.headers.setdefault("Cache-Control", "no-store")
        if https:
            # browsers that once came over https never try plain http again (no downgrade on a
            # café's network); only when the city serves the site over https
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return resp

    @app.context_processor
    def layout_context():
        user = g.get("user")
        return {
            "current_user": user,
            "front_door": FRONT_DOOR.get(Role(user.role)) if user else None,
            "nav_items": NAV.get(user.role, []) if user else [],
            "role_label": ROLE_LABELS.get(user.role) if user else None,
            "role_name": lambda r: ROLE_LABELS.get(r, r),
            "job_state": lambda j: JOB_STATE_LABELS.get(j, j),
            "state_label": lambda s: STATE_LABELS.get(s, s),
            "payout_state": lambda s: PAYOUT_STATE_LABELS.get(s, s),
            "state_help": lambda s: STATE_HELP.get(s, ""),
            "letter_label": lambda k: LETTER_LABELS.get(k, k),
            # an audit event's actor: a person's address, or the system's own step in plain words
            "actor_label": lambda a: gettext("automatisch") if (a or "").startswith(SYSTEM_LABEL) else a,
            "current_lang": str(i18n.get_locale()),
        }

    @app.errorhandler(ServiceError)
    def service_error(e: ServiceError):
        return _error_page(e.status, gettext(e.msgid, **e.params))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return _error_page(400, gettext("Das Formular ist abgelaufen oder wurde nicht von dieser Seite "
                                        "gesendet. Bitte laden Sie die Seite neu und senden Sie es noch einmal."))

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        messages = {
            400: gettext("Die Anfrage war fehlerhaft."),
            403: gettext("Dafür fehlt Ihnen die Berechtigung."),
            404: gettext("Diese Seite gibt es nicht."),
            405: gettext("Diese Aktion ist hier nicht möglich."),
            413: gettext("Die Datei ist zu groß. Erlaubt sind höchstens %(mb)d MB.", mb=MAX_UPLOAD_BYTES // 2**20),
            429: gettext("Zu viele Anfragen. Bitte warten Sie einen Moment."),
        }
        code = e.code or 500
        return _error_page(code, messages.get(code) or e.description or "")

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def out_of_range(e):
        # a number in a form beyond what the database stores (SQLite: OverflowError, PostgreSQL:
        # numeric value out of range); the unit of work rolled back
        return _error_page(400, gettext("Die Anfrage enthält eine Zahl außerhalb des erlaubten Bereichs."))

    @app.errorhandler(StatementError)
    def statement_error(e):
        if isinstance(getattr(e, "orig", None), OverflowError):
            return out_of_range(e)
        return unexpected(e)

    @app.errorhandler(Exception)
    def unexpected(e):
        log.exception("unhandled error on %s", request.path)
        return _error_page(500, gettext("Ein unerwarteter Fehler ist aufgetreten. Ihre Eingaben wurden "
                                        "nicht gespeichert. Bitte versuchen Sie es noch einmal."))

    return app


def _page_cache(db: Database) -> PageCache:
    """Copies of the busiest pages' reads, on PostgreSQL, where every process hears of every change."""
    listener = None
    if db.engine.dialect.name == "postgresql":
        listener = changes.Listener(db.url).start()
    return PageCache(db, listener)


def _error_page(status: int, message: str):
    if request.accept_mimetypes.best == "application/json" or request.path == "/healthz":
        return jsonify({"error": message}), status
    return render_template("error.html", status=status, message=message), status


def db_of(app) -> Database:
    return app.extensions["grants"]["db"]
