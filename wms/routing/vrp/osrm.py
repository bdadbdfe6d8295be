"""OSRM as a distance matrix: the ``/table/v1`` HTTP API, asked in blocks the server accepts.

OSRM takes ``lon,lat`` pairs and answers metres and seconds; we give kilometres and minutes, as
the haversine matrix does. Servers refuse tables larger than ``--max-table-size`` (100 by
default), so big tables are asked block by block with ``sources`` and ``destinations``.
Unreachable pairs (``null``) become infinite and stops behind them are dropped as unreachable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from wms.routing.vrp.distance import DEFAULT_SPEED_KMH, DistanceServiceFailed, FloatMatrix
from wms.routing.vrp.problem import Coordinates

DEFAULT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class OsrmMatrix:
    """Road distances and driving times from an OSRM server at ``base_url``."""

    base_url: str
    profile: str = "driving"
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    retries: int = 1
    max_table_size: int = 100
    client: httpx.Client | None = field(default=None, compare=False, repr=False)
    name: str = "osrm"
    precision: int = 1000
    exact: bool = False

    def table(self, points: Sequence[Coordinates]) -> tuple[FloatMatrix, FloatMatrix]:
        """Kilometres and minutes between (lat, lon) points, asked block by block."""
        n = len(points)
        km = np.zeros((n, n))
        minutes = np.zeros((n, n))
        blocks = [
            list(range(i, min(i + self.max_table_size, n)))
            for i in range(0, n, self.max_table_size)
        ]
        client = self.client or httpx.Client(timeout=self.timeout_seconds)
        try:
            for rows in blocks:
                for cols in blocks:
                    d, t = self._block(client, points, rows, cols)
                    km[np.ix_(rows, cols)] = d
                    minutes[np.ix_(rows, cols)] = t
        finally:
            if self.client is None:
                client.close()
        return km, minutes

    def _block(
        self, client: httpx.Client, points: Sequence[Coordinates], rows: list[int], cols: list[int]
    ) -> tuple[FloatMatrix, FloatMatrix]:
        wanted = sorted(set(rows) | set(cols))
        position = {p: k for k, p in enumerate(wanted)}
        coordinates = ";".join(f"{points[p][1]:.6f},{points[p][0]:.6f}" for p in wanted)
        params = {
            "annotations": "duration,distance",
            "sources": ";".join(str(position[r]) for r in rows),
            "destinations": ";".join(str(position[c]) for c in cols),
        }
        url = f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{coordinates}"
        body = self._get(client, url, params)
        return _read_table(body, len(rows), len(cols))

    def _get(self, client: httpx.Client, url: str, params: dict[str, str]) -> dict[str, Any]:
        where = f"OSRM at {self.base_url}"
        for attempt in range(self.retries + 1):
            try:
                response = client.get(url, params=params, timeout=self.timeout_seconds)
            except httpx.TimeoutException:
                failure = f"{where} did not answer within {self.timeout_seconds:g} s"
            except httpx.HTTPError as exc:
                failure = f"cannot reach {where}: {exc}"
            else:
                if response.status_code < 500:
                    return _ok_body(response, where)
                failure = f"{where} failed with HTTP {response.status_code}"
            if attempt == self.retries:
                raise DistanceServiceFailed(failure, field="metric")
        raise AssertionError("unreachable")  # pragma: no cover


def _ok_body(response: httpx.Response, where: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise DistanceServiceFailed(
            f"{where} answered HTTP {response.status_code} without a JSON table", field="metric"
        )
    if body.get("code") != "Ok" or response.status_code != 200:
        code = body.get("code", f"HTTP {response.status_code}")
        message = body.get("message", "no message")
        raise DistanceServiceFailed(f"{where} refused the table: {code}: {message}", field="metric")
    return body


def _read_table(body: dict[str, Any], rows: int, cols: int) -> tuple[FloatMatrix, FloatMatrix]:
    """Seconds and metres (or seconds alone, from an older server) as minutes and kilometres."""
    durations = _matrix(body.get("durations"), rows, cols, "durations")
    minutes = durations / 60
    if body.get("distances") is None:
        # A server without the distance annotation: estimate distance from time.
        return minutes / 60 * DEFAULT_SPEED_KMH, minutes
    return _matrix(body["distances"], rows, cols, "distances") / 1000, minutes


def _matrix(values: object, rows: int, cols: int, name: str) -> FloatMatrix:
    if not isinstance(values, list) or len(values) != rows:
        raise DistanceServiceFailed(f"OSRM table has no {rows}-row {name}", field="metric")
    out = np.full((rows, cols), math.inf)
    for r, row in enumerate(values):
        if not isinstance(row, list) or len(row) != cols:
            raise DistanceServiceFailed(f"OSRM {name} row {r} is not {cols} long", field="metric")
        for c, value in enumerate(row):
            if isinstance(value, int | float):
                out[r, c] = float(value)
    return out
