"""Password hashing with argon2id (OWASP parameters of argon2-cffi's defaults)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from grants.services.errors import Invalid

_hasher = PasswordHasher()
# A hash to verify against when the user does not exist: the same work either way, so the
# response time does not tell whether an e-mail address has an account.
_DUMMY = _hasher.hash("not a password of anybody")

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def check_password(password: str) -> None:
    """Raise Invalid (German msgid) when the password is too weak."""

    if len(password) < MIN_LENGTH:
        raise Invalid("Das Passwort muss mindestens %(n)d Zeichen lang sein.", n=MIN_LENGTH)
    if password.strip() != password:
        raise Invalid("Das Passwort darf nicht mit Leerzeichen beginnen oder enden.")
