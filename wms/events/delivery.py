"""Webhook delivery that survives crashes: fan the outbox out, then POST each delivery until it lands.

Two steps, each a plain function over a session factory that owns its transactions, so Celery
tasks and the in-process loop of the embedded default run the same code.

``fan_out``
    For each active endpoint, in one transaction: lock the endpoint row (``SKIP LOCKED``: two
    workers never fan out the same endpoint at once), read the outbox rows after its cursor that
    can no longer change (on PostgreSQL ``txid < pg_snapshot_xmin(pg_current_snapshot())``, in
    ``(txid, id)`` order, so a transaction that commits late is never skipped; on SQLite ids
    commit in order), insert a ``webhook_deliveries`` row for each matching type (a duplicate is
    ignored by the ``(endpoint_id, event_id)`` key) and move the cursor past every row read,
    matching or not. The deliveries and the cursor commit together, so a crash repeats the whole
    step or none of it.

``deliver``
    Claim one delivery with a conditional UPDATE (pending, due, lease free: lease it, count the
    attempt) and commit; POST the signed event; record the answer. A 2xx marks it delivered;
    anything else (a status, a timeout, a refused connection) schedules the next attempt by the
    retry schedule with jitter, and the attempt after the last delay that fails dead-letters it.
    A worker killed mid-attempt leaves the lease, which runs out, and the delivery is tried
    again: a consumer may receive an event twice (it deduplicates on ``webhook-id``), never zero
    times. A delivered row is never sent again unless replayed. Retries wait the schedule's
    delay stretched or shrunk by up to 20% (jitter), so a burst of failures does not retry in
    lockstep.

``queue_due`` (Celery only)
    Hands due deliveries to the task queue by leasing them for the same time, and gives each
    task the lease as its ticket: sweeps every few seconds then do not enqueue a delivery again
    while its task waits in the queue, and a task lost with a killed worker is re-issued once the
    lease runs out. The in-process loop of the embedded default calls ``deliver`` directly.

    410 Gone is treated like any other failure (retried, then dead-lettered); the endpoint is not
    disabled automatically.

The body is ``{"id", "type", "timestamp", "data"}``; ``id`` is the event id, also sent as
``webhook-id``, and ``timestamp`` the event's creation time.
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
import structlog
from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    exists,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from integrations.storefront.signing import sign
from wms import __version__
from wms.config import DEFAULT_WEBHOOK_RETRY_SCHEDULE, Settings
from wms.db.base import utcnow
from wms.db.outbox import OutboxEvent
from wms.db.uow import UnitOfWork, transaction
from wms.db.upsert import insert_for
from wms.events.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from wms.events.webhooks import matches

log = structlog.get_logger("wms.webhooks")

SessionFactory = sessionmaker[Session]
USER_AGENT = f"wms-webhooks/{__version__}"
_HORIZON: ColumnClause[Any] = literal_column(
    "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
)
_ERROR_CHARS = 500


@dataclass(frozen=True)
class DeliveryConfig:
    """How deliveries are attempted; built from the settings in production."""

    retry_schedule: tuple[float, ...] = tuple(float(s) for s in DEFAULT_WEBHOOK_RETRY_SCHEDULE)
    timeout: float = 10.0
    lease: float = 60.0
    jitter: float = 0.2  # each delay is stretched or shrunk by up to this fraction
    fan_out_batch: int = 1000
    sweep_interval: float = 2.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryConfig:
        timeout = settings.webhook_timeout_seconds
        return cls(
            retry_schedule=tuple(settings.webhook_retry_schedule),
            timeout=timeout,
            # The lease must outlive an attempt, or a slow endpoint is sent to twice at once.
            lease=max(settings.webhook_lease_seconds, timeout + 2),
            sweep_interval=settings.webhook_sweep_seconds,
        )

    @property
    def attempts(self) -> int:
        """Attempts before a delivery is dead-lettered: the first plus one per delay."""
        return len(self.retry_schedule) + 1


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # the attempt failed; the next one is scheduled
    DEAD = "dead"  # the last attempt failed; dead-lettered
    SKIPPED = "skipped"  # nothing to do: delivered, dead, not due, leased elsewhere, or disabled
    SUPERSEDED = "superseded"  # sent, but replayed or taken over meanwhile: the answer is dropped


def retry_delay(
    attempts: int,
    schedule: Sequence[float],
    *,
    jitter: float = 0.2,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait after failed attempt number ``attempts`` (1-based); None: give up."""
    if attempts > len(schedule):
        return None
    base = schedule[attempts - 1]
    factor = (rng or _rng).uniform(1 - jitter, 1 + jitter) if jitter else 1.0
    return base * factor


_rng = random.Random()  # noqa: S311 - jitter spreads retries, it is not a secret


# --- fan-out ----------------------------------------------------------------------------------


def fan_out_ids(factory: SessionFactory, *, batch: int = 1000) -> list[int]:
    """Create the deliveries of every active endpoint up to the safe end of the outbox.

    Returns the ids of the deliveries created. Endpoints another worker is fanning out right
    now are skipped: that worker moves their cursor.
    """
    with factory() as session:
        endpoint_ids = list(
            session.scalars(
                select(WebhookEndpoint.id)
                .where(WebhookEndpoint.active.is_(True))
                .order_by(WebhookEndpoint.id)
            )
        )
    created: list[int] = []
    for endpoint_id in endpoint_ids:
        step = _fan_out_step(endpoint_id, batch)
        while True:
            ids, more = transaction(factory, step)
            created += ids
            if not more:
                break
    return created


def _fan_out_step(endpoint_id: int, batch: int) -> Callable[[UnitOfWork], tuple[list[int], bool]]:
    return lambda uow: _fan_out_endpoint(uow.session, endpoint_id, batch)


def fan_out(factory: SessionFactory, *, batch: int = 1000) -> int:
    """``fan_out_ids``, counted: how many deliveries were created."""
    return len(fan_out_ids(factory, batch=batch))


def _fan_out_endpoint(session: Session, endpoint_id: int, batch: int) -> tuple[list[int], bool]:
    endpoint = session.execute(
        select(WebhookEndpoint.event_types, WebhookEndpoint.cursor_txid, WebhookEndpoint.cursor_id)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.active.is_(True))
        .with_for_update(skip_locked=True)
    ).first()
    if endpoint is None:  # disabled, or another worker holds it
        return [], False
    patterns, cursor_txid, cursor_id = list(endpoint[0]), endpoint[1], endpoint[2]
    stmt = (
        select(OutboxEvent.id, OutboxEvent.txid, OutboxEvent.type)
        .where(tuple_(OutboxEvent.txid, OutboxEvent.id) > tuple_(cursor_txid, cursor_id))
        .order_by(OutboxEvent.txid, OutboxEvent.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Only transactions older than every one still running: their rows can no longer appear.
        stmt = stmt.where(OutboxEvent.txid < select(_HORIZON).scalar_subquery())
    rows = session.execute(stmt).all()
    if not rows:
        return [], False
    now = utcnow()
    values = [
        {
            "endpoint_id": endpoint_id,
            "event_id": event_id,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event_id, _txid, type_ in rows
        if matches(type_, patterns)
    ]
    created: list[int] = []
    if values:
        table = WebhookDelivery.__table__
        created = list(
            session.scalars(
                insert_for(session, table)
                .values(values)
                .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
                .returning(table.c.id)
            )
        )
    last = rows[-1]
    session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(cursor_txid=last[1], cursor_id=last[0])
        .execution_options(synchronize_session=False)
    )
    return created, len(rows) == batch


# --- delivery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    attempts: int
    url: str
    secret: str
    event_id: str
    body: bytes


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """A pending delivery of an active endpoint, due, and not held by an attempt or a queue."""
    return (
        WebhookDelivery.status == DeliveryStatus.PENDING.value,
        WebhookDelivery.next_attempt_at <= now,
        or_(WebhookDelivery.leased_until.is_(None), WebhookDelivery.leased_until < now),
        exists().where(
            WebhookEndpoint.id == WebhookDelivery.endpoint_id, WebhookEndpoint.active.is_(True)
        ),
    )


def due_deliveries(factory: SessionFactory, limit: int = 500) -> list[int]:
    """Pending deliveries of active endpoints whose attempt is due and not leased, oldest first."""
    with factory() as session:
        return list(
            session.scalars(
                select(WebhookDelivery.id)
                .where(*_due(utcnow()))
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(limit)
            )
        )


@dataclass(frozen=True)
class Ticket:
    """A delivery handed to a queue: only the task carrying ``token`` may claim it until the
    queue lease runs out, so a sweep does not enqueue it again while it waits its turn."""

    delivery_id: int
    token: str


def queue_due(
    factory: SessionFactory,
    *,
    lease: float,
    limit: int = 500,
    ids: Sequence[int] | None = None,
) -> list[Ticket]:
    """Lease up to ``limit`` due deliveries (of ``ids``, if given) to a queue for ``lease`` s.

    If the task is lost (a killed worker's prefetched message), the lease runs out and the next
    sweep hands the delivery over again.
    """
    if ids is not None and not ids:
        return []
    until = utcnow() + timedelta(seconds=lease)

    def work(uow: UnitOfWork) -> list[int]:
        candidates = select(WebhookDelivery.id).where(*_due(utcnow()))
        if ids is not None:
            candidates = candidates.where(WebhookDelivery.id.in_(list(ids)))
        candidates = (
            candidates.order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit if ids is None else len(ids))
            .with_for_update(skip_locked=True)
        )
        return list(
            uow.session.scalars(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(candidates.scalar_subquery()))
                .values(leased_until=until)
                .returning(WebhookDelivery.id)
                .execution_options(synchronize_session=False)
            )
        )

    token = until.isoformat()
    return [Ticket(delivery_id, token) for delivery_id in sorted(transaction(factory, work))]


def event_body(event_id: str, type_: str, created_at: datetime, data: dict[str, Any]) -> bytes:
    """The JSON body of a webhook, compact and with its keys in a fixed order."""
    payload = {"id": event_id, "type": type_, "timestamp": created_at.isoformat(), "data": data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _claim(session: Session, delivery_id: int, lease: float, token: str | None) -> _Claim | None:
    now = utcnow()
    free = or_(WebhookDelivery.leased_until.is_(None), WebhookDelivery.leased_until < now)
    if token is not None:  # the queue lease this task was handed
        try:
            queued_until = datetime.fromisoformat(token)
        except ValueError:
            return None  # not a token this module issued
        free = or_(free, WebhookDelivery.leased_until == queued_until)
    endpoint_active = exists().where(
        WebhookEndpoint.id == WebhookDelivery.endpoint_id, WebhookEndpoint.active.is_(True)
    )
    claimed = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
            WebhookDelivery.next_attempt_at <= now,
            free,
            endpoint_active,
        )
        .values(leased_until=now + timedelta(seconds=lease), attempts=WebhookDelivery.attempts + 1)
        .returning(WebhookDelivery.attempts, WebhookDelivery.endpoint_id, WebhookDelivery.event_id)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        return None
    attempts, endpoint_id, event_pk = claimed
    url, secret = session.execute(
        select(WebhookEndpoint.url, WebhookEndpoint.secret).where(WebhookEndpoint.id == endpoint_id)
    ).one()
    event = session.execute(
        select(
            OutboxEvent.event_id, OutboxEvent.type, OutboxEvent.created_at, OutboxEvent.data
        ).where(OutboxEvent.id == event_pk)
    ).one()
    return _Claim(attempts, url, secret, event[0], event_body(*event))


_client_lock = threading.Lock()
_clients: dict[int, httpx.Client] = {}


def _shared_client() -> httpx.Client:
    """One connection pool per process (a Celery child builds its own after the fork)."""
    pid = os.getpid()
    with _client_lock:
        client = _clients.get(pid)
        if client is None:
            client = httpx.Client(
                follow_redirects=False,
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            )
            _clients.clear()
            _clients[pid] = client
        return client


def _post(client: httpx.Client, claim: _Claim, timeout: float) -> tuple[int | None, str | None]:
    """Send one attempt: (status code, None) when answered, (None, error) when not."""
    headers = {
        **sign(claim.secret, claim.event_id, claim.body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    try:
        with client.stream(
            "POST", claim.url, content=claim.body, headers=headers, timeout=timeout
        ) as response:
            if 200 <= response.status_code < 300:
                return response.status_code, None
            snippet = b""
            for chunk in response.iter_bytes():
                snippet += chunk
                if len(snippet) >= _ERROR_CHARS:
                    break
            text = snippet[:_ERROR_CHARS].decode("utf-8", "replace").strip()
            return response.status_code, f"HTTP {response.status_code}: {text}".strip()
    except Exception as exc:  # a bad endpoint must never take the worker down
        return None, f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]


def deliver(
    factory: SessionFactory,
    delivery_id: int,
    *,
    config: DeliveryConfig | None = None,
    client: httpx.Client | None = None,
    token: str | None = None,
) -> Outcome:
    """Make one attempt at a delivery if it is due; record and return what happened.

    ``token`` is the queue lease of a ``Ticket``: with it the attempt may start although the
    delivery is leased to the queue.
    """
    config = config or DeliveryConfig()
    claim = transaction(factory, lambda uow: _claim(uow.session, delivery_id, config.lease, token))
    if claim is None:
        return Outcome.SKIPPED
    status_code, error = _post(client or _shared_client(), claim, config.timeout)
    now = utcnow()
    mine = (
        WebhookDelivery.id == delivery_id,
        WebhookDelivery.status == DeliveryStatus.PENDING.value,
        WebhookDelivery.attempts == claim.attempts,  # not replayed or taken over since the claim
    )
    if error is None:
        values: dict[str, Any] = {
            "status": DeliveryStatus.DELIVERED.value,
            "delivered_at": now,
            "leased_until": None,
            "last_status_code": status_code,
            "last_error": None,
        }
        outcome = Outcome.DELIVERED
    else:
        delay = retry_delay(claim.attempts, config.retry_schedule, jitter=config.jitter)
        values = {"leased_until": None, "last_status_code": status_code, "last_error": error}
        if delay is None:
            values["status"] = DeliveryStatus.DEAD.value
            outcome = Outcome.DEAD
        else:
            values["next_attempt_at"] = now + timedelta(seconds=delay)
            outcome = Outcome.RETRY

    def record(uow: UnitOfWork) -> int:
        result = uow.session.execute(
            update(WebhookDelivery)
            .where(*mine)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    if transaction(factory, record) == 0:
        outcome = Outcome.SUPERSEDED
    log_method = log.info if outcome is Outcome.DELIVERED else log.warning
    log_method(
        "webhook_attempt",
        delivery=delivery_id,
        event_id=claim.event_id,
        attempt=claim.attempts,
        outcome=outcome.value,
        status=status_code,
        error=error,
    )
    return outcome


def sweep(
    factory: SessionFactory,
    enqueue: Callable[[Ticket], object],
    *,
    lease: float,
    limit: int = 500,
    batch: int = 1000,
) -> dict[str, int]:
    """The safety net: fan out what the nudges missed, then lease every due delivery that no
    queue holds to ``enqueue`` (a Celery task per ticket)."""
    created = fan_out_ids(factory, batch=batch)
    tickets = queue_due(factory, lease=lease, limit=limit)
    for ticket in tickets:
        enqueue(ticket)
    return {"fanned_out": len(created), "enqueued": len(tickets)}
