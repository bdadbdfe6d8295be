"""Replenishment planning: the problem as plain values, solvers behind it, and the explanations.

``solve`` is the entry point: a small problem goes to CP-SAT whole, a large one is decomposed by
SKU with Lagrangian relaxation of the budget and capacities. Either way the result carries the
order and transfer lines with their reasons, the projected stock of every series, the cost of
the plan and a proven lower bound.
"""

from __future__ import annotations

import time
from dataclasses import replace

from wms.procurement.planning.decompose import Progress, solve_decomposed
from wms.procurement.planning.evaluate import Costs, Evaluation, Violation, evaluate
from wms.procurement.planning.problem import (
    COST_SCALE,
    Explanation,
    OrderLine,
    PriceBreak,
    Problem,
    Projection,
    Result,
    Series,
    SolveParameters,
    SupplyOption,
    TransferLane,
    TransferLine,
)

WHOLE_MODEL_SERIES = 200  # up to this many series, CP-SAT solves the whole model

__all__ = [
    "COST_SCALE",
    "Costs",
    "Evaluation",
    "Explanation",
    "OrderLine",
    "PriceBreak",
    "Problem",
    "Progress",
    "Projection",
    "Result",
    "Series",
    "SolveParameters",
    "SupplyOption",
    "TransferLane",
    "TransferLine",
    "Violation",
    "evaluate",
    "solve",
]


def solve(problem: Problem, params: SolveParameters, *, progress: Progress | None = None) -> Result:
    """Plan replenishment: CP-SAT on the whole model when small, Lagrangian decomposition when large."""
    if len(problem.series) > WHOLE_MODEL_SERIES:
        return solve_decomposed(problem, params, progress=progress)
    from wms.procurement.planning.ortools_backend import solve_cpsat

    report = progress or (lambda done, total, message: None)
    started = time.perf_counter()
    # CP-SAT alone is slow to find good plans and bounds for lot sizing with fixed costs; a
    # short Lagrangian pass (in this process) hands it a plan to start from and a proven bound.
    quick = replace(params, time_limit_seconds=0.3 * params.time_limit_seconds, workers=1)
    first = solve_decomposed(problem, quick)
    if first.status in ("optimal", "infeasible"):
        report(1, 1, first.summary())
        return first
    report(1, 2, f"{first.summary()}; CP-SAT on the whole model")
    left = max(0.1, params.time_limit_seconds - (time.perf_counter() - started))
    result = solve_cpsat(problem, replace(params, time_limit_seconds=left), warm_start=first)
    result = replace(result, seconds=time.perf_counter() - started)
    report(2, 2, result.summary())
    return result
