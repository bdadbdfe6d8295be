"""The problem in whole numbers, for solvers that only take integers (OR-Tools, PyVRP).

Times and distances are multiplied by the matrix's ``precision``. When the matrix is exact at
that precision (truncated or rounded Euclidean) nothing is lost. Otherwise times are rounded
*against* the plan (travel and service up, windows and shifts inwards, demands up, capacities
down), so a plan the solver finds feasible is feasible in real numbers too; distances are
rounded to the nearest unit and the evaluator prices the plan exactly afterwards.

Money is in distance units of the cheapest vehicle (times ``COST_STEPS`` when vehicles cost
different amounts per km), so the usual case (one price per km) optimises exactly the distance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wms.routing.vrp.distance import TravelTable
from wms.routing.vrp.problem import DroppedStop, RoutingProblem, Stop, Vehicle

IntMatrix = npt.NDArray[np.int64]
COST_STEPS = 100  # resolution of the cost ratio between vehicles
DEMAND_STEPS = 1000  # resolution of fractional weights and volumes
UNREACHABLE = 10**12  # an arc no route may use; far below int64 overflow when summed
EPS = 1e-6


@dataclass(frozen=True)
class IntVehicle:
    id: str
    start: int  # node
    end: int
    capacity: tuple[int, int]  # weight, volume
    shift: tuple[int, int]
    arc_cost: int  # cost per distance unit
    fixed_cost: int


@dataclass(frozen=True, eq=False)
class IntegerModel:
    """Nodes are the depots, then the stops a solver may serve (unservable ones are screened)."""

    node_ids: tuple[str, ...]
    depots: int
    coordinates: tuple[tuple[float, float], ...]
    distance: IntMatrix
    time: IntMatrix
    service: tuple[int, ...]
    window: tuple[tuple[int, int], ...]
    demand: tuple[tuple[int, int], ...]  # weight, volume
    penalty: tuple[int, ...]  # for dropping the node; required stops get ``required_penalty``
    required: tuple[bool, ...]
    vehicles: tuple[IntVehicle, ...]
    horizon: int
    uses_volume: bool
    required_penalty: int

    @property
    def stop_nodes(self) -> range:
        return range(self.depots, len(self.node_ids))


def build_integer_model(
    problem: RoutingProblem, table: TravelTable, screened: Sequence[DroppedStop]
) -> IntegerModel:
    """Scale ``problem`` to integers, leaving out the ``screened`` stops."""
    out = {d.stop for d in screened}
    stops = [s for s in problem.stops if s.id not in out]
    # Only depots a vehicle uses: OR-Tools would otherwise take another depot for a stop.
    used = {v.depot for v in problem.vehicles} | {v.return_depot for v in problem.vehicles}
    depots = [d for d in problem.depots if d.id in used]
    ids = [*(d.id for d in depots), *(s.id for s in stops)]
    rows = [table.index(i) for i in ids]
    p = table.precision
    distance = _scale(table.distance[np.ix_(rows, rows)], p, up=False)
    time = _scale(table.time[np.ix_(rows, rows)], p, up=not table.exact)
    horizon = _horizon(problem, stops, time, p)
    volume_caps = [v.capacity_volume for v in problem.vehicles if v.capacity_volume is not None]
    steps = (
        _steps([s.weight for s in stops], [v.capacity_weight for v in problem.vehicles]),
        _steps([s.volume for s in stops], volume_caps),
    )
    costs = _CostScale(problem.vehicles, p)
    node = {i: n for n, i in enumerate(ids)}
    required_penalty = _required_penalty(distance, costs, stops)
    pad = len(depots)
    return IntegerModel(
        node_ids=tuple(ids),
        depots=pad,
        coordinates=(*(d.coordinates for d in depots), *(s.coordinates for s in stops)),
        distance=distance,
        time=time,
        service=(0,) * pad + tuple(_up(s.service_time * p) for s in stops),
        window=((0, horizon),) * pad + tuple(_window(s, p, horizon) for s in stops),
        demand=((0, 0),) * pad
        + tuple((_up(s.weight * steps[0]), _up(s.volume * steps[1])) for s in stops),
        penalty=(0,) * pad
        + tuple(
            required_penalty if s.required else costs.money(s.drop_penalty or 0) for s in stops
        ),
        required=(False,) * pad + tuple(s.required for s in stops),
        vehicles=tuple(
            _vehicle(v, node, horizon, p, costs, steps, stops) for v in problem.vehicles
        ),
        horizon=horizon,
        uses_volume=bool(volume_caps) and any(s.volume > 0 for s in stops),
        required_penalty=required_penalty,
    )


def _required_penalty(distance: IntMatrix, costs: _CostScale, stops: Sequence[Stop]) -> int:
    """More than serving any one stop can cost, and more than all optional stops together.

    So a required stop is dropped only when no plan can serve it, never to make room for
    optional ones.
    """
    finite = distance[distance < UNREACHABLE]
    worst_arc = int(finite.max()) if finite.size else 0
    optional = sum(costs.money(s.drop_penalty) for s in stops if s.drop_penalty is not None)
    return 10 * (2 * worst_arc * costs.max_arc_cost + costs.max_fixed) + optional + 1


def _scale(values: npt.NDArray[np.float64], precision: int, *, up: bool) -> IntMatrix:
    scaled = values * precision
    rounded = np.ceil(scaled - EPS) if up else np.rint(scaled)
    rounded[~np.isfinite(values)] = UNREACHABLE
    return np.minimum(rounded, UNREACHABLE).astype(np.int64)


def _up(value: float) -> int:
    return math.ceil(value - EPS)


def _down(value: float) -> int:
    return math.floor(value + EPS)


def _steps(demands: Sequence[float], capacities: Sequence[float]) -> int:
    """1 when every demand and capacity is whole, else ``DEMAND_STEPS`` to a unit."""
    whole = all(float(x).is_integer() for x in [*demands, *capacities])
    return 1 if whole else DEMAND_STEPS


def _horizon(problem: RoutingProblem, stops: Sequence[Stop], time: IntMatrix, p: int) -> int:
    """The latest time any plan can need: the last finite bound, or a long enough day."""
    bounds = [v.shift_end for v in problem.vehicles] + [s.latest for s in stops]
    finite = [_down(b * p) for b in bounds if math.isfinite(b)]
    if finite and all(math.isfinite(v.shift_end) for v in problem.vehicles):
        return max(finite)
    reachable = time[time < UNREACHABLE]
    longest = int(reachable.max()) if reachable.size else 0
    starts = [_up(v.shift_start * p) for v in problem.vehicles] + [
        _up(s.earliest * p) for s in stops
    ]
    services = sum(_up(s.service_time * p) for s in stops)
    return max([*finite, *starts, 0]) + services + longest * (len(stops) + 1) + 1


def _window(stop: Stop, p: int, horizon: int) -> tuple[int, int]:
    latest = horizon if not math.isfinite(stop.latest) else min(_down(stop.latest * p), horizon)
    return min(_up(stop.earliest * p), latest), latest


class _CostScale:
    """Money in integer units: distance units of the cheapest vehicle, finer if prices differ."""

    def __init__(self, vehicles: Sequence[Vehicle], precision: int) -> None:
        prices = {v.cost_per_km for v in vehicles}
        self.base = min((c for c in prices if c > 0), default=1.0)
        self.steps = 1 if len(prices) == 1 else COST_STEPS
        self.precision = precision
        self.max_arc_cost = max(self.arc_cost(v) for v in vehicles)
        self.max_fixed = max(self.money(v.fixed_cost) for v in vehicles)

    def arc_cost(self, vehicle: Vehicle) -> int:
        return round(vehicle.cost_per_km / self.base * self.steps)

    def money(self, amount: float) -> int:
        return round(amount / self.base * self.steps * self.precision)


def _vehicle(
    vehicle: Vehicle,
    node: dict[str, int],
    horizon: int,
    p: int,
    costs: _CostScale,
    steps: tuple[int, int],
    stops: Sequence[Stop],
) -> IntVehicle:
    cap_v = vehicle.capacity_volume
    unlimited = _up(sum(s.volume for s in stops) * steps[1]) + 1
    end = (
        horizon
        if not math.isfinite(vehicle.shift_end)
        else min(_down(vehicle.shift_end * p), horizon)
    )
    return IntVehicle(
        id=vehicle.id,
        start=node[vehicle.depot],
        end=node[vehicle.return_depot],
        capacity=(
            _down(vehicle.capacity_weight * steps[0]),
            unlimited if cap_v is None else _down(cap_v * steps[1]),
        ),
        shift=(min(_up(vehicle.shift_start * p), end), end),
        arc_cost=costs.arc_cost(vehicle),
        fixed_cost=costs.money(vehicle.fixed_cost),
    )
