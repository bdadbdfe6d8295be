"""Lead times, planned against learned: Welford's running mean and deviation per supplier product,
pooled over a supplier's products, and how often deliveries came by the expected date."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.inventory.catalog import get_product
from wms.inventory.models import Product
from wms.procurement.models import PurchaseOrder, PurchaseOrderLine, Supplier, SupplierProduct
from wms.quality.suppliers import get_supplier


def welford(
    samples: int, mean: float | None, sd: float | None, x: float
) -> tuple[int, float, float]:
    """Add one observation to a running count, mean and sample standard deviation."""
    n = samples + 1
    old_mean = mean or 0.0
    m2 = (sd or 0.0) ** 2 * (samples - 1) if samples > 1 else 0.0
    delta = x - old_mean
    new_mean = old_mean + delta / n
    m2 += delta * (x - new_mean)
    return n, new_mean, math.sqrt(m2 / (n - 1)) if n > 1 else 0.0


def pooled(
    groups: Sequence[tuple[int, float | None, float | None]],
) -> tuple[int, float | None, float | None]:
    """Count, mean and sample standard deviation of several groups taken together (Chan et al.)."""
    n, mean, m2 = 0, 0.0, 0.0
    for count, group_mean, group_sd in groups:
        if count <= 0 or group_mean is None:
            continue
        group_m2 = (group_sd or 0.0) ** 2 * (count - 1)
        total = n + count
        delta = group_mean - mean
        mean += delta * count / total
        m2 += group_m2 + delta**2 * n * count / total
        n = total
    if n == 0:
        return 0, None, None
    return n, mean, math.sqrt(m2 / (n - 1)) if n > 1 else 0.0


def learn_lead_time(session: Session, *, supplier_id: int, product_id: int, days: float) -> None:
    """Teach a supplier product one observed lead time (a product not offered learns nothing)."""
    row = session.scalar(
        select(SupplierProduct)
        .where(SupplierProduct.supplier_id == supplier_id, SupplierProduct.product_id == product_id)
        .with_for_update()
    )
    if row is None:
        return
    n, mean, sd = welford(
        row.lead_time_samples, row.lead_time_mean_days, row.lead_time_sd_days, days
    )
    row.lead_time_samples, row.lead_time_mean_days, row.lead_time_sd_days = n, mean, sd
    session.flush()


@dataclass(frozen=True)
class LeadTimeStats:
    """Planned against learned lead time of one supplier product, and how often it came on time."""

    supplier: str
    sku: str
    planned_days: int
    samples: int
    mean_days: float | None
    sd_days: float | None
    deliveries: int  # purchase order lines received so far
    on_time: int  # of which the first unit came by the order's expected date

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.deliveries if self.deliveries else None


def deliveries(session: Session) -> dict[tuple[int, int], tuple[int, int]]:
    """(supplier id, product id) -> (lines received, of which on time)."""
    rows = session.execute(
        select(
            PurchaseOrder.supplier_id,
            PurchaseOrderLine.product_id,
            PurchaseOrderLine.first_received_at,
            PurchaseOrder.expected_date,
        )
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
        .where(PurchaseOrderLine.first_received_at.is_not(None))
    )
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for supplier_id, product_id, received_at, expected in rows:
        counts[(supplier_id, product_id)][0] += 1
        counts[(supplier_id, product_id)][1] += int(
            received_at is not None and received_at.date() <= expected
        )
    return {key: (n, on_time) for key, (n, on_time) in counts.items()}


def lead_time_stats(
    session: Session, *, supplier: str | None = None, sku: str | None = None
) -> list[LeadTimeStats]:
    """Lead times per supplier product: planned, learned (samples, mean, sd) and on-time rate."""
    query = (
        select(SupplierProduct, Supplier.code, Product.sku)
        .join(Supplier, Supplier.id == SupplierProduct.supplier_id)
        .join(Product, Product.id == SupplierProduct.product_id)
        .order_by(Supplier.code, Product.sku)
    )
    if supplier is not None:
        query = query.where(SupplierProduct.supplier_id == get_supplier(session, supplier).id)
    if sku is not None:
        query = query.where(SupplierProduct.product_id == get_product(session, sku).id)
    received_lines = deliveries(session)
    stats = []
    for row, code, product_sku in session.execute(query):
        received, on_time = received_lines.get((row.supplier_id, row.product_id), (0, 0))
        stats.append(
            LeadTimeStats(
                supplier=code,
                sku=product_sku,
                planned_days=row.lead_time_days,
                samples=row.lead_time_samples,
                mean_days=row.lead_time_mean_days,
                sd_days=row.lead_time_sd_days,
                deliveries=received,
                on_time=on_time,
            )
        )
    return stats
