"""Inquiry: what is in a bin, where a product is."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import select

from wms.inventory import inquiry
from wms.inventory.catalog import (
    get_product,
    locations_by_id,
)
from wms.inventory.models import (
    Location,
)
from wms.inventory.scanning import (
    clean,
    resolve_product,
)
from wms.web.handheld.flows.base import Ctx, Flow, label_of
from wms.web.handheld.screens import (
    Link,
    Outcome,
    Screen,
    Table,
    info,
    ok,
)


class InquiryFlow(Flow):
    name = "inquiry"
    title = "Inquiry"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("scan")
        if arg:
            return self.on_scan(ctx, arg)
        return info("Scan a bin or a product")

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        value = clean(value)
        loc_id = ctx.session.scalar(
            select(Location.id).where(
                Location.warehouse_id == ctx.warehouse.id,
                (Location.barcode == value) | (Location.code == value.upper()),
            )
        )
        if loc_id is not None:
            loc = locations_by_id(ctx.session, {loc_id})[loc_id]
            ctx.state["data"] = {"kind": "location", "value": loc.code, "label": label_of(loc)}
            return ok(f"Bin {label_of(loc)}")
        scanned = resolve_product(ctx.session, value, expected="bin or product")
        ctx.state["data"] = {"kind": "product", "value": scanned.product.sku, "name": scanned.name}
        return ok(f"Product {scanned.product.sku}")

    def screen(self, ctx: Ctx) -> Screen:
        data = ctx.data
        screen = Screen(name="inquiry.scan", title="Inquiry", prompt="Scan a bin or a product")
        if data.get("kind") == "location":
            loc = ctx.location(data["value"])
            rows = inquiry.location_contents(ctx.session, loc)
            screen.facts = [("Bin", data["label"]), ("Items", str(sum(r.quantity for r in rows)))]
            screen.table = Table(
                columns=["SKU", "Lot", "Expiry", "Qty"],
                rows=[
                    (
                        [
                            f"{r.sku} {r.name}",
                            r.lot or "",
                            r.expiry_date.isoformat() if r.expiry_date else "",
                            str(r.quantity),
                        ],
                        "",
                    )
                    for r in rows
                ],
                caption="" if rows else "Empty",
            )
        elif data.get("kind") == "product":
            product = get_product(ctx.session, data["value"])
            rows = inquiry.product_whereabouts(ctx.session, product)
            here = [r for r in rows if r.warehouse == ctx.warehouse.code]
            elsewhere: dict[str, int] = {}
            for r in rows:
                if r.warehouse != ctx.warehouse.code:
                    elsewhere[r.warehouse] = elsewhere.get(r.warehouse, 0) + r.quantity
            screen.facts = [
                ("Product", f"{product.sku} {data.get('name', '')}"),
                (f"In {ctx.warehouse.code}", str(sum(r.quantity for r in here))),
                *[(f"In {wh}", str(qty)) for wh, qty in sorted(elsewhere.items())],
            ]
            screen.links = [
                Link(
                    f"Print a label for {product.sku}",
                    f"/handheld/labels/product.pdf?sku={quote(product.sku)}",
                    new_tab=True,
                )
            ]
            screen.table = Table(
                columns=["Location", "Lot", "Qty"],
                rows=[([r.barcode or r.location, r.lot or "", str(r.quantity)], "") for r in here],
                caption="" if here else f"None in {ctx.warehouse.code}",
            )
        return screen
