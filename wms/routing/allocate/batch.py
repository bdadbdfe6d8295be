"""Re-optimise a whole batch of orders: the least-cost assignment found in the time given, and a
proven lower bound on the best possible, so the gap is known.

1. The batch splits into independent parts: lines are joined when they belong to one order (and
   shipments carry fees) or when they compete for a (warehouse, SKU) that cannot serve every line
   that could use it. A part whose orders can each take their own best plan is solved outright.
2. A small part is a mixed-integer program (``mip``, HiGHS), which proves its optimum or gives
   its dual bound; the sequential plan (below) is the fallback if HiGHS finds nothing in time.
3. A large part gets scarcity prices for its contested stock: subgradient steps on a Lagrangian
   relaxation (``lagrange``) first, then column generation over whole order plans (``master``),
   whose Lagrangian value is the proven bound. Orders are then planned one by one at those
   prices (``heuristic.sequential``) and the plan improved by ruin and recreate.

The work is budgeted in iterations and rounds, so the same input gives the same answer; the time
limit is a backstop that stops the work early (then the answer depends on the machine's speed).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from wms.errors import ValidationFailed
from wms.routing.allocate import heuristic, lagrange, master, mip
from wms.routing.allocate.costs import IntArray
from wms.routing.allocate.evaluate import evaluate
from wms.routing.allocate.problem import UNFILLED, BatchProblem, BatchResult

Progress = Callable[[str], None]

# Above these many (line, warehouse) pairs a part is priced, not handed to HiGHS whole. Orders of
# several lines (shipment variables, linking rows) make the program far harder per pair.
MIP_PAIRS = 40_000
MIP_PAIRS_WITH_SHIPMENTS = 4_000
GROUP_LINES = 400  # independent parts smaller than this are solved together


@dataclass(frozen=True)
class BatchParameters:
    """Time limit (seconds, a backstop), seed, solver threads, and the work budget."""

    time_limit: float = 30.0
    seed: int = 0
    threads: int = 1
    price_iterations: int = 120  # subgradient steps before column generation takes over
    rounds_per_order: float = 1.2  # ruin-and-recreate rounds per order of a large part

    def __post_init__(self) -> None:
        if not (self.time_limit > 0 and math.isfinite(self.time_limit)):
            raise ValidationFailed(
                f"the time limit must be more than 0 seconds, not {self.time_limit:g}",
                field="time_limit",
            )
        if self.threads < 1:
            raise ValidationFailed("at least one thread", field="threads")
        if self.price_iterations < 0 or self.rounds_per_order < 0:
            raise ValidationFailed("the work budget must not be negative", field="budget")


@dataclass(frozen=True)
class _Part:
    assignment: IntArray
    bound: int
    optimal: bool
    method: str


def solve(
    problem: BatchProblem,
    params: BatchParameters | None = None,
    *,
    progress: Progress | None = None,
) -> BatchResult:
    """The batch's least-cost assignment within the budget, with a proven lower bound."""
    params = params or BatchParameters()
    problem.validate()
    started = time.perf_counter()
    parts = _solve_parts(problem, params, started + params.time_limit, progress)
    assignment = np.full(problem.lines, UNFILLED, dtype=np.int64)
    for lines, part in parts:
        assignment[lines] = part.assignment
    checked = evaluate(problem, assignment)
    if not checked.feasible:  # a solver bug: never hand such an answer out
        raise RuntimeError(
            f"stock exceeded: (warehouse, sku, shipped, stock) {checked.breaches[0]}"
        )
    bound = min(sum(part.bound for _, part in parts), checked.cost)
    optimal = all(part.optimal for _, part in parts) or bound >= checked.cost
    return BatchResult(
        assignment=assignment,
        cost=checked.cost,
        bound=bound,
        status="optimal" if optimal else "feasible",
        seconds=time.perf_counter() - started,
        method="+".join(sorted({part.method for _, part in parts})) or "empty",
        unfilled_units=checked.unfilled_units,
        shipments=checked.shipments,
    )


def _solve_parts(
    problem: BatchProblem, params: BatchParameters, deadline: float, progress: Progress | None
) -> list[tuple[IntArray, _Part]]:
    report = progress or (lambda _message: None)
    parts = _grouped(split(problem))
    remaining = sum(len(lines) for lines in parts)
    solved = []
    for index, lines in enumerate(parts):
        now = time.perf_counter()
        left = max(0.0, deadline - now)
        # A fair share by size, but a small part may take longer than its share (it usually
        # finishes early); the largest parts come last and get what is left.
        share = max(left * len(lines) / max(remaining, 1), 0.2 * left)
        remaining -= len(lines)
        if len(lines) > 1:
            report(f"part {index + 1}/{len(parts)}: {len(lines):,} lines")
        solved.append((lines, _solve_part(problem.subset(lines), params, now + share, report)))
    return solved


def split(problem: BatchProblem) -> list[IntArray]:
    """Independent groups of lines, smallest first (each sorted; ties by their first line)."""
    if problem.lines == 0:
        return []
    pair_line, pair_wh = np.nonzero(problem.qty[:, None] <= problem.stock[:, problem.sku].T)
    cells = problem.stock.size
    cell = pair_wh * problem.stock.shape[1] + problem.sku[pair_line]
    wanted = np.bincount(cell, weights=problem.qty[pair_line], minlength=cells)
    contested = (wanted > problem.stock.ravel())[cell]
    ends = [(pair_line[contested], problem.lines + cell[contested])]
    if problem.penalties.shipment or problem.penalties.split:
        ends.append((np.arange(problem.lines), problem.lines + cells + problem.order))
    a, b = (np.concatenate(side) for side in zip(*ends, strict=True))
    label = _components(problem.lines + cells + problem.orders, a, b)[: problem.lines]
    order = np.argsort(label, kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(label[order])) + 1)
    return sorted(groups, key=lambda g: (len(g), int(g[0])))


def _components(nodes: int, a: IntArray, b: IntArray) -> IntArray:
    """The smallest node of each node's connected component (edges a[i] -- b[i]).

    Hook every edge's larger root under the smaller, then jump pointers until each node points
    at its root; repeat until no edge joins two roots.
    """
    label = np.arange(nodes)
    while True:
        low = np.minimum(label[a], label[b])
        hooked = label.copy()
        np.minimum.at(hooked, label[a], low)
        np.minimum.at(hooked, label[b], low)
        while True:
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, label):
            return label
        label = hooked


def _grouped(parts: list[IntArray]) -> list[IntArray]:
    """Small independent parts solved together, which saves the set-up of one solve each."""
    grouped: list[IntArray] = []
    pending: list[IntArray] = []
    for lines in parts:
        pending.append(lines)
        if sum(len(g) for g in pending) >= GROUP_LINES:
            grouped.append(np.sort(np.concatenate(pending)))
            pending = []
    if pending:
        grouped.append(np.sort(np.concatenate(pending)))
    return grouped


def _solve_part(
    problem: BatchProblem, params: BatchParameters, deadline: float, report: Progress
) -> _Part:
    relaxation = lagrange.Relaxation(problem)
    free = relaxation.solve(np.zeros(problem.stock.shape))
    if free.exact and (relaxation.usage(free.choice) <= problem.stock).all():
        # Every order's own best plan fits the stock together: nothing to trade off.
        cost = evaluate(problem, free.choice).cost
        return _Part(free.choice, cost, True, "direct")
    shipments = problem.orders < problem.lines and (
        problem.penalties.shipment > 0 or problem.penalties.split > 0
    )
    floor = math.ceil(float(free.value.sum()) - 0.01)  # L at zero prices is a bound already
    if mip.pairs(problem) <= (MIP_PAIRS_WITH_SHIPMENTS if shipments else MIP_PAIRS):
        return _by_mip(problem, params, floor, deadline)
    return _by_prices(problem, relaxation, floor, params, deadline, report)


def _by_mip(problem: BatchProblem, params: BatchParameters, floor: int, deadline: float) -> _Part:
    fallback = np.array(heuristic.sequential(problem).assignment, dtype=np.int64)
    outcome = mip.solve_mip(
        problem,
        time_limit=max(0.05, deadline - time.perf_counter()),
        seed=params.seed,
        threads=params.threads,
    )
    found, cost = fallback, evaluate(problem, fallback).cost
    trusted = False
    if outcome.assignment is not None:
        checked = evaluate(problem, outcome.assignment)
        # Trust HiGHS's bound only when its answer costs what it says it does.
        trusted = checked.feasible and abs(checked.cost - outcome.objective) < 0.5
        if checked.feasible and checked.cost <= cost:
            found, cost = outcome.assignment, checked.cost
    if trusted and math.isfinite(outcome.bound):
        floor = max(floor, math.ceil(outcome.bound - 1e-6))
    optimal = trusted and outcome.optimal and floor >= cost - 1
    return _Part(found, cost if optimal else min(cost, floor), optimal, "mip")


def _by_prices(
    problem: BatchProblem,
    relaxation: lagrange.Relaxation,
    floor: int,
    params: BatchParameters,
    deadline: float,
    report: Progress,
) -> _Part:
    started = time.perf_counter()
    span = deadline - started
    pool = master.Master(problem, threads=params.threads)
    ascent = _subgradient(problem, relaxation, pool, params, started + 0.2 * span, report)
    planner = heuristic.sequential(problem, ascent.best_prices)
    pool.add(np.array(planner.assignment, dtype=np.int64))
    priced = master.generate(
        pool, relaxation, bound=ascent.bound, deadline=started + 0.6 * span, report=report
    )
    if priced.prices is not None:
        # The LP's central prices plan better than the subgradient's: plan again, keep the best.
        again = heuristic.sequential(problem, priced.prices)
        if again.total() <= planner.total():
            planner = again
        planner.reprice(priced.prices)
    report(f"planned at prices: {planner.total():,} cents; improving")
    _ruin_and_recreate(planner, params, deadline, report)
    assignment = np.array(planner.assignment, dtype=np.int64)
    cost = evaluate(problem, assignment).cost
    if math.isfinite(priced.bound):
        floor = max(floor, math.ceil(priced.bound - 0.01))
    bound = min(cost, floor)
    return _Part(assignment, bound, bound >= cost, "prices")


def _subgradient(
    problem: BatchProblem,
    relaxation: lagrange.Relaxation,
    pool: master.Master,
    params: BatchParameters,
    deadline: float,
    report: Progress,
) -> lagrange.DualAscent:
    """Subgradient steps: a first bound, first prices, and the plans that seed the LP."""
    plain = heuristic.sequential(problem)
    ascent = lagrange.DualAscent(relaxation, upper=float(plain.total()), scale=1.0)
    while ascent.iteration < params.price_iterations and time.perf_counter() < deadline:
        ascent.step()
        if ascent.iteration > params.price_iterations // 3:  # early plans are poor columns
            pool.add(ascent.last_choice)
        if ascent.iteration % 25 == 0:
            report(f"prices: step {ascent.iteration}, bound {ascent.bound:,.0f} cents")
    pool.add(np.array(plain.assignment, dtype=np.int64))
    return ascent


def _ruin_and_recreate(
    planner: heuristic.Planner, params: BatchParameters, deadline: float, report: Progress
) -> None:
    rounds = round(params.rounds_per_order * len(planner.lines))
    done = 0
    while done < rounds and time.perf_counter() < deadline:
        batch = min(500, rounds - done)
        heuristic.improve(planner, deadline=deadline, seed=params.seed + done, rounds=batch)
        done += batch
        report(f"improving: round {done:,}/{rounds:,}, cost {planner.total():,} cents")
