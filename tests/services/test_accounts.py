import pytest
from sqlalchemy import select

from grants.models import AuditEvent, Message, User
from grants.services import accounts
from grants.services.actor import Actor
from grants.services.errors import Conflict, Invalid, NotFound
from tests.factories import PASSWORD


def test_passwords_are_stored_as_argon2id(db, world):
    with db.session() as s:
        user = s.scalar(select(User).where(User.email == "staff@test.example"))
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_login_right_and_wrong(db, world):
    with db.session() as s:
        assert accounts.authenticate(s, "STAFF@test.example", PASSWORD, "1.2.3.4").role == "staff"
        assert accounts.authenticate(s, "staff@test.example", "wrong password!", "1.2.3.4") is None
        assert accounts.authenticate(s, "nobody@test.example", PASSWORD, "1.2.3.4") is None


def test_login_is_throttled_after_five_failures_even_with_the_right_password(db, world):
    for _ in range(5):
        with db.session() as s:
            assert accounts.authenticate(s, "staff@test.example", "nope nope nope", "9.9.9.9") is None
    with db.session() as s:
        with pytest.raises(accounts.LoginThrottled):
            accounts.authenticate(s, "staff@test.example", PASSWORD, "9.9.9.9")


def test_user_add_validates(db, world):
    system = Actor.system("test")
    with db.session() as s:
        with pytest.raises(Conflict):
            accounts.create_user(s, system, "staff@test.example", "staff", PASSWORD)
        with pytest.raises(Invalid, match="role"):
            accounts.create_user(s, system, "x@test.example", "king", PASSWORD)
        with pytest.raises(Invalid):
            accounts.create_user(s, system, "not-an-address", "staff", PASSWORD)
        with pytest.raises(Invalid):
            accounts.create_user(s, system, "y@test.example", "staff", "short")
        with pytest.raises(NotFound):
            accounts.create_user(s, system, "z@test.example", "applicant", PASSWORD, org_name="Unbekannt e.V.")
        with pytest.raises(Invalid):
            accounts.create_user(s, system, "z@test.example", "applicant", PASSWORD)


def test_password_reset_link_works_once(db, world, config):
    with db.session() as s:
        accounts.request_password_reset(s, config.secret_key, "http://x", "finance@test.example")
        accounts.request_password_reset(s, config.secret_key, "http://x", "unknown@test.example")
    with db.session() as s:
        msgs = s.scalars(select(Message)).all()
    assert [m.recipient for m in msgs] == ["finance@test.example"]
    token = msgs[0].body.split("/passwort/neu/")[1].split()[0]
    with db.session() as s:
        accounts.reset_password(s, config.secret_key, token, "a brand new password")
    with db.session() as s:
        assert accounts.authenticate(s, "finance@test.example", "a brand new password", "1.1.1.1")
        with pytest.raises(Invalid, match="schon benutzt"):
            accounts.reset_password(s, config.secret_key, token, "yet another password")
        with pytest.raises(Invalid, match="ungültig"):
            accounts.reset_password(s, config.secret_key, token + "x", "yet another password")
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "password_reset")) is not None
