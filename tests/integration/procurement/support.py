"""A warehouse, a supplier and the products it sells, built through the real services, and a
picture of every row a purchasing call could write."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import text

from tests import factories
from tests.conftest import Database
from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.inventory import stock
from wms.procurement import purchase_orders as po
from wms.procurement import suppliers
from wms.quality import inbound

SUPPLIER = "SUP-1"


def setup_purchasing(pg: Database, *, warehouses: tuple[str, ...] = ("SHA",)) -> Database:
    """Warehouses, supplier SUP-1 selling MUG (CNY 12.50, 11.80 from 100, 11.00 from 500;
    MOQ 24, packs of 12, 14 days) and TEA (CNY 30 flat, 7 days)."""
    with pg.uow() as uow:
        for code in warehouses:
            factories.warehouse(uow, code)
        factories.supplier(uow, SUPPLIER)
        factories.product(uow, "MUG")
        factories.product(uow, "TEA")
        offer_mug(uow)
        suppliers.set_supplier_product(
            uow,
            supplier=SUPPLIER,
            sku="TEA",
            currency="CNY",
            moq=1,
            pack_multiple=1,
            lead_time_days=7,
            price_breaks=[(1, Decimal("30"))],
        )
        uow.commit()
    return pg


def offer_mug(uow: UnitOfWork, supplier: str = SUPPLIER, **changes: object) -> None:
    values: dict[str, object] = {
        "currency": "CNY",
        "moq": 24,
        "pack_multiple": 12,
        "lead_time_days": 14,
        "price_breaks": [(1, Decimal("12.50")), (100, Decimal("11.80")), (500, Decimal("11.00"))],
        **changes,
    }
    suppliers.set_supplier_product(uow, supplier=supplier, sku="MUG", **values)  # type: ignore[arg-type]


def draft(pg: Database, lines: dict[str, int] | None = None, *, warehouse: str = "SHA") -> str:
    """A draft PO from SUP-1; returns its code."""
    with pg.uow() as uow:
        view = po.create_purchase_order(
            uow,
            supplier=SUPPLIER,
            warehouse=warehouse,
            lines=[po.OrderLineRequest(s, q) for s, q in (lines or {"MUG": 120}).items()],
            actor="pei",
        )
        uow.commit()
    return view.code


def approved(
    pg: Database, lines: dict[str, int] | None = None, *, at: datetime | None = None
) -> str:
    code = draft(pg, lines)
    with pg.uow() as uow:
        po.approve_purchase_order(uow, code=code, actor="pei", now=at)
        uow.commit()
    return code


def receive(
    pg: Database, code: str, sku: str, quantity: int, *, at: datetime | None = None
) -> None:
    """Book ``quantity`` on the PO's receipt as the handheld does; committed."""
    with pg.uow() as uow:
        receipt = po.purchase_order_view(uow.session, code).receipts[0]
        inbound.receive_line(
            uow, receipt=receipt, sku=sku, quantity=quantity, actor="ola", occurred_at=at
        )
        uow.commit()


def days_ago(days: float) -> datetime:
    return utcnow() - timedelta(days=days)


def status(pg: Database, code: str) -> str:
    return str(pg.scalar("SELECT status FROM purchase_orders WHERE code = :c", c=code))


def incoming(db: Database, sku: str, warehouse: str = "SHA") -> int:
    value = db.scalar(
        "SELECT coalesce(sum(incoming), 0) FROM stock_levels sl "
        "JOIN products p ON p.id = sl.product_id JOIN warehouses w ON w.id = sl.warehouse_id "
        "WHERE p.sku = :sku AND w.code = :wh",
        sku=sku,
        wh=warehouse,
    )
    return int(str(value))


def picture(db: Database) -> str:
    """Every row a refused purchasing call could have written, to prove it wrote nothing."""
    with db.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT concat_ws('|', "
                "(SELECT string_agg(concat_ws(':', code, status, coalesce(approved_by, ''), "
                "coalesce(closed_by, '')), ',' ORDER BY id) FROM purchase_orders), "
                "(SELECT string_agg(concat_ws(':', id, quantity, unit_price, received_quantity), "
                "',' ORDER BY id) FROM purchase_order_lines), "
                "(SELECT string_agg(concat_ws(':', code, status, origin), ',' ORDER BY id) "
                "FROM receipts), (SELECT count(*) FROM receipt_lines), (SELECT count(*) FROM moves), "
                "(SELECT string_agg(concat_ws(':', id, version, incoming), ',' ORDER BY id) "
                "FROM stock_levels), "
                "(SELECT string_agg(concat_ws(':', id, moq, pack_multiple, lead_time_days, "
                "lead_time_samples, currency), ',' ORDER BY id) FROM supplier_products), "
                "(SELECT string_agg(concat_ws(':', supplier_product_id, min_quantity, unit_price), "
                "',' ORDER BY id) FROM supplier_price_breaks), "
                "(SELECT count(*) FROM suppliers), (SELECT count(*) FROM plan_proposals), "
                "(SELECT string_agg(concat_ws(':', id, status, quantity), ',' ORDER BY id) "
                "FROM plan_proposals))"
            )
        ).scalar()
    return str(row)


def weeks_ago(weeks: int, today: date) -> datetime:
    """Wednesday noon (UTC) of the ISO week ``weeks`` before the one holding ``today``."""
    monday = today - timedelta(days=today.weekday())
    return datetime.combine(monday - timedelta(weeks=weeks, days=-2), time(12), tzinfo=UTC)


def stocked(pg: Database, today: date, *, history_weeks: int = 12) -> Database:
    """SUP-1's MUG and TEA at SHA with ``history_weeks`` (even) of shipments ending last week,
    MUG 24 and 36 in turn (30 a week), TEA 8 and 12, leaving 40 MUG and 30 TEA in bin B01."""
    setup_purchasing(pg)
    with pg.uow() as uow:
        start = weeks_ago(history_weeks + 1, today)
        for sku, weekly, left in (("MUG", 30, 40), ("TEA", 10, 30)):
            stock.receive(
                uow,
                sku=sku,
                quantity=weekly * history_weeks + left,
                warehouse="SHA",
                location="B01",
                actor="t",
                occurred_at=start,
            )
            for week in range(history_weeks, 0, -1):
                stock.deliver(
                    uow,
                    warehouse="SHA",
                    lines=[stock.PickedLine(sku, weekly + (weekly // 5) * (-1) ** week, "B01")],
                    reference=f"SO-{week}",
                    actor="t",
                    occurred_at=weeks_ago(week, today),
                )
        uow.commit()
    return pg
