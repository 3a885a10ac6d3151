"""WTForms for accounts (the application form itself is built from forms/)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=[DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse an."))],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Passwort"), validators=[DataRequired(_l("Bitte geben Sie Ihr Passwort an."))],
                             render_kw={"autocomplete": "current-password"})


class ForgotForm(FlaskForm):
    email = EmailField(_l("E-Mail-Adresse"), validators=[
        DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse an.")),
        Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse an."))], render_kw={"autocomplete": "username"})


class ResetForm(FlaskForm):
    password = PasswordField(_l("Neues Passwort"), validators=[
        DataRequired(_l("Bitte geben Sie ein neues Passwort an.")),
        Length(min=10, message=_l("Das Passwort muss mindestens 10 Zeichen lang sein."))],
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Neues Passwort wiederholen"), validators=[
        EqualTo("password", _l("Die beiden Passwörter stimmen nicht überein."))],
        render_kw={"autocomplete": "new-password"})


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons (logout, actions)."""
