"""Pick paths: the order in which a picker visits bins on the warehouse floor.

The first policy is the S-shape (serpentine) route of a rectangular warehouse with parallel aisles:
bins are grouped into aisles by their ``x`` coordinate, aisles are walked in ascending ``x``, the
first aisle up (ascending ``y``), the next one down, and so on, counting only aisles that have a stop.
Bins without coordinates come last, by code. A later routing issue may replace this function with an
optimised route (largest gap, a TSP over the aisle graph) behind the same signature.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Bins whose x differs by at most this many metres from the first bin of an aisle share the aisle.
AISLE_WIDTH_TOLERANCE = 0.5


@dataclass(frozen=True)
class BinPoint:
    """A bin to visit: its code and its position on the floor plan in metres (if known)."""

    code: str
    x: float | None
    y: float | None


def walking_order(bins: Iterable[BinPoint]) -> list[BinPoint]:
    """The bins in serpentine walking order; each distinct bin once, unplaced bins last by code."""
    unique = {b.code: b for b in bins}
    placed = [b for b in unique.values() if b.x is not None and b.y is not None]
    unplaced = sorted((b for b in unique.values() if b.x is None or b.y is None), key=_code)
    route: list[BinPoint] = []
    for index, aisle in enumerate(_aisles(placed)):
        upward = index % 2 == 0
        route += sorted(aisle, key=lambda b: (_y(b) if upward else -_y(b), b.code))
    return route + unplaced


def _aisles(placed: list[BinPoint]) -> list[list[BinPoint]]:
    aisles: list[list[BinPoint]] = []
    start: float | None = None
    for point in sorted(placed, key=lambda b: (_x(b), b.code)):
        if start is None or _x(point) - start > AISLE_WIDTH_TOLERANCE:
            aisles.append([])
            start = _x(point)
        aisles[-1].append(point)
    return aisles


def _x(point: BinPoint) -> float:
    assert point.x is not None
    return point.x


def _y(point: BinPoint) -> float:
    assert point.y is not None
    return point.y


def _code(point: BinPoint) -> str:
    return point.code
