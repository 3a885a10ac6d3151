"""Accounts: creating users, logging in (rate-limited), password reset and e-mail confirmation."""

from __future__ import annotations

from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from grants import clock
from grants.domain import throttle
from grants.domain.roles import Role, parse_role
from grants.models import LoginAttempt, Membership, Organisation, User
from grants.services import audit, messenger
from grants.services.actor import Actor
from grants.services.errors import Conflict, Invalid, NotFound
from grants.services.passwords import check_password, hash_password, needs_rehash, verify_password

# Login throttling: per address and per client, over a sliding window.

RESET_MAX_AGE = 3600          # seconds a password-reset link is valid
CONFIRM_MAX_AGE = 7 * 86400   # seconds an e-mail confirmation link is valid


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise Invalid("Bitte geben Sie eine gültige E-Mail-Adresse an.") from None


def create_user(db: Session, actor: Actor, email: str, role: str | Role, password: str | None,
                *, name: str = "", org_name: str | None = None, confirmed: bool = True,
                locale: str = "de") -> User:
    email = normalise_email(email)
    try:
        role = parse_role(str(role))
    except ValueError as e:
        raise Invalid(str(e)) from None
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("Für diese E-Mail-Adresse gibt es schon ein Konto.")
    if password is not None:
        check_password(password)
    org = None
    if org_name:
        org = db.scalar(select(Organisation).where(Organisation.name == org_name.strip()))
        if org is None:
            raise NotFound("Die Organisation %(name)s gibt es nicht.", name=org_name)
    elif role == Role.APPLICANT:
        raise Invalid("Ein Konto für Antragstellende braucht eine Organisation.")
    user = User(email=email, name=name or email.split("@")[0], role=role.value,
                password_hash=hash_password(password) if password else None,
                email_confirmed_at=clock.now() if confirmed else None, locale=locale)
    db.add(user)
    db.flush()
    if org is not None:
        db.add(Membership(user_id=user.id, organisation_id=org.id, manager=True))
    audit.record(db, actor, "user_created", obj=user, data={"email": email, "role": role.value,
                                                             "organisation": org.name if org else None})
    return user


class LoginThrottled(Conflict):
    status = 429


class EmailNotConfirmed(Conflict):
    status = 403


def _failures(db: Session, since, *where) -> throttle.Count:
    n, latest = db.execute(select(func.count(), func.max(LoginAttempt.at)).where(
        LoginAttempt.success.is_(False), LoginAttempt.at >= since, *where)).one()
    return throttle.Count(n, latest)


def _serialise_attempts(db: Session, email: str, remote_addr: str) -> None:
    """Attempts for one address, and from one client, one at a time in every process: else eight
    guesses at once all counted four failures before them. SQLite's writers queue anyway."""
    if db.get_bind().dialect.name == "postgresql":
        for key in (f"login:{email}", f"client:{remote_addr}"):         # always in this order
            db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


def authenticate(db: Session, email: str, password: str, remote_addr: str) -> User | None:
    """The user if the password is right; None otherwise. Raises LoginThrottled while the failures
    before it ask for a pause (grants.domain.throttle: backoff, never a lock)."""
    email_n = email.strip().lower()
    _serialise_attempts(db, email_n, remote_addr)
    now = clock.now()
    since = now - throttle.WINDOW
    last_ok = db.scalar(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.email == email_n, LoginAttempt.remote_addr == remote_addr, LoginAttempt.success.is_(True)))
    pair_since = max(since, last_ok) if last_ok is not None else since
    pause = throttle.longest_wait(
        _failures(db, pair_since, LoginAttempt.email == email_n, LoginAttempt.remote_addr == remote_addr),
        _failures(db, since, LoginAttempt.remote_addr == remote_addr),
        _failures(db, since, LoginAttempt.email == email_n), now)
    if pause > timedelta(0):
        seconds = int(pause.total_seconds()) + 1
        raise LoginThrottled("Zu viele fehlgeschlagene Anmeldungen. Bitte warten Sie %(seconds)d Sekunden und "
                             "versuchen Sie es dann noch einmal, oder setzen Sie Ihr Passwort zurück.",
                             seconds=seconds)
    found = db.scalar(select(User).where(User.email == email_n))
    # the password is checked also without a user, so that the answer takes as long
    password_ok = verify_password(found.password_hash if found else None, password)
    user = found if password_ok and found is not None and found.active else None
    if user is not None and user.email_confirmed_at is None:
        # only someone with the right password learns this, so it reveals nothing
        raise EmailNotConfirmed("Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse mit dem Link aus unserer E-Mail.")
    db.add(LoginAttempt(email=email_n, remote_addr=remote_addr, success=user is not None))
    if user is None:
        return None
    if user.password_hash is not None and needs_rehash(user.password_hash):   # verified: there is a hash
        user.password_hash = hash_password(password)
    user.last_login_at = clock.now()
    audit.record(db, Actor.of(user), "login", obj=user)
    return user


def _serializer(secret: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=salt)


def _fingerprint(user: User) -> str:
    # The link dies when the password (or session epoch) changes: usable once.
    return f"{user.session_epoch}:{(user.password_hash or '')[-16:]}"


def request_password_reset(db: Session, secret: str, base_url: str, email: str) -> None:
    """Mail a reset link if the address has an account; say nothing either way (no enumeration)."""
    try:
        email_n = normalise_email(email)
    except Invalid:
        return
    user = db.scalar(select(User).where(User.email == email_n, User.active.is_(True)))
    if user is None:
        return
    token = _serializer(secret, "reset").dumps({"u": user.id, "f": _fingerprint(user)})
    link = f"{base_url}/passwort/neu/{token}"
    messenger.send(db, key=f"reset:{user.id}:{token[-24:]}", to=user.email, template="password_reset",
                   subject="Passwort zurücksetzen – Dein Quartier und du",
                   body=("Guten Tag,\n\nSie haben ein neues Passwort angefordert. Über diesen Link können "
                         f"Sie es innerhalb einer Stunde festlegen:\n\n{link}\n\n"
                         "Wenn Sie das nicht waren, können Sie diese Nachricht ignorieren.\n\n"
                         "Stadt Osnabrück – Fachdienst Integration"),
                   user_id=user.id)


def reset_password(db: Session, secret: str, token: str, new_password: str) -> User:
    try:
        data = _serializer(secret, "reset").loads(token, max_age=RESET_MAX_AGE)
    except SignatureExpired:
        raise Invalid("Der Link ist abgelaufen. Bitte fordern Sie einen neuen an.") from None
    except BadSignature:
        raise Invalid("Der Link ist ungültig. Bitte fordern Sie einen neuen an.") from None
    user = db.get(User, data.get("u"))
    if user is None or _fingerprint(user) != data.get("f"):
        raise Invalid("Der Link wurde schon benutzt. Bitte fordern Sie einen neuen an.")
    check_password(new_password)
    user.password_hash = hash_password(new_password)
    user.session_epoch += 1
    # whoever holds the mailbox is the owner: the failed guesses of others no longer slow her down
    db.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email, LoginAttempt.success.is_(False)))
    audit.record(db, Actor.of(user), "password_reset", obj=user)
    return user


def confirmation_token(secret: str, user: User) -> str:
    return _serializer(secret, "confirm").dumps({"u": user.id, "e": user.email})


def confirm_email(db: Session, secret: str, token: str) -> User:
    try:
        data = _serializer(secret, "confirm").loads(token, max_age=CONFIRM_MAX_AGE)
    except SignatureExpired:
        raise Invalid("Der Bestätigungslink ist abgelaufen.") from None
    except BadSignature:
        raise Invalid("Der Bestätigungslink ist ungültig.") from None
    user = db.get(User, data.get("u"))
    if user is None or user.email != data.get("e"):
        raise Invalid("Der Bestätigungslink ist ungültig.")
    if user.email_confirmed_at is None:
        user.email_confirmed_at = clock.now()
        audit.record(db, Actor.of(user), "email_confirmed", obj=user)
    return user


def logout_everywhere(db: Session, user: User) -> None:
    user.session_epoch += 1
