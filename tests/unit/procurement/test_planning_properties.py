"""On seeded random small problems, every solver, the DP and the evaluator agree with each other."""

from __future__ import annotations

import random

import numpy as np
import pytest

from wms.procurement.planning.decompose import solve_decomposed
from wms.procurement.planning.evaluate import evaluate
from wms.procurement.planning.lotsizing import SeriesDP
from wms.procurement.planning.model import build_model
from wms.procurement.planning.ortools_backend import Subproblem, solve_cpsat
from wms.procurement.planning.problem import Problem, Result, SolveParameters
from wms.procurement.planning.pulp_backend import solve_pulp
from wms.procurement.planning.repair import repair_plan

from .instances import random_problem

EXACT = SolveParameters(time_limit_seconds=60, relative_gap=0, seed=3, workers=1)
SEEDS = range(8)


def _optimum(problem: Problem) -> Result:
    result = solve_cpsat(problem, EXACT)
    assert result.status in ("optimal", "infeasible")
    return result


@pytest.mark.parametrize("seed", SEEDS)
def test_the_evaluator_prices_an_optimal_plan_at_the_solvers_objective(seed: int) -> None:
    problem = random_problem(seed)
    result = _optimum(problem)
    if result.status == "infeasible":
        pytest.skip("this draw overfills a warehouse")
    ev = evaluate(problem, result.lines, result.transfers)
    assert ev.violations == ()
    assert ev.total == result.objective == result.bound  # the bound is the solver's optimum


@pytest.mark.parametrize("seed", SEEDS)
def test_cp_sat_and_cbc_reach_the_same_optimum(seed: int) -> None:
    problem = random_problem(seed)
    cp, cbc = _optimum(problem), solve_pulp(problem, EXACT)
    assert (cbc.status, cbc.objective) == (cp.status, cp.objective)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_decomposition_bound_and_plan_bracket_the_optimum(seed: int) -> None:
    problem = random_problem(seed)
    exact = _optimum(problem)
    result = solve_decomposed(problem, EXACT)
    assert result.is_feasible() == exact.is_feasible()
    if exact.status == "infeasible":
        return
    assert result.bound is not None
    assert result.objective is not None
    assert exact.objective is not None
    assert result.bound <= exact.objective <= result.objective
    assert evaluate(problem, result.lines, result.transfers).violations == ()


@pytest.mark.parametrize("seed", [6, 13])  # lone series only; pairs linked by a lane
def test_the_decomposition_over_worker_processes_brackets_the_optimum_too(seed: int) -> None:
    problem = random_problem(seed, skus=4)  # feasible, with a budget and both capacities
    exact = _optimum(problem)
    pooled = solve_decomposed(problem, SolveParameters(60, 0, seed=3, workers=2))
    assert pooled.method.startswith("lagrangian")
    assert pooled.bound is not None
    assert pooled.objective is not None
    assert exact.objective is not None
    assert pooled.bound <= exact.objective <= pooled.objective
    assert evaluate(problem, pooled.lines, pooled.transfers).total == pooled.objective


@pytest.mark.parametrize("seed", [1, 4])
def test_the_same_seed_gives_the_same_plan(seed: int) -> None:
    problem = random_problem(seed, skus=3)
    first, second = solve_cpsat(problem, EXACT), solve_cpsat(problem, EXACT)
    assert (first.objective, first.lines, first.transfers) == (
        second.objective,
        second.lines,
        second.transfers,
    )
    one, two = solve_decomposed(problem, EXACT), solve_decomposed(problem, EXACT)
    assert (one.objective, one.bound, one.lines) == (two.objective, two.bound, two.lines)


@pytest.mark.parametrize("seed", range(6))
def test_the_lot_sizing_dp_finds_cp_sats_optimum_at_any_prices(seed: int) -> None:
    rng = random.Random(seed)
    problem = random_problem(seed, skus=3, weeks=6)
    for s in problem.series:
        sub = Problem(problem.weeks, (s,), problem.supplier_capacity, problem.warehouse_capacity,
                      problem.budget)  # fmt: skip
        built = build_model(sub, relax_coupling=True, names=False)
        costs = np.zeros(len(built.model.lb), dtype=np.int64)
        variables, coefs = built.model.objective
        costs[list(variables)] = list(coefs)
        for terms, weights, _ in built.coupling.values():
            price = rng.choice((0.0, 0.3, 2.0, 7.5))
            for v, w in zip(terms, weights, strict=True):
                costs[v] += int(price * w)
        solved = SeriesDP(sub, built, 0).solve(costs)
        cp = Subproblem(built.model)
        nz = np.flatnonzero(costs)
        status, objective, _ = cp.solve(nz.tolist(), costs[nz].tolist(), EXACT, seconds=30, gap=0)
        if solved is None:
            assert status == "infeasible"
            continue
        assert status == "optimal"
        assert solved[0] == objective == int(np.dot(costs, solved[1]))


def test_repair_brings_an_over_budget_plan_within_every_limit() -> None:
    problem = random_problem(2, skus=3)
    assert problem.budget is not None
    free = solve_cpsat(Problem(problem.weeks, problem.series, transfers=problem.transfers), EXACT)
    groups = [[i] for i in range(len(problem.series))] if not problem.transfers else None
    if groups is None:
        from wms.procurement.planning.model import components

        groups = components(problem)
    lines, moves, over = repair_plan(problem, groups, free.lines, free.transfers)
    assert over == []
    assert evaluate(problem, lines, moves).violations == ()
