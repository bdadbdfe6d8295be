"""A warehouse, inspected products and a supplier's receipts, built through the real services."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import text

from tests import factories
from tests.conftest import Database
from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.inventory import receipts
from wms.inventory.integrity import check_ledger
from wms.quality import inbound, inspections, specs

SUPPLIER = "SUP-Q"


def setup_inspected(pg: Database, *, sku: str = "KETTLE", lot_tracked: bool = False) -> Database:
    """Warehouse SHA with 4 bins, supplier SUP-Q, and ``sku`` that must be inspected."""
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.supplier(uow, SUPPLIER)
        factories.product(
            uow, sku, lot_tracked=lot_tracked, shelf_life_days=365 if lot_tracked else None
        )
        factories.product(uow, "PLAIN")
        specs.set_spec(uow, actor="qa", sku=sku, major_aql="1.0", minor_aql="4.0")
        uow.commit()
    return pg


def receipt(uow: UnitOfWork, lines: dict[str, int], *, expected: date | None = None) -> str:
    """An expected receipt from SUP-Q at SHA; returns its code."""
    view = receipts.create_receipt(
        uow,
        warehouse="SHA",
        supplier=SUPPLIER,
        expected_date=expected or utcnow().date() + timedelta(days=1),
        lines=[receipts.ReceiptLineRequest(s, q) for s, q in lines.items()],
        actor="planner",
    )
    return view.code


def receive(
    pg: Database, sku: str, quantity: int, *, lot: str | None = None
) -> inbound.InboundBooking:
    """Receive ``quantity`` of ``sku`` on a receipt of its own; committed."""
    with pg.uow() as uow:
        code = receipt(uow, {sku: quantity})
        booking = inbound.receive_line(
            uow,
            receipt=code,
            sku=sku,
            quantity=quantity,
            actor="ola",
            lot=lot,
            expiry_date=utcnow().date() + timedelta(days=300) if lot else None,
        )
        uow.commit()
    return booking


def find(pg: Database, code: str, defect_class: str, units: list[int]) -> None:
    with pg.uow() as uow:
        inspections.record_findings(
            uow,
            inspection=code,
            findings=[inspections.FindingInput(defect_class, u) for u in units],
            actor="ines",
        )
        uow.commit()


def decide(pg: Database, code: str) -> inspections.Decision:
    with pg.uow() as uow:
        decision = inspections.decide(uow, inspection=code, actor="ines")
        uow.commit()
    return decision


def level(db: Database, sku: str, warehouse: str = "SHA") -> dict[str, Any]:
    with db.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT on_hand, committed, reserved, quality_control, available, blocked, version "
                "FROM stock_levels sl JOIN products p ON p.id = sl.product_id "
                "JOIN warehouses w ON w.id = sl.warehouse_id WHERE p.sku = :sku AND w.code = :wh"
            ),
            {"sku": sku, "wh": warehouse},
        ).one()
    return dict(row._mapping)


def ledger_balances(db: Database) -> bool:
    with db.uow() as uow:
        return check_ledger(uow.session).ok


def picture(db: Database) -> str:
    """Everything a refused quality call could have written, to prove it wrote nothing."""
    return str(
        db.scalar(
            "SELECT concat_ws('|', "
            "(SELECT count(*) FROM moves), (SELECT count(*) FROM inspection_findings), "
            "(SELECT string_agg(concat_ws(':', code, status, coalesce(disposition, '')), ',' "
            "ORDER BY id) FROM inspections), (SELECT count(*) FROM supplier_returns), "
            "(SELECT count(*) FROM nonconformance_reports), (SELECT count(*) FROM outbox_events), "
            "(SELECT string_agg(concat_ws(':', id, version), ',' ORDER BY id) FROM stock_levels))"
        )
    )
