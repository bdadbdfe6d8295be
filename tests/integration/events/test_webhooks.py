"""Webhook fan-out and delivery on PostgreSQL, against the reference consumer over real HTTP."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from structlog.testing import capture_logs

from integrations.storefront.consumer import StorefrontConsumer
from integrations.storefront.signing import verify
from tests import factories
from tests.conftest import Database
from wms.config import Settings
from wms.db.base import utcnow
from wms.db.outbox import OutboxEvent, record_event, record_events
from wms.events import webhooks
from wms.events.delivery import (
    DeliveryConfig,
    Outcome,
    Ticket,
    deliver,
    due_deliveries,
    event_body,
    fan_out,
    fan_out_ids,
    queue_due,
    retry_delay,
    sweep,
)
from wms.events.inprocess import DeliveryLoop
from wms.events.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from wms.events.notify import CeleryNotifier, ThreadNotifier
from wms.inventory import stock

FAST = DeliveryConfig(retry_schedule=(5.0, 30.0, 120.0), timeout=2.0, lease=10.0)


@pytest.fixture
def consumer() -> Iterator[StorefrontConsumer]:
    """A storefront on a free port; its secret is replaced by the endpoint's once created."""
    with StorefrontConsumer("whsec_" + "A" * 32) as running:
        yield running


def register(
    db: Database, url: str, types: list[str] | None = None, owner: str = "apikey:1"
) -> webhooks.CreatedEndpoint:
    with db.uow() as uow:
        created = webhooks.create_endpoint(uow, owner=owner, url=url, event_types=types or [])
        uow.commit()
    return created


def listen(db: Database, consumer: StorefrontConsumer, types: list[str] | None = None) -> int:
    """Register the consumer; returns the endpoint's row id."""
    created = register(db, consumer.url, types)
    consumer.secret = created.secret
    return endpoint_pk(db, created.endpoint.id)


def endpoint_pk(db: Database, public_id: str) -> int:
    with db.uow() as uow:
        return int(
            uow.session.scalar(
                select(WebhookEndpoint.id).where(WebhookEndpoint.public_id == public_id)
            )
            or 0
        )


def settled(db: Database, expected: int, *, batch: int = 1000) -> list[int]:
    """Fan out until ``expected`` deliveries exist. A transaction running anywhere in the
    cluster (another test run's) holds the horizon back for a moment: delay, never loss."""
    created: list[int] = []
    deadline = time.monotonic() + 15
    while len(created) < expected and time.monotonic() < deadline:
        created += fan_out_ids(db.session_factory, batch=batch)
        if len(created) < expected:
            time.sleep(0.05)
    return created


def emit(db: Database, *events: tuple[str, str, dict[str, Any]]) -> None:
    with db.uow() as uow:
        record_events(uow.session, list(events))
        uow.commit()


def deliveries(db: Database) -> list[WebhookDelivery]:
    with db.uow() as uow:
        rows = list(uow.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        uow.session.expunge_all()  # keep the loaded values past the rollback
    return rows


def event_types_of(db: Database, rows: list[WebhookDelivery]) -> list[str]:
    with db.uow() as uow:
        types = dict(uow.session.execute(select(OutboxEvent.id, OutboxEvent.type)).all())
    return [types[row.event_id] for row in rows]


def make_due(db: Database) -> None:
    with db.engine.begin() as connection:
        connection.execute(
            text("UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 second'")
        )


def test_a_new_endpoint_gets_events_from_now_on_of_its_types_only(pg: Database) -> None:
    emit(pg, ("inventory.level.updated", "A@SHA", {"n": 0}))  # before the endpoint: not sent
    created = register(pg, "http://127.0.0.1:9/hooks", ["inventory.item.*", "order.received"])
    assert created.secret.startswith("whsec_")
    assert created.endpoint.event_types == ["inventory.item.*", "order.received"]
    emit(
        pg,
        ("inventory.level.updated", "A@SHA", {"n": 1}),
        ("inventory.item.out_of_stock", "A@SHA", {"n": 2}),
        ("order.received", "o1", {"n": 3}),
        ("order.allocated", "o1", {"n": 4}),
        ("inventory.item.back_in_stock", "A@SHA", {"n": 5}),
        ("inventory.itemized", "A@SHA", {"n": 6}),  # "inventory.item.*" is a prefix with its dot
    )
    assert len(settled(pg, 3)) == 3
    rows = deliveries(pg)
    assert event_types_of(pg, rows) == [
        "inventory.item.out_of_stock",
        "order.received",
        "inventory.item.back_in_stock",
    ]
    assert {row.status for row in rows} == {"pending"}
    # The cursor moved past every row read, matching or not: nothing is read twice.
    with pg.uow() as uow:
        endpoint = uow.session.scalars(select(WebhookEndpoint)).one()
        uow.session.expunge(endpoint)
        last = uow.session.execute(
            select(OutboxEvent.txid, OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1)
        ).one()
    assert (endpoint.cursor_txid, endpoint.cursor_id) == tuple(last)
    assert fan_out(pg.session_factory) == 0
    emit(pg, ("order.received", "o2", {}))
    assert len(settled(pg, 1)) == 1


def test_an_endpoint_with_no_types_gets_every_event_in_small_batches(pg: Database) -> None:
    register(pg, "http://127.0.0.1:9/a", [])
    register(pg, "http://127.0.0.1:9/b", ["*"])
    emit(pg, *[(f"kind.n{i}", f"s{i}", {"i": i}) for i in range(7)])
    assert len(settled(pg, 14, batch=3)) == 14
    assert fan_out(pg.session_factory, batch=3) == 0


def test_fan_out_never_skips_a_transaction_that_commits_late(pg: Database) -> None:
    register(pg, "http://127.0.0.1:9/hooks")
    with pg.uow() as late:
        record_event(late.session, "order.received", "late", {})
        late.session.flush()  # holds a transaction id older than the next writer's
        emit(pg, ("order.received", "early", {}))
        # The early row is committed, but the late transaction might still add rows before it.
        assert fan_out(pg.session_factory) == 0
        late.commit()
    assert len(settled(pg, 2)) == 2
    with pg.uow() as uow:
        subjects = uow.session.scalars(
            select(OutboxEvent.subject)
            .join(WebhookDelivery, WebhookDelivery.event_id == OutboxEvent.id)
            .order_by(WebhookDelivery.id)
        ).all()
    assert subjects == ["late", "early"]  # transaction order, not id order


def test_an_endpoint_being_fanned_out_elsewhere_is_skipped_not_waited_for(pg: Database) -> None:
    register(pg, "http://127.0.0.1:9/hooks")
    emit(pg, ("order.received", "o1", {}))
    with pg.uow() as other:
        other.session.execute(text("SELECT id FROM webhook_endpoints FOR UPDATE"))
        started = time.monotonic()
        assert fan_out(pg.session_factory) == 0
        assert time.monotonic() - started < 2
    assert len(settled(pg, 1)) == 1


def test_a_delivery_is_posted_signed_and_never_sent_again(
    pg: Database, consumer: StorefrontConsumer
) -> None:
    listen(pg, consumer, ["order.*"])
    emit(pg, ("order.received", "o1", {"order": "o1", "lines": [{"sku": "MUG", "quantity": 2}]}))
    (delivery_id,) = settled(pg, 1)
    assert deliver(pg.session_factory, delivery_id, config=FAST) is Outcome.DELIVERED
    (received,) = consumer.events()
    with pg.uow() as uow:
        event = uow.session.scalars(select(OutboxEvent)).one()
        uow.session.expunge(event)
    assert received.id == event.event_id
    assert received.type == "order.received"
    assert received.data == {"order": "o1", "lines": [{"sku": "MUG", "quantity": 2}]}
    assert datetime.fromisoformat(received.timestamp) == event.created_at
    (row,) = deliveries(pg)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 1, 200)
    assert row.delivered_at is not None
    assert row.leased_until is None
    # A repeated task (a duplicate in the queue, a second sweep) sends nothing.
    assert deliver(pg.session_factory, delivery_id, config=FAST) is Outcome.SKIPPED
    assert consumer.requests == 1


def test_the_body_and_signature_are_what_a_standard_webhooks_library_checks() -> None:
    created = datetime(2024, 5, 1, 12, 0, tzinfo=utcnow().tzinfo)
    body = event_body("evt_1", "order.received", created, {"a": "ü"})
    assert json.loads(body) == {
        "id": "evt_1",
        "type": "order.received",
        "timestamp": "2024-05-01T12:00:00+00:00",
        "data": {"a": "ü"},
    }


class Recorder:
    """A tiny server that answers with a fixed status and keeps the requests it got."""

    def __init__(self, status: int) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.status = status
        self.requests: list[tuple[dict[str, str], bytes]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                recorder.requests.append((dict(self.headers.items()), body))
                self.send_response(recorder.status)
                self.send_header("content-length", "5")
                self.end_headers()
                self.wfile.write(b"nope!")

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def failing() -> Iterator[Recorder]:
    recorder = Recorder(500)
    yield recorder
    recorder.close()


def test_failures_back_off_along_the_schedule_then_dead_letter(
    pg: Database, failing: Recorder
) -> None:
    register(pg, failing.url)
    emit(pg, ("order.received", "o1", {}))
    (delivery_id,) = settled(pg, 1)
    for attempt, base in enumerate(FAST.retry_schedule, start=1):
        before = utcnow()
        assert deliver(pg.session_factory, delivery_id, config=FAST) is Outcome.RETRY
        (row,) = deliveries(pg)
        assert (row.status, row.attempts, row.last_status_code) == ("pending", attempt, 500)
        assert row.last_error == "HTTP 500: nope!"
        wait = (row.next_attempt_at - before).total_seconds()
        assert base * 0.8 - 0.01 <= wait <= base * 1.2 + 1, (attempt, wait)
        # Not due yet: a second task for it does nothing.
        assert deliver(pg.session_factory, delivery_id, config=FAST) is Outcome.SKIPPED
        assert due_deliveries(pg.session_factory) == []
        make_due(pg)
        assert due_deliveries(pg.session_factory) == [delivery_id]
    assert deliver(pg.session_factory, delivery_id, config=FAST) is Outcome.DEAD
    (row,) = deliveries(pg)
    assert (row.status, row.attempts) == ("dead", len(FAST.retry_schedule) + 1)
    assert due_deliveries(pg.session_factory) == []
    assert len(failing.requests) == 4
    # Each attempt is signed afresh with the same webhook-id.
    assert len({headers["webhook-id"] for headers, _ in failing.requests}) == 1


def test_the_default_schedule_covers_about_a_day_with_jitter() -> None:
    config = DeliveryConfig.from_settings(Settings(_env_file=None))
    total = sum(config.retry_schedule)
    assert 20 * 3600 <= total <= 26 * 3600
    assert config.attempts == len(config.retry_schedule) + 1
    delays = [retry_delay(1, config.retry_schedule) for _ in range(200)]
    assert all(d is not None and 4.0 <= d <= 6.0 for d in delays)
    assert len(set(delays)) > 100  # jittered, so retries of a burst spread out
    assert retry_delay(len(config.retry_schedule) + 1, config.retry_schedule) is None
    assert retry_delay(2, (1.0, 7.0), jitter=0) == 7.0


def test_the_schedule_and_timeouts_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMS_WEBHOOK_RETRY_SCHEDULE", "0.5, 1,2")
    monkeypatch.setenv("WMS_WEBHOOK_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("WMS_WEBHOOK_LEASE_SECONDS", "1")
    config = DeliveryConfig.from_settings(Settings(_env_file=None))
    assert config.retry_schedule == (0.5, 1.0, 2.0)
    assert config.timeout == 3.0
    assert config.lease == 5.0  # never shorter than an attempt can take
    monkeypatch.setenv("WMS_WEBHOOK_RETRY_SCHEDULE", "5,-1")
    with pytest.raises(ValueError, match="retry delay"):
        Settings(_env_file=None)


def test_an_endpoint_that_is_not_listening_is_retried(pg: Database) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    register(pg, f"http://127.0.0.1:{port}/hooks")
    emit(pg, ("order.received", "o1", {}))
    (delivery_id,) = settled(pg, 1)
    assert deliver(pg.session_factory, delivery_id, config=FAST) is Outcome.RETRY
    (row,) = deliveries(pg)
    assert row.last_status_code is None
    assert row.last_error is not None
    assert row.last_error.startswith("ConnectError")


def test_an_endpoint_that_never_answers_times_out(pg: Database) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel accepts the connection; nobody ever answers
        register(pg, f"http://127.0.0.1:{silent.getsockname()[1]}/hooks")
        emit(pg, ("order.received", "o1", {}))
        (delivery_id,) = settled(pg, 1)
        started = time.monotonic()
        config = DeliveryConfig(retry_schedule=(1.0,), timeout=0.5, lease=5.0)
        assert deliver(pg.session_factory, delivery_id, config=config) is Outcome.RETRY
        assert time.monotonic() - started < 3
    (row,) = deliveries(pg)
    assert row.last_error is not None
    assert "Timeout" in row.last_error


def test_an_attempt_cut_short_by_a_crash_is_made_again_when_its_lease_runs_out(
    pg: Database, consumer: StorefrontConsumer
) -> None:
    listen(pg, consumer)
    emit(pg, ("order.received", "o1", {}))
    (delivery_id,) = settled(pg, 1)
    # A worker claimed it, then was killed before it could record anything.
    with pg.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE webhook_deliveries SET attempts = 1, "
                "leased_until = now() + interval '30 seconds'"
            )
        )
    assert deliver(pg.session_factory, delivery_id, config=FAST) is Outcome.SKIPPED
    assert due_deliveries(pg.session_factory) == []
    with pg.engine.begin() as connection:
        connection.execute(
            text("UPDATE webhook_deliveries SET leased_until = now() - interval '1 second'")
        )
    assert due_deliveries(pg.session_factory) == [delivery_id]
    assert deliver(pg.session_factory, delivery_id, config=FAST) is Outcome.DELIVERED
    (row,) = deliveries(pg)
    assert (row.status, row.attempts) == ("delivered", 2)
    assert len(consumer.events()) == 1


def test_the_answer_to_an_attempt_overtaken_by_a_replay_is_dropped(
    pg: Database, failing: Recorder
) -> None:
    created = register(pg, failing.url)
    emit(pg, ("order.received", "o1", {}))
    (delivery_id,) = settled(pg, 1)
    failing.status = 200
    original_post = failing.server.RequestHandlerClass.do_POST  # type: ignore[attr-defined]

    def replay_meanwhile(handler: object) -> None:
        with pg.uow() as uow:
            webhooks.replay(uow, created.endpoint.id, owner=None, event_ids=[event_id(pg, "o1")])
            uow.commit()
        original_post(handler)

    failing.server.RequestHandlerClass.do_POST = replay_meanwhile  # type: ignore[attr-defined]
    assert deliver(pg.session_factory, delivery_id, config=FAST) is Outcome.SUPERSEDED
    (row,) = deliveries(pg)
    assert (row.status, row.attempts) == ("pending", 0)  # the replay stands: sent again
    failing.server.RequestHandlerClass.do_POST = original_post  # type: ignore[attr-defined]
    assert deliver(pg.session_factory, delivery_id, config=FAST) is Outcome.DELIVERED


def event_id(db: Database, subject: str) -> str:
    return str(db.scalar("SELECT event_id FROM outbox_events WHERE subject = :s", s=subject))


def test_replaying_dead_deliveries_sends_them_again(
    pg: Database, consumer: StorefrontConsumer
) -> None:
    listen(pg, consumer)
    emit(pg, ("order.received", "o1", {}), ("order.received", "o2", {}))
    ids = settled(pg, 2)
    consumer.set_down(True)
    one_try = DeliveryConfig(retry_schedule=(), timeout=2.0, lease=10.0)
    assert [deliver(pg.session_factory, i, config=one_try) for i in ids] == [Outcome.DEAD] * 2
    assert consumer.refused == 2
    consumer.set_down(False)
    with pg.uow() as uow:
        public_id = uow.session.scalars(select(WebhookEndpoint.public_id)).one()
        assert webhooks.replay(uow, public_id, owner=None, status=DeliveryStatus.DEAD) == 2
        uow.commit()
    rows = deliveries(pg)
    assert {(r.status, r.attempts, r.last_status_code) for r in rows} == {("pending", 0, 503)}
    assert sorted(due_deliveries(pg.session_factory)) == sorted(ids)
    assert [deliver(pg.session_factory, i, config=one_try) for i in ids] == [Outcome.DELIVERED] * 2
    assert [e.data for e in consumer.events()] == [{}, {}]


def test_replay_since_creates_deliveries_for_events_before_the_endpoint(
    pg: Database, consumer: StorefrontConsumer
) -> None:
    emit(pg, ("order.received", "old", {}), ("reservation.created", "r-old", {}))
    cutoff = utcnow()
    emit(pg, ("order.received", "older-than-endpoint", {}))
    endpoint_id = listen(pg, consumer, ["order.*"])
    emit(pg, ("order.received", "new", {}))
    assert len(settled(pg, 1)) == 1
    (first,) = deliveries(pg)
    assert deliver(pg.session_factory, first.id, config=FAST) is Outcome.DELIVERED
    with pg.uow() as uow:
        public_id = uow.session.get(WebhookEndpoint, endpoint_id).public_id  # type: ignore[union-attr]
        # The delivered one is sent again; the one before the endpoint existed is created.
        assert webhooks.replay(uow, public_id, owner=None, since=cutoff) == 2
        uow.commit()
    for row in deliveries(pg):
        assert row.status == "pending"
        assert deliver(pg.session_factory, row.id, config=FAST) is Outcome.DELIVERED
    assert consumer.requests == 3
    assert consumer.duplicates == 1  # "new" arrived twice; the consumer applied it once
    with pg.uow() as uow:
        assert webhooks.replay(uow, public_id, owner=None, since=utcnow() + timedelta(1)) == 0


def test_a_disabled_endpoint_is_neither_fanned_out_nor_sent_to(
    pg: Database, consumer: StorefrontConsumer
) -> None:
    endpoint_id = listen(pg, consumer)
    emit(pg, ("order.received", "o1", {}))
    (delivery_id,) = settled(pg, 1)
    with pg.uow() as uow:
        public_id = uow.session.get(WebhookEndpoint, endpoint_id).public_id  # type: ignore[union-attr]
        view = webhooks.disable_endpoint(uow, public_id, owner=None)
        uow.commit()
    assert view.active is False
    assert view.disabled_at is not None
    emit(pg, ("order.received", "o2", {}))
    assert fan_out(pg.session_factory) == 0
    assert due_deliveries(pg.session_factory) == []
    assert deliver(pg.session_factory, delivery_id, config=FAST) is Outcome.SKIPPED
    assert consumer.requests == 0


def test_the_sweep_hands_each_due_delivery_to_the_queue_once_per_lease(
    pg: Database, consumer: StorefrontConsumer
) -> None:
    listen(pg, consumer)
    emit(pg, ("order.received", "o1", {}), ("order.received", "o2", {}))
    tickets: list[Ticket] = []
    deadline = time.monotonic() + 10
    while not tickets and time.monotonic() < deadline:
        assert sweep(pg.session_factory, tickets.append, lease=30) in (
            {"fanned_out": 0, "enqueued": 0},  # another transaction holds the horizon back
            {"fanned_out": 2, "enqueued": 2},
        )
    assert len(tickets) == 2
    # Queued: the next sweeps leave them alone, and only the ticket's task may claim them.
    assert sweep(pg.session_factory, tickets.append, lease=30) == {"fanned_out": 0, "enqueued": 0}
    assert due_deliveries(pg.session_factory) == []
    first, second = tickets
    assert deliver(pg.session_factory, first.delivery_id, config=FAST) is Outcome.SKIPPED
    assert (
        deliver(
            pg.session_factory, first.delivery_id, config=FAST, token="2000-01-01T00:00:00+00:00"
        )
        is Outcome.SKIPPED
    )
    assert (
        deliver(pg.session_factory, first.delivery_id, config=FAST, token=first.token)
        is Outcome.DELIVERED
    )
    # A duplicate of the same task finds it delivered.
    assert (
        deliver(pg.session_factory, first.delivery_id, config=FAST, token=first.token)
        is Outcome.SKIPPED
    )
    # The second task was lost (a killed worker): once its queue lease runs out, it is re-issued.
    with pg.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE webhook_deliveries SET leased_until = now() - interval '1 second' "
                "WHERE id = :id"
            ),
            {"id": second.delivery_id},
        )
    (again,) = queue_due(pg.session_factory, lease=30)
    assert again.delivery_id == second.delivery_id
    assert again.token != second.token
    assert (
        deliver(pg.session_factory, second.delivery_id, config=FAST, token=second.token)
        is Outcome.SKIPPED
    )
    assert (
        deliver(pg.session_factory, second.delivery_id, config=FAST, token=again.token)
        is Outcome.DELIVERED
    )
    assert len(consumer.events()) == 2


def test_real_stock_changes_reach_the_replica(pg: Database, consumer: StorefrontConsumer) -> None:
    listen(pg, consumer, ["inventory.*"])
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.product(uow, "MUG")
        uow.commit()
    with pg.uow() as uow:
        stock.receive(uow, sku="MUG", quantity=5, warehouse="SHA", location="B01", actor="t")
        uow.commit()
    with pg.uow() as uow:
        stock.adjust(uow, sku="MUG", warehouse="SHA", quantity=-5, reason="lost", actor="t")
        uow.commit()
    ids = settled(pg, pg.count("outbox_events"))
    # Deliver newest first: the consumer keeps the newest version whatever the order.
    for delivery_id in reversed(ids):
        assert deliver(pg.session_factory, delivery_id, config=FAST) is Outcome.DELIVERED
    level = consumer.replica()[("MUG", "SHA")]
    assert level["on_hand"] == 0
    assert level["available"] == 0
    assert level["version"] == pg.scalar("SELECT version FROM stock_levels")
    assert {e.type for e in consumer.events()} >= {
        "inventory.level.updated",
        "inventory.item.back_in_stock",
        "inventory.item.out_of_stock",
    }


def test_the_in_process_loop_delivers_when_notified(
    pg: Database, consumer: StorefrontConsumer
) -> None:
    listen(pg, consumer)
    loop = DeliveryLoop(
        pg.session_factory, DeliveryConfig(timeout=2.0, lease=10.0, sweep_interval=60.0)
    )
    loop.start()
    try:
        emit(pg, ("order.received", "o1", {}))
        ThreadNotifier(loop).notify()  # without it the next pass is a minute away
        deadline = time.monotonic() + 10
        while not consumer.events() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        loop.stop()
    assert [e.type for e in consumer.events()] == ["order.received"]
    assert [row.status for row in deliveries(pg)] == ["delivered"]


def test_delivery_on_sqlite(sqlite_db: Database, consumer: StorefrontConsumer) -> None:
    emit(sqlite_db, ("order.received", "before", {}))
    listen(sqlite_db, consumer, ["order.*"])
    emit(sqlite_db, ("order.received", "o1", {"n": 1}), ("reservation.created", "r1", {}))
    loop = DeliveryLoop(sqlite_db.session_factory, FAST)
    assert loop.run_once() == {"fanned_out": 1, "delivered": 1}
    assert [e.data for e in consumer.events()] == [{"n": 1}]
    assert loop.run_once() == {"fanned_out": 0}


def test_the_received_signature_verifies_with_the_endpoint_secret(
    pg: Database, failing: Recorder
) -> None:
    created = register(pg, failing.url)
    emit(pg, ("order.received", "o1", {"x": 1}))
    (delivery_id,) = settled(pg, 1)
    deliver(pg.session_factory, delivery_id, config=FAST)
    ((headers, body),) = failing.requests
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("wms-webhooks/")
    assert verify(created.secret, headers, body) == event_id(pg, "o1")
    with pg.uow() as uow:
        assert webhooks.endpoint_secret(uow, created.endpoint.id) == created.secret


def test_a_broker_that_is_down_never_fails_or_slows_the_request() -> None:
    sent: list[int] = []

    def send() -> None:
        sent.append(1)
        raise ConnectionError("redis is restarting")

    with capture_logs() as logs:
        failing_send = CeleryNotifier(send)
        unreachable = CeleryNotifier.for_broker("redis://127.0.0.1:1/15")  # nothing listens
        started = time.monotonic()
        for _ in range(5):
            failing_send.notify()
            unreachable.notify()
        assert time.monotonic() - started < 0.5  # the request thread only sets a flag
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            failures = [e for e in logs if e["event"] == "fan_out_nudge_failed"]
            if any("redis is restarting" not in e["error"] for e in failures):
                break
            time.sleep(0.05)
    assert 1 <= len(sent) <= 5  # nudges that arrive during a send fold into one more
    assert any("ConnectionError: redis is restarting" in e["error"] for e in failures)
    assert any("redis is restarting" not in e["error"] for e in failures), failures
