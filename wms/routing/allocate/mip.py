"""The batch as a mixed-integer program, solved by HiGHS (the only module that imports it).

Variables:

* ``x[l, w]`` (binary): line l ships from warehouse w; only where w has l's whole quantity;
* ``y[o, w]`` (binary): order o has a shipment from w; only for orders of two or more lines (for
  a one-line order y is x, so x carries the shipment fee itself);
* ``s[o]`` (continuous, >= 0): shipments of order o beyond the first, ``s >= sum_w y[o, w] - 1``.

Rows: ``sum_w x[l, w] <= 1`` (a line is unfilled when its x are all 0); ``x[l, w] <= y[o, w]``;
per (warehouse, SKU) where the lines that could take it want more than it has,
``sum qty * x <= stock``. The unfilled penalty is a constant (every unit unfilled) less a credit on
each x, so the objective is the cost in cents exactly.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from highspy._core import HighsModelStatus, _Highs

from wms.routing.allocate.costs import FloatArray, IntArray
from wms.routing.allocate.problem import UNFILLED, BatchProblem


@dataclass(frozen=True)
class MipOutcome:
    """What HiGHS returned: an assignment if it found one, its objective and dual bound."""

    assignment: IntArray | None
    bound: float
    optimal: bool
    objective: float


@dataclass
class _Matrix:
    """The constraint matrix as (row, column, value) triples and row bounds, built in blocks."""

    rows: list[IntArray]
    cols: list[IntArray]
    vals: list[FloatArray]
    upper: list[FloatArray]
    count: int = 0

    def add(self, n: int, upper: FloatArray, *entries: tuple[IntArray, IntArray, float]) -> None:
        """``n`` rows ``... <= upper``; each entry is (row in the block, column, coefficient)."""
        for row, col, coef in entries:
            self.rows.append(self.count + row)
            self.cols.append(col)
            self.vals.append(np.full(len(row), coef, dtype=np.float64))
        self.upper.append(upper)
        self.count += n


def pairs(problem: BatchProblem) -> int:
    """How many (line, warehouse) pairs the program would have: its x columns."""
    return int((problem.qty[:, None] <= problem.stock[:, problem.sku].T).sum())


def build(problem: BatchProblem) -> tuple[IntArray, IntArray, _Highs]:
    """The model in a HiGHS instance (options not set), and the (line, warehouse) of each x."""
    qty, order, fees = problem.qty, problem.order, problem.penalties
    pair_line, pair_wh = np.nonzero(qty[:, None] <= problem.stock[:, problem.sku].T)
    n_x = len(pair_line)
    multi = np.bincount(order, minlength=problem.orders)[order[pair_line]] > 1
    unfilled = fees.unfilled_unit * qty
    x_cost = problem.unit_cost[pair_line, pair_wh] * qty[pair_line] - unfilled[pair_line]
    x_cost += np.where(multi, 0, fees.shipment)
    y_keys, y_of_x = np.unique(
        order[pair_line[multi]] * problem.warehouses + pair_wh[multi], return_inverse=True
    )
    n_y = len(y_keys)
    _, s_of_y = np.unique(y_keys // max(problem.warehouses, 1), return_inverse=True)
    n_s = int(s_of_y.max()) + 1 if n_y else 0
    matrix = _Matrix([], [], [], [])
    x_cols = np.arange(n_x)
    matrix.add(problem.lines, np.ones(problem.lines), (pair_line, x_cols, 1.0))
    linked = np.flatnonzero(multi)
    block = np.arange(len(linked))
    matrix.add(
        len(linked), np.zeros(len(linked)), (block, linked, 1.0), (block, n_x + y_of_x, -1.0)
    )
    matrix.add(
        n_s,
        np.ones(n_s),
        (s_of_y, n_x + np.arange(n_y), 1.0),
        (np.arange(n_s), n_x + n_y + np.arange(n_s), -1.0),
    )
    _stock_rows(problem, pair_line, pair_wh, matrix)
    costs = np.concatenate([x_cost, np.full(n_y, fees.shipment), np.full(n_s, fees.split)])
    upper = np.concatenate([np.ones(n_x + n_y), np.full(n_s, math.inf)])
    integrality = np.concatenate([np.ones(n_x + n_y), np.zeros(n_s)]).astype(np.int32)
    # The core class, not ``highspy.Highs``: that wrapper installs a logging callback which
    # prints HiGHS's banner on stdout, into the middle of a `--json` answer.
    highs = _Highs()
    highs.setOptionValue("output_flag", False)
    _pass(highs, matrix, costs.astype(np.float64), upper, integrality, float(unfilled.sum()))
    return pair_line, pair_wh, highs


def _stock_rows(
    problem: BatchProblem, pair_line: IntArray, pair_wh: IntArray, matrix: _Matrix
) -> None:
    """``sum qty * x <= stock`` per (warehouse, SKU), only where the candidates want more."""
    cell = pair_wh * problem.stock.shape[1] + problem.sku[pair_line]
    wanted = np.bincount(cell, weights=problem.qty[pair_line], minlength=problem.stock.size)
    tight = np.flatnonzero(wanted > problem.stock.ravel())
    row_of_cell = np.full(problem.stock.size, -1)
    row_of_cell[tight] = np.arange(len(tight))
    in_tight = np.flatnonzero(row_of_cell[cell] >= 0)
    upper = problem.stock.ravel()[tight].astype(np.float64)
    for q in np.unique(problem.qty[pair_line[in_tight]]):
        some = in_tight[problem.qty[pair_line[in_tight]] == q]
        matrix.rows.append(matrix.count + row_of_cell[cell[some]])
        matrix.cols.append(some)
        matrix.vals.append(np.full(len(some), float(q)))
    matrix.upper.append(upper)
    matrix.count += len(tight)


def _pass(
    highs: _Highs,
    matrix: _Matrix,
    costs: FloatArray,
    upper: FloatArray,
    integrality: npt.NDArray[np.int32],
    offset: float,
) -> None:
    """Hand the model to HiGHS column-wise (CSC), every row ``<= upper``."""
    rows, cols = np.concatenate(matrix.rows), np.concatenate(matrix.cols)
    vals = np.concatenate(matrix.vals)
    by_col = np.lexsort((rows, cols))
    starts = np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=len(costs)))])
    row_upper = np.concatenate(matrix.upper)
    highs.passModel(
        len(costs),
        matrix.count,
        len(vals),
        1,  # column-wise
        1,  # minimise
        offset,
        costs,
        np.zeros(len(costs)),
        upper,
        np.full(matrix.count, -math.inf),
        row_upper,
        starts[:-1].astype(np.int32),
        rows[by_col].astype(np.int32),
        vals[by_col],
        integrality,
    )


def solve_mip(problem: BatchProblem, *, time_limit: float, seed: int, threads: int) -> MipOutcome:
    """Solve within ``time_limit`` seconds.

    No starting solution is passed in: HiGHS 1.16 can map a start through presolve wrongly and
    then report it as optimal with the objective of a different, infeasible point.
    """
    began = time.perf_counter()
    pair_line, pair_wh, highs = build(problem)
    highs.setOptionValue("time_limit", max(0.1, time_limit - (time.perf_counter() - began)))
    highs.setOptionValue("random_seed", seed)
    highs.setOptionValue("threads", threads)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 0.999)  # costs are whole cents
    highs.run()
    info = highs.getInfo()
    status = highs.getModelStatus()
    if status == HighsModelStatus.kModelEmpty:  # no line fits anywhere: all unfilled
        cost = float(problem.penalties.unfilled_unit * problem.qty.sum())
        return MipOutcome(np.full(problem.lines, UNFILLED, dtype=np.int64), cost, True, cost)
    optimal = status == HighsModelStatus.kOptimal
    assignment = None
    if optimal or info.primal_solution_status == 2:  # kSolutionStatusFeasible
        values = np.asarray(highs.getSolution().col_value)[: len(pair_line)]
        assignment = np.full(problem.lines, UNFILLED, dtype=np.int64)
        picked = values > 0.5
        assignment[pair_line[picked]] = pair_wh[picked]
    bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else -math.inf
    return MipOutcome(assignment, bound, optimal, info.objective_function_value)
