"""The PuLP backend: the same built model as an ``LpProblem``, for CBC or any solver PuLP knows.

``write_model`` gives a planner an LP or MPS file to take to another solver; variables are named
``<kind>_<series>_...`` where the series number is its position in ``Problem.series``.
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Any

from wms.errors import ValidationFailed
from wms.procurement.planning.evaluate import capacity_shortfall, evaluate
from wms.procurement.planning.explain import annotate
from wms.procurement.planning.model import BuiltModel, build_model
from wms.procurement.planning.problem import Problem, Result, SolveParameters, Status


def _lp(problem: Problem) -> tuple[Any, BuiltModel, list[Any]]:
    import pulp

    built = build_model(problem, names=True)
    m = built.model
    lp = pulp.LpProblem("replenishment", pulp.LpMinimize)
    xs = [
        lp.add_variable(name, lowBound=lo, upBound=hi, cat="Binary" if binary else "Integer")
        for name, lo, hi, binary in zip(m.names, m.lb, m.ub, m.binary, strict=True)
    ]
    variables, coefs = m.objective
    lp += pulp.LpAffineExpression([(xs[v], c) for v, c in zip(variables, coefs, strict=True)])
    for row_vars, row_coefs, lo, hi, name in m.rows:
        expr = pulp.LpAffineExpression(
            [(xs[v], c) for v, c in zip(row_vars, row_coefs, strict=True)]
        )
        if lo is not None and lo == hi:
            lp += (expr == lo, name)
            continue
        if lo is not None:
            lp += (expr >= lo, name if hi is None else f"{name}_lo")
        if hi is not None:
            lp += (expr <= hi, name if lo is None else f"{name}_hi")
    return lp, built, xs


def write_model(problem: Problem, path: str | Path) -> Path:
    """Write the model as ``.lp`` or ``.mps`` (by the file's suffix) for another solver."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".lp", ".mps"):
        raise ValidationFailed(f"write a .lp or .mps file, not {target.name}", field="path")
    problem.validate()
    lp, _, _ = _lp(problem)
    if suffix == ".lp":
        lp.writeLP(str(target))
    else:
        lp.writeMPS(str(target))
    return target


def _solver(name: str, params: SolveParameters) -> Any:
    import pulp

    options: dict[str, Any] = {
        "timeLimit": params.time_limit_seconds,
        "gapRel": params.relative_gap,
        "msg": False,
        "threads": params.workers,
    }
    if name == "PULP_CBC_CMD":
        options["options"] = [f"randomCbcSeed {params.seed + 1}"]  # CBC refuses seed 0
    with warnings.catch_warnings():
        # PuLP 3 announces that the bundled CBC moves to an extra in PuLP 4; it is still the
        # one solver every install has, so it stays the default until then.
        warnings.filterwarnings("ignore", "PULP_CBC_CMD is deprecated", DeprecationWarning)
        return pulp.getSolver(name, **options)


def _infeasible(solver: str, problem: Problem) -> str:
    where = capacity_shortfall(problem, lanes_may_help=False)
    return f"{solver} found that no plan keeps every limit" + (f": {where}" if where else "")


def solve_pulp(problem: Problem, params: SolveParameters, solver: str = "PULP_CBC_CMD") -> Result:
    """Solve the whole problem through PuLP with any solver it has installed (CBC by default)."""
    start = time.perf_counter()
    problem.validate()
    method = "cbc" if solver == "PULP_CBC_CMD" else solver.lower()
    reason = capacity_shortfall(problem)
    if reason:
        return Result("infeasible", None, None, reason=reason, method=method)
    lp, built, xs = _lp(problem)
    lp.solve(_solver(solver, params))
    seconds = time.perf_counter() - start
    state = lp.sol_status  # 1 optimal, 2 a solution but stopped, 0 none, -1 infeasible
    if state == -1 or (state == 0 and lp.status == -1):
        return Result(
            "infeasible", None, None, method=method, seconds=seconds,
            reason=_infeasible(solver, problem),
        )  # fmt: skip
    if state not in (1, 2):
        return Result(
            "unknown", None, None, method=method, seconds=seconds,
            reason=f"{solver} found no plan within {params.time_limit_seconds:g} s",
        )  # fmt: skip
    values = [round(x.varValue or 0) for x in xs]
    lines, moves = built.plan(problem, values)
    # The plan's true cost: equal to the solver's objective at an optimum, and never above it.
    objective = evaluate(problem, lines, moves).total
    proven = state == 1
    status: Status = "optimal" if proven and params.relative_gap == 0 else "feasible"
    # PuLP does not report the solver's bound; an optimum within the gap limit implies one.
    bound = math.floor(objective * (1 - params.relative_gap)) if proven else None
    result = Result(
        status, objective, bound, tuple(lines), tuple(moves), method=method, seconds=seconds
    )
    return annotate(problem, result)
