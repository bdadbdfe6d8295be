"""Pick paths: the order in which a picker visits bins on the warehouse floor.

The first policy is the S-shape (serpentine) route of a rectangular warehouse with parallel aisles:
bins are grouped into aisles by their ``x`` coordinate, aisles are walked in ascending ``x``, the
first aisle up (ascending ``y``), the next one down, and so on, counting only aisles that have a stop.
Bins without coordinates come last, by code.

``shortest_walk`` improves on it: the walk starts and ends at the front of the first aisle (where
pickers take a cart and bring it back), the distance between two bins follows the aisles (along
one aisle, or out through the front or the back cross aisle, whichever is shorter), and 2-opt and
or-opt moves shorten the S-shape route until no move helps. It is never longer than the S-shape
and is exact on the layouts a Held-Karp check can enumerate in the tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

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


def shortest_walk(bins: Iterable[BinPoint]) -> list[BinPoint]:
    """The bins in the shortest walking order local search finds, from and back to the front."""
    serpentine = walking_order(bins)
    placed = [b for b in serpentine if b.x is not None and b.y is not None]
    if len(placed) < 3:
        return serpentine
    floor = _Floor(placed)
    route = _improve(floor, list(range(len(placed))))
    return [placed[i] for i in route] + serpentine[len(placed) :]


def walk_length(bins: Iterable[BinPoint]) -> float:
    """Metres walked visiting the placed bins in this order, from and back to the front."""
    placed = [b for b in bins if b.x is not None and b.y is not None]
    if not placed:
        return 0.0
    return _Floor(placed).length(list(range(len(placed))))


class _Floor:
    """Aisle distances between the bins and from the start (the front of the first aisle)."""

    def __init__(self, placed: list[BinPoint]) -> None:
        self.front = min(_y(b) for b in placed)
        self.back = max(_y(b) for b in placed)
        aisle_of: dict[str, int] = {}
        for index, aisle in enumerate(_aisles(placed)):
            for b in aisle:
                aisle_of[b.code] = index
        start = BinPoint("", min(_x(b) for b in placed), self.front)
        points = [start, *placed]
        aisles = [-1, *(aisle_of[b.code] for b in placed)]
        n = len(points)
        self.d = [[self._between(points[i], points[j], aisles[i] == aisles[j] >= 0)
                   for j in range(n)] for i in range(n)]  # fmt: skip

    def _between(self, a: BinPoint, b: BinPoint, same_aisle: bool) -> float:
        if same_aisle:
            return abs(_y(a) - _y(b))
        across = abs(_x(a) - _x(b))
        by_front = (_y(a) - self.front) + (_y(b) - self.front)
        by_back = (self.back - _y(a)) + (self.back - _y(b))
        return across + min(by_front, by_back)

    def length(self, route: list[int]) -> float:
        """The closed walk start -> route -> start (route holds bin indices from 0)."""
        stops = [0, *(i + 1 for i in route), 0]
        return sum(self.d[a][b] for a, b in pairwise(stops))


def _improve(floor: _Floor, route: list[int]) -> list[int]:
    """2-opt and or-opt (moving runs of 1-3 bins, either way round) until no move shortens it.

    Moves are priced by the edges they change, so a pass costs O(n^2) distance look-ups.
    """
    d = floor.d
    tour = [0, *(i + 1 for i in route), 0]
    improved = True
    while improved:
        improved = _two_opt(d, tour) or _or_opt(d, tour)
    return [stop - 1 for stop in tour[1:-1]]


def _two_opt(d: list[list[float]], tour: list[int]) -> bool:
    m = len(tour)
    for i in range(m - 3):
        a, b = tour[i], tour[i + 1]
        for j in range(i + 2, m - 1):
            c, e = tour[j], tour[j + 1]
            if d[a][c] + d[b][e] < d[a][b] + d[c][e] - 1e-9:
                tour[i + 1 : j + 1] = tour[i + 1 : j + 1][::-1]
                return True
    return False


def _or_opt(d: list[list[float]], tour: list[int]) -> bool:
    m = len(tour)
    for size in (1, 2, 3):
        for s in range(1, m - size):
            e = s + size - 1
            first, last, before, after = tour[s], tour[e], tour[s - 1], tour[e + 1]
            gain = d[before][first] + d[last][after] - d[before][after]
            for k in range(m - 1):
                if s - 1 <= k <= e:
                    continue
                p, q = tour[k], tour[k + 1]
                forward = d[p][first] + d[last][q] - d[p][q]
                backward = d[p][last] + d[first][q] - d[p][q]
                if min(forward, backward) < gain - 1e-9:
                    run = tour[s : e + 1] if forward <= backward else tour[s : e + 1][::-1]
                    rest = tour[:s] + tour[e + 1 :]
                    at = k + 1 if k < s else k + 1 - size
                    tour[:] = rest[:at] + run + rest[at:]
                    return True
    return False


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
