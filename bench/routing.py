"""Vehicle routing benchmark: Solomon VRPTW and CVRPLIB (A, B, P, X) against best-known solutions.

For every instance, time limit and backend it prints the distance and vehicles found, the
best-known solution (BKS) under the instance's convention, the gap, and whether the plan serves
every customer within the rules, as checked by the independent evaluator:

* Solomon: ``vrptw_dist_trunc1`` (distances and times truncated to 0.1, vehicles free, at most 25),
  and the same routes re-evaluated with exact Euclidean distances and times against
  ``vrptw_dist_exact_reeval`` where that BKS is feasible;
* CVRP: ``cvrp_dist_nint`` (arcs rounded to the nearest integer, fleet size free).

Then mean and max gap per set and per family for each time limit and backend, and the number of
runs with no feasible plan (which must be 0). Run from the repository root::

    .venv/bin/python bench/routing.py --families solomon --limit 2 --time-limits 10,30
    .venv/bin/python bench/routing.py --families A,X --limit 5 --time-limits 10

See bench/README.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from common import log
from rich.console import Console
from rich.table import Table

from wms.routing.vrp import EuclideanMatrix, SolveParameters, evaluate, solve, travel_table
from wms.routing.vrp.instances import read_instance

DATA = Path(os.environ.get("WMS_VRP_DATA", "/work/shared/data/vrp"))
SOLOMON_SETS = ("C1", "C2", "R1", "R2", "RC1", "RC2")
CVRP_SETS = ("A", "B", "P", "X")
FAMILIES = {"solomon": SOLOMON_SETS, "cvrp": CVRP_SETS} | {
    s: (s,) for s in SOLOMON_SETS + CVRP_SETS
}
CONVENTION = {"solomon": "vrptw_dist_trunc1", "cvrp": "cvrp_dist_nint"}
GOALS = {"solomon": (1.5, 3.0), "cvrp": (2.0, None)}  # mean and max gap in %, at GOAL_SECONDS
GOAL_SECONDS = 30.0


@dataclass(frozen=True)
class Case:
    name: str
    set: str
    family: str  # solomon or cvrp
    path: str
    bks: float
    bks_vehicles: int
    exact_bks: float | None  # Solomon: the BKS routes with exact distances, when feasible so


@dataclass(frozen=True)
class Run:
    case: Case
    backend: str
    time_limit: float
    distance: float
    vehicles: int
    feasible: bool
    dropped: int
    seconds: float
    exact_distance: float | None = None
    exact_feasible: bool | None = None
    error: str = ""

    @property
    def gap(self) -> float:
        # Rounded so that float noise in a sum of 0.1 steps does not print as -0.00%.
        return round((self.distance - self.case.bks) / self.case.bks * 100, 6) + 0.0

    @property
    def exact_gap(self) -> float | None:
        if self.case.exact_bks is None or self.exact_distance is None or not self.exact_feasible:
            return None
        return (
            round((self.exact_distance - self.case.exact_bks) / self.case.exact_bks * 100, 6) + 0.0
        )

    @property
    def solved(self) -> bool:
        return self.feasible and not self.error


def load_cases(data: Path) -> list[Case]:
    """Every instance with a BKS under its benchmark convention, from bks.csv."""
    with open(data / "bks.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    exact = {
        r["instance"]: float(r["cost"])
        for r in rows
        if r["convention"] == "vrptw_dist_exact_reeval" and "=True" in r["check"]
    }
    cases = []
    for r in rows:
        family = "solomon" if r["family"].startswith("solomon") else "cvrp"
        if r["convention"] != CONVENTION[family]:
            continue
        cases.append(
            Case(
                name=r["instance"],
                set=r["set"],
                family=family,
                path=str(data / r["file"]),
                bks=float(r["cost"]),
                bks_vehicles=int(r["vehicles"]),
                exact_bks=exact.get(r["instance"]),
            )
        )
    return cases


def select(cases: Sequence[Case], families: Iterable[str], limit: int | None) -> list[Case]:
    """The cases of the chosen sets; with ``limit``, that many per set, spread over the set."""
    chosen: list[Case] = []
    for set_name in dict.fromkeys(s for f in families for s in FAMILIES[f]):
        members = [c for c in cases if c.set == set_name]
        if limit is not None and limit < len(members):
            step = len(members) / limit
            members = [members[int(k * step)] for k in range(limit)]
        chosen += members
    return chosen


def run_one(case: Case, backend: str, time_limit: float, seed: int) -> Run:
    """Solve one instance and check the plan with the evaluator (and exact distances for Solomon)."""
    started = time.perf_counter()
    try:
        instance = read_instance(case.path)
        params = SolveParameters(time_limit_seconds=time_limit, seed=seed)
        result = solve(instance.problem, params, backend=backend)
    except Exception as exc:  # a bench reports every failure and carries on
        return Run(case, backend, time_limit, float("nan"), 0, False, 0, 0.0, error=repr(exc))
    seconds = time.perf_counter() - started
    exact_distance = exact_feasible = None
    if case.family == "solomon":
        routes = {r.vehicle: r.stops for r in result.routes}
        table = travel_table(instance.problem, EuclideanMatrix())
        dropped = [d.stop for d in result.dropped]
        check = evaluate(instance.problem, routes, table=table, dropped=dropped)
        exact_distance, exact_feasible = check.distance, check.feasible
    return Run(
        case=case,
        backend=backend,
        time_limit=time_limit,
        distance=result.distance,
        vehicles=result.vehicles_used,
        feasible=result.is_feasible(),
        dropped=len(result.dropped),
        seconds=seconds,
        exact_distance=exact_distance,
        exact_feasible=exact_feasible,
        error="; ".join(result.violations),
    )


def run_all(
    cases: Sequence[Case], args: argparse.Namespace, console: Console, err: Console
) -> list[Run]:
    jobs = [(c, b, t, args.seed) for t in args.time_limits for b in args.backends for c in cases]
    total_seconds = sum(t for _, _, t, _ in jobs) / args.jobs
    log(err, f"{len(jobs)} solves, about {total_seconds / 60:.0f} min with {args.jobs} job(s)")
    runs: list[Run] = []
    if args.jobs == 1:
        results: Iterable[Run] = (run_one(*job) for job in jobs)
        for run in results:
            runs.append(run)
            log(err, _line(run, len(runs), len(jobs)))
        return runs
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for run in pool.map(run_one, *zip(*jobs, strict=True)):
            runs.append(run)
            log(err, _line(run, len(runs), len(jobs)))
    return runs


def _line(run: Run, done: int, total: int) -> str:
    state = "ok" if run.solved else f"[red]NO SOLUTION[/red] {run.error}"
    return (
        f"{done}/{total} {run.case.name} {run.backend} {run.time_limit:g}s: {run.distance:.1f} "
        f"(BKS {run.case.bks:g}, gap {run.gap:.2f}%) {run.vehicles} veh, {run.seconds:.1f} s {state}"
    )


def instance_table(runs: Sequence[Run]) -> Table:
    table = Table(title="Per instance (gap against the BKS under the instance's convention)")
    for name in ("instance", "backend", "limit s", "distance", "vehicles", "BKS", "BKS veh"):
        table.add_column(name, justify="left" if name in ("instance", "backend") else "right")
    for name in ("gap %", "feasible", "exact dist", "exact BKS", "exact gap %"):
        table.add_column(name, justify="right")
    for r in runs:
        exact_gap = r.exact_gap
        table.add_row(
            r.case.name,
            r.backend,
            f"{r.time_limit:g}",
            f"{r.distance:.1f}",
            str(r.vehicles),
            f"{r.case.bks:g}",
            str(r.case.bks_vehicles),
            _pct(r.gap),
            "yes" if r.solved else "NO",
            "-" if r.exact_distance is None else f"{r.exact_distance:.2f}",
            "-" if r.case.exact_bks is None else f"{r.case.exact_bks:.2f}",
            _pct(exact_gap),
        )
    return table


def summarise(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Mean and max gap per set and per family, for each time limit and backend."""
    groups: dict[tuple[str, str, float], list[Run]] = {}
    for r in runs:
        for group in (r.case.set, r.case.family):
            groups.setdefault((group, r.backend, r.time_limit), []).append(r)
    order = [*SOLOMON_SETS, "solomon", *CVRP_SETS, "cvrp"]
    rows = []
    for (group, backend, limit), members in sorted(
        groups.items(), key=lambda item: (item[0][2], item[0][1], order.index(item[0][0]))
    ):
        solved = [r for r in members if r.solved]
        gaps = [r.gap for r in solved]
        exact = [g for r in solved if (g := r.exact_gap) is not None]
        rows.append(
            {
                "group": group,
                "backend": backend,
                "time_limit": limit,
                "instances": len(members),
                "mean_gap": statistics.fmean(gaps) if gaps else None,
                "max_gap": max(gaps) if gaps else None,
                "exact_mean_gap": statistics.fmean(exact) if exact else None,
                "exact_n": len(exact),
                "extra_vehicles": sum(r.vehicles - r.case.bks_vehicles for r in solved),
                "no_solution": len(members) - len(solved),
                "mean_seconds": statistics.fmean(r.seconds for r in members),
            }
        )
    return rows


def summary_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="Summary per set and family (gaps in %)")
    for name in ("group", "backend", "limit s", "n", "mean gap", "max gap"):
        table.add_column(name, justify="left" if name in ("group", "backend") else "right")
    for name in ("exact mean gap (n)", "vehicles vs BKS", "no solution", "mean s"):
        table.add_column(name, justify="right")
    for row in rows:
        family = row["group"] in ("solomon", "cvrp")
        table.add_row(
            f"[bold]{row['group']}[/bold]" if family else row["group"],
            row["backend"],
            f"{row['time_limit']:g}",
            str(row["instances"]),
            _pct(row["mean_gap"]),
            _pct(row["max_gap"]),
            f"{_pct(row['exact_mean_gap'])} ({row['exact_n']})" if row["exact_n"] else "-",
            f"{row['extra_vehicles']:+d}",
            str(row["no_solution"]),
            f"{row['mean_seconds']:.1f}",
        )
    return table


def _pct(value: float | None) -> str:
    # Rounded first so that -0.000004 prints as 0.00, not -0.00.
    return "-" if value is None else f"{round(value, 2) + 0.0:.2f}"


def verdicts(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The goals at 30 s: Solomon mean gap <= 1.5% and max <= 3%, CVRP mean <= 2%."""
    lines = []
    for row in rows:
        if (
            row["group"] not in GOALS
            or row["time_limit"] != GOAL_SECONDS
            or row["mean_gap"] is None
        ):
            continue
        mean_goal, max_goal = GOALS[row["group"]]
        met = row["mean_gap"] <= mean_goal and (max_goal is None or row["max_gap"] <= max_goal)
        met = met and row["no_solution"] == 0
        goal = f"mean <= {mean_goal}%" + (f", max <= {max_goal}%" if max_goal else "")
        lines.append(
            f"{row['group']} {row['backend']} at {GOAL_SECONDS:g} s on {row['instances']} "
            f"instances: mean {row['mean_gap']:.2f}%, max {row['max_gap']:.2f}% "
            f"(goal {goal}): {'met' if met else 'NOT met'}"
        )
    return lines


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--families", type=_names(FAMILIES), default=["solomon", "cvrp"],
        help="comma list of solomon, cvrp, or sets C1 C2 R1 R2 RC1 RC2 A B P X (default all)")  # fmt: skip
    add("--limit", type=int, default=None, help="instances per set, spread over it (default all)")
    add("--instances", type=lambda t: t.split(","), default=None, help="only these (comma list)")
    add("--time-limits", type=lambda t: [float(x) for x in t.split(",")], default=[10.0, 30.0],
        help="seconds per solve, comma list (default 10,30)")  # fmt: skip
    add("--backend", dest="backends", type=_names({"auto", "pyvrp", "ortools"}), default=["auto"],
        help="auto, pyvrp or ortools; a comma list compares them (default auto)")  # fmt: skip
    add("--seed", type=int, default=1, help="seed of every solve (default 1)")
    add("--jobs", type=int, default=1, help="solves at once, one process each (default 1)")
    add("--data", type=Path, default=DATA, help=f"the VRP data directory (default {DATA})")
    add("--json", action="store_true", help="also print every run and summary as one JSON object")
    args = parser.parse_args(argv)
    if not 1 <= args.jobs <= (os.cpu_count() or 1):
        parser.error(f"--jobs must be 1 to {os.cpu_count()} (one solve per core at most)")
    return args


def _names(allowed: Iterable[str]) -> Any:
    def parse(text: str) -> list[str]:
        names = [t.strip() for t in text.split(",") if t.strip()]
        unknown = [n for n in names if n not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"unknown: {', '.join(unknown) or 'nothing given'}")
        return names

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    console, err = Console(), Console(stderr=True)
    if not console.is_terminal:  # a pipe or a file: keep the tables unwrapped
        console = Console(width=160)
    cases = select(load_cases(args.data), args.families, args.limit)
    if args.instances:
        cases = [c for c in cases if c.name in set(args.instances)]
    load_start = os.getloadavg()[0]
    runs = run_all(cases, args, console, err)
    rows = summarise(runs)
    console.print(instance_table(runs))
    console.print(summary_table(rows))
    for line in verdicts(rows):
        console.print(line, style="bold")
    failures = sum(not r.solved for r in runs)
    console.print(
        f"runs with no feasible plan: {failures} (must be 0); 1-minute load average "
        f"{load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    if args.json:
        print(json.dumps({"runs": [asdict(r) | {"gap": r.gap} for r in runs], "summary": rows}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
