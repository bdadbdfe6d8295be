"""A reference storefront consumer of the WMS webhooks: verify, deduplicate, keep a stock replica.

What a storefront must do with the events, in a hundred lines of standard library:

- refuse a request whose Standard Webhooks signature does not verify (401);
- acknowledge a ``webhook-id`` it has already processed without applying it again (deliveries
  are at least once: a retry after a lost answer, or after a worker crash, repeats an event);
- apply ``inventory.level.updated`` only when its ``version`` is newer than the replica's, since
  deliveries can arrive out of order; the events carry absolute counters, never deltas.

Run it: ``python -m integrations.storefront.consumer --port 8100 --secret whsec_...`` and register
``http://HOST:8100/webhooks``. ``GET /replica`` and ``GET /events`` show what it holds. Tests import
``StorefrontConsumer``: ``start()``/``stop()``, ``replica()``, ``events()``, ``set_down(True)``
(answer 503 to everything, as a storefront in maintenance would).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from integrations.storefront.signing import SignatureError, verify

LEVEL_FIELDS = (
    "on_hand",
    "committed",
    "reserved",
    "quality_control",
    "damaged",
    "safety_stock",
    "incoming",
    "available",
    "version",
)
MAX_BODY = 1_000_000


@dataclass(frozen=True)
class ReceivedEvent:
    """An accepted event, as it arrived (first delivery only)."""

    id: str
    type: str
    timestamp: str
    data: dict[str, Any]
    received_at: float  # time.time() on arrival


class StorefrontConsumer:
    """The consumer's state and its HTTP server; thread-safe."""

    def __init__(
        self,
        secret: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tolerance: float = 300,
        echo: bool = False,
    ) -> None:
        self.secret = secret
        self.tolerance = tolerance
        self.echo = echo
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._events: list[ReceivedEvent] = []
        self._replica: dict[tuple[str, str], dict[str, int]] = {}
        self._down = False
        self.requests = 0  # every POST, answered or refused
        self.duplicates = 0
        self.rejected = 0  # bad signature or body
        self.refused = 0  # answered 503 while down
        self._server = _Server((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = str(self._server.server_address[0])
        return f"http://{host}:{self.port}/webhooks"

    def start(self) -> StorefrontConsumer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="storefront-consumer",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def serve_forever(self) -> None:
        """Serve on the calling thread until interrupted (the command line's way)."""
        try:
            self._server.serve_forever(poll_interval=0.5)
        finally:
            self._server.server_close()

    def __enter__(self) -> StorefrontConsumer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- what the tests read ---

    def set_down(self, down: bool) -> None:
        """While down, every request is answered 503 and nothing is applied."""
        with self._lock:
            self._down = down

    def replica(self) -> dict[tuple[str, str], dict[str, int]]:
        """Stock levels by (sku, warehouse): the newest version received of each."""
        with self._lock:
            return {key: dict(level) for key, level in self._replica.items()}

    def events(self) -> list[ReceivedEvent]:
        """Every accepted event once, in arrival order."""
        with self._lock:
            return list(self._events)

    def event_ids(self) -> set[str]:
        with self._lock:
            return set(self._seen)

    # --- handling one request ---

    def receive(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer one webhook: (status, JSON answer). Duplicates are acknowledged, not applied."""
        with self._lock:
            self.requests += 1
            if self._down:
                self.refused += 1
                return 503, {"error": "down for maintenance"}
        try:
            msg_id = verify(self.secret, headers, body, tolerance=self.tolerance)
            event = json.loads(body)
            if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
                raise ValueError("the body is not an event object")
        except (SignatureError, ValueError) as exc:
            with self._lock:
                self.rejected += 1
            return (401 if isinstance(exc, SignatureError) else 400), {"error": str(exc)}
        with self._lock:
            if msg_id in self._seen:
                self.duplicates += 1
                return 200, {"status": "duplicate"}
            self._seen.add(msg_id)
            received = ReceivedEvent(
                id=msg_id,
                type=str(event.get("type", "")),
                timestamp=str(event.get("timestamp", "")),
                data=event["data"],
                received_at=time.time(),
            )
            self._events.append(received)
            applied = self._apply(received)
        if self.echo:
            sys.stdout.write(f"{received.id} {received.type} applied={applied}\n")
            sys.stdout.flush()
        return 200, {"status": "accepted", "applied": applied}

    def _apply(self, event: ReceivedEvent) -> bool:
        if event.type != "inventory.level.updated":
            return False
        data = event.data
        key = (str(data["sku"]), str(data["warehouse"]))
        current = self._replica.get(key)
        if current is not None and current["version"] >= int(data["version"]):
            return False  # an older state that arrived late
        self._replica[key] = {name: int(data[name]) for name in LEVEL_FIELDS}
        return True

    def snapshot(self) -> dict[str, Any]:
        """What ``GET /replica`` shows."""
        return {
            "levels": [
                {"sku": sku, "warehouse": warehouse, **level}
                for (sku, warehouse), level in sorted(self.replica().items())
            ],
            "events": len(self.events()),
            "requests": self.requests,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "refused": self.refused,
        }


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A sender that vanished mid-request (a killed worker) is expected, not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def _handler(consumer: StorefrontConsumer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the deliverer reuses its connections
        disable_nagle_algorithm = True  # answer at once, not after the client's delayed ACK

        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("content-length", "0"))
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                self._answer(413, {"error": "send a body of at most 1 MB with a content-length"})
                return
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer = consumer.receive(headers, body)
            self._answer(status, answer)

        def do_GET(self) -> None:
            if self.path.startswith("/replica"):
                self._answer(200, consumer.snapshot())
            elif self.path.startswith("/events"):
                self._answer(
                    200,
                    {
                        "events": [
                            {"id": e.id, "type": e.type, "timestamp": e.timestamp, "data": e.data}
                            for e in consumer.events()
                        ]
                    },
                )
            else:
                self._answer(200, {"status": "ok"})

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None  # quiet: the consumer reports what it applies when asked to (--echo)

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m integrations.storefront.consumer",
        description="A reference storefront that verifies WMS webhooks and keeps a stock replica.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument(
        "--secret",
        default=os.environ.get("STOREFRONT_WEBHOOK_SECRET"),
        help="The endpoint's whsec_ secret (or STOREFRONT_WEBHOOK_SECRET).",
    )
    parser.add_argument("--quiet", action="store_true", help="Do not print each event.")
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error("give --secret whsec_... (the secret returned when the endpoint was created)")
    consumer = StorefrontConsumer(args.secret, host=args.host, port=args.port, echo=not args.quiet)
    sys.stdout.write(f"listening on {consumer.url}\n")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        consumer.serve_forever()


if __name__ == "__main__":
    main()
