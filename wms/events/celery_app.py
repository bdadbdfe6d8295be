"""The Celery application (Redis broker): scheduled jobs and webhook delivery, acknowledged late.

Webhook tasks (see ``wms.events.delivery``), all idempotent:

- ``wms.events.fan_out``: create the deliveries of new outbox rows and enqueue them; sent by the
  API after a commit that wrote events (``CeleryNotifier``).
- ``wms.events.deliver(delivery_id, token=None)``: one attempt at one delivery, if it is still
  due; ``token`` is the queue lease it was enqueued under (``wms.events.delivery.queue_due``).
- ``wms.events.sweep``: fan out and enqueue every due delivery (retries, nudges that were lost,
  attempts of a killed worker whose lease ran out); beat runs it every
  ``WMS_WEBHOOK_SWEEP_SECONDS``.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import Celery

from wms.config import Settings, get_settings
from wms.db.engine import make_engine, make_session_factory
from wms.events.delivery import DeliveryConfig, Ticket, deliver, fan_out_ids, queue_due, sweep
from wms.events.jobs import JOBS, Job
from wms.events.planning_tasks import register_planning
from wms.events.routing_tasks import register_routing

FAN_OUT = "wms.events.fan_out"
DELIVER = "wms.events.deliver"
DELIVER_BATCH = "wms.events.deliver_batch"
# Tickets per batch task, and the threads one batch task sends them on.
BATCH_SIZE = 50
BATCH_THREADS = 8
SWEEP = "wms.events.sweep"


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app for ``settings``; refuses to start without a broker."""
    settings = settings or get_settings()
    if not settings.broker_url:
        raise ValueError("WMS_BROKER_URL is not set; background work runs in-process without it")
    app = Celery("wms", broker=settings.broker_url, backend=settings.broker_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        result_expires=3600,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        timezone="UTC",
        beat_schedule={
            **{job.name: {"task": job.name, "schedule": job.every.total_seconds()} for job in JOBS},
            SWEEP: {
                "task": SWEEP,
                "schedule": settings.webhook_sweep_seconds,
                # A sweep still queued when the next one is due is worth nothing.
                "options": {"expires": max(10.0, 5 * settings.webhook_sweep_seconds)},
            },
        },
    )
    state: dict[str, Any] = {}

    def session_factory() -> Any:
        # One engine per worker process, built on first use (never at import time).
        if "factory" not in state:
            state["factory"] = make_session_factory(make_engine(settings.database_url))
        return state["factory"]

    for job in JOBS:
        _register(app, job, session_factory)
    _register_webhooks(app, DeliveryConfig.from_settings(settings), session_factory)
    register_planning(app, session_factory)
    register_routing(app, session_factory)
    return app


def _register(app: Celery, job: Job, session_factory: Any) -> None:
    @app.task(name=job.name, bind=False, ignore_result=False)  # type: ignore[untyped-decorator]
    def task() -> dict[str, Any]:
        return job.run(session_factory())

    task.__doc__ = job.description


def _register_webhooks(app: Celery, config: DeliveryConfig, session_factory: Any) -> None:
    @app.task(name=DELIVER, ignore_result=True)  # type: ignore[untyped-decorator]
    def deliver_task(delivery_id: int, token: str | None = None) -> str:
        """One attempt at a webhook delivery, if it is still due (a repeat is a no-op)."""
        factory = session_factory()
        return deliver(factory, int(delivery_id), config=config, token=token).value

    def enqueue(ticket: Ticket) -> None:
        # A task that waited longer than its queue lease is dropped: a sweep has re-issued it.
        deliver_task.apply_async((ticket.delivery_id, ticket.token), expires=config.lease * 2)

    @app.task(name=DELIVER_BATCH, ignore_result=True)  # type: ignore[untyped-decorator]
    def deliver_batch_task(tickets: list[tuple[int, str]]) -> dict[str, int]:
        """One attempt at each of several deliveries, sent in parallel; a repeat is a no-op.

        One message per batch instead of one per delivery: the broker round trips and task
        overhead would otherwise cost more than the HTTP requests themselves."""
        factory = session_factory()
        counts: Counter[str] = Counter()
        with ThreadPoolExecutor(max_workers=min(BATCH_THREADS, len(tickets) or 1)) as pool:
            outcomes = pool.map(
                lambda t: deliver(factory, int(t[0]), config=config, token=str(t[1])).value,
                tickets,
            )
            counts.update(outcomes)
        return dict(counts)

    def enqueue_all(tickets: list[Ticket]) -> None:
        for start in range(0, len(tickets), BATCH_SIZE):
            chunk = [(t.delivery_id, t.token) for t in tickets[start : start + BATCH_SIZE]]
            deliver_batch_task.apply_async((chunk,), expires=config.lease * 2)

    @app.task(name=FAN_OUT, ignore_result=True)  # type: ignore[untyped-decorator]
    def fan_out_task() -> int:
        """Create the deliveries of new outbox rows and enqueue them in batches."""
        factory = session_factory()
        created = fan_out_ids(factory, batch=config.fan_out_batch)
        enqueue_all(queue_due(factory, lease=config.lease, ids=created))
        return len(created)

    @app.task(name=SWEEP, ignore_result=True)  # type: ignore[untyped-decorator]
    def sweep_task() -> dict[str, int]:
        """Fan out and enqueue every due delivery: the safety net behind the nudges."""
        return sweep(session_factory(), enqueue, lease=config.lease, batch=config.fan_out_batch)
