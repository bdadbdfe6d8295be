"""Small replenishment problems: hand-sized ones with known answers, and seeded random ones."""

from __future__ import annotations

import random
from typing import Any

from wms.procurement.planning.problem import (
    PriceBreak,
    Problem,
    Series,
    SupplyOption,
    TransferLane,
)


def option(
    *,
    supplier: str = "ACME",
    lead: int = 0,
    moq: int = 1,
    pack: int = 1,
    prices: tuple[tuple[int, int], ...] = ((1, 10),),
    fixed: int = 0,
) -> SupplyOption:
    return SupplyOption(
        supplier=supplier,
        lead_time_weeks=lead,
        moq=moq,
        pack=pack,
        price_breaks=tuple(PriceBreak(q, c) for q, c in prices),
        fixed_cost=fixed,
    )


def series(demand: tuple[int, ...], **overrides: Any) -> Series:
    values: dict[str, Any] = {
        "sku": "A",
        "warehouse": "W1",
        "on_hand": 0,
        "demand": demand,
        "safety_stock": 0,
        "holding_cost": 1,
        "shortage_cost": 1000,
        "below_safety_cost": 0,
        "volume_cm3": 1,
        "options": (option(),),
    }
    values.update(overrides)
    return Series(**values)


def one_series(demand: tuple[int, ...], **overrides: Any) -> Problem:
    return Problem(weeks=len(demand), series=(series(demand, **overrides),))


def random_problem(seed: int, *, skus: int = 2, warehouses: int = 2, weeks: int = 5) -> Problem:
    """A small problem with every feature drawn at random, most limits likely to bind."""
    rng = random.Random(seed)
    end = random.Random(-seed - 1)  # the closing terms, drawn apart to keep the other draws
    sites = [f"W{w + 1}" for w in range(warehouses)]
    suppliers = ["S1", "S2"]
    all_series = []
    for k in range(skus):
        offers = rng.sample(suppliers, rng.randint(1, 2))
        for site in sites:
            options = []
            for supplier in offers:
                price = rng.randint(5, 20)
                prices = [(1, price)]
                if rng.random() < 0.5:
                    prices.append((rng.randint(10, 30), price - rng.randint(1, 3)))
                options.append(
                    option(
                        supplier=supplier,
                        lead=rng.randint(0, 2),
                        moq=rng.choice((1, 5, 15)),
                        pack=rng.choice((1, 1, 4, 6)),
                        prices=tuple(prices),
                        fixed=rng.choice((0, 20, 60)),
                    )
                )
            all_series.append(
                Series(
                    sku=f"SKU{k}",
                    warehouse=site,
                    on_hand=rng.randint(0, 12),
                    demand=tuple(rng.randint(0, 9) for _ in range(weeks)),
                    safety_stock=rng.randint(0, 4),
                    holding_cost=rng.randint(0, 2),
                    shortage_cost=rng.randint(15, 40),
                    below_safety_cost=rng.randint(0, 5),
                    volume_cm3=rng.randint(1, 3),
                    options=tuple(options),
                    incoming=tuple(rng.choice((0, 0, 0, 5)) for _ in range(weeks)),
                    closing_cover=end.choice((0, 0, 6, 15)),
                    closing_cost=end.randint(3, 12),
                )
            )
    lanes: tuple[TransferLane, ...] = ()
    if warehouses > 1 and rng.random() < 0.6:
        lanes = (TransferLane(sites[0], sites[1], rng.randint(0, 1), rng.randint(1, 3)),)
    budget = None
    if rng.random() < 0.7:
        budget = tuple(rng.randint(150, 400) for _ in range(weeks))
    return Problem(
        weeks=weeks,
        series=tuple(all_series),
        supplier_capacity={"S1": tuple(rng.randint(10, 40) for _ in range(weeks))}
        if rng.random() < 0.6
        else {},
        warehouse_capacity={site: rng.randint(40, 120) for site in sites}
        if rng.random() < 0.6
        else {},
        budget=budget,
        transfers=lanes,
    )
