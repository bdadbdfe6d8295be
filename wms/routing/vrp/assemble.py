"""Turn a backend's stop sequences into a result the evaluator vouches for.

Backends only say which vehicle visits which stops in which order; times, loads, distance and
cost come from the independent evaluator. Should a backend ever hand back a route that breaks a
rule (rounding, a bug), the offending stops are taken off and reported as dropped, so a result
never carries a broken route and no stop is silently lost.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from wms.routing.vrp.distance import TravelTable
from wms.routing.vrp.evaluate import TOLERANCE, evaluate, schedule
from wms.routing.vrp.problem import DroppedStop, RoutingProblem, RoutingResult, Stop, Vehicle


def build_result(
    problem: RoutingProblem,
    table: TravelTable,
    routes: Mapping[str, Sequence[str]],
    *,
    screened: Sequence[DroppedStop],
    method: str,
    started: float,
) -> RoutingResult:
    """The result of ``routes``: repaired if need be, every stop off them dropped with a reason."""
    kept, removed = repair(problem, table, routes)
    visited = {s for sequence in kept.values() for s in sequence}
    known = {d.stop for d in (*screened, *removed)}
    left_out = [
        DroppedStop(s.id, _left_out_reason(s), s.required)
        for s in problem.stops
        if s.id not in visited and s.id not in known
    ]
    dropped = (*screened, *removed, *left_out)
    evaluation = evaluate(problem, kept, table=table, dropped=[d.stop for d in dropped])
    return RoutingResult(
        routes=evaluation.routes,
        dropped=dropped,
        objective=evaluation.cost,
        distance=evaluation.distance,
        method=method,
        seconds=time.perf_counter() - started,
        violations=evaluation.violations,
    )


def _left_out_reason(stop: Stop) -> str:
    if stop.required:
        return "no route the search found could fit it with the vehicles available"
    return f"serving it costs more than its drop penalty {stop.drop_penalty:g}"


def repair(
    problem: RoutingProblem, table: TravelTable, routes: Mapping[str, Sequence[str]]
) -> tuple[dict[str, tuple[str, ...]], list[DroppedStop]]:
    """Routes with every rule kept: stops that break one are taken off, first come first kept."""
    kept: dict[str, tuple[str, ...]] = {}
    removed: list[DroppedStop] = []
    seen: set[str] = set()
    for vehicle_id, sequence in routes.items():
        stops = [problem.stop(s) for s in sequence if s not in seen]
        seen.update(s.id for s in stops)
        if not stops:
            continue
        vehicle = problem.vehicle(vehicle_id)
        if schedule(vehicle, stops, table)[1]:
            stops, taken_off = _greedy_fit(vehicle, stops, table)
            removed += [
                DroppedStop(
                    s.id, f"taken off vehicle {vehicle.id}: it broke a rule there", s.required
                )
                for s in taken_off
            ]
        if stops:
            kept[vehicle_id] = tuple(s.id for s in stops)
    return kept, removed


def _greedy_fit(
    vehicle: Vehicle, stops: list[Stop], table: TravelTable
) -> tuple[list[Stop], list[Stop]]:
    fitted: list[Stop] = []
    taken_off: list[Stop] = []
    for stop in stops:
        if _fits(vehicle, [*fitted, stop], table, closed=False):
            fitted.append(stop)
        else:
            taken_off.append(stop)
    while fitted and not _fits(vehicle, fitted, table, closed=True):
        taken_off.append(fitted.pop())
    return fitted, taken_off


def _fits(vehicle: Vehicle, stops: list[Stop], table: TravelTable, *, closed: bool) -> bool:
    """Loads and windows hold along ``stops``; with ``closed``, the return to the depot too."""
    if sum(s.weight for s in stops) > vehicle.capacity_weight + TOLERANCE:
        return False
    cap_v = vehicle.capacity_volume
    if cap_v is not None and sum(s.volume for s in stops) > cap_v + TOLERANCE:
        return False
    clock, row = vehicle.shift_start, table.index(vehicle.depot)
    for stop in stops:
        nxt = table.index(stop.id)
        start = max(clock + table.time[row, nxt], stop.earliest)
        if start > stop.latest + TOLERANCE:
            return False
        clock, row = start + stop.service_time, nxt
    back = clock + table.time[row, table.index(vehicle.return_depot)]
    return not closed or back <= vehicle.shift_end + TOLERANCE
