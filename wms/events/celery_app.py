"""The Celery application (Redis broker): the scheduled jobs as tasks, acknowledged late."""

from __future__ import annotations

from typing import Any

from celery import Celery

from wms.config import Settings, get_settings
from wms.db.engine import make_engine, make_session_factory
from wms.events.jobs import JOBS, Job


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
            job.name: {"task": job.name, "schedule": job.every.total_seconds()} for job in JOBS
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
    return app


def _register(app: Celery, job: Job, session_factory: Any) -> None:
    @app.task(name=job.name, bind=False, ignore_result=False)  # type: ignore[untyped-decorator]
    def task() -> dict[str, Any]:
        return job.run(session_factory())

    task.__doc__ = job.description
