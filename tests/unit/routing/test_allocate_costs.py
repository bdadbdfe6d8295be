"""The cost model and the independent evaluator: what a decision costs, to the cent."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.routing.allocate_builders import batch
from wms.errors import ValidationFailed
from wms.routing.allocate import CostModel, Penalties, evaluate
from wms.routing.allocate.costs import euclidean_km, great_circle_km
from wms.routing.allocation import haversine_km


def test_the_unit_cost_follows_the_instances_formula() -> None:
    costs = CostModel().unit_costs(np.array([[0.0, 400.0, 1000.0]]))
    # round(100 * (2 + 0.004 d + 0.5 * (1 + d / 400)))
    assert costs.tolist() == [[250, 460, 775]]


def test_each_day_past_the_promised_date_costs_more_per_unit() -> None:
    model = CostModel(late_day_unit_cents=100)
    distance = np.array([[0.0, 400.0], [0.0, 400.0]])  # transit 1 day and 2 days
    costs = model.unit_costs(distance, days_left=[1, None])
    assert costs.tolist() == [[250, 460 + 100], [250, 460]]


def test_a_rate_table_overrides_the_formula_where_it_has_a_rate_but_not_lateness() -> None:
    model = CostModel(rates={("SHA", "east"): 99}, late_day_unit_cents=100)
    costs = model.unit_costs(
        np.array([[0.0, 400.0], [0.0, 400.0]]),
        [None, 1],
        warehouses=["SHA", "PEK"],
        regions=["east", "east"],
    )
    assert costs.tolist() == [[99, 460], [99, 460 + 100]]


def test_distances_are_great_circle_for_places_and_straight_for_instances() -> None:
    shanghai, beijing = (31.23, 121.47), (39.90, 116.41)
    assert great_circle_km([shanghai, beijing], [beijing])[0, 0] == haversine_km(shanghai, beijing)
    km = euclidean_km(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[0.0, 0.0]]))
    assert km.tolist() == [[0.0, 5.0]]


def test_fees_grow_with_each_shipment_beyond_the_first() -> None:
    fees = Penalties(shipment=500, split=300)
    assert [fees.order_fees(n) for n in range(4)] == [0, 500, 1300, 2100]


def test_negative_rates_and_penalties_are_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Penalties(shipment=-1)
    assert caught.value.field == "shipment"
    with pytest.raises(ValidationFailed, match="rates"):
        CostModel(per_km_eur=-0.1)
    with pytest.raises(ValidationFailed, match="km per transit day"):
        CostModel(km_per_day=0)


def test_the_evaluator_adds_shipping_fees_splits_and_unfilled_units() -> None:
    problem = batch(
        lines=[(0, 0, 2), (0, 1, 1), (1, 0, 3)],
        unit_cost=[[10, 20], [30, 5], [7, 7]],
        stock=[[5, 0], [0, 5]],
        penalties=Penalties(shipment=500, split=300, unfilled_unit=10_000),
    )
    checked = evaluate(problem, [0, 1, -1])
    assert checked.shipping == 2 * 10 + 1 * 5
    assert (checked.shipments, checked.shipment_fees, checked.split_fees) == (2, 1000, 300)
    assert (checked.unfilled_units, checked.unfilled_penalty) == (3, 30_000)
    assert checked.cost == 25 + 1000 + 300 + 30_000
    assert checked.feasible


def test_the_evaluator_reports_every_stock_breach() -> None:
    problem = batch(lines=[(0, 0, 2), (1, 0, 2)], unit_cost=[[1], [1]], stock=[[3]])
    checked = evaluate(problem, [0, 0])
    assert not checked.feasible
    assert checked.breaches == ((0, 0, 4, 3),)
    with pytest.raises(ValueError, match="no warehouse 2"):
        evaluate(problem, [2, 0])
    with pytest.raises(ValueError, match="1 assignments for 2 lines"):
        evaluate(problem, [0])
