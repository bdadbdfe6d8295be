"""Handheld sign-in: user and PIN or a badge scan, shift-long sessions, supervisor checks.

A session token is random and only its SHA-256 digest is stored. PINs are hashed with Argon2 like
passwords; badges are long random codes printed as barcodes, stored as digests and looked up by
them. Five failed PINs lock the account for fifteen minutes, so a short PIN cannot be guessed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wms.auth.models import SUPERVISING_ROLES, Role, User, UserSession
from wms.auth.services import UserRef
from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import Forbidden, NotFound, Unauthorized, ValidationFailed

SHIFT = timedelta(hours=12)
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
_hasher = PasswordHasher()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _ref(user: User) -> UserRef:
    return UserRef(user.id, user.username, user.display_name, Role(user.role))


def can_supervise(user: UserRef) -> bool:
    return user.role in SUPERVISING_ROLES


def set_pin(uow: UnitOfWork, *, username: str, pin: str) -> None:
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        raise ValidationFailed("a PIN has 4 to 12 digits", field="pin")
    user = _user(uow.session, username)
    user.pin_hash = _hasher.hash(pin)
    uow.session.flush()


def set_badge(uow: UnitOfWork, *, username: str, badge: str) -> None:
    badge = badge.strip()
    if len(badge) < 8 or not badge.isascii() or not badge.isprintable():
        raise ValidationFailed("a badge code has at least 8 printable characters", field="badge")
    other = uow.session.scalar(select(User.username).where(User.badge_hash == digest(badge)))
    if other is not None and other != username:
        raise ValidationFailed("this badge belongs to another user", field="badge")
    _user(uow.session, username).badge_hash = digest(badge)
    uow.session.flush()


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    return user


def check_pin(uow: UnitOfWork, *, username: str, pin: str) -> UserRef:
    """The active user with this PIN; counts failures and locks the account after too many.

    The failure count is written even though the caller's transaction is refused: it is updated
    in a statement of its own that the caller commits with its error handling (see sign_in).
    """
    session = uow.session
    user = session.scalar(
        select(User).where(User.username == username.strip().lower(), User.active)
    )
    if user is None or user.pin_hash is None:
        _hasher.hash(pin)  # as slow as a real check, so timing tells nothing
        raise Unauthorized("unknown user or wrong PIN")
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        minutes = int((user.locked_until - now).total_seconds() // 60) + 1
        raise Unauthorized(f"too many wrong PINs; try again in {minutes} min or ask a supervisor")
    try:
        _hasher.verify(user.pin_hash, pin)
    except (VerificationError, InvalidHashError) as exc:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        session.flush()
        raise Unauthorized("unknown user or wrong PIN") from exc
    if user.failed_logins or user.locked_until:
        user.failed_logins = 0
        user.locked_until = None
    return _ref(user)


def check_badge(uow: UnitOfWork, *, badge: str) -> UserRef:
    user = uow.session.scalar(
        select(User).where(User.badge_hash == digest(badge.strip()), User.active)
    )
    if user is None:
        raise Unauthorized("this badge is not known")
    return _ref(user)


def check_supervisor(uow: UnitOfWork, *, badge: str) -> UserRef:
    """The supervisor whose badge was scanned to approve something; refuses other roles."""
    user = check_badge(uow, badge=badge)
    if not can_supervise(user):
        raise Forbidden(f"{user.display_name} is not a supervisor", field="badge")
    return user


@dataclass(frozen=True)
class SessionInfo:
    id: int
    user: UserRef
    warehouse_id: int | None
    state: dict[str, Any]


def start_session(uow: UnitOfWork, *, user: UserRef, lasts: timedelta = SHIFT) -> str:
    """Open a session for a signed-in user; returns the token (shown to the client once).

    A user signing in again within a shift carries on where the last session stopped (same
    warehouse, same task and step), so that scans queued on the device before a sign-out or an
    expired session replay into the task they were made in.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    previous = uow.session.scalar(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.last_seen_at > now - lasts)
        .order_by(UserSession.last_seen_at.desc())
        .limit(1)
    )
    uow.session.add(
        UserSession(
            token_hash=digest(token),
            user_id=user.id,
            warehouse_id=previous.warehouse_id if previous else None,
            state=dict(previous.state or {}) if previous else {},
            created_at=now,
            expires_at=now + lasts,
            last_seen_at=now,
        )
    )
    uow.session.flush()
    return token


def load_session(session: Session, token: str, *, lock: bool = False) -> SessionInfo:
    """The live session for a token (locked for update when asked); ``Unauthorized`` otherwise."""
    stmt = (
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == digest(token))
    )
    if lock:
        stmt = stmt.with_for_update(of=UserSession)
    row = session.execute(stmt).first()
    if row is None:
        raise Unauthorized("not signed in")
    record, user = row
    if record.ended_at is not None or record.expires_at <= utcnow() or not user.active:
        raise Unauthorized("the session has ended; sign in again")
    return SessionInfo(record.id, _ref(user), record.warehouse_id, dict(record.state or {}))


def save_session(
    session: Session,
    session_id: int,
    *,
    state: dict[str, Any] | None = None,
    warehouse_id: int | None = None,
) -> None:
    values: dict[str, Any] = {"last_seen_at": utcnow()}
    if state is not None:
        values["state"] = state
    if warehouse_id is not None:
        values["warehouse_id"] = warehouse_id
    session.execute(update(UserSession).where(UserSession.id == session_id).values(**values))


def clear_warehouse(session: Session, session_id: int, *, state: dict[str, Any]) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id)
        .values(warehouse_id=None, state=state, last_seen_at=utcnow())
    )


def end_session(uow: UnitOfWork, *, token: str) -> None:
    uow.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == digest(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
