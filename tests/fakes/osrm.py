"""A fake OSRM server that speaks the real ``/table/v1`` protocol, on a free port in a thread.

Distances are great-circle metres, durations are seconds at ``speed_mps``. Like a real
``osrm-routed``, it refuses tables larger than ``max_table_size`` squared (``TooBig``), answers
``InvalidQuery`` to a malformed request, and gives ``null`` for a pair it cannot route (here:
any point north of ``unroutable_north_of``). ``delay_seconds`` slows every answer, to test
timeouts; ``fail_times`` answers that many requests with HTTP 503 first, to test retries.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeOsrm:
    speed_mps: float = 10.0
    max_table_size: int = 100
    unroutable_north_of: float = 89.0
    delay_seconds: float = 0.0
    fail_times: int = 0
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def table(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        """The status and JSON body OSRM gives for ``GET path?query``."""
        parts = path.strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["table", "v1"]:
            return 400, {"code": "InvalidUrl", "message": f"URL string malformed: {path}"}
        try:
            points = [tuple(float(v) for v in pair.split(",")) for pair in parts[3].split(";")]
            sources = _indices(query.get("sources", ["all"])[0], len(points))
            destinations = _indices(query.get("destinations", ["all"])[0], len(points))
        except ValueError:
            return 400, {
                "code": "InvalidQuery",
                "message": "Query string malformed close to position 0",
            }
        if any(len(p) != 2 for p in points):
            return 400, {"code": "InvalidQuery", "message": "Query string malformed"}
        if len(sources) * len(destinations) > self.max_table_size**2:
            return 400, {"code": "TooBig", "message": "Too many table coordinates"}
        annotations = query.get("annotations", ["duration"])[0].split(",")
        metres = [[self._metres(points[s], points[d]) for d in destinations] for s in sources]
        body: dict[str, Any] = {
            "code": "Ok",
            "sources": [_waypoint(points[s]) for s in sources],
            "destinations": [_waypoint(points[d]) for d in destinations],
        }
        if "duration" in annotations:
            body["durations"] = [
                [None if m is None else m / self.speed_mps for m in row] for row in metres
            ]
        if "distance" in annotations:
            body["distances"] = metres
        return 200, body

    def _metres(self, a: tuple[float, ...], b: tuple[float, ...]) -> float | None:
        """Great-circle metres between two ``lon,lat`` points; None when either is unroutable."""
        if max(a[1], b[1]) > self.unroutable_north_of:
            return None
        lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
        h = (
            math.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        )
        return round(2 * 6_371_008.8 * math.asin(math.sqrt(h)), 1)


def _indices(text: str, n: int) -> list[int]:
    if text == "all":
        return list(range(n))
    indices = [int(i) for i in text.split(";")]
    if any(not 0 <= i < n for i in indices):
        raise ValueError(text)
    return indices


def _waypoint(point: tuple[float, ...]) -> dict[str, Any]:
    return {"hint": "", "distance": 0.0, "name": "", "location": [point[0], point[1]]}


@contextmanager
def running(fake: FakeOsrm | None = None) -> Iterator[FakeOsrm]:
    """Serve ``fake`` on 127.0.0.1 and a free port until the block ends; ``fake.url`` is set."""
    served = fake or FakeOsrm()
    yield from _serve(served)


def _serve(fake: FakeOsrm) -> Iterator[FakeOsrm]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.requests.append(self.path)
            if fake.delay_seconds:
                threading.Event().wait(fake.delay_seconds)
            if fake.fail_times > 0:
                fake.fail_times -= 1
                status, body = 503, {"code": "Unavailable", "message": "busy"}
            else:
                url = urlsplit(self.path)  # not urlparse: it cuts the path at ";"
                status, body = fake.table(url.path, parse_qs(url.query))
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nobody to answer

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
