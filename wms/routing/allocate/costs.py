"""What a delivery decision costs: shipping per unit, fees per shipment, lateness, unfilled units.

All money is in integer euro cents so that every solver, the evaluator and the reference figures
agree to the cent. The shipping cost of one unit from a warehouse to a customer follows the shared
instances' formula, ``base + per_km * d + per_day * transit_days`` with ``transit_days = handling
+ d / km_per_day``, rounded to the cent; a rate table per (warehouse, region) can replace it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from wms.errors import ValidationFailed
from wms.routing.allocation import haversine_km

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Penalties:
    """The fees that do not depend on distance, in cents."""

    shipment: int = 500  # per shipment (one order from one warehouse)
    split: int = 300  # per shipment beyond the first of an order
    unfilled_unit: int = 10_000  # per unit left unfilled (lost or backordered)

    def __post_init__(self) -> None:
        for name in ("shipment", "split", "unfilled_unit"):
            if getattr(self, name) < 0:
                raise ValidationFailed(f"the {name} penalty must not be negative", field=name)

    def order_fees(self, shipments: int) -> int:
        """Shipment and split fees of an order shipped in ``shipments`` parcels."""
        return self.shipment * shipments + self.split * max(0, shipments - 1)


@dataclass(frozen=True)
class CostModel:
    """Rates (euros, as the instances state them) and penalties that price a decision in cents."""

    base_eur: float = 2.0  # per unit shipped
    per_km_eur: float = 0.004  # per unit and km
    per_day_eur: float = 0.5  # per unit and transit day
    handling_days: float = 1.0
    km_per_day: float = 400.0
    late_day_unit_cents: int = 0  # per unit and day past the promised date
    penalties: Penalties = field(default_factory=Penalties)
    # (warehouse code, region) -> cents per unit; used instead of the formula where given
    rates: Mapping[tuple[str, str], int] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        rates = (self.base_eur, self.per_km_eur, self.per_day_eur, self.handling_days)
        if min(rates) < 0 or self.late_day_unit_cents < 0:
            raise ValidationFailed("shipping rates must not be negative", field="rates")
        if not self.km_per_day > 0:
            raise ValidationFailed("km per transit day must be more than 0", field="km_per_day")
        if any(cents < 0 for cents in self.rates.values()):
            raise ValidationFailed("a rate in the rate table is negative", field="rates")

    def transit_days(self, distance_km: FloatArray) -> FloatArray:
        """Days on the road, fractional (the formula prices part days)."""
        return self.handling_days + distance_km / self.km_per_day

    def unit_costs(
        self,
        distance_km: FloatArray,
        days_left: Sequence[int | None] | None = None,
        *,
        warehouses: Sequence[str] = (),
        regions: Sequence[str | None] = (),
    ) -> IntArray:
        """Cents per unit for a [lines, warehouses] matrix of distances, lateness included.

        ``days_left[i]``: days line i has until its promised date (None: no promise). With
        ``warehouses`` (codes, by column) and ``regions`` (by line), a rate in the rate table
        replaces the formula's shipping cost; lateness still counts the distance's transit days.
        """
        days = self.transit_days(distance_km)
        # The same expression as the instances' generator, so rounding matches to the cent.
        cents = np.round(
            100 * (self.base_eur + self.per_km_eur * distance_km + self.per_day_eur * days)
        )
        costs = cents.astype(np.int64)
        for i, region in enumerate(regions if self.rates else ()):
            for j, code in enumerate(warehouses):
                rate = self.rates.get((code, region)) if region is not None else None
                if rate is not None:
                    costs[i, j] = rate
        if days_left is not None and self.late_day_unit_cents:
            left = np.array([math.inf if d is None else d for d in days_left], dtype=np.float64)
            # A parcel arrives on a whole day, so lateness counts whole days.
            late = np.maximum(0.0, np.ceil(days - 1e-9) - left[:, None])
            costs += (late * self.late_day_unit_cents).astype(np.int64)
        return costs


def great_circle_km(
    warehouses: Sequence[tuple[float, float]], destinations: Sequence[tuple[float, float]]
) -> FloatArray:
    """A [destinations, warehouses] matrix of great-circle distances between (lat, lon) points."""
    matrix = np.zeros((len(destinations), len(warehouses)), dtype=np.float64)
    for i, to in enumerate(destinations):
        for j, at in enumerate(warehouses):
            matrix[i, j] = haversine_km(at, to)
    return matrix


def euclidean_km(warehouses: FloatArray, destinations: FloatArray) -> FloatArray:
    """A [destinations, warehouses] matrix of straight-line distances between (x, y) km points."""
    delta = destinations[:, None, :] - warehouses[None, :, :]
    distances: FloatArray = np.sqrt((delta**2).sum(axis=2))
    return distances
