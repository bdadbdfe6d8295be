"""Idempotency records: a request repeated with the same key gets the first answer, and books once.

The handheld sends every scan with a client-generated id; the API's state-changing POSTs take an
``Idempotency-Key`` header. Both land here, keyed by who sent them (``owner``) and the key. The
record is written in the same transaction as the change it answers for, so a key is either booked
with its effect or not at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from wms.db.base import Base, BigId, utcnow
from wms.errors import Conflict, ValidationFailed

MAX_KEY_LENGTH = 64


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("owner", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Stored:
    status_code: int
    response: dict[str, Any]


def fingerprint(payload: Any) -> str:
    """A stable digest of a request body, to tell a retry from a different request reusing a key."""
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def check_key(key: str, *, field: str = "Idempotency-Key") -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationFailed(
            f"must be 1 to {MAX_KEY_LENGTH} printable ASCII characters", field=field
        )
    return key


def recall(session: Session, *, owner: str, key: str, fingerprint: str) -> Stored | None:
    """The stored answer for ``key``, or None; a different request under the same key is refused."""
    row = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
        )
    )
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise Conflict(
            f"key {key} was already used for a different request", field="Idempotency-Key"
        )
    return Stored(row.status_code, row.response)


def remember(
    session: Session,
    *,
    owner: str,
    key: str,
    fingerprint: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    """Store the answer to ``key`` in the caller's transaction."""
    session.add(
        IdempotencyRecord(
            owner=owner,
            key=key,
            fingerprint=fingerprint,
            status_code=status_code,
            response=response,
        )
    )
    session.flush()
