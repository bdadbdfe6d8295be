"""Benchmark instances: Solomon ``.txt`` and VRPLIB ``.vrp`` files, and ``.sol`` route files.

Ids are the customer numbers the files and their solutions use: ``0`` is the depot, customers are
``1 .. n`` (node *i* of a VRPLIB file is customer *i - 1*). Each instance comes with the distance
convention its best-known solutions were computed under: distances and times truncated to one
decimal for VRPTW (DIMACS), nearest-integer arcs for CVRP (TSPLIB ``nint``). A file that is not an
instance gives one plain ``ValidationFailed`` message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wms.errors import NotFound, ValidationFailed
from wms.routing.vrp.problem import Depot, RoutingProblem, Stop, Vehicle

MAX_FILE_BYTES = 50 * 1024 * 1024
FORMATS = ("solomon", "vrplib")
TRUNC1 = ("euclidean_trunc1", "vrptw_dist_trunc1")  # metric, bks.csv convention
NINT = ("euclidean_nint", "cvrp_dist_nint")


@dataclass(frozen=True)
class Instance:
    name: str
    problem: RoutingProblem
    convention: str  # the bks.csv convention the metric reproduces
    format: str


@dataclass(frozen=True)
class Solution:
    """The routes of a ``.sol`` file (customer ids, depot left out) and the cost it claims."""

    routes: tuple[tuple[str, ...], ...]
    cost: float | None


def read_instance(path: Path | str, *, format: str | None = None) -> Instance:
    """Read a Solomon or VRPLIB file; the format comes from the suffix or the content if not given."""
    path = Path(path)
    text = _read_text(path)
    if format is None:
        format = _sniff(path, text)
    if format == "solomon":
        return parse_solomon(text, path.name)
    if format == "vrplib":
        return parse_vrplib(text, path.name)
    raise ValidationFailed(
        f"unknown instance format {format!r}; use solomon or vrplib", field="format"
    )


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise NotFound(f"no such file: {path}", field="file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValidationFailed(f"{path.name} is too large to be a VRP instance", field="file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(
            f"{path.name} is not a VRP instance: it is not a text file", field="file"
        ) from None


def _sniff(path: Path, text: str) -> str:
    lines = {line.strip().upper().split(":")[0].strip() for line in text.splitlines()}
    if path.suffix.lower() == ".vrp" or {"NODE_COORD_SECTION", "DIMENSION"} <= lines:
        return "vrplib"
    if path.suffix.lower() == ".txt" or {"VEHICLE", "CUSTOMER"} <= lines:
        return "solomon"
    raise ValidationFailed(
        f"{path.name} is not a VRP instance (expected a Solomon .txt or a VRPLIB .vrp file)",
        field="file",
    )


def _numbers(line: str, where: str) -> list[float]:
    try:
        return [float(token) for token in line.split()]
    except ValueError:
        raise ValidationFailed(
            f"{where}: expected numbers, got {line.strip()!r}", field="file"
        ) from None


# --- Solomon ---------------------------------------------------------------------------------------


def parse_solomon(text: str, source: str = "instance") -> Instance:
    """A Solomon VRPTW instance: 25 identical vehicles, customer 0 is the depot and the horizon."""
    lines = [line.strip() for line in text.splitlines()]
    where = f"{source} is not a Solomon instance"
    heads = {
        line.upper(): n for n, line in enumerate(lines) if line.upper() in {"VEHICLE", "CUSTOMER"}
    }
    if "VEHICLE" not in heads or "CUSTOMER" not in heads:
        raise ValidationFailed(f"{where}: no VEHICLE and CUSTOMER sections", field="file")
    count, capacity = _solomon_fleet(lines[heads["VEHICLE"] + 1 : heads["CUSTOMER"]], where)
    rows = _solomon_rows(lines[heads["CUSTOMER"] + 1 :], where)
    depot = rows[0]
    stops = tuple(
        Stop(
            id=str(int(r[0])),
            coordinates=(r[1], r[2]),
            weight=r[3],
            earliest=r[4],
            latest=r[5],
            service_time=r[6],
        )
        for r in rows[1:]
    )
    name = next((ln for ln in lines if ln), source)
    vehicles = _fleet(count, capacity, depot[4], depot[5], depot="0")
    problem = RoutingProblem((Depot("0", (depot[1], depot[2])),), stops, vehicles, TRUNC1[0], name)
    return Instance(name, problem, TRUNC1[1], "solomon")


def _solomon_fleet(lines: Sequence[str], where: str) -> tuple[int, float]:
    fleet = [_numbers(ln, where) for ln in lines if ln[:1].isdigit()]
    if not fleet or len(fleet[0]) != 2:
        raise ValidationFailed(
            f"{where}: the VEHICLE section has no number and capacity", field="file"
        )
    return int(fleet[0][0]), fleet[0][1]


def _solomon_rows(lines: Sequence[str], where: str) -> list[list[float]]:
    rows = [_numbers(ln, where) for ln in lines if ln[:1].isdigit()]
    if len(rows) < 2 or any(len(r) != 7 for r in rows) or rows[0][0] != 0:
        raise ValidationFailed(
            f"{where}: the CUSTOMER table needs the depot (0) and customers, 7 numbers a row",
            field="file",
        )
    return rows


def _fleet(
    count: int, capacity: float, start: float, end: float, *, depot: str
) -> tuple[Vehicle, ...]:
    return tuple(
        Vehicle(id=f"V{k}", depot=depot, capacity_weight=capacity, shift_start=start, shift_end=end)
        for k in range(1, count + 1)
    )


# --- VRPLIB ----------------------------------------------------------------------------------------

_SECTION = re.compile(r"^([A-Z_]+_SECTION)\s*:?\s*$")
_SPEC = re.compile(r"^([A-Z_]+)\s*:\s*(.*)$")


def _vrplib_parts(text: str, where: str) -> tuple[dict[str, str], dict[str, list[list[float]]]]:
    specs: dict[str, str] = {}
    sections: dict[str, list[list[float]]] = {}
    current: list[list[float]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if match := _SECTION.match(line.upper()):
            current = sections.setdefault(match.group(1), [])
        elif (match := _SPEC.match(line)) and not line[:1].isdigit():
            specs[match.group(1).upper()] = match.group(2).strip().strip('"')
            current = None
        elif current is not None:
            current.append(_numbers(line, where))
        else:
            raise ValidationFailed(f"{where}: unexpected line {line[:40]!r}", field="file")
    return specs, sections


def parse_vrplib(text: str, source: str = "instance") -> Instance:
    """A CVRP or VRPTW instance in VRPLIB format, with one depot and EUC_2D distances."""
    where = f"{source} is not a VRPLIB instance"
    specs, sections = _vrplib_parts(text, where)
    _check_vrplib(specs, sections, source, where)
    n = int(_spec_number(specs, "DIMENSION", where))
    coords = _by_node(sections["NODE_COORD_SECTION"], n, 2, where)
    demand = _by_node(sections["DEMAND_SECTION"], n, 1, where)
    depots = [int(r[0]) for r in sections.get("DEPOT_SECTION", [[1.0]]) if r and r[0] > 0]
    if len(depots) != 1 or not 1 <= depots[0] <= n:
        raise ValidationFailed(f"{source}: exactly one depot is supported", field="file")
    windows = (
        _by_node(sections["TIME_WINDOW_SECTION"], n, 2, where)
        if "TIME_WINDOW_SECTION" in sections
        else None
    )
    service = _service_times(specs, sections, n, depots[0], where)
    depot = depots[0]
    stops = tuple(
        Stop(
            id=str(i - 1),
            coordinates=(coords[i][0], coords[i][1]),
            weight=demand[i][0],
            earliest=windows[i][0] if windows else 0.0,
            latest=windows[i][1] if windows else float("inf"),
            service_time=service[i],
        )
        for i in range(1, n + 1)
        if i != depot
    )
    metric, convention = TRUNC1 if windows else NINT
    count = int(_spec_number(specs, "VEHICLES", where)) if "VEHICLES" in specs else len(stops)
    shift = (windows[depot][0], windows[depot][1]) if windows else (0.0, float("inf"))
    vehicles = _fleet(count, _spec_number(specs, "CAPACITY", where), *shift, depot=str(depot - 1))
    name = specs.get("NAME", source)
    home = Depot(str(depot - 1), (coords[depot][0], coords[depot][1]))
    problem = RoutingProblem((home,), stops, vehicles, metric, name)
    return Instance(name, problem, convention, "vrplib")


def _check_vrplib(
    specs: dict[str, str], sections: dict[str, list[list[float]]], source: str, where: str
) -> None:
    missing = [k for k in ("DIMENSION", "CAPACITY") if k not in specs] + [
        s for s in ("NODE_COORD_SECTION", "DEMAND_SECTION") if s not in sections
    ]
    if missing:
        raise ValidationFailed(f"{where}: missing {', '.join(missing)}", field="file")
    if specs.get("EDGE_WEIGHT_TYPE", "EUC_2D") != "EUC_2D":
        raise ValidationFailed(
            f"{source}: edge weight type {specs['EDGE_WEIGHT_TYPE']} is not supported (EUC_2D only)",
            field="file",
        )


def _spec_number(specs: dict[str, str], key: str, where: str) -> float:
    try:
        return float(specs[key])
    except ValueError:
        raise ValidationFailed(f"{where}: {key} is not a number", field="file") from None


def _by_node(
    rows: Sequence[list[float]], n: int, width: int, where: str
) -> dict[int, tuple[float, ...]]:
    """Section rows ``node value...`` as node -> values; every node 1..n exactly once."""
    values = {int(r[0]): tuple(r[1 : 1 + width]) for r in rows if len(r) == width + 1}
    if len(rows) != n or sorted(values) != list(range(1, n + 1)):
        raise ValidationFailed(f"{where}: a section does not list nodes 1 to {n}", field="file")
    return values


def _service_times(
    specs: dict[str, str], sections: dict[str, list[list[float]]], n: int, depot: int, where: str
) -> dict[int, float]:
    if "SERVICE_TIME_SECTION" in sections:
        return {i: v[0] for i, v in _by_node(sections["SERVICE_TIME_SECTION"], n, 1, where).items()}
    scalar = _spec_number(specs, "SERVICE_TIME", where) if "SERVICE_TIME" in specs else 0.0
    # A scalar service time is the customers'; the depot has none.
    return {i: 0.0 if i == depot else scalar for i in range(1, n + 1)}


# --- solutions -------------------------------------------------------------------------------------

_ROUTE = re.compile(r"^Route\s*#\s*\d+\s*:(.*)$", re.IGNORECASE)
_COST = re.compile(r"^Cost\s+(\S+)\s*$", re.IGNORECASE)


def read_solution(path: Path | str) -> Solution:
    """The routes of a CVRPLIB ``.sol`` file: ``Route #k: c1 c2 ...`` lines, then ``Cost X``."""
    path = Path(path)
    routes: list[tuple[str, ...]] = []
    cost: float | None = None
    for line in _read_text(path).splitlines():
        if match := _ROUTE.match(line.strip()):
            routes.append(tuple(match.group(1).split()))
        elif match := _COST.match(line.strip()):
            cost = _numbers(match.group(1), f"{path.name}: cost")[0]
    if not routes:
        raise ValidationFailed(
            f"{path.name} is not a solution file: no 'Route #' lines", field="file"
        )
    return Solution(tuple(routes), cost)
