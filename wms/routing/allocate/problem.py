"""A batch of order lines to place, and the result of placing them, as plain numpy arrays.

Lines are numbered 0 .. L-1, warehouses 0 .. W-1, SKUs 0 .. S-1 and orders 0 .. O-1; the caller
keeps whatever names they had. A line ships whole from one warehouse or stays unfilled, and no
warehouse ships more of a SKU than its stock. The cost of an assignment, in cents:

    sum over filled lines of unit_cost[line, warehouse] * qty
    + penalties.unfilled_unit per unfilled unit
    + penalties.shipment per shipment (a distinct order x warehouse pair)
    + penalties.split per shipment beyond the first of an order
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from wms.errors import ValidationFailed
from wms.routing.allocate.costs import IntArray, Penalties

UNFILLED = -1

# Every batch has an answer (leaving every line unfilled is one), so there is no "infeasible".
Status = Literal["optimal", "feasible"]


def _fail(message: str, field_name: str) -> None:
    raise ValidationFailed(message, field=field_name)


def _frozen(values: object) -> IntArray:
    array = np.array(values, dtype=np.int64)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class BatchProblem:
    """Lines (order, SKU, quantity), a [lines, warehouses] unit cost matrix, [warehouses, SKUs]
    stock, and the penalties. Arrays are copied and made read-only."""

    order: IntArray
    sku: IntArray
    qty: IntArray
    unit_cost: IntArray
    stock: IntArray
    penalties: Penalties = field(default_factory=Penalties)

    def __post_init__(self) -> None:
        for name in ("order", "sku", "qty", "unit_cost", "stock"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    @property
    def lines(self) -> int:
        return len(self.qty)

    @property
    def warehouses(self) -> int:
        return int(self.stock.shape[0])

    @property
    def orders(self) -> int:
        return int(self.order.max()) + 1 if self.lines else 0

    def validate(self) -> None:
        """Refuse arrays of the wrong shape or sign, with the field at fault."""
        if self.order.ndim != 1 or self.sku.shape != self.order.shape:
            _fail("order, sku and qty need one value per line", "lines")
        if self.qty.shape != self.order.shape:
            _fail("order, sku and qty need one value per line", "qty")
        if self.stock.ndim != 2:
            _fail("stock is a [warehouses, SKUs] matrix", "stock")
        if self.unit_cost.shape != (self.lines, self.warehouses):
            _fail(
                f"unit_cost is {self.unit_cost.shape}, not [lines, warehouses] = "
                f"{(self.lines, self.warehouses)}",
                "unit_cost",
            )
        if self.lines == 0:
            return
        if self.qty.min() < 1:
            _fail("every line needs a quantity of 1 or more", "qty")
        if self.order.min() < 0 or self.sku.min() < 0 or self.sku.max() >= self.stock.shape[1]:
            _fail("order and SKU numbers must index the stock matrix", "sku")
        if self.stock.size and self.stock.min() < 0:
            _fail("stock must not be negative", "stock")
        if self.unit_cost.size and self.unit_cost.min() < 0:
            _fail("unit costs must not be negative", "unit_cost")

    def subset(self, lines: IntArray) -> BatchProblem:
        """Only ``lines`` (orders renumbered from 0), with the same warehouses, SKUs and stock."""
        _, order = np.unique(self.order[lines], return_inverse=True)
        return BatchProblem(
            order=order,
            sku=self.sku[lines],
            qty=self.qty[lines],
            unit_cost=self.unit_cost[lines],
            stock=self.stock,
            penalties=self.penalties,
        )

    def order_lines(self) -> list[IntArray]:
        """The line numbers of each order, in line order."""
        by_order = np.argsort(self.order, kind="stable")
        starts = np.searchsorted(self.order[by_order], np.arange(self.orders + 1))
        return [by_order[starts[o] : starts[o + 1]] for o in range(self.orders)]


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Where each line ships from (a warehouse number, or ``UNFILLED``), what it costs, and how
    far the cost can be from the best possible (``bound`` is a proven lower bound)."""

    assignment: IntArray
    cost: int
    bound: int
    status: Status
    seconds: float
    method: str
    unfilled_units: int = 0
    shipments: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "assignment", _frozen(self.assignment))

    @property
    def gap(self) -> float:
        """(cost - bound) / cost: how much cheaper the best answer could still be."""
        return (self.cost - self.bound) / self.cost if self.cost > 0 else 0.0

    def is_optimal(self) -> bool:
        """The cost is proven to be the least possible."""
        return self.status == "optimal"

    def summary(self) -> str:
        """One line: status, cost, bound and gap, shipments, unfilled units, seconds."""
        return (
            f"{self.status} ({self.method}): cost {self.cost:,} cents, bound {self.bound:,}, "
            f"gap {self.gap:.2%}; {self.shipments:,} shipments, {self.unfilled_units:,} units "
            f"unfilled; {self.seconds:.1f} s"
        )
