"""Handheld sign-in on PostgreSQL: PINs with lockout, badges, supervisors, shift-long sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories
from tests.conftest import Database
from wms.auth import sessions
from wms.auth.models import Role
from wms.auth.services import UserRef, create_user
from wms.errors import Forbidden, Unauthorized, ValidationFailed

PIN = "2468"


@pytest.fixture
def staff(pg: Database) -> Database:
    """ola (operator, PIN 2468, a badge), sam (supervisor) and ada (admin) with badges."""
    with pg.uow() as uow:
        for username, role in (("ola", "operator"), ("sam", "supervisor"), ("ada", "admin")):
            create_user(
                uow,
                username=username,
                display_name=username.title(),
                role=role,
                password="secret",
            )
            sessions.set_badge(uow, username=username, badge=f"BADGE-{username.upper()}-0001")
        sessions.set_pin(uow, username="ola", pin=PIN)
        uow.commit()
    return pg


def sign_in(db: Database, pin: str, username: str = "ola") -> UserRef:
    """Check a PIN as the sign-in route does: a refusal still commits the failure count."""
    with db.uow() as uow:
        try:
            user = sessions.check_pin(uow, username=username, pin=pin)
        except Unauthorized:
            uow.commit()
            raise
        uow.commit()
    return user


def failed_logins(db: Database, username: str = "ola") -> tuple[int, bool]:
    """(failed_logins, locked now) of a user."""
    with db.engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT failed_logins, coalesce(locked_until > now(), false) FROM users "
            "WHERE username = %(u)s",
            {"u": username},
        ).one()
    return (row[0], row[1])


def start(db: Database, user: UserRef, lasts: timedelta = sessions.SHIFT) -> str:
    with db.uow() as uow:
        token = sessions.start_session(uow, user=user, lasts=lasts)
        uow.commit()
    return token


def load(db: Database, token: str) -> sessions.SessionInfo:
    with db.uow() as uow:
        return sessions.load_session(uow.session, token)


# PINs


def test_the_right_pin_signs_in_and_the_pin_is_stored_hashed(staff: Database) -> None:
    user = sign_in(staff, PIN)
    assert (user.username, user.role) == ("ola", Role.OPERATOR)
    assert sign_in(staff, PIN, username=" OLA ").username == "ola"
    assert PIN not in str(staff.scalar("SELECT pin_hash FROM users WHERE username = 'ola'"))


@pytest.mark.parametrize(
    ("username", "pin"),
    [("ola", "1357"), ("nobody", PIN), ("sam", PIN)],  # sam has no PIN
    ids=["wrong-pin", "unknown-user", "no-pin-set"],
)
def test_a_wrong_pin_or_user_is_refused_without_saying_which(
    staff: Database, username: str, pin: str
) -> None:
    with pytest.raises(Unauthorized) as caught:
        sign_in(staff, pin, username=username)
    assert caught.value.message == "unknown user or wrong PIN"


def test_an_inactive_user_cannot_sign_in(staff: Database) -> None:
    with staff.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE users SET active = false WHERE username = 'ola'")
    with pytest.raises(Unauthorized):
        sign_in(staff, PIN)
    with staff.uow() as uow, pytest.raises(Unauthorized):
        sessions.check_badge(uow, badge="BADGE-OLA-0001")


@pytest.mark.parametrize("pin", ["123", "1234567890123", "12a4", "", "\uff11\uff12\uff13\uff14"])
def test_a_pin_is_4_to_12_ascii_digits(staff: Database, pin: str) -> None:
    with staff.uow() as uow, pytest.raises(ValidationFailed, match="4 to 12 digits"):
        sessions.set_pin(uow, username="sam", pin=pin)


def test_five_wrong_pins_lock_the_account_even_for_the_right_pin(staff: Database) -> None:
    for attempt in range(1, 5):
        with pytest.raises(Unauthorized, match="wrong PIN"):
            sign_in(staff, "0000")
        assert failed_logins(staff) == (attempt, False)
    with pytest.raises(Unauthorized, match="wrong PIN"):
        sign_in(staff, "0000")
    assert failed_logins(staff) == (0, True)
    with pytest.raises(Unauthorized, match="too many wrong PINs; try again in 15 min"):
        sign_in(staff, PIN)
    # Once the lock has run out, the right PIN signs in again.
    with staff.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE users SET locked_until = now() - interval '1 second' WHERE username = 'ola'"
        )
    assert sign_in(staff, PIN).username == "ola"
    assert staff.scalar("SELECT locked_until FROM users WHERE username = 'ola'") is None


def test_the_right_pin_clears_earlier_failures(staff: Database) -> None:
    for _ in range(4):
        with pytest.raises(Unauthorized):
            sign_in(staff, "0000")
    sign_in(staff, PIN)
    assert failed_logins(staff) == (0, False)
    with pytest.raises(Unauthorized):
        sign_in(staff, "0000")
    assert failed_logins(staff) == (1, False)  # four more tries before a lock, not none


def test_failures_are_counted_per_user(staff: Database) -> None:
    with staff.uow() as uow:
        sessions.set_pin(uow, username="sam", pin="1111")
        uow.commit()
    for _ in range(5):
        with pytest.raises(Unauthorized):
            sign_in(staff, "0000")
    assert sign_in(staff, "1111", username="sam").username == "sam"


# Badges and supervisors


def test_a_badge_signs_in_its_user_and_is_stored_as_a_digest(staff: Database) -> None:
    with staff.uow() as uow:
        assert sessions.check_badge(uow, badge=" BADGE-OLA-0001\r\n").username == "ola"
        with pytest.raises(Unauthorized, match="badge is not known"):
            sessions.check_badge(uow, badge="BADGE-XXX-0001")
    assert staff.scalar("SELECT count(*) FROM users WHERE badge_hash LIKE 'BADGE%'") == 0


def test_a_badge_belongs_to_one_user(staff: Database) -> None:
    with staff.uow() as uow, pytest.raises(ValidationFailed, match="another user"):
        sessions.set_badge(uow, username="sam", badge="BADGE-OLA-0001")
    with staff.uow() as uow, pytest.raises(ValidationFailed, match="at least 8"):
        sessions.set_badge(uow, username="sam", badge="SHORT")


def test_an_operator_cannot_approve_as_supervisor(staff: Database) -> None:
    with staff.uow() as uow, pytest.raises(Forbidden) as caught:
        sessions.check_supervisor(uow, badge="BADGE-OLA-0001")
    assert caught.value.message == "Ola is not a supervisor"
    assert caught.value.field == "badge"


@pytest.mark.parametrize(("username", "role"), [("sam", Role.SUPERVISOR), ("ada", Role.ADMIN)])
def test_supervisors_and_admins_approve(staff: Database, username: str, role: Role) -> None:
    with staff.uow() as uow:
        user = sessions.check_supervisor(uow, badge=f"BADGE-{username.upper()}-0001")
    assert (user.username, user.role) == (username, role)


def test_an_unknown_badge_approves_nothing(staff: Database) -> None:
    with staff.uow() as uow, pytest.raises(Unauthorized):
        sessions.check_supervisor(uow, badge="BADGE-NOBODY-01")


# Sessions


def test_a_session_is_loaded_by_its_token_which_is_stored_as_a_digest(staff: Database) -> None:
    token = start(staff, sign_in(staff, PIN))
    info = load(staff, token)
    assert (info.user.username, info.warehouse_id, info.state) == ("ola", None, {})
    assert staff.scalar("SELECT token_hash FROM user_sessions") == sessions.digest(token)
    with pytest.raises(Unauthorized, match="not signed in"):
        load(staff, token + "x")


def test_an_expired_session_is_refused(staff: Database) -> None:
    user = sign_in(staff, PIN)
    token = start(staff, user, lasts=timedelta(seconds=-1))
    with pytest.raises(Unauthorized, match="session has ended"):
        load(staff, token)
    live = start(staff, user)
    load(staff, live)
    with staff.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE user_sessions SET expires_at = now() - interval '1 second' "
            "WHERE token_hash = %(h)s",
            {"h": sessions.digest(live)},
        )
    with pytest.raises(Unauthorized, match="session has ended"):
        load(staff, live)


def test_an_ended_session_is_refused(staff: Database) -> None:
    user = sign_in(staff, PIN)
    token, other = start(staff, user), start(staff, user)
    with staff.uow() as uow:
        sessions.end_session(uow, token=token)
        uow.commit()
    with pytest.raises(Unauthorized, match="session has ended"):
        load(staff, token)
    assert load(staff, other).user.username == "ola"


def test_a_deactivated_user_loses_the_session(staff: Database) -> None:
    token = start(staff, sign_in(staff, PIN))
    with staff.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE users SET active = false WHERE username = 'ola'")
    with pytest.raises(Unauthorized):
        load(staff, token)


def test_signing_in_again_resumes_the_warehouse_and_task(staff: Database) -> None:
    with staff.uow() as uow:
        factories.warehouse(uow, "SHA", bins=1)
        uow.commit()
    sha = int(str(staff.scalar("SELECT id FROM warehouses WHERE code = 'SHA'")))
    user = sign_in(staff, PIN)
    first = start(staff, user)
    state = {"flow": "receive", "step": "quantity", "data": {"receipt": "RC-SHA-000001"}}
    with staff.uow() as uow:
        sessions.save_session(uow.session, load(staff, first).id, state=state, warehouse_id=sha)
        uow.commit()
    with staff.uow() as uow:
        sessions.end_session(uow, token=first)
        uow.commit()
    resumed = load(staff, start(staff, user))
    assert (resumed.warehouse_id, resumed.state) == (sha, state)
    other = load(staff, start(staff, badge_user(staff, "sam")))  # another user starts afresh
    assert (other.warehouse_id, other.state) == (None, {})


def test_a_session_idle_longer_than_a_shift_is_not_resumed(staff: Database) -> None:
    with staff.uow() as uow:
        factories.warehouse(uow, "SHA", bins=1)
        uow.commit()
    sha = int(str(staff.scalar("SELECT id FROM warehouses WHERE code = 'SHA'")))
    user = badge_user(staff, "ola")
    first = start(staff, user)
    with staff.uow() as uow:
        sessions.save_session(
            uow.session, load(staff, first).id, state={"flow": "putaway"}, warehouse_id=sha
        )
        uow.commit()
    with staff.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE user_sessions SET last_seen_at = now() - interval '13 hours'"
        )
    fresh = load(staff, start(staff, user))
    assert (fresh.warehouse_id, fresh.state) == (None, {})


def badge_user(db: Database, username: str) -> UserRef:
    with db.uow() as uow:
        return sessions.check_badge(uow, badge=f"BADGE-{username.upper()}-0001")
