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


def _failed(db, email, addr, n, at=None):
    from grants import clock
    from grants.models import LoginAttempt

    with db.session() as s:
        s.add_all([LoginAttempt(email=email, remote_addr=addr, success=False, at=at or clock.now())
                   for _ in range(n)])


def test_the_pause_grows_and_ends_it_is_no_lock(db, world):
    from datetime import timedelta

    from grants import clock

    _failed(db, "staff@test.example", "9.9.9.9", 9)               # 4 beyond the free 5: 16 s
    with db.session() as s, pytest.raises(accounts.LoginThrottled) as refused:
        accounts.authenticate(s, "staff@test.example", PASSWORD, "9.9.9.9")
    assert 15 <= refused.value.params["seconds"] <= 17
    with clock.travel(clock.now() + timedelta(seconds=17)), db.session() as s:
        assert accounts.authenticate(s, "staff@test.example", PASSWORD, "9.9.9.9").role == "staff"


def test_five_wrong_requests_from_elsewhere_do_not_lock_the_chair_out(db, world):
    _failed(db, "chair@test.example", "6.6.6.6", 5)
    with db.session() as s, pytest.raises(accounts.LoginThrottled):
        accounts.authenticate(s, "chair@test.example", PASSWORD, "6.6.6.6")
    with db.session() as s:                                         # her own device
        assert accounts.authenticate(s, "chair@test.example", PASSWORD, "10.0.0.7").role == "chair"


def test_a_password_reset_clears_the_failures(db, world, config):
    import re

    from sqlalchemy import select

    from grants.models import Message

    _failed(db, "staff@test.example", "9.9.9.9", 12)
    with db.session() as s:
        accounts.request_password_reset(s, config.secret_key, "http://x", "staff@test.example")
    with db.session() as s:
        body = s.scalar(select(Message.body).where(Message.template == "password_reset"))
        token = re.search(r"/passwort/neu/(\S+)", body).group(1)
        accounts.reset_password(s, config.secret_key, token, "ein ganz neues Passwort")
    with db.session() as s:
        assert accounts.authenticate(s, "staff@test.example", "ein ganz neues Passwort", "9.9.9.9").role == "staff"


def test_guesses_at_once_are_counted_one_after_another(race_db):
    """Eight guesses in parallel (PostgreSQL: eight connections): five are tried, the rest paused."""
    import threading

    from sqlalchemy import func, select

    from grants.models import LoginAttempt
    from tests.factories import build_world

    build_world(race_db)
    barrier, out = threading.Barrier(8), []

    def guess():
        barrier.wait()
        try:
            with race_db.session() as s:
                out.append(accounts.authenticate(s, "chair@test.example", "falsch falsch falsch", "6.6.6.6"))
        except accounts.LoginThrottled:
            out.append("paused")

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert out.count(None) == 5 and out.count("paused") == 3
    with race_db.session() as s:
        assert s.scalar(select(func.count()).select_from(LoginAttempt)) == 5


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
