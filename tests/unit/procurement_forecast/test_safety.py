"""Safety stock and reorder points: known values worked by hand, and refusals of bad input."""

from __future__ import annotations

import math

import pytest

from wms.errors import ValidationFailed
from wms.procurement.safety import reorder_point, safety_stock, z_for

BASE = {
    "service_level": 0.95,
    "demand_mean": 100.0,
    "demand_sigma": 20.0,
    "lead_time_mean": 4.0,
    "lead_time_sigma": 0.0,
    "review_period": 1.0,
}


def test_z_is_the_standard_normal_quantile() -> None:
    assert z_for(0.95) == pytest.approx(1.6449, abs=1e-4)
    assert z_for(0.99) == pytest.approx(2.3263, abs=1e-4)
    assert z_for(0.5) == pytest.approx(0.0, abs=1e-12)


def test_safety_stock_covers_demand_spread_over_lead_time_and_review() -> None:
    # z * sqrt((4 + 1) * 20^2) = 1.6449 * 44.72 = 73.56, rounded up.
    assert safety_stock(**BASE) == 74


def test_continuous_review_exposes_only_the_lead_time() -> None:
    # z * sqrt(4 * 10^2) = 1.6449 * 20 = 32.90.
    assert safety_stock(**{**BASE, "demand_sigma": 10.0, "review_period": 0.0}) == 33


def test_lead_time_variability_adds_demand_times_its_sigma() -> None:
    # z * sqrt(5 * 20^2 + 100^2 * 1^2) = 1.6449 * sqrt(12000) = 180.18.
    assert safety_stock(**{**BASE, "lead_time_sigma": 1.0}) == 181
    # With steady demand per week, only the lead-time term is left: z * 100 * 0.5 = 82.24.
    assert safety_stock(**{**BASE, "demand_sigma": 0.0, "lead_time_sigma": 0.5}) == 83


def test_no_variability_needs_no_safety_stock() -> None:
    assert safety_stock(**{**BASE, "demand_sigma": 0.0}) == 0


def test_a_service_level_below_half_holds_no_negative_stock() -> None:
    assert safety_stock(**{**BASE, "service_level": 0.2}) == 0


def test_reorder_point_is_lead_time_demand_plus_safety_stock() -> None:
    assert reorder_point(**BASE) == 400 + 74
    # 2.5 a week over 3 weeks is 7.5 units: rounded up.
    assert (
        reorder_point(**{**BASE, "demand_mean": 2.5, "demand_sigma": 0.0, "lead_time_mean": 3.0})
        == 8
    )


@pytest.mark.parametrize("level", [0.0, 1.0, -0.1, 1.5, math.nan, math.inf])
def test_rejects_a_service_level_outside_zero_to_one(level: float) -> None:
    with pytest.raises(ValidationFailed) as caught:
        safety_stock(**{**BASE, "service_level": level})
    assert caught.value.field == "service_level"
    with pytest.raises(ValidationFailed):
        z_for(level)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lead_time_mean", -1.0),
        ("lead_time_sigma", -0.5),
        ("demand_sigma", -2.0),
        ("demand_mean", -3.0),
        ("review_period", -1.0),
        ("demand_mean", math.nan),
        ("lead_time_mean", math.inf),
    ],
)
def test_rejects_negative_or_non_finite_inputs(field: str, value: float) -> None:
    with pytest.raises(ValidationFailed) as caught:
        reorder_point(**{**BASE, field: value})
    assert caught.value.field == field
