"""Replenishment planning: the problem as plain values, solvers behind it, and the explanations.

``solve`` is the entry point: a small problem goes to CP-SAT whole, a large one is decomposed by
SKU with Lagrangian relaxation of the budget and capacities. Either way the result carries the
order and transfer lines with their reasons, the projected stock of every series, the cost of
the plan and a proven lower bound.
"""

from __future__ import annotations

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
    if len(problem.series) <= WHOLE_MODEL_SERIES:
        from wms.procurement.planning.ortools_backend import solve_cpsat

        if progress:
            progress(0, 1, "solving the whole model with CP-SAT")
        result = solve_cpsat(problem, params)
        if progress:
            progress(1, 1, result.summary())
        return result
    return solve_decomposed(problem, params, progress=progress)
