"""Allocation: which warehouse ships which order line, as a pure decision over plain values.

Services build an ``AllocationProblem`` from stock levels (the lines to place, the warehouses with
what each has available, the destination) and hand it to an ``AllocationPolicy``; the result says
where each line ships from, or that no warehouse can take it. Nothing here touches the database,
so a policy can be replaced (the optimisation issue brings a solver) behind the same interface, and
unit-tested on tiny instances.

A line is never split across warehouses: the storefront sees one warehouse per line.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Protocol

EARTH_RADIUS_KM = 6371.0088

LineKey = Hashable


@dataclass(frozen=True)
class AllocationLine:
    """A quantity of a SKU to ship; ``key`` tells lines apart (a line number, an id)."""

    key: LineKey
    sku: str
    quantity: int

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"line {self.key!r}: quantity must be positive, not {self.quantity}")


@dataclass(frozen=True)
class WarehouseOption:
    """A warehouse that may ship, where it is, and what it has available per SKU."""

    code: str
    latitude: float
    longitude: float
    available: Mapping[str, int]

    def has(self, sku: str) -> int:
        return max(0, self.available.get(sku, 0))


@dataclass(frozen=True)
class AllocationProblem:
    """Lines to place, candidate warehouses, and where the parcel goes (None: not known yet)."""

    lines: tuple[AllocationLine, ...]
    warehouses: tuple[WarehouseOption, ...]
    destination: tuple[float, float] | None = None
    promised_by: date | None = None

    def __post_init__(self) -> None:
        keys = [line.key for line in self.lines]
        if len(set(keys)) != len(keys):
            raise ValueError("line keys must be unique")
        codes = [wh.code for wh in self.warehouses]
        if len(set(codes)) != len(codes):
            raise ValueError("warehouse codes must be unique")

    def demand(self) -> dict[str, int]:
        """Total quantity per SKU over every line."""
        total: defaultdict[str, int] = defaultdict(int)
        for line in self.lines:
            total[line.sku] += line.quantity
        return dict(total)


@dataclass(frozen=True)
class Shipment:
    """The lines one warehouse ships, and its great-circle distance to the destination."""

    warehouse: str
    line_keys: tuple[LineKey, ...]
    distance_km: float | None


@dataclass(frozen=True)
class AllocationResult:
    """Where each line ships from (None: no warehouse can take it), grouped into shipments."""

    assignments: Mapping[LineKey, str | None]
    shipments: tuple[Shipment, ...]
    policy: str

    @property
    def unassigned(self) -> tuple[LineKey, ...]:
        return tuple(key for key, code in self.assignments.items() if code is None)

    def is_complete(self) -> bool:
        """Every line has a warehouse."""
        return not self.unassigned

    def summary(self) -> str:
        parts = [f"{s.warehouse}: {len(s.line_keys)} line(s)" for s in self.shipments]
        if self.unassigned:
            parts.append(f"unassigned: {len(self.unassigned)} line(s)")
        return f"{self.policy} -> " + ("; ".join(parts) or "nothing to ship")


class AllocationPolicy(Protocol):
    """Decides which warehouse ships each line; must not assign more than a warehouse has."""

    name: str

    def allocate(self, problem: AllocationProblem) -> AllocationResult: ...


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in kilometres between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class NearestThenFewestShipments:
    """The first policy: ship the whole order from the nearest warehouse that can, else split it
    into as few shipments as a greedy set cover finds.

    1. Rank warehouses by great-circle distance to the destination (ties by code). Without a
       destination, rank them by the total they have available of the order's SKUs (most first),
       then by code.
    2. If some warehouse has every line's quantity (summed per SKU), the first in that ranking
       ships everything: one shipment.
    3. Otherwise repeatedly take the warehouse that can ship the most remaining lines whole (ties
       go to the better-ranked one), give it those lines and take their quantities off its stock.
       Within one warehouse smaller lines of a SKU are placed first, which covers the most lines.
    4. Lines that no warehouse can ship whole stay unassigned (None); a line is never split.
    """

    name = "nearest_then_fewest_shipments"

    def allocate(self, problem: AllocationProblem) -> AllocationResult:
        ranked = _rank(problem)
        demand = problem.demand()
        for wh, distance in ranked:
            if all(wh.has(sku) >= quantity for sku, quantity in demand.items()):
                keys = tuple(line.key for line in problem.lines)
                return AllocationResult(
                    assignments=MappingProxyType(dict.fromkeys(keys, wh.code)),
                    shipments=(Shipment(wh.code, keys, distance),) if keys else (),
                    policy=self.name,
                )
        return self._cover(problem, ranked)

    def _cover(
        self, problem: AllocationProblem, ranked: list[tuple[WarehouseOption, float | None]]
    ) -> AllocationResult:
        stock = {wh.code: {sku: wh.has(sku) for sku in wh.available} for wh, _ in ranked}
        remaining = list(problem.lines)
        assignments: dict[LineKey, str | None] = {line.key: None for line in problem.lines}
        shipments: list[Shipment] = []
        while remaining:
            best: tuple[WarehouseOption, float | None, list[AllocationLine]] | None = None
            for wh, distance in ranked:
                covered = _coverable(remaining, stock[wh.code])
                if covered and (best is None or len(covered) > len(best[2])):
                    best = (wh, distance, covered)
            if best is None:
                break
            wh, distance, covered = best
            for line in covered:
                assignments[line.key] = wh.code
                stock[wh.code][line.sku] -= line.quantity
            taken = {line.key for line in covered}
            remaining = [line for line in remaining if line.key not in taken]
            keys = tuple(line.key for line in problem.lines if line.key in taken)
            shipments.append(Shipment(wh.code, keys, distance))
        return AllocationResult(
            assignments=MappingProxyType(assignments),
            shipments=tuple(shipments),
            policy=self.name,
        )


def _rank(problem: AllocationProblem) -> list[tuple[WarehouseOption, float | None]]:
    if problem.destination is not None:
        destination = problem.destination
        measured = [
            (wh, haversine_km((wh.latitude, wh.longitude), destination))
            for wh in problem.warehouses
        ]
        return sorted(measured, key=lambda item: (item[1], item[0].code))
    skus = {line.sku for line in problem.lines}
    by_stock = sorted(
        problem.warehouses, key=lambda wh: (-sum(wh.has(sku) for sku in skus), wh.code)
    )
    return [(wh, None) for wh in by_stock]


def _coverable(lines: Sequence[AllocationLine], stock: Mapping[str, int]) -> list[AllocationLine]:
    """The remaining lines this stock can ship whole, smallest first per SKU (the most lines)."""
    left = dict(stock)
    covered: list[int] = []
    for index in sorted(range(len(lines)), key=lambda i: (lines[i].sku, lines[i].quantity, i)):
        line = lines[index]
        if left.get(line.sku, 0) >= line.quantity:
            left[line.sku] -= line.quantity
            covered.append(index)
    return [lines[index] for index in sorted(covered)]


DEFAULT_POLICY: AllocationPolicy = NearestThenFewestShipments()
