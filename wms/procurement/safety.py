"""Safety stock and reorder points from demand and lead-time variability, in weekly units.

Demand is in units per week, lead time and review period in weeks. The formulas are the textbook
ones for independent, normally distributed weekly demand and lead time (as in Chopra & Meindl,
"Supply Chain Management", the chapter on safety inventory), with the review period added to the
exposure for periodic review:

    SS  = z * sqrt((L + R) * sigma_d^2 + d^2 * sigma_L^2)
    ROP = d * L + SS

where z is the standard normal quantile of the cycle service level.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from wms.errors import ValidationFailed

# Float noise (1.6448536... times a round number) must not push ceil() up a whole unit.
_DECIMALS = 9


def z_for(service_level: float) -> float:
    """The safety factor z = Phi^-1(service_level), the standard normal quantile."""
    _check_service_level(service_level)
    return NormalDist().inv_cdf(service_level)


def safety_stock(
    *,
    service_level: float,
    demand_mean: float,
    demand_sigma: float,
    lead_time_mean: float,
    lead_time_sigma: float,
    review_period: float = 1.0,
) -> int:
    """Units of safety stock: ceil(z * sqrt((L + R) * sigma_d^2 + d^2 * sigma_L^2)), at least 0."""
    z = z_for(service_level)
    _check_non_negative(
        demand_mean=demand_mean,
        demand_sigma=demand_sigma,
        lead_time_mean=lead_time_mean,
        lead_time_sigma=lead_time_sigma,
        review_period=review_period,
    )
    exposure = lead_time_mean + review_period
    spread = math.sqrt(exposure * demand_sigma**2 + demand_mean**2 * lead_time_sigma**2)
    # Below a 50 % service level z is negative; stock levels hold no negative safety stock.
    return max(0, math.ceil(round(z * spread, _DECIMALS)))


def reorder_point(
    *,
    service_level: float,
    demand_mean: float,
    demand_sigma: float,
    lead_time_mean: float,
    lead_time_sigma: float,
    review_period: float = 1.0,
) -> int:
    """Units on hand and on order at which to reorder: ceil(d * L + SS)."""
    stock = safety_stock(
        service_level=service_level,
        demand_mean=demand_mean,
        demand_sigma=demand_sigma,
        lead_time_mean=lead_time_mean,
        lead_time_sigma=lead_time_sigma,
        review_period=review_period,
    )
    return math.ceil(round(demand_mean * lead_time_mean + stock, _DECIMALS))


def _check_service_level(service_level: float) -> None:
    if not _is_number(service_level) or not 0.0 < service_level < 1.0:
        raise ValidationFailed(
            f"service level {service_level!r} must lie strictly between 0 and 1 (0.95 is 95 %)",
            field="service_level",
        )


def _check_non_negative(**values: float) -> None:
    for name, value in values.items():
        if not _is_number(value) or value < 0:
            raise ValidationFailed(
                f"{name} {value!r} must be a finite number, zero or more", field=name
            )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
