"""The large-scale solver: Lagrangian relaxation of the coupling constraints, then a repair.

Series only interact through the budget, supplier capacities and warehouse capacities (and
transfer lanes, which stay inside a group). Pricing those rows with multipliers splits the
problem into one subproblem per group; the sum of their proven bounds less the priced capacities
is a valid lower bound for every choice of prices (the dual value), reported as ``bound``.

The prices: zero first; then, on a large problem, a subgradient search on a sample of the groups
against a matching share of each limit (cheap iterations); then Polyak steps on the whole. Rows
are scaled by their capacity so that points, units and cm3 move at comparable speeds.

The plan: every few iterations the workers build one within their share of each limit at the
current prices (``Chunk.construct``); at the end the best of those and the last prices' own
solution are repaired (``repair``), polished series by series (``refine``) and priced by the
independent evaluator, whose figure is the reported ``objective``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wms.procurement.planning.evaluate import capacity_shortfall, evaluate
from wms.procurement.planning.explain import annotate
from wms.procurement.planning.model import RowKey, components
from wms.procurement.planning.problem import (
    COST_SCALE,
    OrderLine,
    Problem,
    Result,
    SolveParameters,
    Status,
    TransferLine,
)
from wms.procurement.planning.refine import polish
from wms.procurement.planning.repair import Repair
from wms.procurement.planning.workers import Answer, Pool

Progress = Callable[[int, int, str], None]
MAX_ITERATIONS = 200
SAMPLE_GROUPS = 5000  # about this many groups search the prices before the whole problem
# Rough costs on one core, to keep time for the end: a repair per group, checking and
# explaining the final plan per series.
_REPAIR_SECONDS = 0.0004
_EXPLAIN_SECONDS = 0.0004


def coupling_rows(problem: Problem) -> list[tuple[RowKey, int]]:
    """Every coupling row and its capacity."""
    rows: list[tuple[RowKey, int]] = []
    if problem.budget is not None:
        rows.extend((("budget", "", t), cap) for t, cap in enumerate(problem.budget))
    for supplier, caps in sorted(problem.supplier_capacity.items()):
        rows.extend((("supplier_capacity", supplier, t), cap) for t, cap in enumerate(caps))
    for warehouse, cap in sorted(problem.warehouse_capacity.items()):
        rows.extend((("warehouse_capacity", warehouse, t), cap) for t in range(problem.weeks))
    return rows


def _chunks(groups: list[list[int]], workers: int) -> list[list[list[int]]]:
    """Groups dealt out by size so that each worker gets about the same work."""
    chunks: list[list[list[int]]] = [[] for _ in range(min(workers, max(1, len(groups))))]
    load = [0] * len(chunks)
    for group in sorted(groups, key=lambda g: (-len(g), g[0])):
        k = load.index(min(load))
        chunks[k].append(group)
        load[k] += len(group) ** 2  # a linked group costs CP-SAT more than its size
    return chunks


@dataclass
class _Plan:
    cost: int
    state: Repair


class _Lagrangian:
    def __init__(self, problem: Problem, params: SolveParameters, progress: Progress) -> None:
        self.p, self.params, self.progress = problem, params, progress
        self.start = time.perf_counter()
        self.groups = components(problem)
        rows = coupling_rows(problem)
        self.keys = [key for key, _ in rows]
        self.cap = np.array([cap for _, cap in rows], dtype=np.float64)
        self.scale = np.maximum(self.cap, 1.0)
        self.mu = np.zeros(len(rows))  # prices per whole capacity of each row
        self.best_mu = self.mu
        self.best_bound = -math.inf
        self.best: _Plan | None = None
        self.iterations = self.stale = self.unproven = 0
        self.last_bound = -math.inf
        self.answers: list[Answer] = []
        self.floors: list[npt.NDArray[np.float64]] | None = None
        self.upper: int | None = None  # the cost of the best plan built so far
        self.last_usage = np.zeros(len(rows))
        self.seconds_each = max(0.05, min(5.0, params.time_limit_seconds / 20))
        self.step_took = self.construct_took = 0.0

    def left(self) -> float:
        return self.params.time_limit_seconds - (time.perf_counter() - self.start)

    def dual(self, answers: Sequence[Answer]) -> tuple[float, npt.NDArray[np.float64]]:
        """The dual value at the current prices, and the coupling rows' usage."""
        usage = np.sum([a.usage for a in answers], axis=0)
        priced = math.fsum((self.mu * self.cap / self.scale).tolist())
        return sum(a.bound for a in answers) - priced, usage

    def construct(self, pool: Pool) -> None:
        """Build a plan at the current prices within each worker's share of every limit.

        Shares give each worker the warehouse volume its series fill with no order, plus the
        rest of each limit in proportion to what its subproblems wanted at these prices. Within
        its share a worker plans one series after another (``Chunk.construct``), so the union
        keeps every limit; the best such plan is kept in the workers.
        """
        began = time.perf_counter()
        if self.floors is None:
            self.floors = pool.baselines()
        floor = np.sum(self.floors, axis=0)
        spare = np.maximum(self.cap - floor, 0.0)
        wants = [
            np.maximum(a.usage - f, 0.0) for a, f in zip(self.answers, self.floors, strict=True)
        ]
        total = np.sum(wants, axis=0)
        even = 1.0 / len(wants)
        shares = [
            f + spare * np.divide(w, total, out=np.full_like(total, even), where=total > 0)
            for f, w in zip(self.floors, wants, strict=True)
        ]
        built = pool.construct(self.mu / self.scale, shares)
        usage = np.sum([u for u, _ in built], axis=0)
        cost = sum(c for _, c in built)
        # Linked groups keep their subproblem plan, which may not fit: such a plan is repaired
        # at the end, not taken as an upper bound now.
        if (usage <= self.cap + 1e-6).all() and (self.upper is None or cost < self.upper):
            self.upper = cost
            pool.keep()
        self.construct_took = time.perf_counter() - began

    def finish(self, pool: Pool) -> None:
        """Repair the kept plan and (time allowing) the last prices' own plan; polish the best.

        The polish gets what is left beyond the time to check and explain the final plan.
        """
        own = pool.plan()
        self.construct(pool)
        candidates = [pool.plan(kept=True)] if self.upper is not None else []
        for lines, moves in candidates:
            self.repaired(lines, moves)
        if self.best is None or self.left() > self.tail() + _REPAIR_SECONDS * len(self.groups):
            self.repaired(*own)  # the spec'd path: the subproblems' own plan, repaired
        if self.best is not None and not self.gap_closed():
            polish(self.best.state, seconds=max(0.0, self.left() - self.tail()))
            self.best.cost = self.best.state.plan()[2]

    def repaired(self, lines: list[OrderLine], moves: list[TransferLine]) -> None:
        """Repair a plan to keep every limit and keep it if it is the cheapest so far."""
        state = Repair(self.p, self.groups, lines, moves)
        if state.run():
            return
        cost = state.plan()[2]
        if self.best is None or cost < self.best.cost:
            self.best = _Plan(cost, state)

    def tail(self) -> float:
        """Seconds to keep for checking and explaining the final plan."""
        return _EXPLAIN_SECONDS * len(self.p.series)

    def reserve(self) -> float:
        """Seconds the final plan needs: one more build, its repair, a short polish, the tail."""
        polish_share = 0.05 * self.params.time_limit_seconds
        return self.construct_took + _REPAIR_SECONDS * len(self.groups) + polish_share + self.tail()

    def gap_closed(self) -> bool:
        upper = self.best.cost if self.best is not None else self.upper
        if upper is None:
            return False
        return upper - self.best_bound <= self.params.relative_gap * abs(upper)

    def step(self, pool: Pool) -> npt.NDArray[np.float64]:
        """Solve every group at the current prices; returns the rows' slack, scaled."""
        began = time.perf_counter()
        answers = pool.solve(self.mu / self.scale, self.seconds_each)
        self.step_took = time.perf_counter() - began
        if any(a.infeasible for a in answers):
            raise _NoPlan
        self.iterations += 1
        self.unproven = sum(a.unproven for a in answers)
        bound, usage = self.dual(answers)
        self.last_bound, self.answers = bound, answers
        if bound > self.best_bound + 1e-9 * abs(bound):
            self.best_bound, self.best_mu, self.stale = bound, self.mu, 0
        else:
            self.stale += 1
        self.last_usage = usage
        return (usage - self.cap) / self.scale

    def run(self, pool: Pool, sampled: bool) -> None:
        """Zero prices, prices from a sample, subgradient steps on the whole; then the plan."""
        slack = self.step(pool)
        self.construct(pool)
        self.progress(self.iterations, MAX_ITERATIONS, self._status())
        aim = 0.02  # relative to the best bound: where each step aims the dual value
        if sampled and not self.gap_closed():
            # Leave room for the final plan and a few iterations on the whole problem.
            room = self.left() - self.reserve() - 6 * (self.step_took + self.construct_took / 3)
            seconds = min(0.25 * self.params.time_limit_seconds, room)
            if seconds > 0:
                self.sample_prices(pool, seconds)
                aim = 0.005  # the sample's prices are close: aim just above them
                slack = self.step(pool)
                self.progress(self.iterations, MAX_ITERATIONS, self._status())
        while self.iterations < MAX_ITERATIONS and not self.gap_closed():
            if self.stale >= 3:
                aim, self.stale = aim / 2, 0
            builds = self.iterations % 3 == 2  # a plan is built every third iteration
            needs = self.step_took + (self.construct_took if builds else 0.0)
            if self.left() < self.reserve() + needs or aim < 1e-6 or self.upper is None:
                break
            # Polyak towards a target a little above the best bound (never above the best plan):
            # aiming at the plan's cost while it is far from the bound overshoots.
            target = min(float(self.upper), self.best_bound + aim * abs(self.best_bound))
            moved = _subgradient(self.mu, slack, self.last_bound, target, 1.0)
            if moved is None:
                break  # every priced row is tight and no row is over: these prices are optimal
            self.mu = moved
            slack = self.step(pool)
            if builds:
                self.construct(pool)
            self.progress(self.iterations, MAX_ITERATIONS, self._status())
        if not self.gap_closed():
            self.mu = self.best_mu  # the final plan is built at the best prices found
        self.finish(pool)

    def sample_prices(self, pool: Pool, seconds: float) -> None:
        """Search prices on a sample of the groups against a share of each capacity.

        A sample of a few thousand series uses each limit in about the proportion it did at
        zero prices, so its capacities are scaled by that share; its iterations cost a fraction
        of the whole problem's, and the prices it finds are where the whole one continues.
        """
        deadline = time.perf_counter() + seconds
        full = self.last_usage
        zero = sum(a.usage for a in pool.solve(np.zeros_like(self.mu), 1.0, sample=True))
        share = np.divide(zero, full, out=np.zeros_like(zero), where=full > 0)
        # Only rows over at zero prices, where the sample holds about its fair share, are priced
        # here: a row that a handful of sampled series carry would get a price from their noise.
        fair = float(np.sum(zero)) / max(float(np.sum(full)), 1.0)
        priced = (full > self.cap) & (share > fair / 3) & (share < fair * 3)
        cap = np.where(priced, self.cap * share, 0.0)
        scale = np.maximum(cap, 1.0)
        mu = np.zeros_like(self.mu)
        best, best_mu, aim, stale = -math.inf, mu, 0.02, 0
        for k in range(3 * MAX_ITERATIONS):
            answers = pool.solve(mu / scale, self.seconds_each, sample=True)
            usage = np.sum([a.usage for a in answers], axis=0)
            value = sum(a.bound for a in answers) - math.fsum((mu * cap / scale).tolist())
            if value > best + 1e-9 * abs(value):
                best, best_mu, stale = value, mu, 0
            else:
                stale += 1
                if stale >= 2:
                    aim, stale = aim / 2, 0
            self.progress(self.iterations, MAX_ITERATIONS, f"prices on a sample, step {k + 1}")
            slack = np.where(priced, (usage - cap) / scale, 0.0)
            # No plan is known for the sample: aim a little above its best dual value instead.
            moved = _subgradient(mu, slack, value, best + aim * abs(best), 1.0)
            if moved is None or aim < 1e-5 or time.perf_counter() > deadline:
                break
            mu = moved
        self.mu = np.where(priced, best_mu / scale * self.scale, self.mu)

    def _status(self) -> str:
        best = "none yet" if self.upper is None else f"{self.upper / COST_SCALE:,.2f}"
        bound = self.best_bound / COST_SCALE
        return f"iteration {self.iterations}: bound {bound:,.2f}, best plan {best}"


def _subgradient(
    mu: npt.NDArray[np.float64],
    slack: npt.NDArray[np.float64],
    value: float,
    target: float,
    theta: float,
) -> npt.NDArray[np.float64] | None:
    """A Polyak step from dual ``value`` towards ``target`` (None: no row to move)."""
    active = (mu > 0) | (slack > 0)
    norm = float(np.sum(slack[active] ** 2))
    if norm == 0:
        return None
    return np.maximum(0.0, mu + theta * (target - value) / norm * slack)


class _NoPlan(Exception):
    """A group has no plan even with every coupling row priced out."""


def solve_decomposed(
    problem: Problem, params: SolveParameters, *, progress: Progress | None = None
) -> Result:
    """Solve a large problem by Lagrangian relaxation of its coupling constraints."""
    problem.validate()
    reason = capacity_shortfall(problem)
    if reason:
        return Result("infeasible", None, None, reason=reason, method="lagrangian")
    state = _Lagrangian(problem, params, progress or (lambda done, total, message: None))
    multi = any(len(g) > 1 for g in state.groups)
    method = "lagrangian(dp+cp-sat)" if multi else "lagrangian(dp)"
    every = max(1, len(state.groups) // SAMPLE_GROUPS)
    pool = Pool(problem, _chunks(state.groups, params.workers), state.keys, params, every)
    try:
        state.run(pool, sampled=every > 1)
    except _NoPlan:
        return Result(
            "infeasible", None, None, method=method,
            seconds=time.perf_counter() - state.start,
            reason="a SKU has no plan that keeps its warehouses within capacity",
        )  # fmt: skip
    finally:
        pool.close()
    if state.best is None:
        return Result(
            "unknown", None, math.floor(state.best_bound), method=method,
            seconds=time.perf_counter() - state.start,
            reason="the plan could not be repaired to keep every limit",
        )  # fmt: skip
    lines, moves, _ = state.best.state.plan()
    ev = evaluate(problem, lines, moves)  # the whole plan, checked from scratch
    if not ev.is_feasible():
        raise RuntimeError(f"the repaired plan breaks {ev.violations[0].message}")
    bound = min(math.floor(state.best_bound), ev.total)
    status: Status = "optimal" if bound == ev.total else "feasible"
    result = Result(
        status, ev.total, bound, tuple(lines), tuple(moves), method=method,
        seconds=time.perf_counter() - state.start,
    )  # fmt: skip
    return annotate(problem, result)
