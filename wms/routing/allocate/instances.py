"""Reading an allocation instance directory (the format of /work/shared/data/allocation/).

A directory holds four CSV files with a header row:

* ``warehouses.csv``: ``warehouse, x_km, y_km``
* ``orders.csv``: ``order, line, sku, qty, x_km, y_km`` (one row per order line)
* ``stock.csv``: ``warehouse, sku, qty``
* ``unit_cost_cents.csv`` (optional): ``order, w<id>...``, cents per unit; without it the cost
  model prices the straight-line distance between the coordinates.

Lines are numbered by their row in ``orders.csv`` (0 for the first data row); in the shared
instances this is also the ``line`` column. Warehouse ids are integers. Fees per shipment and per
split apply only when some order has more than one line, as the instances' README defines the
objective; ``penalties=`` overrides that.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wms.errors import ValidationFailed
from wms.routing.allocate.costs import CostModel, Penalties, euclidean_km
from wms.routing.allocate.problem import BatchProblem

FILES = ("warehouses.csv", "orders.csv", "stock.csv")
COLUMNS = {
    "warehouses.csv": ("warehouse", "x_km", "y_km"),
    "orders.csv": ("order", "line", "sku", "qty", "x_km", "y_km"),
    "stock.csv": ("warehouse", "sku", "qty"),
    "unit_cost_cents.csv": ("order",),
}


@dataclass(frozen=True, eq=False)
class Instance:
    """A problem read from a directory, with the names its files use."""

    name: str
    problem: BatchProblem
    warehouse_ids: tuple[int, ...]  # by warehouse number
    order_ids: tuple[int, ...]  # by order number
    skus: tuple[str, ...]  # by SKU number


def _bad(path: Path, message: str) -> ValidationFailed:
    return ValidationFailed(f"{path}: {message}", field="directory")


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Data rows with their line number in the file; the header must have the expected columns."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS[path.name] if c not in (reader.fieldnames or [])]
            if missing:
                raise _bad(path, f"missing column(s) {', '.join(missing)}")
            for row in reader:
                yield reader.line_num, row
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _bad(path, f"cannot be read as CSV ({exc})") from None


def _int(path: Path, number: int, row: dict[str, str], column: str, low: int = 0) -> int:
    text = (row.get(column) or "").strip()
    try:
        value = int(text)
    except ValueError:
        raise _bad(path, f"line {number}: {column} {text!r} is not a whole number") from None
    if value < low:
        raise _bad(path, f"line {number}: {column} {value} is below {low}")
    return value


def _float(path: Path, number: int, row: dict[str, str], column: str) -> float:
    text = (row.get(column) or "").strip()
    try:
        return float(text)
    except ValueError:
        raise _bad(path, f"line {number}: {column} {text!r} is not a number") from None


def read_instance(
    directory: Path | str, *, costs: CostModel | None = None, penalties: Penalties | None = None
) -> Instance:
    """Read an instance directory; anything else is refused with ``ValidationFailed``."""
    root = Path(directory)
    if not root.is_dir():
        raise ValidationFailed(f"{root}: no such directory", field="directory")
    absent = [name for name in FILES if not (root / name).is_file()]
    if absent:
        raise ValidationFailed(
            f"{root} is not an allocation instance: {', '.join(absent)} missing",
            field="directory",
        )
    costs = costs or CostModel()
    warehouse_ids, warehouse_xy = _warehouses(root / "warehouses.csv")
    orders = _orders(root / "orders.csv")
    order_ids = tuple(dict.fromkeys(orders.order_id))
    order_index = {o: i for i, o in enumerate(order_ids)}
    skus = tuple(dict.fromkeys(orders.sku))
    sku_index = {s: i for i, s in enumerate(skus)}
    stock = _stock(root / "stock.csv", warehouse_ids, sku_index)
    line_order = np.array([order_index[o] for o in orders.order_id], dtype=np.int64)
    cost_path = root / "unit_cost_cents.csv"
    if cost_path.is_file():
        by_order = _unit_costs(cost_path, warehouse_ids, order_index)
        unit_cost = by_order[line_order]
    else:
        unit_cost = costs.unit_costs(euclidean_km(warehouse_xy, np.array(orders.xy)))
    if penalties is None:
        multi = len(order_ids) < len(orders.order_id)
        base = costs.penalties
        penalties = base if multi else Penalties(0, 0, base.unfilled_unit)
    problem = BatchProblem(
        order=line_order,
        sku=np.array([sku_index[s] for s in orders.sku], dtype=np.int64),
        qty=np.array(orders.qty, dtype=np.int64),
        unit_cost=unit_cost,
        stock=stock,
        penalties=penalties,
    )
    problem.validate()
    return Instance(root.name, problem, warehouse_ids, order_ids, skus)


def _warehouses(path: Path) -> tuple[tuple[int, ...], np.ndarray]:
    ids: list[int] = []
    xy: list[tuple[float, float]] = []
    for number, row in _rows(path):
        ids.append(_int(path, number, row, "warehouse"))
        xy.append((_float(path, number, row, "x_km"), _float(path, number, row, "y_km")))
    if not ids:
        raise _bad(path, "no warehouses")
    if len(set(ids)) != len(ids):
        raise _bad(path, "a warehouse id appears twice")
    return tuple(ids), np.array(xy, dtype=np.float64)


@dataclass
class _Orders:
    order_id: list[int]
    sku: list[str]
    qty: list[int]
    xy: list[tuple[float, float]]


def _orders(path: Path) -> _Orders:
    read = _Orders([], [], [], [])
    for number, row in _rows(path):
        read.order_id.append(_int(path, number, row, "order"))
        sku = (row.get("sku") or "").strip()
        if not sku:
            raise _bad(path, f"line {number}: the sku is empty")
        read.sku.append(sku)
        read.qty.append(_int(path, number, row, "qty", low=1))
        read.xy.append((_float(path, number, row, "x_km"), _float(path, number, row, "y_km")))
    if not read.qty:
        raise _bad(path, "no order lines")
    return read


def _stock(path: Path, warehouse_ids: tuple[int, ...], sku_index: dict[str, int]) -> np.ndarray:
    where = {w: i for i, w in enumerate(warehouse_ids)}
    stock = np.zeros((len(warehouse_ids), len(sku_index)), dtype=np.int64)
    seen: set[tuple[int, str]] = set()
    for number, row in _rows(path):
        warehouse = _int(path, number, row, "warehouse")
        if warehouse not in where:
            raise _bad(path, f"line {number}: warehouse {warehouse} is not in warehouses.csv")
        sku = (row.get("sku") or "").strip()
        if (warehouse, sku) in seen:
            raise _bad(path, f"line {number}: warehouse {warehouse}, sku {sku} appears twice")
        seen.add((warehouse, sku))
        qty = _int(path, number, row, "qty")
        if sku in sku_index:  # stock of a SKU nobody ordered changes nothing
            stock[where[warehouse], sku_index[sku]] = qty
    return stock


def _unit_costs(
    path: Path, warehouse_ids: tuple[int, ...], order_index: dict[int, int]
) -> np.ndarray:
    columns = [f"w{w}" for w in warehouse_ids]
    costs = np.full((len(order_index), len(warehouse_ids)), -1, dtype=np.int64)
    for number, row in _rows(path):
        missing = [c for c in columns if row.get(c) is None]
        if missing:
            raise _bad(path, f"line {number}: no value for {', '.join(missing)}")
        order = _int(path, number, row, "order")
        if order in order_index:
            costs[order_index[order]] = [_int(path, number, row, c) for c in columns]
    lacking = np.flatnonzero(costs[:, 0] < 0)
    if lacking.size:
        order_ids = list(order_index)
        raise _bad(path, f"no unit costs for order {order_ids[int(lacking[0])]}")
    return costs
