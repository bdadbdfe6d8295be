"""Tiny allocation batches for the tests, and the brute force that says what their optimum is."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from wms.routing.allocate import BatchProblem, Penalties, evaluate


def batch(
    lines: Sequence[tuple[int, int, int]],
    unit_cost: Sequence[Sequence[int]],
    stock: Sequence[Sequence[int]],
    penalties: Penalties | None = None,
) -> BatchProblem:
    """``lines`` as (order, sku, qty); ``unit_cost`` [lines][warehouses]; ``stock`` [wh][sku]."""
    order, sku, qty = (np.array(column, dtype=np.int64) for column in zip(*lines, strict=True))
    return BatchProblem(
        order=order,
        sku=sku,
        qty=qty,
        unit_cost=np.array(unit_cost, dtype=np.int64),
        stock=np.array(stock, dtype=np.int64),
        penalties=penalties or Penalties(),
    )


def brute_force(problem: BatchProblem) -> tuple[int, tuple[int, ...]]:
    """The least cost over every assignment that keeps to the stock, and the first such one."""
    best: tuple[int, tuple[int, ...]] | None = None
    for assignment in itertools.product(range(-1, problem.warehouses), repeat=problem.lines):
        checked = evaluate(problem, assignment)
        if checked.feasible and (best is None or checked.cost < best[0]):
            best = (checked.cost, assignment)
    assert best is not None  # leaving everything unfilled is always feasible
    return best


@st.composite
def tiny_batches(draw: st.DrawFn, max_lines: int = 6, max_warehouses: int = 3) -> BatchProblem:
    """3 to ``max_lines`` lines in a few orders, 2 to ``max_warehouses`` warehouses, 1-3 SKUs,
    with stock short enough and penalties small enough that the trade-offs matter."""
    n = draw(st.integers(3, max_lines))
    w = draw(st.integers(2, max_warehouses))
    skus = draw(st.integers(1, 3))
    raw_orders = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    _, order = np.unique(raw_orders, return_inverse=True)
    lines = [
        (int(order[i]), draw(st.integers(0, skus - 1)), draw(st.integers(1, 4))) for i in range(n)
    ]
    unit_cost = [[draw(st.integers(1, 60)) for _ in range(w)] for _ in range(n)]
    stock = [[draw(st.integers(0, 6)) for _ in range(skus)] for _ in range(w)]
    penalties = Penalties(
        shipment=draw(st.sampled_from([0, 40, 150])),
        split=draw(st.sampled_from([0, 30, 120])),
        unfilled_unit=draw(st.sampled_from([70, 200, 1000])),
    )
    return batch(lines, unit_cost, stock, penalties)


def write_instance(
    root: Path,
    *,
    warehouses: Sequence[tuple[int, float, float]],
    orders: Sequence[tuple[int, int, str, int, float, float]],
    stock: Sequence[tuple[int, str, int]],
    unit_cost: Sequence[Sequence[int]] | None = None,
) -> Path:
    """An instance directory in the shared format; ``unit_cost`` is per order (in order of first
    appearance) and warehouse, and omitted when None."""
    root.mkdir(parents=True, exist_ok=True)
    rows = ["warehouse,x_km,y_km", *(f"{w},{x},{y}" for w, x, y in warehouses)]
    (root / "warehouses.csv").write_text("\n".join(rows) + "\n")
    rows = ["order,line,sku,qty,x_km,y_km", *(",".join(map(str, row)) for row in orders)]
    (root / "orders.csv").write_text("\n".join(rows) + "\n")
    rows = ["warehouse,sku,qty", *(",".join(map(str, row)) for row in stock)]
    (root / "stock.csv").write_text("\n".join(rows) + "\n")
    if unit_cost is not None:
        order_ids = list(dict.fromkeys(row[0] for row in orders))
        header = "order," + ",".join(f"w{w}" for w, _, _ in warehouses)
        body = [
            f"{o}," + ",".join(map(str, costs))
            for o, costs in zip(order_ids, unit_cost, strict=True)
        ]
        (root / "unit_cost_cents.csv").write_text("\n".join([header, *body]) + "\n")
    return root


def small_instance(root: Path) -> Path:
    """Two warehouses, three orders (one of two lines), a SKU in short supply."""
    return write_instance(
        root,
        warehouses=[(0, 0.0, 0.0), (1, 400.0, 0.0)],
        orders=[
            (10, 0, "A", 2, 10.0, 0.0),
            (10, 1, "B", 1, 10.0, 0.0),
            (11, 2, "A", 3, 390.0, 0.0),
            (12, 3, "B", 4, 200.0, 0.0),
        ],
        stock=[(0, "A", 2), (0, "B", 1), (1, "A", 3), (1, "B", 2)],
        unit_cost=[[255, 455], [455, 255], [355, 355]],
    )
