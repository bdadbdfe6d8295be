"""Replenishment planning gives the hand-computed answer on tiny problems, and refuses bad input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from wms.errors import ValidationFailed
from wms.procurement.planning import solve
from wms.procurement.planning.evaluate import evaluate
from wms.procurement.planning.ortools_backend import solve_cpsat
from wms.procurement.planning.problem import (
    OrderLine,
    Problem,
    Result,
    SolveParameters,
    TransferLane,
    TransferLine,
    with_closing,
)
from wms.procurement.planning.pulp_backend import solve_pulp
from wms.procurement.planning.synthetic import synthetic_problem

from .instances import one_series, option, random_problem, series

EXACT = SolveParameters(time_limit_seconds=30, relative_gap=0, seed=7, workers=1)
Solver = Callable[[Problem, SolveParameters], Result]
SOLVERS: dict[str, Solver] = {"cp-sat": solve_cpsat, "cbc": solve_pulp}


@pytest.fixture(params=sorted(SOLVERS))
def solver(request: pytest.FixtureRequest) -> Solver:
    return SOLVERS[request.param]


def shaped_by(line: OrderLine) -> tuple[str, ...]:
    assert line.explanation is not None
    return line.explanation.shaped_by


def plan_of(result: Result) -> list[tuple[str, int, int, int]]:
    return sorted((x.warehouse, x.order_week, x.arrival_week, x.quantity) for x in result.lines)


def test_the_minimum_order_quantity_raises_63_needed_units_to_100(solver: Solver) -> None:
    problem = one_series((63,), options=(option(moq=100),))
    result = solver(problem, EXACT)
    assert result.status == "optimal"
    assert plan_of(result) == [("W1", 0, 0, 100)]
    assert result.objective == 100 * 10 + 37 * 1  # the purchase and a week's holding of 37
    why = result.lines[0].explanation
    assert why is not None
    assert why.needed == 63
    assert "moq" in why.shaped_by
    assert "minimum order of 100" in result.lines[0].reason


def test_an_order_is_rounded_up_to_whole_packs(solver: Solver) -> None:
    result = solver(one_series((63,), options=(option(pack=12),)), EXACT)
    assert plan_of(result) == [("W1", 0, 0, 72)]
    assert result.objective == 72 * 10 + 9
    assert result.lines[0].explanation is not None
    assert "pack" in result.lines[0].explanation.shaped_by
    assert "whole packs of 12" in result.lines[0].reason


def test_an_order_grows_to_reach_a_cheaper_price_break(solver: Solver) -> None:
    problem = one_series((90,), options=(option(prices=((1, 10), (100, 8))),))
    result = solver(problem, EXACT)
    assert plan_of(result) == [("W1", 0, 0, 100)]
    assert result.lines[0].unit_cost == 8
    assert result.objective == 100 * 8 + 10  # cheaper than 90 x 10 = 900
    assert result.lines[0].explanation is not None
    assert "price_break" in result.lines[0].explanation.shaped_by


def test_the_lead_time_makes_the_order_leave_weeks_before_the_demand(solver: Solver) -> None:
    result = solver(one_series((0, 0, 50), options=(option(lead=2),)), EXACT)
    assert plan_of(result) == [("W1", 0, 2, 50)]
    assert result.objective == 500
    assert result.lines[0].explanation is not None
    assert "lead_time" in result.lines[0].explanation.shaped_by
    assert "Ordered in week 0 to arrive in week 2" in result.lines[0].reason


def test_a_budget_splits_one_order_in_two(solver: Solver) -> None:
    problem = one_series((50, 50), options=(option(fixed=100),))
    unlimited = solver(problem, EXACT)
    assert plan_of(unlimited) == [("W1", 0, 0, 100)]  # 1000 + 100 + 50 held < 2 x 600
    assert unlimited.objective == 1150
    limited = solver(replace(problem, budget=(700, 700)), EXACT)
    assert plan_of(limited) == [("W1", 0, 0, 50), ("W1", 1, 1, 50)]
    assert limited.objective == 1200
    assert any("budget" in shaped_by(line) for line in limited.lines)


def test_supplier_capacity_brings_part_of_an_order_a_week_forward(solver: Solver) -> None:
    problem = replace(one_series((0, 100)), supplier_capacity={"ACME": (60, 60)})
    result = solver(problem, EXACT)
    assert plan_of(result) == [("W1", 0, 0, 40), ("W1", 1, 1, 60)]
    assert result.objective == 1000 + 40  # 40 units held one week
    assert "supplier_capacity" in shaped_by(min(result.lines, key=lambda x: x.order_week))


def test_warehouse_capacity_splits_an_order_that_would_overfill_it(solver: Solver) -> None:
    problem = one_series((30, 30), volume_cm3=10, options=(option(fixed=500),))
    assert plan_of(solver(problem, EXACT)) == [("W1", 0, 0, 60)]
    result = solver(replace(problem, warehouse_capacity={"W1": 200}), EXACT)
    assert plan_of(result) == [("W1", 0, 0, 30), ("W1", 1, 1, 30)]
    assert result.objective == 600 + 1000
    assert "warehouse_capacity" in shaped_by(min(result.lines, key=lambda x: x.order_week))


def test_a_transfer_from_a_surplus_warehouse_beats_a_purchase(solver: Solver) -> None:
    problem = Problem(
        weeks=2,
        series=(
            series((0, 0), on_hand=100),
            series((0, 50), warehouse="W2", holding_cost=2),
        ),
        transfers=(TransferLane("W1", "W2", 1, 1),),
    )
    result = solver(problem, EXACT)
    assert result.lines == ()
    assert result.transfers == (TransferLine("A", "W1", "W2", 0, 50),)
    assert result.objective == 50 * 1 + 50 * 1 * 2  # moving 50, holding 50 at W1 two weeks


def test_every_tiny_answer_is_what_the_evaluator_says_it_costs(solver: Solver) -> None:
    problem = replace(
        one_series((30, 40, 20), safety_stock=10, below_safety_cost=3, options=(option(moq=25),)),
        budget=(600, 600, 600),
    )
    result = solver(problem, EXACT)
    ev = evaluate(problem, result.lines, result.transfers)
    assert ev.violations == ()
    assert ev.total == result.objective == result.bound


def test_the_projection_shows_the_stock_with_and_without_the_plan() -> None:
    problem = one_series((20, 20, 20), on_hand=30, safety_stock=5, below_safety_cost=2)
    result = solve_cpsat(problem, EXACT)
    (projection,) = result.projections
    assert projection.without_plan == (10, 0, 0)
    # Keeping 5 at the end would mean buying 5 more (50) to save 5 x 2 of penalty, less holding.
    assert projection.with_plan == (10, 5, 0)
    assert projection.short_with_plan == (0, 0, 0)
    assert all("falls below safety stock (5)" in line.reason for line in result.lines)


def test_stock_on_hand_over_a_warehouse_capacity_is_reported_infeasible(solver: Solver) -> None:
    problem = replace(one_series((5, 5), on_hand=50, volume_cm3=10), warehouse_capacity={"W1": 300})
    result = solver(problem, EXACT)
    assert result.status == "infeasible"
    assert "warehouse W1" in result.reason
    assert "week 0" in result.reason
    assert not result.is_feasible()


def test_a_solver_proof_of_infeasibility_becomes_a_result_with_a_reason(solver: Solver) -> None:
    # A lane leaves W1, so the pre-check leaves it to the solver, but W2 does not stock the SKU.
    problem = replace(
        one_series((5, 5), on_hand=50, volume_cm3=10),
        warehouse_capacity={"W1": 300},
        transfers=(TransferLane("W1", "W2", 0, 1),),
    )
    result = solver(problem, EXACT)
    assert result.status == "infeasible"
    assert "warehouse W1" in result.reason


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: option(lead=-1), "lead_time"),
        (lambda: option(pack=0), "pack"),
        (lambda: SolveParameters(time_limit_seconds=0), "time_limit"),
        (lambda: TransferLane("W1", "W2", -1, 1), "lead_time"),
    ],
)
def test_bad_values_are_refused_with_the_field_at_fault(
    build: Callable[[], object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        build()
    assert raised.value.field == field


def test_a_budget_smaller_than_any_order_is_refused(solver: Solver) -> None:
    problem = replace(one_series((63,), options=(option(moq=100),)), budget=(500,))
    with pytest.raises(ValidationFailed) as raised:
        solver(problem, EXACT)
    assert raised.value.field == "budget"


def test_solve_hands_a_small_problem_to_cp_sat_from_a_lagrangian_start() -> None:
    problem = random_problem(1)  # one where the decomposition alone stays above the optimum
    seen: list[tuple[int, int, str]] = []
    result = solve(problem, EXACT, progress=lambda *report: seen.append(report))
    assert result.method == "cp-sat"
    assert result.status == "optimal"
    assert result.objective == solve_cpsat(problem, EXACT).objective
    assert seen[-1][0] == seen[-1][1]


def test_solve_decomposes_a_problem_of_more_than_200_series() -> None:
    problem = synthetic_problem(101, 2, 4, seed=5)
    params = SolveParameters(time_limit_seconds=20, relative_gap=0.001, seed=1, workers=1)
    result = solve(problem, params)
    assert result.method.startswith("lagrangian")
    assert result.is_feasible()
    assert result.bound is not None
    assert result.objective is not None
    assert result.bound <= result.objective
    ev = evaluate(problem, result.lines, result.transfers)
    assert (ev.total, ev.violations) == (result.objective, ())
    assert len(result.projections) == len(problem.series)


@pytest.mark.filterwarnings("ignore:PULP_CBC_CMD is deprecated")
def test_the_model_is_written_as_lp_and_mps_files_a_solver_can_read(tmp_path: Path) -> None:
    import pulp

    from wms.procurement.planning.pulp_backend import write_model

    problem = replace(one_series((50, 50), options=(option(fixed=100),)), budget=(700, 700))
    lp_file = write_model(problem, tmp_path / "plan.lp")
    mps_file = write_model(problem, tmp_path / "plan.mps")
    assert "Minimize" in lp_file.read_text() or "MINIMIZE" in lp_file.read_text()
    variables, read = pulp.LpProblem.fromMPS(str(mps_file))
    assert read.solve(pulp.getSolver("PULP_CBC_CMD", msg=False)) == pulp.LpStatusOptimal
    assert round(pulp.value(read.objective)) == 1200
    assert any(name.startswith("packs_0_0_") for name in variables)
    with pytest.raises(ValidationFailed) as raised:
        write_model(problem, tmp_path / "plan.txt")
    assert raised.value.field == "path"


def test_the_closing_cover_keeps_the_last_order_from_being_cut_to_the_horizon(
    solver: Solver,
) -> None:
    """Without a price on the end, 40 units last the horizon exactly; the next 10 would need a
    second order of 500 points after it, so buying them now (100 points and 40 of holding)
    beats paying 15 a unit for the shortfall."""
    plain = series((10, 10, 10, 10), options=(option(fixed=500),))
    priced = with_closing(plain)
    assert (priced.closing_cover, priced.closing_cost) == (10, 10 + 5)  # EOQ 100: 500 / 100
    without = solver(Problem(weeks=4, series=(plain,)), EXACT)
    with_end = solver(Problem(weeks=4, series=(priced,)), EXACT)
    assert plan_of(without) == [("W1", 0, 0, 40)]
    assert plan_of(with_end) == [("W1", 0, 0, 50)]
    assert with_end.objective == 50 * 10 + 500 + (40 + 30 + 20 + 10)
    costs = evaluate(Problem(weeks=4, series=(priced,)), with_end.lines).costs
    assert (costs.closing, costs.total) == (0, with_end.objective)


def test_the_closing_shortfall_is_priced_by_the_model_and_the_evaluator_alike() -> None:
    tight = series((10, 10, 10), closing_cover=25, closing_cost=40, options=(option(lead=1),))
    problem = Problem(weeks=3, series=(tight,))
    result = solve_cpsat(problem, EXACT)
    assert result.status == "optimal"
    # A unit short of the cover costs 40, buying and holding it 11 or 12: the plan ends with
    # all 25 (week 0 is lost whatever is ordered: the lead time is a week).
    evaluated = evaluate(problem, result.lines)
    assert evaluated.total == result.objective
    assert evaluated.stock[("A", "W1")][-1] == 25
