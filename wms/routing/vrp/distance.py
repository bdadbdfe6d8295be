"""Distances and travel times between locations, behind one protocol a configuration string picks.

Real warehouses use great-circle distance times a road factor (the default) or an OSRM server;
the academic benchmarks use Euclidean distance, exact or rounded the way their best-known
solutions were computed. ``precision`` tells integer solvers how many units per unit keep the
values exact (``exact``) or close enough.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from wms.errors import ErrorKind, ValidationFailed, WmsError
from wms.routing.vrp.problem import Coordinates, RoutingProblem

if TYPE_CHECKING:
    import httpx

FloatMatrix = npt.NDArray[np.float64]
EARTH_RADIUS_KM = 6371.0088
DEFAULT_ROAD_FACTOR = 1.3
DEFAULT_SPEED_KMH = 40.0


class DistanceServiceFailed(WmsError):
    """The routing engine (OSRM) did not give a usable table."""

    code = "distance_service_failed"
    # The request is fine; the service we depend on refuses it or is down.
    kind = ErrorKind.CONFLICT


class DistanceMatrix(Protocol):
    """Distance and travel time between every pair of points."""

    @property
    def name(self) -> str: ...

    @property
    def precision(self) -> int: ...

    @property
    def exact(self) -> bool: ...

    def table(self, points: Sequence[Coordinates]) -> tuple[FloatMatrix, FloatMatrix]:
        """Distances and travel times, row = from, column = to."""
        ...


@dataclass(frozen=True, eq=False)
class TravelTable:
    """A matrix evaluated once for a problem's depots and stops, looked up by id."""

    ids: tuple[str, ...]
    distance: FloatMatrix
    time: FloatMatrix
    precision: int
    exact: bool

    def index(self, location_id: str) -> int:
        """The row of a depot or stop."""
        return self._rows[location_id]

    @cached_property
    def _rows(self) -> dict[str, int]:
        return {i: n for n, i in enumerate(self.ids)}


def travel_table(problem: RoutingProblem, matrix: DistanceMatrix) -> TravelTable:
    """Evaluate ``matrix`` once over the problem's depots, then its stops."""
    places = [(d.id, d.coordinates) for d in problem.depots] + [
        (s.id, s.coordinates) for s in problem.stops
    ]
    distance, time = matrix.table([c for _, c in places])
    return TravelTable(
        ids=tuple(i for i, _ in places),
        distance=distance,
        time=time,
        precision=matrix.precision,
        exact=matrix.exact,
    )


def _euclidean(points: Sequence[Coordinates]) -> FloatMatrix:
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    delta = xy[:, None, :] - xy[None, :, :]
    return np.asarray(np.sqrt((delta**2).sum(axis=2)), dtype=np.float64)


@dataclass(frozen=True)
class EuclideanMatrix:
    """Straight-line distance on a plane at speed 1 (travel time = distance), in float64."""

    name: str = "euclidean"
    precision: int = 1000
    exact: bool = False

    def table(self, points: Sequence[Coordinates]) -> tuple[FloatMatrix, FloatMatrix]:
        d = _euclidean(points)
        return d, d.copy()


@dataclass(frozen=True)
class TruncatedEuclideanMatrix:
    """Euclidean distance and time truncated to one decimal (DIMACS, the Solomon BKS convention)."""

    name: str = "euclidean_trunc1"
    precision: int = 10
    exact: bool = True

    def table(self, points: Sequence[Coordinates]) -> tuple[FloatMatrix, FloatMatrix]:
        d = np.floor(10 * _euclidean(points)) / 10
        return d, d.copy()


@dataclass(frozen=True)
class RoundedEuclideanMatrix:
    """Euclidean distance rounded to the nearest integer (TSPLIB ``nint``, the CVRPLIB convention)."""

    name: str = "euclidean_nint"
    precision: int = 1
    exact: bool = True

    def table(self, points: Sequence[Coordinates]) -> tuple[FloatMatrix, FloatMatrix]:
        d = np.floor(_euclidean(points) + 0.5)
        return d, d.copy()


@dataclass(frozen=True)
class HaversineMatrix:
    """Great-circle kilometres times a road factor; minutes at an average speed.

    Points are (latitude, longitude) in degrees.
    """

    road_factor: float = DEFAULT_ROAD_FACTOR
    speed_kmh: float = DEFAULT_SPEED_KMH
    name: str = "haversine"
    precision: int = 1000
    exact: bool = False

    def __post_init__(self) -> None:
        if not (self.road_factor >= 1 and self.speed_kmh > 0):
            raise ValidationFailed(
                "haversine needs a road factor of 1 or more and a speed above 0", field="metric"
            )

    def table(self, points: Sequence[Coordinates]) -> tuple[FloatMatrix, FloatMatrix]:
        rad = np.radians(np.asarray(points, dtype=np.float64).reshape(-1, 2))
        lat, lon = rad[:, 0], rad[:, 1]
        dlat = lat[None, :] - lat[:, None]
        dlon = lon[None, :] - lon[:, None]
        a = (
            np.sin(dlat / 2) ** 2
            + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
        )
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))) * self.road_factor
        return km, km / self.speed_kmh * 60


def make_matrix(config: str, *, client: httpx.Client | None = None) -> DistanceMatrix:
    """The matrix a configuration string names: ``haversine``, ``osrm:http://host:5000`` and so on.

    ``haversine:road_factor=1.4,speed_kmh=50`` sets the haversine parameters; ``euclidean``,
    ``euclidean_trunc1`` and ``euclidean_nint`` are the benchmark conventions.
    """
    kind, _, rest = config.strip().partition(":")
    if kind == "osrm":
        from wms.routing.vrp.osrm import OsrmMatrix

        if not rest.startswith(("http://", "https://")):
            raise ValidationFailed(
                f"osrm needs a server address, as in osrm:http://host:5000 (got {config!r})",
                field="metric",
            )
        return OsrmMatrix(rest, client=client)
    if kind == "haversine":
        options = _haversine_options(rest)
        return HaversineMatrix(
            road_factor=options.get("road_factor", DEFAULT_ROAD_FACTOR),
            speed_kmh=options.get("speed_kmh", DEFAULT_SPEED_KMH),
        )
    fixed: dict[str, DistanceMatrix] = {
        "euclidean": EuclideanMatrix(),
        "euclidean_trunc1": TruncatedEuclideanMatrix(),
        "euclidean_nint": RoundedEuclideanMatrix(),
    }
    if kind in fixed and not rest:
        return fixed[kind]
    raise ValidationFailed(
        f"unknown distance metric {config!r}; use haversine, osrm:URL, euclidean, "
        "euclidean_trunc1 or euclidean_nint",
        field="metric",
    )


def _haversine_options(text: str) -> dict[str, float]:
    options: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if key not in {"road_factor", "speed_kmh"} or not math.isfinite(number):
            raise ValidationFailed(
                f"haversine takes road_factor=N and speed_kmh=N, not {part!r}", field="metric"
            )
        options[key] = number
    return options
