"""A nudge after commit: new outbox rows exist, so dispatch them now rather than at the next sweep.

The nudge is an optimisation only. Losing one (a crash right after commit, a broker hiccup) delays
delivery until the sweeper's next pass; it never loses an event.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

import structlog

log = structlog.get_logger("wms.webhooks")


class Notifier(Protocol):
    def notify(self) -> None:
        """Called after a transaction that wrote outbox rows has committed."""


class NullNotifier:
    """For processes that do no delivery of their own (the CLI, tests of the domain)."""

    def notify(self) -> None:
        return None


class Wakeable(Protocol):
    def wake(self) -> None: ...


class ThreadNotifier:
    """The embedded default: wakes the server's in-process delivery loop."""

    def __init__(self, loop: Wakeable) -> None:
        self._loop = loop

    def notify(self) -> None:
        self._loop.wake()


class CeleryNotifier:
    """Sends the ``wms.events.fan_out`` task, from a thread of its own.

    ``notify`` only sets a flag, so a request never waits on the broker and never fails because
    of it; nudges that arrive while a send is under way are folded into one more send. A send
    that fails (Redis restarting) is logged and dropped: the beat sweeper fans out anyway.
    """

    def __init__(self, send: Callable[[], object]) -> None:
        self._send = send
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def notify(self) -> None:
        self._wanted.set()
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="wms-notifier", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                self._send()
            except Exception as exc:  # the broker is down: the sweeper covers this nudge
                log.warning("fan_out_nudge_failed", error=f"{type(exc).__name__}: {exc}")

    @classmethod
    def for_broker(cls, broker_url: str) -> CeleryNotifier:
        """A notifier that sends the task through a Celery app built on first use."""
        state: dict[str, object] = {}

        def send() -> None:
            from celery import Celery

            app = state.get("app")
            if app is None:
                app = Celery("wms-notifier", broker=broker_url)
                app.conf.broker_transport_options = {"socket_connect_timeout": 3}
                app.conf.broker_connection_retry = False
                state["app"] = app
            assert isinstance(app, Celery)
            app.send_task("wms.events.fan_out", retry=False, expires=60)

        return cls(send)
