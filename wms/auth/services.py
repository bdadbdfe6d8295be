"""Users and API keys: creation, password and key verification."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from wms.auth.models import ApiKey, Role, Scope, User
from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import AlreadyExists, Unauthorized, ValidationFailed

_hasher = PasswordHasher()
KEY_PREFIX = "wms"
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class UserRef:
    id: int
    username: str
    display_name: str
    role: Role


@dataclass(frozen=True)
class ApiPrincipal:
    """Who is calling through an API key, and what it may do."""

    key_id: int
    name: str
    scopes: frozenset[Scope]

    def allows(self, scope: Scope) -> bool:
        # admin implies every other scope; storefront implies read.
        if Scope.ADMIN in self.scopes or scope in self.scopes:
            return True
        return scope is Scope.READ and Scope.STOREFRONT in self.scopes

    @property
    def owner(self) -> str:
        """What this key's reservations, orders, webhook endpoints and idempotency keys are
        recorded under."""
        return api_key_owner(self.key_id)


def api_key_owner(key_id: int) -> str:
    return f"apikey:{key_id}"


@dataclass(frozen=True)
class IssuedKey:
    id: int
    name: str
    scopes: list[str]
    key: str


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    uow: UnitOfWork, *, username: str, display_name: str, role: Role | str, password: str
) -> UserRef:
    """Create a user with a hashed password."""
    if not USERNAME_PATTERN.match(username):
        raise ValidationFailed(
            "a username has 2-64 lower-case letters, digits and . _ -", field="username"
        )
    try:
        role = Role(role)
    except ValueError as exc:
        raise ValidationFailed(f"unknown role {role!r}", field="role") from exc
    if len(password) < 4:
        raise ValidationFailed("a password or PIN has at least 4 characters", field="password")
    session = uow.session
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AlreadyExists(f"user {username} already exists", field="username")
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    return UserRef(user.id, user.username, user.display_name, role)


def authenticate(uow: UnitOfWork, *, username: str, password: str) -> UserRef:
    """The active user with this password; ``Unauthorized`` otherwise (without saying which part)."""
    user = uow.session.scalar(select(User).where(User.username == username, User.active))
    if user is None:
        _hasher.hash(password)  # spend the same time as a real check
        raise Unauthorized("unknown user or wrong password")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        raise Unauthorized("unknown user or wrong password") from exc
    return UserRef(user.id, user.username, user.display_name, Role(user.role))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(uow: UnitOfWork, *, name: str, scopes: list[str]) -> IssuedKey:
    """Issue an API key; the plain key is returned once and only its hash is stored."""
    if not name.strip():
        raise ValidationFailed("an API key needs a name", field="name")
    if not scopes:
        raise ValidationFailed("an API key needs at least one scope", field="scope")
    allowed = {s.value for s in Scope}
    unknown = [s for s in scopes if s not in allowed]
    if unknown:
        raise ValidationFailed(
            f"unknown scope {unknown[0]!r}; use {', '.join(sorted(allowed))}", field="scope"
        )
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=prefix, key_hash=_digest(secret), scopes=sorted(set(scopes)))
    uow.session.add(row)
    uow.session.flush()
    return IssuedKey(row.id, name, row.scopes, f"{KEY_PREFIX}_{prefix}_{secret}")


def verify_api_key(uow: UnitOfWork, *, key: str) -> ApiPrincipal:
    """The principal for a presented key; ``Unauthorized`` if unknown, malformed or revoked."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise Unauthorized("malformed API key; expected wms_<prefix>_<secret>")
    row = uow.session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if (
        row is None
        or row.revoked_at is not None
        or not hmac.compare_digest(row.key_hash, _digest(parts[2]))
    ):
        raise Unauthorized("unknown or revoked API key")
    return ApiPrincipal(row.id, row.name, frozenset(Scope(s) for s in row.scopes))


def revoke_api_key(uow: UnitOfWork, *, key_id: int) -> None:
    """Revoke a key; later requests with it are refused."""
    row = uow.session.get(ApiKey, key_id)
    if row is None:
        raise ValidationFailed(f"no API key {key_id}", field="key_id")
    row.revoked_at = utcnow()
