"""Vehicle routing with capacities and time windows (CVRPTW), as plain values that know no solver.

Units follow the distance matrix the problem is solved with (see ``distance``): kilometres and
minutes for road networks (haversine, OSRM), the instance's own units for the Euclidean
benchmarks (where travel time equals distance). A time window bounds the *start* of service.
A vehicle leaves its start depot no earlier than its shift start and must be back at its end
depot by its shift end. A route costs ``cost_per_km`` times its distance plus the vehicle's fixed
cost; a stop left out costs its drop penalty. A stop without a drop penalty is required: it is
left out only when no plan can serve it, and then the result says so and is not feasible.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from wms.errors import ValidationFailed

Coordinates = tuple[float, float]  # (x, y) on a plane, or (latitude, longitude) in degrees


def _fail(message: str, field_name: str, **context: str) -> None:
    raise ValidationFailed(message, field=field_name, **context)


@dataclass(frozen=True)
class Depot:
    """Where vehicles load and come back to."""

    id: str
    coordinates: Coordinates


@dataclass(frozen=True)
class Stop:
    """A delivery: where, how much, when service may start, and what leaving it out costs."""

    id: str
    coordinates: Coordinates
    weight: float = 0.0
    volume: float = 0.0
    earliest: float = 0.0
    latest: float = math.inf
    service_time: float = 0.0
    drop_penalty: float | None = None  # None: required

    @property
    def required(self) -> bool:
        return self.drop_penalty is None


@dataclass(frozen=True)
class Vehicle:
    """One vehicle and its shift; ``capacity_volume`` None means volume does not limit it."""

    id: str
    depot: str
    capacity_weight: float
    capacity_volume: float | None = None
    shift_start: float = 0.0
    shift_end: float = math.inf
    cost_per_km: float = 1.0
    fixed_cost: float = 0.0
    end_depot: str | None = None  # None: back to ``depot``

    @property
    def return_depot(self) -> str:
        return self.depot if self.end_depot is None else self.end_depot


@dataclass(frozen=True)
class RoutingProblem:
    """Stops to serve from depots with a fleet; ``metric`` names the distance matrix to use."""

    depots: tuple[Depot, ...]
    stops: tuple[Stop, ...]
    vehicles: tuple[Vehicle, ...]
    metric: str = "haversine"  # a configuration string for ``distance.make_matrix``
    name: str = ""

    def stop(self, stop_id: str) -> Stop:
        """The stop with this id."""
        return self._stops_by_id[stop_id]

    def vehicle(self, vehicle_id: str) -> Vehicle:
        """The vehicle with this id."""
        return self._vehicles_by_id[vehicle_id]

    @cached_property
    def _stops_by_id(self) -> dict[str, Stop]:
        return {s.id: s for s in self.stops}

    @cached_property
    def _vehicles_by_id(self) -> dict[str, Vehicle]:
        return {v.id: v for v in self.vehicles}

    def validate(self) -> None:
        """Refuse a problem no solver should see, naming the field at fault."""
        self._validate_ids()
        for vehicle in self.vehicles:
            _validate_vehicle(vehicle)
        for stop in self.stops:
            self._validate_stop(stop)

    def _validate_ids(self) -> None:
        if not self.vehicles:
            _fail("the fleet has no vehicle", "vehicles")
        depot_ids = {d.id for d in self.depots}
        ids = Counter([*depot_ids, *(s.id for s in self.stops)])
        repeated = sorted(i for i, n in ids.items() if n > 1)
        if repeated or len(depot_ids) < len(self.depots):
            _fail(f"ids must be unique; repeated: {', '.join(repeated) or 'a depot'}", "id")
        vehicle_ids = Counter(v.id for v in self.vehicles)
        if max(vehicle_ids.values()) > 1:
            _fail("vehicle ids must be unique", "vehicles")
        for vehicle in self.vehicles:
            for depot in (vehicle.depot, vehicle.return_depot):
                if depot not in depot_ids:
                    _fail(
                        f"vehicle {vehicle.id}: unknown depot {depot}", "depot", vehicle=vehicle.id
                    )

    def _validate_stop(self, stop: Stop) -> None:
        where = f"stop {stop.id}"
        if not all(math.isfinite(c) for c in stop.coordinates):
            _fail(f"{where}: coordinates must be numbers", "coordinates", stop=stop.id)
        if not (0 <= stop.weight < math.inf and 0 <= stop.volume < math.inf):
            _fail(f"{where}: weight and volume must be 0 or more", "demand", stop=stop.id)
        if not 0 <= stop.service_time < math.inf:
            _fail(
                f"{where}: service time {stop.service_time} is negative",
                "service_time",
                stop=stop.id,
            )
        if stop.drop_penalty is not None and not stop.drop_penalty >= 0:
            _fail(f"{where}: drop penalty is negative", "drop_penalty", stop=stop.id)
        if not (math.isfinite(stop.earliest) and stop.earliest <= stop.latest):
            _fail(
                f"{where}: time window [{stop.earliest}, {stop.latest}] is empty",
                "time_window",
                stop=stop.id,
            )
        if not any(
            stop.earliest <= v.shift_end and stop.latest >= v.shift_start for v in self.vehicles
        ):
            _fail(
                f"{where}: time window [{stop.earliest}, {stop.latest}] lies outside every "
                "vehicle's shift, so no vehicle can reach it",
                "time_window",
                stop=stop.id,
            )


def _validate_vehicle(vehicle: Vehicle) -> None:
    where = f"vehicle {vehicle.id}"
    if not 0 < vehicle.capacity_weight < math.inf:
        _fail(
            f"{where}: weight capacity must be a number above 0",
            "capacity_weight",
            vehicle=vehicle.id,
        )
    if vehicle.capacity_volume is not None and not 0 < vehicle.capacity_volume < math.inf:
        _fail(
            f"{where}: volume capacity must be a number above 0",
            "capacity_volume",
            vehicle=vehicle.id,
        )
    if not (math.isfinite(vehicle.shift_start) and vehicle.shift_start <= vehicle.shift_end):
        _fail(f"{where}: the shift ends before it starts", "shift", vehicle=vehicle.id)
    if not (0 <= vehicle.cost_per_km < math.inf and 0 <= vehicle.fixed_cost < math.inf):
        _fail(f"{where}: costs must be numbers of 0 or more", "cost", vehicle=vehicle.id)


@dataclass(frozen=True)
class SolveParameters:
    """How long to search and with which seed; ``iteration_limit`` fixes the search budget.

    With an iteration limit that ends the search before the time limit does, the same seed gives
    the same routes; with the time limit alone, a busier machine may search less.
    """

    time_limit_seconds: float = 10.0
    seed: int = 0
    iteration_limit: int | None = None

    def __post_init__(self) -> None:
        if not self.time_limit_seconds > 0:
            _fail(
                f"time limit {self.time_limit_seconds} s must be more than 0",
                "time_limit_seconds",
            )
        if self.seed < 0:
            _fail(f"seed {self.seed} must be 0 or more", "seed")
        if self.iteration_limit is not None and self.iteration_limit < 1:
            _fail("the iteration limit must be 1 or more", "iteration_limit")


@dataclass(frozen=True)
class Visit:
    """A stop on a route: when the vehicle gets there, when service starts, load on board after."""

    stop: str
    arrival: float
    service_start: float
    weight_on_board: float
    volume_on_board: float


@dataclass(frozen=True)
class Route:
    """One vehicle's trip: its visits in order, when it leaves and is back, what it costs."""

    vehicle: str
    visits: tuple[Visit, ...]
    departure: float
    return_time: float
    distance: float
    weight: float  # loaded at the depot
    volume: float
    cost: float

    @property
    def stops(self) -> tuple[str, ...]:
        return tuple(v.stop for v in self.visits)


@dataclass(frozen=True)
class DroppedStop:
    """A stop on no route, and why; ``required`` ones make the result infeasible."""

    stop: str
    reason: str
    required: bool


@dataclass(frozen=True)
class RoutingResult:
    """Routes and dropped stops; infeasible is a result: see ``is_feasible`` and ``violations``."""

    routes: tuple[Route, ...]
    dropped: tuple[DroppedStop, ...]
    objective: float  # route costs plus the drop penalties paid
    distance: float
    method: str
    seconds: float
    violations: tuple[str, ...] = field(default=())

    @property
    def vehicles_used(self) -> int:
        return len(self.routes)

    def is_feasible(self) -> bool:
        """Every rule holds and every required stop is on a route."""
        return not self.violations and not any(d.required for d in self.dropped)

    def summary(self) -> str:
        """A few lines for a person: totals, then one line per route and per dropped stop."""
        state = "feasible" if self.is_feasible() else "NOT feasible"
        lines = [
            f"{self.method}: {state}, {self.vehicles_used} vehicles, distance "
            f"{self.distance:.1f}, objective {self.objective:.1f}, {self.seconds:.1f} s",
        ]
        for route in self.routes:
            lines.append(
                f"  {route.vehicle}: {' '.join(route.stops)} "
                f"(distance {route.distance:.1f}, weight {route.weight:g})"
            )
        lines += [f"  dropped {d.stop}: {d.reason}" for d in self.dropped]
        lines += [f"  violation: {v}" for v in self.violations]
        return "\n".join(lines)
