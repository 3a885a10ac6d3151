"""WTForms for accounts (the application form itself is built from forms/)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
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





class RegisterForm(FlaskForm):
    org_name = StringField(_l("Name der Organisation"), validators=[
        DataRequired(_l("Bitte geben Sie den Namen Ihrer Organisation an.")), Length(max=200)],
        description=_l("So, wie er im Vereinsregister oder in der Satzung steht."))
    kind = SelectField(_l("Art der Organisation"), choices=[
        ("", _l("Bitte wählen")), ("association", _l("Eingetragener Verein (e.V.)")),
        ("parish", _l("Kirchengemeinde")), ("other", _l("Andere gemeinnützige Körperschaft (z. B. gGmbH, Stiftung)"))],
        validators=[DataRequired(_l("Bitte wählen Sie die Art Ihrer Organisation."))])
    name = StringField(_l("Ihr Name"), validators=[DataRequired(_l("Bitte geben Sie Ihren Namen an.")), Length(max=200)],
                       render_kw={"autocomplete": "name"})
    email = EmailField(_l("E-Mail-Adresse"), validators=[
        DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse an.")),
        Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse an."))], render_kw={"autocomplete": "email"})
    password = PasswordField(_l("Passwort"), validators=[
        DataRequired(_l("Bitte geben Sie ein Passwort an.")),
        Length(min=10, message=_l("Das Passwort muss mindestens 10 Zeichen lang sein."))],
        description=_l("Mindestens 10 Zeichen."), render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Passwort wiederholen"), validators=[
        EqualTo("password", _l("Die beiden Passwörter stimmen nicht überein."))],
        render_kw={"autocomplete": "new-password"})
    privacy = BooleanField(_l("Ich habe den Datenschutzhinweis gelesen."), validators=[
        DataRequired(_l("Bitte bestätigen Sie, dass Sie den Datenschutzhinweis gelesen haben."))])


class AcceptInviteForm(FlaskForm):
    name = StringField(_l("Ihr Name"), validators=[DataRequired(_l("Bitte geben Sie Ihren Namen an.")), Length(max=200)],
                       render_kw={"autocomplete": "name"})
    password = PasswordField(_l("Passwort"), validators=[
        DataRequired(_l("Bitte geben Sie ein Passwort an.")),
        Length(min=10, message=_l("Das Passwort muss mindestens 10 Zeichen lang sein."))],
        description=_l("Mindestens 10 Zeichen."), render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Passwort wiederholen"), validators=[
        EqualTo("password", _l("Die beiden Passwörter stimmen nicht überein."))], render_kw={"autocomplete": "new-password"})
