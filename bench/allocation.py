"""Allocation benchmark: the batch solver and the online policy on the shared instances.

Figures printed (the acceptance point of the delivery-allocation issue), per instance:

* the batch solver (``wms.routing.allocate.solve``): cost, proven lower bound, gap, status,
  seconds, peak memory, and the cost against the README's reference (optimum or best known) and
  its LP bound;
* beside it, order by order against the stock the earlier orders left:

  - **greedy nearest warehouse**: the current ``DEFAULT_POLICY`` (``NearestThenFewestShipments``)
    through the ``AllocationPolicy`` interface;
  - **per line**: each line on its own to its cheapest warehouse with stock left;
  - **online least cost**: ``LeastCostPolicy`` through the same interface, with the p50/p99/max
    latency of one ``allocate`` call;

* the goals: single-line instance at the proven optimum within 20 s; multi-line within 1.10x of
  the bound within 30 s, at least 8% cheaper than greedy; under 1 GB.

The policies work on latitude and longitude; the instances are km on a 1000 x 1000 square, so the
bench maps km to degrees around (0, 0), where great-circle distance is the straight line to within
0.3%. Every cost is the instance's objective (its unit cost matrix), recomputed by ``evaluate``.

Run from the repository root::

    .venv/bin/python bench/allocation.py
    .venv/bin/python bench/allocation.py --instances single_10k --time-limit 10   # smoke run
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from common import log, percentile
from rich.console import Console
from rich.table import Table

from wms.routing.allocate import (
    BatchParameters,
    BatchProblem,
    Instance,
    LeastCostPolicy,
    evaluate,
    read_instance,
    solve,
)
from wms.routing.allocate.costs import IntArray
from wms.routing.allocate.heuristic import per_line
from wms.routing.allocation import (
    DEFAULT_POLICY,
    AllocationLine,
    AllocationPolicy,
    AllocationProblem,
    WarehouseOption,
)

DATA = Path("/work/shared/data/allocation")
KM_PER_DEGREE = 2 * math.pi * 6371.0088 / 360
# From the instances' README: (reference cost, what it is, LP bound or None).
REFERENCES: dict[str, tuple[int, str, int | None]] = {
    "single_10k": (7_161_472, "optimum", None),
    "multi_10k": (22_869_612, "best known", 20_805_287),
}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def degrees(x_km: float, y_km: float) -> tuple[float, float]:
    """(latitude, longitude) of a point of the instance square, centred on (0, 0)."""
    return ((y_km - 500) / KM_PER_DEGREE, (x_km - 500) / KM_PER_DEGREE)


def read_coordinates(root: Path) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Warehouse places by warehouse number, and each line's destination, in degrees."""
    with (root / "warehouses.csv").open(newline="") as handle:
        warehouses = [degrees(float(r["x_km"]), float(r["y_km"])) for r in csv.DictReader(handle)]
    with (root / "orders.csv").open(newline="") as handle:
        lines = [degrees(float(r["x_km"]), float(r["y_km"])) for r in csv.DictReader(handle)]
    return warehouses, lines


def run_policy(
    policy: AllocationPolicy, instance: Instance, root: Path
) -> tuple[IntArray, list[float]]:
    """Orders one at a time, in file order, against the stock the earlier ones left."""
    problem = instance.problem
    places, destinations = read_coordinates(root)
    left = problem.stock.copy()
    codes = [str(w) for w in instance.warehouse_ids]
    assignment = np.full(problem.lines, -1, dtype=np.int64)
    seconds = []
    for lines in problem.order_lines():
        skus = sorted({int(problem.sku[i]) for i in lines})
        options = tuple(
            WarehouseOption(codes[w], *places[w], {str(s): int(left[w, s]) for s in skus})
            for w in range(problem.warehouses)
        )
        request = AllocationProblem(
            lines=tuple(
                AllocationLine(int(i), str(problem.sku[i]), int(problem.qty[i])) for i in lines
            ),
            warehouses=options,
            destination=destinations[int(lines[0])],
        )
        started = time.perf_counter()
        result = policy.allocate(request)
        seconds.append(time.perf_counter() - started)
        for i in lines:
            code = result.assignments[int(i)]
            if code is not None:
                w = codes.index(code)
                left[w, problem.sku[i]] -= problem.qty[i]
                assignment[i] = w
    return assignment, seconds


def cents(value: float) -> str:
    return f"{value:,.0f}"


def policy_rows(
    name: str, problem: BatchProblem, assignment: IntArray, seconds: float, greedy: int | None
) -> dict[str, str]:
    checked = evaluate(problem, assignment)
    assert checked.feasible, f"{name} exceeded the stock: {checked.breaches[:3]}"
    vs_greedy = "" if greedy is None else f"{checked.cost / greedy - 1:+.1%}"
    return {
        "policy": name,
        "cost (cents)": cents(checked.cost),
        "vs greedy": vs_greedy,
        "shipments": f"{checked.shipments:,}",
        "unfilled units": f"{checked.unfilled_units:,}",
        "seconds": f"{seconds:.1f}",
    }


def run_instance(
    name: str, args: argparse.Namespace, console: Console, err: Console
) -> dict[str, Any]:
    root = args.data / name
    started = time.perf_counter()
    instance = read_instance(root)
    problem = instance.problem
    read_seconds = time.perf_counter() - started
    log(
        err,
        f"{name}: {problem.lines:,} lines, {problem.orders:,} orders, read in {read_seconds:.2f} s",
    )
    rows = []
    log(err, f"{name}: greedy nearest warehouse (DEFAULT_POLICY), order by order")
    started = time.perf_counter()
    greedy_assignment, _ = run_policy(DEFAULT_POLICY, instance, root)
    greedy = evaluate(problem, greedy_assignment).cost
    rows.append(
        policy_rows(
            "greedy nearest warehouse",
            problem,
            greedy_assignment,
            time.perf_counter() - started,
            greedy,
        )
    )
    started = time.perf_counter()
    rows.append(
        policy_rows(
            "per line, cheapest with stock",
            problem,
            per_line(problem),
            time.perf_counter() - started,
            greedy,
        )
    )
    log(err, f"{name}: online least cost, order by order")
    started = time.perf_counter()
    online_assignment, latencies = run_policy(LeastCostPolicy(), instance, root)
    rows.append(
        policy_rows(
            "online least cost (LeastCostPolicy)",
            problem,
            online_assignment,
            time.perf_counter() - started,
            greedy,
        )
    )
    log(err, f"{name}: batch solve, time limit {args.time_limit:g} s")
    params = BatchParameters(time_limit=args.time_limit, seed=args.seed)
    result = solve(problem, params, progress=lambda message: log(err, f"  {message}"))
    rows.append(
        policy_rows(
            f"batch solve ({result.method})", problem, result.assignment, result.seconds, greedy
        )
    )
    table = Table(
        title=f"{name}: {problem.lines:,} lines, {problem.orders:,} orders, {problem.warehouses} warehouses"
    )
    for column in rows[0]:
        table.add_column(column, justify="left" if column == "policy" else "right")
    for row in rows:
        table.add_row(*row.values())
    console.print(table)
    reference, what, lp_bound = REFERENCES.get(name, (None, "", None))
    ms = [s * 1000 for s in latencies]
    figures: dict[str, Any] = {
        "status": result.status,
        "cost": result.cost,
        "bound": result.bound,
        "gap to own bound": f"{result.gap:.2%}",
        "cost / bound": f"{result.cost / result.bound:.4f}" if result.bound else "n/a",
        "seconds": round(result.seconds, 1),
        "peak RSS of the process so far, MiB": round(peak_rss_mib()),
        "vs greedy": f"{result.cost / greedy - 1:+.1%}",
        "online p50 / p99 / max ms per order": f"{percentile(ms, 50):.2f} / {percentile(ms, 99):.2f} / {max(ms):.2f}",
    }
    if reference is not None:
        figures[f"vs README {what} ({reference:,})"] = f"{result.cost / reference - 1:+.2%}"
    if lp_bound is not None:
        figures[f"own bound vs README LP bound ({lp_bound:,})"] = (
            f"{result.bound / lp_bound - 1:+.2%}"
        )
        figures["cost / README LP bound"] = f"{result.cost / lp_bound:.4f}"
    summary = Table(title=f"{name}: batch solve")
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    for label, value in figures.items():
        summary.add_row(label, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(summary)
    figures["policies"] = rows
    figures["goals"] = goals(name, result.cost, result.bound, result.seconds, greedy, reference)
    for line in figures["goals"]:
        console.print(line, style="bold")
    return figures


def goals(
    name: str, cost: int, bound: int, seconds: float, greedy: int, reference: int | None
) -> list[str]:
    memory = peak_rss_mib()
    lines = [
        f"{'MET' if memory < 1024 else 'NOT MET'}: peak memory {memory:,.0f} MiB (goal < 1 GiB)"
    ]
    if name == "single_10k" and reference is not None:
        met = cost == reference and bound == cost and seconds <= 20
        lines.append(
            f"{'MET' if met else 'NOT MET'}: proven optimum {reference:,} in 20 s (cost {cost:,}, bound {bound:,}, {seconds:.1f} s)"
        )
    if name == "multi_10k":
        ratio = cost / bound if bound else math.inf
        met = ratio <= 1.10 and seconds <= 30
        lines.append(
            f"{'MET' if met else 'NOT MET'}: within 1.10x of the bound in 30 s ({ratio:.4f}, {seconds:.1f} s)"
        )
        saving = 1 - cost / greedy
        lines.append(
            f"{'MET' if saving >= 0.08 else 'NOT MET'}: at least 8% cheaper than greedy ({saving:.1%})"
        )
    return lines


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--data", type=Path, default=DATA, help=f"instance directories (default {DATA})")
    add("--instances", default="single_10k,multi_10k", help="comma-separated (default both)")
    add("--time-limit", type=float, default=30.0, help="batch time limit, seconds (default 30)")
    add("--seed", type=int, default=0, help="seed of the batch solver (default 0)")
    add("--json", action="store_true", help="also print every figure as one JSON object")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    console, err = Console(), Console(stderr=True)
    if not console.is_terminal:  # a pipe or a file: keep the tables unwrapped
        console = Console(width=120)
    figures: dict[str, Any] = {"load average at start": os.getloadavg()[0]}
    for name in [n.strip() for n in args.instances.split(",") if n.strip()]:
        figures[name] = run_instance(name, args, console, err)
    figures["load average at end"] = os.getloadavg()[0]
    console.print(
        f"1-minute load average: {figures['load average at start']:.1f} at the start, "
        f"{figures['load average at end']:.1f} at the end (other work on the machine slows "
        "the solves)"
    )
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
