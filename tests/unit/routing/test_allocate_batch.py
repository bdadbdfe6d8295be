"""The batch solver: exact answers on tiny batches, a bound that holds, and the same answer twice."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings

from tests.unit.routing.allocate_builders import batch, brute_force, tiny_batches
from wms.errors import ValidationFailed
from wms.routing.allocate import BatchParameters, BatchProblem, Penalties, evaluate, lagrange, solve
from wms.routing.allocate import batch as batch_module

FAST = BatchParameters(time_limit=2.0)


def test_a_scarce_sku_goes_to_the_line_that_would_cost_most_elsewhere() -> None:
    # One unit of A at the near warehouse 0; line 1 is far from warehouse 1, line 0 is not.
    problem = batch(
        lines=[(0, 0, 1), (1, 0, 1)],
        unit_cost=[[10, 20], [10, 90]],
        stock=[[1], [5]],
        penalties=Penalties(shipment=0, split=0, unfilled_unit=1000),
    )
    result = solve(problem, FAST)
    assert result.assignment.tolist() == [1, 0]
    assert result.cost == 30
    assert result.is_optimal()
    assert result.bound == result.cost


def test_an_order_ships_whole_when_the_split_costs_more_than_the_detour() -> None:
    problem = batch(
        lines=[(0, 0, 1), (0, 1, 1)],
        unit_cost=[[10, 30], [30, 10]],
        stock=[[5, 5], [5, 5]],
        penalties=Penalties(shipment=50, split=30, unfilled_unit=1000),
    )
    result = solve(problem, FAST)
    # Split: 10 + 10 + 2 * 50 + 30 = 150; whole from either: 10 + 30 + 50 = 90.
    assert result.cost == 90
    assert len(set(result.assignment.tolist())) == 1


def test_a_line_no_warehouse_has_whole_is_unfilled_not_split() -> None:
    problem = batch(lines=[(0, 0, 4)], unit_cost=[[10, 10]], stock=[[3], [3]])
    result = solve(problem, FAST)
    assert result.assignment.tolist() == [-1]
    assert result.unfilled_units == 4
    assert result.cost == 4 * 10_000


def test_an_empty_batch_costs_nothing() -> None:
    problem = BatchProblem(
        order=np.zeros(0, np.int64),
        sku=np.zeros(0, np.int64),
        qty=np.zeros(0, np.int64),
        unit_cost=np.zeros((0, 2), np.int64),
        stock=np.zeros((2, 1), np.int64),
    )
    result = solve(problem, FAST)
    assert result.cost == 0
    assert result.bound == 0
    assert result.assignment.size == 0


def test_the_summary_names_status_cost_bound_and_gap() -> None:
    result = solve(batch([(0, 0, 1)], [[7, 9]], [[1], [1]]), FAST)
    assert result.summary().startswith("optimal")
    assert "cost 507 cents, bound 507, gap 0.00%" in result.summary()


def test_a_time_limit_of_zero_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="more than 0") as caught:
        BatchParameters(time_limit=0)
    assert caught.value.field == "time_limit"


def test_arrays_of_the_wrong_shape_are_refused_with_the_field() -> None:
    problem = batch([(0, 0, 1), (0, 0, 2)], [[1, 2], [1, 2]], [[1], [1]])
    wrong = BatchProblem(
        order=problem.order,
        sku=problem.sku,
        qty=problem.qty,
        unit_cost=np.ones((2, 3), np.int64),
        stock=problem.stock,
    )
    with pytest.raises(ValidationFailed) as caught:
        solve(wrong, FAST)
    assert caught.value.field == "unit_cost"
    negative = batch([(0, 0, 1)], [[1, 2]], [[-1], [1]])
    with pytest.raises(ValidationFailed, match="stock"):
        solve(negative, FAST)
    with pytest.raises(ValidationFailed, match="quantity"):
        batch([(0, 0, 0)], [[1, 2]], [[1], [1]]).validate()


def test_independent_parts_are_split_apart() -> None:
    # Two single-line orders of different SKUs with plenty of stock share nothing.
    problem = batch([(0, 0, 1), (1, 1, 1)], [[1, 2], [2, 1]], [[5, 5], [5, 5]])
    assert sorted(part.tolist() for part in batch_module.split(problem)) == [[0], [1]]
    # Lines of one order are one part when shipments carry fees.
    together = batch([(0, 0, 1), (0, 1, 1)], [[1, 2], [2, 1]], [[5, 5], [5, 5]])
    assert [part.tolist() for part in batch_module.split(together)] == [[0, 1]]


@settings(max_examples=60, deadline=None)
@given(tiny_batches())
def test_the_solver_finds_the_brute_force_optimum_and_proves_it(problem: BatchProblem) -> None:
    best, _ = brute_force(problem)
    result = solve(problem, FAST)
    assert result.cost == best
    assert result.is_optimal()
    assert result.bound == best


@settings(max_examples=40, deadline=None)
@given(tiny_batches())
def test_the_price_path_bound_never_exceeds_the_optimum(problem: BatchProblem) -> None:
    # Force the path large batches take (prices, then ruin and recreate) on a tiny one.
    with (
        patch.object(batch_module, "MIP_PAIRS", 0),
        patch.object(batch_module, "MIP_PAIRS_WITH_SHIPMENTS", 0),
    ):
        result = solve(problem, BatchParameters(time_limit=2.0, price_iterations=30))
    best, _ = brute_force(problem)
    assert result.bound <= best <= result.cost
    assert evaluate(problem, result.assignment).feasible


@settings(max_examples=60, deadline=None)
@given(tiny_batches())
def test_stock_is_never_exceeded_and_every_line_is_placed_or_unfilled(
    problem: BatchProblem,
) -> None:
    result = solve(problem, FAST)
    checked = evaluate(problem, result.assignment)
    assert checked.feasible
    assert checked.cost == result.cost
    assert result.assignment.shape == (problem.lines,)
    assert ((result.assignment >= -1) & (result.assignment < problem.warehouses)).all()
    assert result.unfilled_units == checked.unfilled_units


@settings(max_examples=30, deadline=None)
@given(tiny_batches())
def test_the_same_batch_gets_the_same_answer(problem: BatchProblem) -> None:
    first, second = solve(problem, FAST), solve(problem, FAST)
    assert first.assignment.tolist() == second.assignment.tolist()
    assert (first.cost, first.bound, first.status) == (second.cost, second.bound, second.status)


def test_many_warehouses_and_a_long_order_keep_the_relaxation_a_bound() -> None:
    # 40 warehouses and a 25-line order: too many warehouse sets to enumerate, so the larger
    # sets are bounded instead; L stays at or below what a real plan costs.
    rng = np.random.default_rng(3)
    problem = batch(
        lines=[(0, i % 5, 1) for i in range(25)],
        unit_cost=rng.integers(100, 900, size=(25, 40)).tolist(),
        stock=rng.integers(0, 3, size=(40, 5)).tolist(),
    )
    relaxation = lagrange.Relaxation(problem)
    sub = relaxation.solve(np.zeros((40, 5)))
    result = solve(problem, FAST)
    assert float(sub.value.sum()) <= result.cost
    assert result.bound <= result.cost
    assert evaluate(problem, result.assignment).feasible
