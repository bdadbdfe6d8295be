"""The embedded default: with no broker, scheduled jobs run on a background thread of the server."""

from __future__ import annotations

import threading
import time

import structlog
from sqlalchemy.orm import Session, sessionmaker

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
