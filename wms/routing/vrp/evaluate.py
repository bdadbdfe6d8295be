"""An independent check of routes: schedule them, price them and list every rule they break.

Nothing here comes from a solver backend, so a bug in a model builder cannot hide behind the same
bug here. A vehicle leaves at its shift start, or later when it would only wait at its first
stop; service starts at arrival or when the window opens; the vehicle must be back by its shift
end. Loads are what the vehicle carries out of the depot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from wms.errors import ValidationFailed
from wms.routing.vrp.distance import TravelTable
from wms.routing.vrp.problem import DroppedStop, Route, RoutingProblem, Stop, Vehicle, Visit

TOLERANCE = 1e-6  # float noise allowed on times and loads


@dataclass(frozen=True)
class Evaluation:
    """Scheduled routes, their totals and the rules broken (empty when the plan is valid)."""

    routes: tuple[Route, ...]
    violations: tuple[str, ...]
    distance: float
    cost: float  # route costs plus the drop penalties of optional stops on no route
    unvisited: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def vehicles_used(self) -> int:
        return len(self.routes)


def evaluate(
    problem: RoutingProblem,
    routes: Mapping[str, Sequence[str]],
    *,
    table: TravelTable,
    dropped: Collection[str] = (),
) -> Evaluation:
    """Check ``routes`` (vehicle id to stop ids in visiting order) against every rule.

    Every stop must be on exactly one route or listed in ``dropped``.
    """
    known = {s.id for s in problem.stops}
    violations = _visit_violations(problem, routes, known, set(dropped))
    vehicles = {v.id: v for v in problem.vehicles}
    scheduled: list[Route] = []
    for vehicle_id, sequence in routes.items():
        stops = [problem.stop(s) for s in sequence if s in known]
        if not stops:
            continue
        if vehicle_id not in vehicles:
            violations.append(f"unknown vehicle {vehicle_id}")
            continue
        route, broken = schedule(vehicles[vehicle_id], stops, table)
        scheduled.append(route)
        violations += broken
    visited = {s for r in scheduled for s in r.stops}
    unvisited = tuple(s.id for s in problem.stops if s.id not in visited)
    penalties = sum(problem.stop(s).drop_penalty or 0.0 for s in unvisited)
    return Evaluation(
        routes=tuple(scheduled),
        violations=tuple(violations),
        distance=sum(r.distance for r in scheduled),
        cost=sum(r.cost for r in scheduled) + penalties,
        unvisited=unvisited,
    )


def _visit_violations(
    problem: RoutingProblem,
    routes: Mapping[str, Sequence[str]],
    known: set[str],
    dropped: set[str],
) -> list[str]:
    counts = Counter(s for sequence in routes.values() for s in sequence)
    violations = [f"unknown stop {s}" for s in counts if s not in known]
    violations += [f"stop {s} is visited {n} times" for s, n in counts.items() if n > 1]
    violations += [f"stop {s} is both visited and dropped" for s in dropped if s in counts]
    violations += [
        f"stop {s.id} is neither visited nor dropped"
        for s in problem.stops
        if s.id not in counts and s.id not in dropped
    ]
    return violations


def schedule(
    vehicle: Vehicle, stops: Sequence[Stop], table: TravelTable
) -> tuple[Route, list[str]]:
    """The route as driven: arrival and service start at each stop, and what it breaks."""
    rows = [table.index(vehicle.depot), *(table.index(s.id) for s in stops)]
    end = table.index(vehicle.return_depot)
    first_wait = stops[0].earliest - (vehicle.shift_start + table.time[rows[0], rows[1]])
    # Leaving later only trims the wait at the first stop, so nothing after it moves.
    departure = vehicle.shift_start + max(0.0, first_wait)
    weight = sum(s.weight for s in stops)
    volume = sum(s.volume for s in stops)
    broken = _load_violations(vehicle, weight, volume)
    visits, clock, distance = _drive(vehicle, stops, rows, table, departure, broken)
    back = clock + table.time[rows[-1], end]
    distance += table.distance[rows[-1], end]
    if back > vehicle.shift_end + TOLERANCE:
        broken.append(
            f"vehicle {vehicle.id} is back at {back:g}, after its shift ends at {vehicle.shift_end:g}"
        )
    route = Route(
        vehicle=vehicle.id,
        visits=tuple(visits),
        departure=float(departure),
        return_time=float(back),
        distance=float(distance),
        weight=weight,
        volume=volume,
        cost=float(vehicle.cost_per_km * distance + vehicle.fixed_cost),
    )
    return route, broken


def _drive(
    vehicle: Vehicle,
    stops: Sequence[Stop],
    rows: Sequence[int],
    table: TravelTable,
    departure: float,
    broken: list[str],
) -> tuple[list[Visit], float, float]:
    """Visits from the depot to the last stop; the clock when it is done and the distance."""
    clock, distance = departure, 0.0
    on_board_w, on_board_v = sum(s.weight for s in stops), sum(s.volume for s in stops)
    visits = []
    for prev, stop, row in zip(rows, stops, rows[1:], strict=False):
        arrival = clock + table.time[prev, row]
        distance += table.distance[prev, row]
        start = max(arrival, stop.earliest)
        if start > stop.latest + TOLERANCE:
            broken.append(
                f"stop {stop.id}: service starts at {start:g}, after its window closes at "
                f"{stop.latest:g} (vehicle {vehicle.id})"
            )
        on_board_w -= stop.weight
        on_board_v -= stop.volume
        visits.append(Visit(stop.id, float(arrival), float(start), on_board_w, on_board_v))
        clock = start + stop.service_time
    return visits, clock, distance


def _load_violations(vehicle: Vehicle, weight: float, volume: float) -> list[str]:
    broken = []
    if weight > vehicle.capacity_weight + TOLERANCE:
        broken.append(
            f"vehicle {vehicle.id} carries weight {weight:g} over its capacity {vehicle.capacity_weight:g}"
        )
    if vehicle.capacity_volume is not None and volume > vehicle.capacity_volume + TOLERANCE:
        broken.append(
            f"vehicle {vehicle.id} carries volume {volume:g} over its capacity {vehicle.capacity_volume:g}"
        )
    return broken


def why_unservable(problem: RoutingProblem, stop: Stop, table: TravelTable) -> str | None:
    """Why no vehicle can serve ``stop`` even on a route of its own; None when one can."""
    reasons = [_alone(vehicle, stop, table) for vehicle in problem.vehicles]
    if any(r is None for r in reasons):
        return None
    # The reason of the vehicle that came closest: the order of the checks in ``_alone``.
    return min((r for r in reasons if r is not None), key=lambda r: _REASON_ORDER[r.split(":")[0]])


_REASON_ORDER = {"no road": 0, "weight": 1, "volume": 2, "too late": 3, "shift": 4}


def _alone(vehicle: Vehicle, stop: Stop, table: TravelTable) -> str | None:
    there = table.time[table.index(vehicle.depot), table.index(stop.id)]
    back = table.time[table.index(stop.id), table.index(vehicle.return_depot)]
    if not (there < float("inf") and back < float("inf")):
        return "no road: no road joins it to a depot"
    if stop.weight > vehicle.capacity_weight + TOLERANCE:
        return f"weight: its weight {stop.weight:g} exceeds every vehicle's capacity"
    cap_v = vehicle.capacity_volume
    if cap_v is not None and stop.volume > cap_v + TOLERANCE:
        return f"volume: its volume {stop.volume:g} exceeds every vehicle's capacity"
    start = max(vehicle.shift_start + there, stop.earliest)
    if start > stop.latest + TOLERANCE:
        return f"too late: no vehicle can get there before its window closes at {stop.latest:g}"
    if start + stop.service_time + back > vehicle.shift_end + TOLERANCE:
        return "shift: no vehicle can serve it and be back before its shift ends"
    return None


def unservable(problem: RoutingProblem, table: TravelTable) -> tuple[DroppedStop, ...]:
    """Stops no vehicle can serve at all, with the reason; solvers never see them."""
    dropped = []
    for stop in problem.stops:
        reason = why_unservable(problem, stop, table)
        if reason is not None:
            dropped.append(DroppedStop(stop.id, reason.split(": ", 1)[1], stop.required))
    return tuple(dropped)


def assign_vehicles(
    problem: RoutingProblem, sequences: Sequence[Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    """Give routes that name no vehicle (a ``.sol`` file's) to the fleet's vehicles in order."""
    if len(sequences) > len(problem.vehicles):
        raise ValidationFailed(
            f"{len(sequences)} routes but only {len(problem.vehicles)} vehicles", field="routes"
        )
    return {v.id: tuple(seq) for v, seq in zip(problem.vehicles, sequences, strict=False)}
