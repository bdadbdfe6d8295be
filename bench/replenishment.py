"""Replenishment benchmark: the optimiser against a classic min/max rule, and one large solve.

Figures printed (the acceptance point of the replenishment-planning issue):

* a 26-week rolling-horizon simulation with lost sales, on seeded synthetic demand (regular
  SKUs with level, trend, yearly seasonality and noise; intermittent and erratic ones), the same
  demand and the same real lead times for two policies at the same service target:

  - **min/max**: (s, S) as an ERP's reordering rule runs it, reviewed weekly, from the preferred
    supplier, s = mean demand over lead time and review plus safety stock, S = s + EOQ;
  - **optimiser**: forecasts (``forecast_many``), safety stock from the forecast error, a
    ``Problem`` of 12 weeks (and, as a second run, 26 weeks) solved each week (``solve``); only
    the orders of week 0 are placed;

  with total cost (purchase, ordering, holding, lost-sales penalty, less the closing stock at the
  price paid), fill rate, average stock, stock-out weeks and the time of each weekly decision;
* one solve of ``--scale-skus`` SKUs x 5 warehouses x 12 weeks (``synthetic_problem``): build
  and solve time, status, objective, bound, gap, lines and peak memory.

Run from the repository root (no database needed)::

    .venv/bin/python bench/replenishment.py
    .venv/bin/python bench/replenishment.py --weeks 8 --skip-scale   # smoke run

See bench/README.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from common import log
from replenishment_sim import (
    MinMaxPolicy,
    Order,
    Outcome,
    Scenario,
    View,
    make_scenario,
    simulate,
)
from rich.console import Console
from rich.table import Table

from wms.procurement.forecasting import Forecast, forecast_many
from wms.procurement.planning import solve
from wms.procurement.planning.problem import (
    COST_SCALE,
    Problem,
    Result,
    Series,
    SolveParameters,
    with_closing,
)
from wms.procurement.planning.synthetic import synthetic_problem
from wms.procurement.safety import safety_stock

HORIZON = 12


# --- the optimiser policy ------------------------------------------------------------------------


def build_problem(
    scenario: Scenario,
    view: View,
    *,
    demand: Sequence[Sequence[int]],
    safety: Sequence[int],
    horizon: int = HORIZON,
) -> Problem:
    """The week's planning problem: stock now, orders in transit when promised, the forecast.

    An order already late is expected next week. The shortage penalty is the scenario's (the
    cost per lost unit that makes the service target economic); a unit-week under safety stock
    costs the expected lost sale it risks, ``shortage_cost * (1 - service level)``.
    """
    incoming = [[0] * horizon for _ in scenario.series]
    for order in view.open_orders:
        week = max(order.due_week - view.week, 1)
        if week < horizon:
            incoming[order.series][week] += order.quantity
    risk = 1 - scenario.service_level
    series = tuple(
        with_closing(
            Series(
                sku=spec.sku,
                warehouse=spec.warehouse,
                on_hand=view.on_hand[i],
                demand=tuple(demand[i]),
                safety_stock=safety[i],
                holding_cost=spec.holding_cost,
                shortage_cost=spec.shortage_cost,
                below_safety_cost=max(1, round(spec.shortage_cost * risk)),
                volume_cm3=spec.volume_cm3,
                options=tuple(offer.option for offer in spec.offers),
                incoming=tuple(incoming[i]),
            )
        )
        for i, spec in enumerate(scenario.series)
    )
    return Problem(
        weeks=horizon,
        series=series,
        supplier_capacity={s: (cap,) * horizon for s, cap in scenario.supplier_capacity.items()},
        warehouse_capacity=dict(scenario.warehouse_capacity),
    )


def whole_units(values: Sequence[float]) -> list[int]:
    """Weekly forecasts in whole units that keep the running total: 0.3 a week is 0, 1, 0, 0, 1.

    Rounding each week on its own would plan no demand at all for a slow mover.
    """
    units, total = [], 0
    running = 0.0
    for value in values:
        running += max(0.0, value)
        units.append(round(running) - total)
        total += units[-1]
    return units


def week_zero_orders(scenario: Scenario, result: Result) -> list[Order]:
    """The plan's orders to place now; later weeks are planned again next week."""
    where = {
        (spec.sku, spec.warehouse, offer.option.supplier): (i, k)
        for i, spec in enumerate(scenario.series)
        for k, offer in enumerate(spec.offers)
    }
    orders = []
    for line in result.lines:
        if line.order_week == 0:
            i, k = where[(line.sku, line.warehouse, line.supplier)]
            orders.append(Order(i, k, line.quantity))
    return orders


Forecasts = dict[tuple[str, str], Forecast]


def refit_forecasts(
    scenario: Scenario, *, every: int, horizon: int
) -> tuple[dict[int, Forecasts], list[float]]:
    """``forecast_many`` on the history known every ``every`` weeks, and the seconds each took.

    Demand, not sales, is the history here, so the forecasts do not depend on the policy and one
    set serves every optimiser run.
    """
    refits: dict[int, Forecasts] = {}
    seconds = []
    for week in range(0, scenario.weeks, every):
        history = scenario.history(week)
        started = time.perf_counter()
        refits[week] = forecast_many(
            {
                (spec.sku, spec.warehouse): [float(x) for x in history[i]]
                for i, spec in enumerate(scenario.series)
            },
            horizon=horizon + every - 1,
            season_length=52,
            holdout=4,
        )
        seconds.append(time.perf_counter() - started)
    return refits, seconds


@dataclass
class OptimiserPolicy:
    """Plan ``horizon`` weeks every week on the latest forecasts and place the orders of week 0."""

    scenario: Scenario
    params: SolveParameters
    forecasts: Mapping[int, Forecasts]  # by the week they were made
    horizon: int = HORIZON
    statuses: Counter[str] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    gaps: list[float] = field(default_factory=list)

    def __call__(self, view: View) -> list[Order]:
        made = max(week for week in self.forecasts if week <= view.week)
        offset = view.week - made
        demand, safety = [], []
        for spec in self.scenario.series:
            forecast = self.forecasts[made][(spec.sku, spec.warehouse)]
            values = forecast.values[offset : offset + self.horizon]
            demand.append(whole_units(values))
            main = spec.offers[0]
            exposure = main.option.lead_time_weeks + 1
            safety.append(
                safety_stock(
                    service_level=self.scenario.service_level,
                    demand_mean=float(np.mean(values[:exposure])),
                    demand_sigma=forecast.sigma,
                    lead_time_mean=main.option.lead_time_weeks,
                    lead_time_sigma=main.lead_time_sigma,
                    review_period=1.0,
                )
            )
        problem = build_problem(
            self.scenario, view, demand=demand, safety=safety, horizon=self.horizon
        )
        result = solve(problem, self.params)
        self.statuses[result.status] += 1
        self.methods[result.method] += 1
        if result.gap is not None:
            self.gaps.append(result.gap)
        return week_zero_orders(self.scenario, result) if result.is_feasible() else []


# --- the report ----------------------------------------------------------------------------------


def money(points: float) -> str:
    return f"{points / COST_SCALE:,.0f}"


def share(part: float, whole: float) -> str:
    return f"{part / whole:.2%}" if whole else "n/a"


def outcome_rows(outcome: Outcome, series: int) -> dict[str, str]:
    """The printed figures of one policy, by row label."""
    weeks = max(outcome.weeks, 1)
    rows = {
        "total cost": money(outcome.total),
        "  purchase": money(outcome.purchase),
        "  fixed ordering": money(outcome.ordering),
        "  holding": money(outcome.holding),
        "  lost-sales penalty": money(outcome.shortage),
        "  less closing stock at price paid": money(-outcome.closing_credit),
        "fill rate (units served / demanded)": share(outcome.served, outcome.demanded),
    }
    for pattern in ("regular", "intermittent", "erratic"):
        wanted, served = outcome.by_pattern.get(pattern, [0, 0])
        rows[f"  fill rate, {pattern}"] = share(served, wanted)
    return rows | {
        "average stock, units": f"{outcome.stock_units / weeks:,.0f}",
        "average stock, value": money(outcome.stock_value / weeks),
        "closing stock and in transit, units": f"{outcome.closing_units:,}",
        "stock-out weeks (series-weeks short)": f"{outcome.stockout_weeks} / {series * weeks}",
        "orders placed": f"{outcome.orders:,}",
        "supplier-weeks over capacity": f"{outcome.supplier_over_capacity}",
        "peak warehouse use (cm3)": f"{outcome.peak_warehouse_use:.0%}",
        "decision time per week, mean / max (s)": (
            f"{np.mean(outcome.seconds):.2f} / {max(outcome.seconds):.2f}"
        ),
    }


def verdict(name: str, classic: Outcome, optimiser: Outcome) -> str:
    """Whether the optimiser costs less than min/max at an equal or better fill rate."""
    change = optimiser.total / classic.total - 1 if classic.total else 0.0
    wins = optimiser.total < classic.total and optimiser.fill_rate >= classic.fill_rate
    return (
        f"{name} {'BEATS' if wins else 'DOES NOT BEAT'} min/max: total cost "
        f"{abs(change):.1%} {'lower' if change < 0 else 'higher'} ({money(optimiser.total)} "
        f"against {money(classic.total)}), fill rate {optimiser.fill_rate:.2%} against "
        f"{classic.fill_rate:.2%}."
    )


def run_simulation(args: argparse.Namespace, console: Console, err: Console) -> dict[str, Any]:
    scenario = make_scenario(
        skus=args.skus,
        warehouses=args.warehouses,
        weeks=args.weeks,
        service_level=args.service,
        seed=args.seed,
    )
    size = len(scenario.series)
    patterns = dict(Counter(spec.pattern for spec in scenario.series))
    log(err, f"scenario: {size} series {patterns}, seed {args.seed}; min/max")
    policies: dict[str, Outcome] = {
        "min/max (s, S)": simulate(
            scenario, MinMaxPolicy(scenario, safety_stock=safety_stock), clock=time.perf_counter
        )
    }
    log(err, f"forecasting every {args.forecast_every} weeks")
    refits, forecast_seconds = refit_forecasts(
        scenario, every=args.forecast_every, horizon=max(args.horizons)
    )
    params = SolveParameters(time_limit_seconds=args.time_limit, seed=args.seed, workers=2)
    notes = []
    for horizon in args.horizons:
        log(err, f"optimiser, {horizon}-week plans")
        policy = OptimiserPolicy(scenario, params, refits, horizon=horizon)
        policies[f"optimiser, {horizon}-week plans"] = simulate(
            scenario, policy, clock=time.perf_counter
        )
        gaps = policy.gaps or [0.0]
        notes.append(
            f"{horizon}-week plans: {dict(policy.methods)} {dict(policy.statuses)}, gap mean "
            f"{np.mean(gaps):.2%}, max {max(gaps):.2%}"
        )
    rows = {name: outcome_rows(outcome, size) for name, outcome in policies.items()}
    table = Table(
        title=f"{args.weeks} weeks, {size} series, service target {args.service:.0%}, lost sales "
        "(money in currency units)"
    )
    table.add_column("measure")
    for name in rows:
        table.add_column(name, justify="right")
    for label in rows["min/max (s, S)"]:
        table.add_row(label, *(figures[label] for figures in rows.values()))
    console.print(table)
    console.print(
        f"forecast_many on {size} series: {np.mean(forecast_seconds):.1f} s a refit, "
        f"{len(forecast_seconds)} refits (not in the decision times). " + "; ".join(notes)
    )
    classic = policies.pop("min/max (s, S)")
    verdicts = [verdict(name, classic, outcome) for name, outcome in policies.items()]
    for line in verdicts:
        console.print(line, style="bold")
    return {"series": size, "policies": rows, "notes": notes, "verdicts": verdicts}


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory of this process (or of its largest finished child), in MiB."""
    return resource.getrusage(who).ru_maxrss / 1024


def rss_mib() -> float:
    """Resident memory of this process now, in MiB (Linux; NaN elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_scale(args: argparse.Namespace, console: Console, err: Console) -> dict[str, Any]:
    skus, warehouses = args.scale_skus, args.scale_warehouses
    before = rss_mib()
    log(err, f"scale: {skus} SKUs x {warehouses} warehouses x {HORIZON} weeks")
    started = time.perf_counter()
    problem = synthetic_problem(skus=skus, warehouses=warehouses, weeks=HORIZON, seed=args.seed)
    build_seconds = time.perf_counter() - started
    after_build = rss_mib()
    params = SolveParameters(time_limit_seconds=args.scale_time_limit, seed=args.seed, workers=2)

    def progress(done: int, total: int, message: str) -> None:
        log(err, f"  {done}/{total} {message}")

    started = time.perf_counter()
    result = solve(problem, params, progress=progress)
    solve_seconds = time.perf_counter() - started
    figures: dict[str, Any] = {
        "series": f"{len(problem.series):,}",
        "build (synthetic_problem), s": f"{build_seconds:.1f}",
        "solve (wall), s": f"{solve_seconds:.1f} (limit {args.scale_time_limit:g})",
        "method": result.method,
        "status": result.status,
        "objective": "-" if result.objective is None else money(result.objective),
        "bound": "-" if result.bound is None else money(result.bound),
        "gap": "-" if result.gap is None else f"{result.gap:.2%}",
        "order lines": f"{len(result.lines):,}",
        "RSS before / after the build, MiB": f"{before:,.0f} / {after_build:,.0f}",
        "peak RSS of this process (whole run), MiB": f"{peak_rss_mib():,.0f}",
        "peak RSS of the largest worker process, MiB": (
            f"{peak_rss_mib(resource.RUSAGE_CHILDREN):,.0f}"
        ),
    }
    if not result.is_feasible():
        figures["reason"] = result.reason
    table = Table(title="One large solve (money in currency units)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for label, value in figures.items():
        table.add_row(label, value)
    console.print(table)
    return figures


def horizons(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--skus", type=int, default=80, help="SKUs in the simulation (default 80)")
    add("--warehouses", type=int, default=3, help="warehouses in the simulation (default 3)")
    add("--weeks", type=int, default=26, help="simulated weeks (default 26)")
    add("--service", type=float, default=0.95, help="cycle service target (default 0.95)")
    add("--horizons", type=horizons, default=[HORIZON, 26], help="plan lengths (default 12,26)")
    add("--time-limit", type=float, default=10.0, help="seconds per weekly solve (default 10)")
    add("--forecast-every", type=int, default=4, help="weeks between refits (default 4)")
    add("--scale-skus", type=int, default=10_000, help="SKUs of the large solve (default 10000)")
    add("--scale-warehouses", type=int, default=5, help="its warehouses (default 5)")
    add("--scale-time-limit", type=float, default=120.0, help="its time limit (default 120 s)")
    add("--skip-scale", action="store_true", help="no large solve")
    add("--skip-simulation", action="store_true", help="only the large solve")
    add("--seed", type=int, default=7, help="seed of the scenario and the solver (default 7)")
    add("--json", action="store_true", help="also print every figure as one JSON object")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    console, err = Console(), Console(stderr=True)
    if not console.is_terminal:  # a pipe or a file: keep the tables unwrapped
        console = Console(width=120)
    if not err.is_terminal:
        err = Console(stderr=True, width=120)
    figures: dict[str, Any] = {"load average at start": os.getloadavg()[0]}
    if not args.skip_simulation:
        figures["simulation"] = run_simulation(args, console, err)
    if not args.skip_scale:
        figures["scale"] = run_scale(args, console, err)
    figures["load average at end"] = os.getloadavg()[0]
    console.print(
        f"1-minute load average: {figures['load average at start']:.1f} at the start, "
        f"{figures['load average at end']:.1f} at the end (other work on the machine slows "
        "the solves and the forecasts)"
    )
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
