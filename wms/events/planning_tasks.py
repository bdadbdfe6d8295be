"""Replenishment plan runs in the background: a Celery task with a broker, a thread without one.

- ``wms.procurement.plan(run_id)``: ``run_plan`` on a queued run; progress goes to the run's row
  as it works. Idempotent: a run that is not queued any more is left alone.
- ``wms.procurement.sweep_plans``: beat's safety net. Launches again runs still queued after
  ``RELAUNCH_AFTER`` (a launch lost with the broker) and fails runs whose worker died.

The API and the web UI queue a run in their transaction, commit, then call
``PlanLauncher.launch(run_id)``; ``launcher_for(settings, session_factory)`` picks the kind.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy.orm import Session, sessionmaker

from wms.config import Settings
from wms.db.uow import UnitOfWork, transaction
from wms.procurement.replenishment_runs import fail_stale_runs, queued_runs, run_plan

log = structlog.get_logger("wms.planning")

PLAN = "wms.procurement.plan"
SWEEP_PLANS = "wms.procurement.sweep_plans"
SWEEP_EVERY_SECONDS = 60.0
RELAUNCH_AFTER = timedelta(minutes=2)


class PlanLauncher(Protocol):
    def launch(self, run_id: int) -> None:
        """Start a committed, queued run in the background."""


class ThreadPlanLauncher:
    """The embedded default: one daemon thread runs queued plans one after another (a solve
    already uses the cores it is given, so running two at once would only slow both)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        runner: Callable[..., Any] = run_plan,
    ) -> None:
        self._session_factory = session_factory
        self._runner = runner
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pending = 0
        self._idle = threading.Event()
        self._idle.set()

    def launch(self, run_id: int) -> None:
        with self._lock:
            self._pending += 1
            self._idle.clear()
            self._queue.put(int(run_id))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="wms-planner", daemon=True)
                self._thread.start()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every launched run has finished; False on timeout."""
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            run_id = self._queue.get()
            if run_id is None:
                return
            try:
                self._runner(self._session_factory, run_id=run_id)
            except Exception:  # the run records its own failure; the thread carries on
                log.exception("plan_run_crashed", run_id=run_id)
            finally:
                with self._lock:
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.set()


class CeleryPlanLauncher:
    """Sends ``wms.procurement.plan``; a send that fails is logged, and the sweep relaunches."""

    def __init__(self, send: Callable[[int], object]) -> None:
        self._send = send

    def launch(self, run_id: int) -> None:
        try:
            self._send(int(run_id))
        except Exception as exc:  # the broker is away: beat's sweep launches it later
            log.warning("plan_launch_failed", run_id=run_id, error=f"{type(exc).__name__}: {exc}")

    @classmethod
    def for_broker(cls, broker_url: str) -> CeleryPlanLauncher:
        from celery import Celery

        app = Celery("wms-planner", broker=broker_url)
        app.conf.broker_transport_options = {"socket_connect_timeout": 3}
        app.conf.broker_connection_retry = False
        return cls(lambda run_id: app.send_task(PLAN, args=(run_id,), retry=False))


def launcher_for(settings: Settings, session_factory: sessionmaker[Session]) -> PlanLauncher:
    """A Celery launcher with a broker, else the in-process thread."""
    if settings.broker_url:
        return CeleryPlanLauncher.for_broker(settings.broker_url)
    return ThreadPlanLauncher(session_factory)


def sweep_plans(
    session_factory: sessionmaker[Session], launch: Callable[[int], None]
) -> dict[str, int]:
    """Launch runs whose launch was lost again; fail runs whose worker died."""
    failed = transaction(session_factory, fail_stale_runs)
    with UnitOfWork(session_factory) as uow:
        waiting = queued_runs(uow.session, older_than=RELAUNCH_AFTER)
    for run_id in waiting:
        launch(run_id)
    if waiting or failed:
        log.info("plan_runs_swept", relaunched=len(waiting), failed=len(failed))
    return {"relaunched": len(waiting), "failed": len(failed)}


_launcher_lock = threading.Lock()


def plan_launcher(state: Any) -> PlanLauncher:
    """The app's plan launcher (``state.plan_launcher``, shared by the API and the planner UI),
    built on first use: Celery with a broker, else a thread, which first picks up the runs an
    earlier server process left queued (beat does that with Celery)."""
    with _launcher_lock:
        found: PlanLauncher | None = getattr(state, "plan_launcher", None)
        if found is None:
            found = launcher_for(state.settings, state.session_factory)
            state.plan_launcher = found
            if isinstance(found, ThreadPlanLauncher):
                sweep_plans(state.session_factory, found.launch)
    return found


def register_planning(app: Any, session_factory: Callable[[], sessionmaker[Session]]) -> None:
    """Register the planning tasks and the sweep on a Celery app."""

    @app.task(name=PLAN, ignore_result=False)  # type: ignore[untyped-decorator]
    def plan_task(run_id: int) -> dict[str, Any]:
        """Build, forecast, solve and store a queued plan run (a repeat is a no-op)."""
        return asdict(run_plan(session_factory(), run_id=int(run_id)))

    @app.task(name=SWEEP_PLANS, ignore_result=False)  # type: ignore[untyped-decorator]
    def sweep_task() -> dict[str, int]:
        """Relaunch plan runs still queued; fail runs whose worker died."""
        return sweep_plans(session_factory(), plan_task.delay)

    app.conf.beat_schedule[SWEEP_PLANS] = {
        "task": SWEEP_PLANS,
        "schedule": SWEEP_EVERY_SECONDS,
        "options": {"expires": SWEEP_EVERY_SECONDS * 2},
    }
