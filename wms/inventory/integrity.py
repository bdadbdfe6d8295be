"""Ledger integrity: rebuild quants and stock levels from the moves and compare with the tables."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import Session

from wms.inventory.models import (
    Location,
    LocationKind,
    Lot,
    Move,
    Product,
    Quant,
    Receipt,
    ReceiptLine,
    ReceiptStatus,
    StockLevel,
    Transfer,
    TransferLine,
    Warehouse,
)

QuantKey = tuple[int, int | None, int]


@dataclass(frozen=True)
class Discrepancy:
    """One disagreement between a stored projection and what the ledger says."""

    table: str
    row_id: int | None
    subject: str
    field: str
    ledger: int
    stored: int

    def describe(self) -> str:
        row = f"#{self.row_id}" if self.row_id is not None else "(missing row)"
        return (
            f"{self.table} {row} {self.subject}: {self.field} is {self.stored}, "
            f"the ledger says {self.ledger}"
        )


@dataclass(frozen=True)
class CheckReport:
    moves: int
    quants: int
    levels: int
    discrepancies: list[Discrepancy]

    @property
    def ok(self) -> bool:
        return not self.discrepancies


class _Names:
    """Readable names for ids, loaded once per check."""

    def __init__(self, session: Session) -> None:
        self.skus = dict(session.execute(select(Product.id, Product.sku)).all())
        self.lots = dict(session.execute(select(Lot.id, Lot.code)).all())
        self.warehouses = dict(session.execute(select(Warehouse.id, Warehouse.code)).all())
        self.locations = {
            r.id: (f"{self.warehouses[r.warehouse_id]}/{r.code}" if r.warehouse_id else r.code)
            for r in session.execute(select(Location.id, Location.code, Location.warehouse_id))
        }

    def product_lot(self, product_id: int, lot_id: int | None) -> str:
        lot = f" lot {self.lots.get(lot_id, lot_id)}" if lot_id is not None else ""
        return f"SKU {self.skus.get(product_id, product_id)}{lot}"

    def quant(self, key: QuantKey) -> str:
        product_id, lot_id, location_id = key
        where = self.locations.get(location_id, location_id)
        return f"({self.product_lot(product_id, lot_id)} at {where})"

    def level(self, product_id: int, warehouse_id: int) -> str:
        return f"(SKU {self.skus.get(product_id, product_id)} at {self.warehouses.get(warehouse_id, warehouse_id)})"


def ledger_balances(session: Session) -> dict[QuantKey, int]:
    """Net quantity per (product, lot, location) over the whole ledger, virtual locations included."""
    inflow = select(
        Move.product_id,
        Move.lot_id,
        Move.to_location_id.label("location_id"),
        Move.quantity.label("q"),
    )
    outflow = select(
        Move.product_id,
        Move.lot_id,
        Move.from_location_id.label("location_id"),
        (literal(0) - Move.quantity).label("q"),
    )
    both = union_all(inflow, outflow).subquery()
    rows = session.execute(
        select(both.c.product_id, both.c.lot_id, both.c.location_id, func.sum(both.c.q)).group_by(
            both.c.product_id, both.c.lot_id, both.c.location_id
        )
    )
    return {(p, lot, loc): int(total) for p, lot, loc, total in rows}


def check_ledger(session: Session) -> CheckReport:
    """Compare quants and stock levels with the ledger; every disagreement is listed.

    All queries must see one snapshot, or postings committed between them would show up as
    disagreements on a live system: on PostgreSQL the check runs as REPEATABLE READ, so call it
    on a session that has not queried yet. (SQLite serialises writers; its reads see one state.)
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    names = _Names(session)
    balances = ledger_balances(session)
    kinds = {
        r.id: (r.warehouse_id, LocationKind(r.kind), r.holds_stock)
        for r in session.execute(
            select(Location.id, Location.warehouse_id, Location.kind, Location.holds_stock)
        )
    }
    found: list[Discrepancy] = []
    found += _check_balanced(balances, names)
    stock_balances = {k: v for k, v in balances.items() if kinds[k[2]][2]}
    found += _check_quants(session, stock_balances, names)
    found += _check_levels(session, stock_balances, kinds, names)
    moves = session.scalar(select(func.count()).select_from(Move)) or 0
    quants = session.scalar(select(func.count()).select_from(Quant)) or 0
    levels = session.scalar(select(func.count()).select_from(StockLevel)) or 0
    return CheckReport(moves=moves, quants=quants, levels=levels, discrepancies=found)


def _check_balanced(balances: dict[QuantKey, int], names: _Names) -> list[Discrepancy]:
    totals: defaultdict[tuple[int, int | None], int] = defaultdict(int)
    for (product_id, lot_id, _), quantity in balances.items():
        totals[(product_id, lot_id)] += quantity
    return [
        Discrepancy(
            "moves",
            None,
            f"({names.product_lot(p, lot)})",
            "sum over all locations",
            0,
            total,
        )
        for (p, lot), total in sorted(totals.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0))
        if total != 0
    ]


def _check_quants(
    session: Session, expected: dict[QuantKey, int], names: _Names
) -> list[Discrepancy]:
    stored = {
        (r.product_id, r.lot_id, r.location_id): (r.id, r.quantity)
        for r in session.execute(
            select(Quant.id, Quant.product_id, Quant.lot_id, Quant.location_id, Quant.quantity)
        )
    }
    found = []
    for key in sorted(expected.keys() | stored.keys(), key=lambda k: (k[0], k[1] or 0, k[2])):
        want = expected.get(key, 0)
        row_id, have = stored.get(key, (None, 0))
        if want != have:
            found.append(Discrepancy("quants", row_id, names.quant(key), "quantity", want, have))
        elif want < 0:
            found.append(
                Discrepancy("quants", row_id, names.quant(key), "quantity (negative)", 0, want)
            )
    return found


def _check_levels(
    session: Session,
    stock_balances: dict[QuantKey, int],
    kinds: dict[int, tuple[int | None, LocationKind, bool]],
    names: _Names,
) -> list[Discrepancy]:
    expected: defaultdict[tuple[int, int], dict[str, int]] = defaultdict(
        lambda: {"on_hand": 0, "quality_control": 0, "damaged": 0, "incoming": 0}
    )
    for (product_id, _, location_id), quantity in stock_balances.items():
        warehouse_id, kind, _ = kinds[location_id]
        if warehouse_id is None:
            continue
        counters = expected[(product_id, warehouse_id)]
        counters["on_hand"] += quantity
        if kind is LocationKind.QC_HOLD:
            counters["quality_control"] += quantity
        elif kind is LocationKind.DAMAGED:
            counters["damaged"] += quantity
    for product_id, warehouse_id, outstanding in _transfers_in_transit(session):
        expected[(product_id, warehouse_id)]["incoming"] += outstanding
    for product_id, warehouse_id, outstanding in _receipts_expected(session):
        expected[(product_id, warehouse_id)]["incoming"] += outstanding
    found = []
    rows = {(r.product_id, r.warehouse_id): r for r in session.scalars(select(StockLevel))}
    for key in sorted(expected.keys() | rows.keys()):
        row = rows.get(key)
        want = expected.get(key, {"on_hand": 0, "quality_control": 0, "damaged": 0, "incoming": 0})
        for name, value in want.items():
            have = getattr(row, name) if row is not None else 0
            if have != value:
                found.append(
                    Discrepancy(
                        "stock_levels",
                        row.id if row else None,
                        names.level(*key),
                        name,
                        value,
                        have,
                    )
                )
        if (
            row is not None
            and row.committed + row.reserved > row.on_hand - row.quality_control - row.damaged
        ):
            found.append(
                Discrepancy(
                    "stock_levels",
                    row.id,
                    names.level(*key),
                    "committed + reserved (oversold)",
                    row.on_hand - row.quality_control - row.damaged,
                    row.committed + row.reserved,
                )
            )
    return found


def _transfers_in_transit(session: Session) -> list[tuple[int, int, int]]:
    rows = session.execute(
        select(
            TransferLine.product_id,
            Transfer.to_warehouse_id,
            func.sum(TransferLine.quantity - TransferLine.received_quantity),
        )
        .join(Transfer, Transfer.id == TransferLine.transfer_id)
        .group_by(TransferLine.product_id, Transfer.to_warehouse_id)
    )
    return [(p, w, int(q)) for p, w, q in rows if q]


def _receipts_expected(session: Session) -> list[tuple[int, int, int]]:
    """What open receipts still expect: each line's shortfall (an over-receipt counts as none)."""
    shortfall = ReceiptLine.expected_quantity - ReceiptLine.received_quantity
    rows = session.execute(
        select(
            ReceiptLine.product_id,
            Receipt.warehouse_id,
            func.sum(case((shortfall > 0, shortfall), else_=0)),
        )
        .join(Receipt, Receipt.id == ReceiptLine.receipt_id)
        .where(Receipt.status.in_([ReceiptStatus.OPEN, ReceiptStatus.RECEIVING]))
        .group_by(ReceiptLine.product_id, Receipt.warehouse_id)
    )
    return [(p, w, int(q)) for p, w, q in rows if q]
