"""Login, logout, password reset, e-mail confirmation."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext

from grants.domain.roles import FRONT_DOOR, Role
from grants.services import accounts, organisations
from grants.services.errors import Invalid, ServiceError
from grants.web.access import login_required, public
from grants.web.forms import AcceptInviteForm, EmptyForm, ForgotForm, LoginForm, RegisterForm, ResetForm
from grants.web.util import client_addr, config, db, safe_next, wake_engine

bp = Blueprint("auth", __name__)


def _start_session(user) -> None:
    session.clear()  # a new session id on login: no session fixation
    session["uid"] = user.id
    session["epoch"] = user.session_epoch
    session.permanent = True


@bp.route("/anmelden", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        with db().session() as s:
            try:
                user = accounts.authenticate(s, form.email.data, form.password.data, client_addr())
            except accounts.LoginThrottled as e:
                user = None
                form.form_errors.append(gettext(e.msgid))
                status = 429
            except accounts.EmailNotConfirmed as e:
                user = None
                form.form_errors.append(gettext(e.msgid))
                status = 403
        if user is not None:
            _start_session(user)
            target = safe_next(request.args.get("next"), url_for(FRONT_DOOR[Role(user.role)]))
            return redirect(target)
        if status not in (429, 403):
            form.form_errors.append(gettext("E-Mail-Adresse oder Passwort stimmen nicht."))
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/abmelden")
@login_required
def logout():
    EmptyForm()  # CSRF is checked by CSRFProtect for every POST
    session.clear()
    flash(gettext("Sie sind abgemeldet."), "info")
    return redirect(url_for("public.index"))


@bp.route("/passwort/vergessen", methods=["GET", "POST"])
@public
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        with db().session() as s:
            accounts.request_password_reset(s, config().secret_key, config().base_url, form.email.data)
        wake_engine()
        # the same answer whether or not the address has an account
        flash(gettext("Wenn es ein Konto mit dieser Adresse gibt, haben wir Ihnen einen Link geschickt. "
                      "Bitte sehen Sie in Ihr Postfach."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/passwort/neu/<token>", methods=["GET", "POST"])
@public
def reset(token: str):
    form = ResetForm()
    if form.validate_on_submit():
        try:
            with db().session() as s:
                accounts.reset_password(s, config().secret_key, token, form.password.data)
        except Invalid as e:
            form.form_errors.append(gettext(e.msgid, **e.params))
        else:
            session.clear()
            flash(gettext("Ihr Passwort ist geändert. Bitte melden Sie sich an."), "info")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 400 if request.method == "POST" else 200


@bp.get("/bestaetigen/<token>")
@public
def confirm(token: str):
    try:
        with db().session() as s:
            accounts.confirm_email(s, config().secret_key, token)
    except Invalid as e:
        flash(gettext(e.msgid, **e.params), "error")
        return redirect(url_for("public.index"))
    flash(gettext("Ihre E-Mail-Adresse ist bestätigt. Sie können sich jetzt anmelden."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/registrieren", methods=["GET", "POST"])
@public
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            with db().session() as s:
                organisations.register(s, config().secret_key, config().base_url, org_name=form.org_name.data,
                                       kind=form.kind.data, email=form.email.data, name=form.name.data,
                                       password=form.password.data, locale=str(get_locale()))
        except ServiceError as e:
            form.form_errors.append(gettext(e.msgid, **e.params))
        else:
            wake_engine()
            return render_template("auth/registered.html", email=form.email.data)
    return render_template("auth/register.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/einladung/<token>", methods=["GET", "POST"])
@public
def accept_invite(token: str):
    form = AcceptInviteForm()
    if form.validate_on_submit():
        try:
            with db().session() as s:
                organisations.accept_invite(s, config().secret_key, token, form.name.data, form.password.data)
        except ServiceError as e:
            form.form_errors.append(gettext(e.msgid, **e.params))
        else:
            flash(gettext("Willkommen! Ihr Konto ist eingerichtet. Bitte melden Sie sich an."), "info")
            return redirect(url_for("auth.login"))
    return render_template("auth/invite.html", form=form), 400 if request.method == "POST" else 200
