"""The embedded default: with no broker, scheduled jobs and webhook delivery run on background
threads of the server."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import structlog
from sqlalchemy.orm import Session, sessionmaker

from wms.events.delivery import DeliveryConfig, Outcome, deliver, due_deliveries, fan_out
from wms.events.jobs import JOBS, Job

log = structlog.get_logger("wms.jobs")


class InProcessScheduler:
    """Runs each job on its interval in one daemon thread; stops promptly when asked."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        jobs: tuple[Job, ...] = JOBS,
        *,
        first_run_after: float = 60.0,
    ) -> None:
        self._session_factory = session_factory
        self._jobs = jobs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="wms-scheduler", daemon=True)
        now = time.monotonic()
        self._due = {job.name: now + first_run_after for job in jobs}

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_due(self) -> list[str]:
        """Run every job that is due now; returns their names."""
        ran = []
        for job in self._jobs:
            if time.monotonic() >= self._due[job.name]:
                self._due[job.name] = time.monotonic() + job.every.total_seconds()
                try:
                    job.run(self._session_factory)
                except Exception:  # a failing job must not stop the others
                    log.exception("job_failed", job=job.name)
                ran.append(job.name)
        return ran

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            self.run_due()


class DeliveryLoop:
    """Webhook delivery without a broker: one thread fans out and sends, woken after each commit
    that wrote events (``ThreadNotifier``) and at least every ``config.sweep_interval`` seconds.

    Deliveries go out on a small pool of threads; the claims in ``deliver`` make the loop safe to
    run in every server process at once.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        config: DeliveryConfig | None = None,
        *,
        senders: int = 4,
    ) -> None:
        self._session_factory = session_factory
        self._config = config or DeliveryConfig()
        self._senders = senders
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="wms-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def run_once(self, pool: ThreadPoolExecutor | None = None) -> dict[str, int]:
        """Fan out, then send every due delivery until none is due; returns counts by outcome."""
        counts: dict[str, int] = {"fanned_out": fan_out(self._session_factory)}
        for _round in range(1000):  # bounded: a failing delivery is not due again at once
            due = due_deliveries(self._session_factory, limit=200)
            if not due or self._stop.is_set():
                break
            if pool is None:
                outcomes = [self._deliver(delivery_id) for delivery_id in due]
            else:
                outcomes = list(pool.map(self._deliver, due))
            for outcome in outcomes:
                counts[outcome.value] = counts.get(outcome.value, 0) + 1
        return counts

    def _deliver(self, delivery_id: int) -> Outcome:
        return deliver(self._session_factory, delivery_id, config=self._config)

    def _loop(self) -> None:
        with ThreadPoolExecutor(self._senders, thread_name_prefix="wms-webhook-send") as pool:
            while not self._stop.is_set():
                self._wake.wait(self._config.sweep_interval)
                self._wake.clear()
                if self._stop.is_set():
                    break
                try:
                    self.run_once(pool)
                except Exception:  # the database is away: try again at the next wake
                    log.exception("webhook_loop_failed")
