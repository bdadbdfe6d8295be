"""Webhook endpoints: who receives which events, where, signed with which secret.

An endpoint belongs to the API key that created it (``owner``); an owner sees and changes only its
own endpoints, and ``owner=None`` (an administrator) sees every one. The ``whsec_`` secret is
returned once, when the endpoint is created.

The secret is stored as it is given out (the deliverer needs it to sign): no ``cryptography``
package is installed to encrypt it at rest, so protect the database and its backups accordingly.

A new endpoint starts at the current end of the outbox: it receives the events committed after it
was created (and possibly a few committed just before, never fewer). ``replay`` sends older or
failed ones again.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    ColumnElement,
    false,
    func,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Session

from integrations.storefront.signing import generate_secret
from wms.db.base import utcnow
from wms.db.outbox import OutboxEvent
from wms.db.uow import UnitOfWork
from wms.db.upsert import insert_for
from wms.errors import Conflict, NotFound, ValidationFailed
from wms.events.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

MAX_URL_LENGTH = 2048
MAX_EVENT_TYPES = 50
MAX_REPLAY_IDS = 1000
# An exact type ("inventory.level.updated"), a prefix wildcard ("inventory.*"), or "*".
TYPE_PATTERN = re.compile(r"\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?")
_OUTBOX_END = text(
    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1, coalesce(max(id), 0) "
    "FROM outbox_events"
)


@dataclass(frozen=True)
class EndpointView:
    id: str
    url: str
    description: str
    event_types: list[str]
    active: bool
    created_at: datetime
    disabled_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "description": self.description,
            "event_types": self.event_types,
            "active": self.active,
            "created_at": self.created_at,
            "disabled_at": self.disabled_at,
        }


@dataclass(frozen=True)
class CreatedEndpoint:
    """A new endpoint and its signing secret, which is shown only this once."""

    endpoint: EndpointView
    secret: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.endpoint.as_dict(), "secret": self.secret}


@dataclass(frozen=True)
class DeliveryView:
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# --- validation -------------------------------------------------------------------------------


def validate_url(url: str, *, field: str = "url") -> str:
    """An absolute http(s) URL with a host, no fragment, at most 2048 characters."""
    url = url.strip()
    if not url:
        raise ValidationFailed("give the URL the events are posted to", field=field)
    if len(url) > MAX_URL_LENGTH:
        raise ValidationFailed(f"the URL is longer than {MAX_URL_LENGTH} characters", field=field)
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValidationFailed("the URL contains whitespace or control characters", field=field)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationFailed(f"not a valid URL: {exc}", field=field) from exc
    if parts.scheme.lower() not in {"http", "https"}:
        raise ValidationFailed("the URL must start with http:// or https://", field=field)
    host = parts.hostname or ""
    if not host:
        raise ValidationFailed("the URL has no host name", field=field)
    if port == 0:
        raise ValidationFailed("the URL's port must be 1 to 65535", field=field)
    if parts.fragment:
        raise ValidationFailed("the URL must not have a #fragment", field=field)
    if ":" in host:  # an IPv6 literal
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise ValidationFailed("the URL's host is not a valid address", field=field) from exc
    return url


def validate_event_types(values: Sequence[str], *, field: str = "event_types") -> list[str]:
    """Exact types or ``prefix.*`` patterns, deduplicated in order; empty (or ``*``) = all."""
    found: dict[str, None] = {}
    for index, value in enumerate(values):
        name = value.strip()
        if len(name) > 64 or TYPE_PATTERN.fullmatch(name) is None:
            raise ValidationFailed(
                f"{name[:64]!r} is not an event type or a pattern like 'inventory.*'",
                field=f"{field}[{index}]",
            )
        found[name] = None
    if len(found) > MAX_EVENT_TYPES:
        raise ValidationFailed(f"give at most {MAX_EVENT_TYPES} event types", field=field)
    return [] if "*" in found else list(found)


def matches(event_type: str, patterns: Sequence[str]) -> bool:
    """Whether an endpoint subscribed to ``patterns`` receives an event of ``event_type``."""
    if not patterns:
        return True
    for pattern in patterns:
        if pattern in ("*", event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def type_filter(patterns: Sequence[str]) -> ColumnElement[bool]:
    """The SQL form of ``matches`` over ``OutboxEvent.type``."""
    if not patterns or "*" in patterns:
        return true()
    exact = [p for p in patterns if not p.endswith(".*")]
    conditions: list[ColumnElement[bool]] = []
    if exact:
        conditions.append(OutboxEvent.type.in_(exact))
    conditions += [
        OutboxEvent.type.startswith(p[:-1], autoescape=True) for p in patterns if p.endswith(".*")
    ]
    return or_(false(), *conditions)


# --- endpoints --------------------------------------------------------------------------------


def _view(endpoint: WebhookEndpoint) -> EndpointView:
    return EndpointView(
        id=endpoint.public_id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=list(endpoint.event_types),
        active=endpoint.active,
        created_at=endpoint.created_at,
        disabled_at=endpoint.disabled_at,
    )


def outbox_end(session: Session) -> tuple[int, int]:
    """A fan-out cursor at the current end of the outbox, safe against late commits.

    On PostgreSQL every transaction below the horizon (the oldest still running) has finished,
    so ``(horizon - 1, max id)`` is after every row they wrote, and every transaction still
    running, or yet to start, has an id at or above the horizon: its rows come after the cursor.
    """
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(_OUTBOX_END).one()
        return int(row[0]), int(row[1])
    return 0, int(session.scalar(select(func.coalesce(func.max(OutboxEvent.id), 0))) or 0)


def create_endpoint(
    uow: UnitOfWork,
    *,
    owner: str,
    url: str,
    event_types: Sequence[str] = (),
    description: str = "",
) -> CreatedEndpoint:
    """Register ``url`` for events of ``event_types`` from now on; returns its new secret."""
    session = uow.session
    clean_url = validate_url(url)
    types = validate_event_types(event_types)
    if len(description) > 255:
        raise ValidationFailed("the description is longer than 255 characters", field="description")
    cursor_txid, cursor_id = outbox_end(session)  # before this transaction writes anything
    secret = generate_secret(32)
    endpoint = WebhookEndpoint(
        public_id="we_" + secrets.token_hex(12),
        owner=owner,
        url=clean_url,
        description=description.strip(),
        event_types=types,
        secret=secret,
        active=True,
        cursor_txid=cursor_txid,
        cursor_id=cursor_id,
        created_at=utcnow(),
    )
    session.add(endpoint)
    session.flush()
    return CreatedEndpoint(_view(endpoint), secret)


def _owned(
    session: Session, public_id: str, owner: str | None, *, lock: bool = False
) -> WebhookEndpoint:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.public_id == public_id)
    if owner is not None:
        stmt = stmt.where(WebhookEndpoint.owner == owner)
    if lock:
        stmt = stmt.with_for_update()
    endpoint = session.scalar(stmt)
    if endpoint is None:  # another owner's endpoint is as unknown as a missing one
        raise NotFound(f"no webhook endpoint {public_id!r}", endpoint=public_id)
    return endpoint


def get_endpoint(uow: UnitOfWork, public_id: str, *, owner: str | None) -> EndpointView:
    return _view(_owned(uow.session, public_id, owner))


def list_endpoints(
    uow: UnitOfWork, *, owner: str | None, after: int = 0, limit: int = 100
) -> tuple[list[EndpointView], int | None]:
    """Endpoints by creation; returns the page and the id to continue after (None at the end)."""
    stmt = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.id > after)
        .order_by(WebhookEndpoint.id)
        .limit(limit + 1)
    )
    if owner is not None:
        stmt = stmt.where(WebhookEndpoint.owner == owner)
    rows = list(uow.session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    return [_view(row) for row in rows], (rows[-1].id if more else None)


def disable_endpoint(uow: UnitOfWork, public_id: str, *, owner: str | None) -> EndpointView:
    """Stop sending to an endpoint; its undelivered deliveries stay, unsent. Idempotent."""
    endpoint = _owned(uow.session, public_id, owner, lock=True)
    if endpoint.active:
        endpoint.active = False
        endpoint.disabled_at = utcnow()
        uow.session.flush()
    return _view(endpoint)


def endpoint_secret(uow: UnitOfWork, public_id: str) -> str:
    """The signing secret (for the deliverer and for tests; never returned by the API)."""
    return _owned(uow.session, public_id, None).secret


# --- deliveries -------------------------------------------------------------------------------


def list_deliveries(
    uow: UnitOfWork,
    public_id: str,
    *,
    owner: str | None,
    status: DeliveryStatus | None = None,
    after: int = 0,
    limit: int = 100,
) -> tuple[list[DeliveryView], int | None]:
    """An endpoint's deliveries, oldest first, optionally of one status."""
    endpoint = _owned(uow.session, public_id, owner)
    stmt = (
        select(WebhookDelivery, OutboxEvent.event_id, OutboxEvent.type)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.id > after)
        .order_by(WebhookDelivery.id)
        .limit(limit + 1)
    )
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status.value)
    rows = list(uow.session.execute(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    views = [
        DeliveryView(
            id=d.id,
            event_id=event_id,
            event_type=event_type,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
        )
        for d, event_id, event_type in rows
    ]
    return views, (rows[-1][0].id if more else None)


_RESET = {
    "status": DeliveryStatus.PENDING.value,
    "attempts": 0,
    "leased_until": None,
    "delivered_at": None,
}


def replay(
    uow: UnitOfWork,
    public_id: str,
    *,
    owner: str | None,
    status: DeliveryStatus | None = None,
    event_ids: Sequence[str] | None = None,
    since: datetime | None = None,
) -> int:
    """Send deliveries again from now, on a fresh retry schedule; returns how many.

    Exactly one of: ``status=dead`` (every dead-lettered delivery), ``event_ids`` (those events,
    which must exist and match the endpoint's types; missing deliveries are created), or
    ``since`` (every matching event created at or after it, delivered or not, created if missing).
    """
    chosen = [
        name
        for name, value in (("status", status), ("event_ids", event_ids), ("since", since))
        if value is not None
    ]
    if len(chosen) != 1:
        raise ValidationFailed(
            "give exactly one of status, event_ids or since", field="body", given=chosen
        )
    session = uow.session
    endpoint = _owned(session, public_id, owner, lock=True)
    if not endpoint.active:
        raise Conflict(f"webhook endpoint {public_id!r} is disabled", endpoint=public_id)
    now = utcnow()
    reset = {**_RESET, "next_attempt_at": now}
    patterns = list(endpoint.event_types)
    if status is not None:
        if status is not DeliveryStatus.DEAD:
            raise ValidationFailed("only dead deliveries can be replayed by status", field="status")
        result = session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == endpoint.id,
                WebhookDelivery.status == DeliveryStatus.DEAD.value,
            )
            .values(**reset)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
    if event_ids is not None:
        wanted = list(dict.fromkeys(event_ids))
        if not wanted:
            raise ValidationFailed("give at least one event id", field="event_ids")
        if len(wanted) > MAX_REPLAY_IDS:
            raise ValidationFailed(
                f"give at most {MAX_REPLAY_IDS} event ids at once", field="event_ids"
            )
        found: dict[str, str] = dict(
            session.execute(
                select(OutboxEvent.event_id, OutboxEvent.type).where(
                    OutboxEvent.event_id.in_(wanted)
                )
            ).all()
        )
        missing = [e for e in wanted if e not in found]
        if missing:
            raise NotFound("no such event(s)", field="event_ids", missing=missing[:20])
        unsubscribed = [e for e in wanted if not matches(found[e], patterns)]
        if unsubscribed:
            raise ValidationFailed(
                "the endpoint does not subscribe to these events' types",
                field="event_ids",
                unsubscribed=unsubscribed[:20],
            )
        which: ColumnElement[bool] = OutboxEvent.event_id.in_(wanted)
    else:
        assert since is not None
        if since.tzinfo is None:
            raise ValidationFailed("give `since` with a time zone", field="since")
        which = (OutboxEvent.created_at >= since) & type_filter(patterns)
    event_rows = select(OutboxEvent.id).where(which)
    updated = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.event_id.in_(event_rows.scalar_subquery()),
        )
        .values(**reset)
        .execution_options(synchronize_session=False)
    )
    table = WebhookDelivery.__table__
    inserted = session.scalars(
        insert_for(session, table)
        .from_select(
            ["endpoint_id", "event_id", "status", "attempts", "next_attempt_at", "created_at"],
            select(
                literal(endpoint.id),
                OutboxEvent.id,
                literal(DeliveryStatus.PENDING.value),
                literal(0),
                literal(now, WebhookDelivery.next_attempt_at.type),
                literal(now, WebhookDelivery.created_at.type),
            ).where(which),
        )
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
        .returning(table.c.id)
    ).all()
    return int(updated.rowcount) + len(inserted)  # type: ignore[attr-defined]
