"""The CP-SAT backend: the built model as a CP-SAT proto, solved with a seed and a time limit.

The model is handed to CP-SAT as a text proto rather than through the Python expression API:
parsing happens in C++, which makes building a large model several times faster.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from wms.procurement.planning.evaluate import capacity_shortfall, evaluate
from wms.procurement.planning.explain import annotate
from wms.procurement.planning.linear import LinearModel
from wms.procurement.planning.model import build_model
from wms.procurement.planning.problem import (
    OrderLine,
    Problem,
    Result,
    SolveParameters,
    Status,
    TransferLine,
)

_INF = 2**63 - 1


def render(model: LinearModel) -> str:
    """The model as a CP-SAT ``CpModelProto`` in text format."""
    lb, ub = model.lb, model.ub
    parts = [f"variables{{domain:[{lo},{hi}]}}" for lo, hi in zip(lb, ub, strict=True)]
    for variables, coefs, lo, hi, _ in model.rows:
        parts.append(
            f"constraints{{linear{{vars:[{','.join(map(str, variables))}] "
            f"coeffs:[{','.join(map(str, coefs))}] "
            f"domain:[{-_INF if lo is None else lo},{_INF if hi is None else hi}]}}}}"
        )
    variables, coefs = model.objective
    parts.append(
        f"objective{{vars:[{','.join(map(str, variables))}] coeffs:[{','.join(map(str, coefs))}]}}"
    )
    return "\n".join(parts)


def _cp_model(model: LinearModel) -> Any:
    from ortools.sat.python import cp_model

    cp = cp_model.CpModel()
    cp.proto.parse_text_format(render(model))
    return cp


def _solver(params: SolveParameters, *, workers: int, seconds: float, gap: float) -> Any:
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.random_seed = params.seed
    solver.parameters.num_workers = workers
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.relative_gap_limit = gap
    return solver


def _bound(solver: Any) -> int:
    # The objective is integral, so its proven bound may be rounded up; the epsilon guards a
    # float that lands a hair above an integer.
    return math.ceil(float(solver.best_objective_bound) - 1e-6)


def _checked(
    problem: Problem, lines: list[OrderLine], moves: list[TransferLine], objective: int
) -> int:
    """The plan's cost by the independent evaluator, which must agree with the model."""
    ev = evaluate(problem, lines, moves)
    if ev.violations or ev.total > objective:
        # The solver's objective can only exceed the plan's cost by slack a non-optimal
        # solution leaves in its "below safety" or "short" variables; anything else is a bug.
        raise RuntimeError(
            f"the model and the evaluator disagree: {objective} against {ev.total}, "
            f"{ev.violations[:1]}"
        )
    return ev.total


def _infeasible(solver: str, problem: Problem) -> str:
    where = capacity_shortfall(problem, lanes_may_help=False)
    return f"{solver} proved that no plan keeps every limit" + (f": {where}" if where else "")


def solve_cpsat(
    problem: Problem, params: SolveParameters, *, warm_start: Result | None = None
) -> Result:
    """Solve the whole problem as one CP-SAT model (from a known plan and bound, if given)."""
    from ortools.sat.python import cp_model

    start = time.perf_counter()
    problem.validate()
    reason = capacity_shortfall(problem)
    if reason:
        return Result("infeasible", None, None, reason=reason, method="cp-sat")
    built = build_model(problem, names=False)
    cp = _cp_model(built.model)
    if warm_start is not None and warm_start.is_feasible():
        hint = built.hint(problem, warm_start.lines, warm_start.transfers)
        cp.proto.solution_hint.vars.extend(list(hint))
        cp.proto.solution_hint.values.extend(list(hint.values()))
    solver = _solver(
        params,
        workers=params.workers,
        seconds=max(0.01, params.time_limit_seconds - (time.perf_counter() - start)),
        gap=params.relative_gap,
    )
    code = solver.solve(cp)
    seconds = time.perf_counter() - start
    if code == cp_model.INFEASIBLE:
        return Result(
            "infeasible", None, None, method="cp-sat", seconds=seconds,
            reason=_infeasible("CP-SAT", problem),
        )  # fmt: skip
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError(f"the replenishment model is invalid: {cp.validate()}")
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE) and warm_start is not None:
        return warm_start  # CP-SAT found nothing better in its time: the plan it started from
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Result(
            "unknown", None, None, method="cp-sat", seconds=seconds,
            reason=f"no plan found within {params.time_limit_seconds:g} s",
        )  # fmt: skip
    lines, moves = built.plan(problem, list(solver.response_proto.solution))
    objective = _checked(problem, lines, moves, round(solver.objective_value))
    bound = _bound(solver)
    if warm_start is not None and warm_start.bound is not None:
        bound = max(bound, warm_start.bound)  # both are proven; keep the better
    if (
        warm_start is not None
        and warm_start.objective is not None
        and warm_start.objective < objective
    ):
        lines, moves, objective = (
            list(warm_start.lines),
            list(warm_start.transfers),
            warm_start.objective,
        )
    status: Status = "optimal" if bound >= objective else "feasible"
    result = Result(
        status, objective, min(bound, objective), tuple(lines), tuple(moves),
        method="cp-sat", seconds=seconds,
    )  # fmt: skip
    return annotate(problem, result)


class Subproblem:
    """One CP-SAT model kept across Lagrangian iterations: only its objective changes."""

    def __init__(self, model: LinearModel) -> None:
        self.cp = _cp_model(model)
        self.values: list[int] = []

    def solve(
        self,
        variables: Sequence[int],
        coefs: Sequence[int],
        params: SolveParameters,
        *,
        seconds: float,
        gap: float,
    ) -> tuple[str, int, int]:
        """Minimise a new objective; returns (status, objective, proven bound)."""
        from ortools.sat.python import cp_model

        objective = self.cp.proto.objective
        objective.vars.clear()
        objective.coeffs.clear()
        objective.vars.extend(variables)
        objective.coeffs.extend(coefs)
        if self.values:
            hint = self.cp.proto.solution_hint
            hint.vars.clear()
            hint.values.clear()
            hint.vars.extend(range(len(self.values)))
            hint.values.extend(self.values)
        solver = _solver(params, workers=1, seconds=seconds, gap=gap)
        # A deterministic limit keeps a seeded run repeatable; the wall limit is the backstop.
        solver.parameters.max_deterministic_time = seconds
        code = solver.solve(self.cp)
        if code == cp_model.INFEASIBLE:
            return "infeasible", 0, 0
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return "unknown", 0, _bound(solver)
        self.values = list(solver.response_proto.solution)
        status = "optimal" if code == cp_model.OPTIMAL else "feasible"
        return status, round(solver.objective_value), _bound(solver)
