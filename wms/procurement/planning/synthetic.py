"""A seeded synthetic replenishment problem of any size, for scale checks and benchmarks.

Demand per SKU is lognormal across SKUs (a few fast movers, a long tail) with weekly noise; each
SKU has one or two suppliers serving every warehouse with their own lead time, MOQ, pack and up to
three all-units price breaks. Budget, supplier and warehouse capacities are set a little below
what an unconstrained plan would like, so that they bind in some weeks but a plan always exists.
"""

from __future__ import annotations

import random

from wms.procurement.planning.problem import (
    COST_SCALE,
    PriceBreak,
    Problem,
    Series,
    SupplyOption,
    TransferLane,
    with_closing,
)


def _option(rng: random.Random, supplier: str, mean: float, unit: int) -> SupplyOption:
    pack = rng.choice((1, 1, 6, 12, 24))
    moq = max(1, int(mean * rng.choice((0.5, 1.0, 2.0, 3.0))))
    breaks = [PriceBreak(1, unit)]
    for step in range(rng.randint(0, 2)):
        at = max(breaks[-1].min_quantity + 1, int(mean * (3 + 3 * step)))
        breaks.append(PriceBreak(at, int(breaks[-1].unit_cost * rng.uniform(0.9, 0.97))))
    return SupplyOption(
        supplier=supplier,
        lead_time_weeks=rng.randint(1, 3),
        moq=moq,
        pack=pack,
        price_breaks=tuple(breaks),
        fixed_cost=rng.randint(20, 150) * COST_SCALE,
    )


def _series(
    rng: random.Random, sku: str, warehouse: str, weeks: int, suppliers: list[str]
) -> tuple[Series, float, int]:
    mean = rng.lognormvariate(2.5, 1.0) * rng.uniform(0.5, 1.5)
    unit = int(rng.uniform(1, 60) * COST_SCALE)
    demand = tuple(max(0, round(rng.gauss(mean, mean * 0.3))) for _ in range(weeks))
    volume = rng.choice((50, 200, 800, 2500, 9000))
    incoming = [0] * weeks
    if rng.random() < 0.2:
        incoming[rng.randrange(min(2, weeks))] = int(mean * 2)
    options = tuple(_option(rng, supplier, mean, unit) for supplier in suppliers)
    series = Series(
        sku=sku,
        warehouse=warehouse,
        on_hand=int(mean * rng.uniform(0.0, 3.0)),
        demand=demand,
        safety_stock=int(mean * 0.8),
        holding_cost=max(1, unit // 200),  # about a quarter of the value a year
        shortage_cost=unit * 3 // 2 + 5 * COST_SCALE,  # the margin and goodwill lost
        below_safety_cost=max(1, unit // 50),
        volume_cm3=volume,
        options=options,
        incoming=tuple(incoming),
    )
    return with_closing(series), mean, unit


def synthetic_problem(
    skus: int, warehouses: int, weeks: int, seed: int, *, transfers: bool = False
) -> Problem:
    """A replenishment problem of ``skus`` x ``warehouses`` series over ``weeks`` weeks."""
    rng = random.Random(seed)  # noqa: S311 - test data, not a secret
    sites = [f"WH{w + 1}" for w in range(warehouses)]
    vendors = [f"SUP{v + 1:03d}" for v in range(max(2, skus // 200))]
    all_series: list[Series] = []
    spend = 0.0
    units: dict[str, float] = dict.fromkeys(vendors, 0.0)
    volume: dict[str, float] = dict.fromkeys(sites, 0.0)
    for k in range(skus):
        chosen = rng.sample(vendors, rng.choice((1, 1, 2)))
        for site in sites:
            s, mean, unit = _series(rng, f"SKU{k + 1:05d}", site, weeks, chosen)
            all_series.append(s)
            spend += mean * unit
            for v in chosen:
                units[v] += mean / len(chosen)
            # Room for the larger of what is there now and a typical cycle of stock.
            volume[site] += s.volume_cm3 * max(s.on_hand + max(s.incoming), 2.2 * mean)
    lanes: tuple[TransferLane, ...] = ()
    if transfers and warehouses > 1:
        lanes = tuple(
            TransferLane(a, b, 1, int(rng.uniform(0.2, 1.0) * COST_SCALE))
            for a in sites
            for b in sites
            if a != b and rng.random() < 0.5
        )
    return Problem(
        weeks=weeks,
        series=tuple(all_series),
        supplier_capacity={
            v: tuple(int(u * 1.3) + 50 for _ in range(weeks)) for v, u in units.items()
        },
        warehouse_capacity={w: int(v) for w, v in volume.items()},
        budget=tuple(int(spend * 1.2) for _ in range(weeks)),
        transfers=lanes,
    )
