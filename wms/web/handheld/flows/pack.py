"""Packing on the handheld: scan a picked fulfilment, scan its items into packages, weigh, print.

Opening a fulfilment opens a package (or goes on with the one left open), with a new SSCC. Each
item scan asks for the quantity (Enter packs all that is left of it); a lot-tracked item whose
barcode carries no lot asks which lot when more than one was picked. "Close package" asks for the
weight in grams; the next item scan opens another package. When everything is packed the screen
links each package's shipping label.
"""

from __future__ import annotations

from typing import Any

from wms.config import get_settings
from wms.errors import ValidationFailed
from wms.fulfillment import packing, picking
from wms.fulfillment.floor_errors import WrongItem, WrongLot
from wms.fulfillment.models import FulfillmentStatus
from wms.fulfillment.packing import PackingView
from wms.inventory.scanning import clean, printable, resolve_product
from wms.web.handheld.flows.base import Ctx, Flow, read_quantity
from wms.web.handheld.flows.outbound import (
    choose_fulfillment,
    expect_fulfillment,
    hand_over,
    short_id,
)
from wms.web.handheld.flows.ship import ShipFlow
from wms.web.handheld.screens import Button, Choice, Link, Outcome, Screen, Table, info, ok

MAX_WEIGHT_DIGITS = 9


def label_link(number: int, sscc: str) -> Link:
    return Link(f"Label, package {number} (PDF)", f"/handheld/labels/package.pdf?sscc={sscc}", True)


class PackFlow(Flow):
    name = "pack"
    title = "Pack"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("choose")
        if arg:
            return self._open(ctx, arg)
        return info("Scan or choose a picked fulfilment order")

    def _open(self, ctx: Ctx, value: str) -> Outcome:
        row = expect_fulfillment(ctx, value, wanted="a picked fulfilment order")
        if row.status == FulfillmentStatus.PICKING:  # its last pick may have ended elsewhere
            picking.pick_list(ctx.uow, row.public_id, actor=ctx.user.username)
            ctx.session.refresh(row)
        if row.status != FulfillmentStatus.PICKED:
            raise ValidationFailed(
                f"fulfilment {row.public_id} is {row.status}; only a picked one is packed",
                field="fulfillment",
            )
        ctx.state["data"] = {"fulfillment": row.public_id}
        view = packing.packing_view(ctx.session, row.public_id)
        package = view.open_package
        if package is None:
            package = self._new_package(ctx)
            ctx.go("item", sscc=package.sscc)
            return ok(f"Package {package.number} opened: scan the items")
        ctx.go("item", sscc=package.sscc)
        return ok(f"Package {package.number} is open: scan the items")

    def _new_package(self, ctx: Ctx) -> packing.PackageView:
        return packing.open_package(
            ctx.uow,
            ctx.data["fulfillment"],
            actor=ctx.user.username,
            company_prefix=get_settings().gs1_company_prefix,
            warehouse=ctx.warehouse.code,
        )

    def _view(self, ctx: Ctx) -> PackingView:
        return packing.packing_view(ctx.session, ctx.data["fulfillment"])

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        step = ctx.step
        if step in ("choose", "packed"):
            return self._open(ctx, value)
        if step == "item":
            return self._item(ctx, value)
        if step == "lot":
            return self._lot(ctx, clean(value))
        if step == "quantity":
            return self._pack(ctx, read_quantity(ctx, value))
        if step == "weight":
            return self._close(ctx, _grams(value))
        raise ValidationFailed("nothing to scan here", field="scan")

    def _item(self, ctx: Ctx, value: str) -> Outcome:
        scanned = resolve_product(ctx.session, value, expected="picked item")
        sku = scanned.product.sku
        left = [t for t in self._view(ctx).to_pack if t.sku == sku]
        if not left:
            others = sorted({t.sku for t in self._view(ctx).to_pack})
            raise WrongItem(
                f"{sku} ({printable(clean(value))})",
                ", ".join(others) if others else "nothing: everything is packed",
            )
        ctx.go("item", item={"sku": sku, "name": scanned.name, "lot": None}, count=scanned.count)
        lots = sorted({str(t.lot) for t in left if t.lot})
        if scanned.product.lot_tracked:
            if scanned.lot is not None:
                return self._lot(ctx, scanned.lot)
            if len(lots) > 1:
                ctx.go("lot", lot_choices=[[t.lot, t.remaining] for t in left])
                return info(f"{sku}: {len(lots)} lots were picked; scan or choose the lot")
            return self._lot(ctx, lots[0])
        return self._ask_quantity(ctx, sum(t.remaining for t in left))

    def _lot(self, ctx: Ctx, lot: str) -> Outcome:
        item: dict[str, Any] = ctx.data["item"]
        left = [t for t in self._view(ctx).to_pack if t.sku == item["sku"] and t.lot == lot]
        if not left:
            lots = sorted({str(t.lot) for t in self._view(ctx).to_pack if t.sku == item["sku"]})
            raise WrongLot(f"{printable(lot)} of {item['sku']}", f"one of lots {', '.join(lots)}")
        item["lot"] = lot
        ctx.data.pop("lot_choices", None)
        return self._ask_quantity(ctx, sum(t.remaining for t in left))

    def _ask_quantity(self, ctx: Ctx, remaining: int) -> Outcome:
        count = ctx.data.pop("count", None)
        default = min(int(count), remaining) if count else remaining
        ctx.go("quantity", default_qty=default, left=remaining)
        item = ctx.data["item"]
        lot = f" lot {item['lot']}" if item.get("lot") else ""
        return info(f"{item['sku']}{lot}: {remaining} left to pack")

    def _pack(self, ctx: Ctx, quantity: int) -> Outcome:
        data = ctx.data
        if not data.get("sscc"):
            data["sscc"] = self._new_package(ctx).sscc
        item = data["item"]
        view = packing.pack_item(
            ctx.uow,
            data["sscc"],
            item=item["sku"],
            lot=item.get("lot"),
            quantity=quantity,
            actor=ctx.user.username,
        )
        for key in ("item", "default_qty", "left", "count"):
            data.pop(key, None)
        number = next(p.number for p in view.packages if p.sscc == data["sscc"])
        message = f"Packed {quantity} x {item['sku']} into package {number}"
        if view.remaining == 0:
            ctx.go("weight")
            return ok(f"{message}. Everything is packed: weigh the package")
        ctx.go("item")
        return ok(message)

    def _close(self, ctx: Ctx, grams: int) -> Outcome:
        data = ctx.data
        view = packing.close_package(ctx.uow, data["sscc"], weight_g=grams, actor=ctx.user.username)
        number = next(p.number for p in view.packages if p.sscc == data["sscc"])
        data["sscc"] = None
        if view.status == FulfillmentStatus.PACKED:
            ctx.go("packed")
            return ok(f"Package {number} closed ({grams} g). Packed: print the labels and ship")
        ctx.go("item")
        return ok(f"Package {number} closed ({grams} g): scan the next item for a new package")

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        step, data = ctx.step, ctx.data
        if action == "open" and step in ("choose", "packed"):
            return self._open(ctx, arg)
        if action == "lot" and step == "lot":
            return self._lot(ctx, arg)
        if action == "close" and step == "item" and data.get("sscc"):
            package = next(p for p in self._view(ctx).packages if p.sscc == data["sscc"])
            if not package.items:
                raise ValidationFailed(
                    f"package {package.number} is empty: scan items into it first", field="action"
                )
            ctx.go("weight")
            return info(f"Weigh package {package.number} and type the grams")
        if action == "back" and step in ("lot", "quantity", "weight"):
            for key in ("item", "default_qty", "left", "count", "lot_choices"):
                data.pop(key, None)
            ctx.go("item")
            return info("Scan an item")
        if action == "ship" and step == "packed":
            return hand_over(ctx, ShipFlow(), data["fulfillment"])
        if action == "list":
            return self.start(ctx, "")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        step, data = ctx.step, ctx.data
        if step == "choose":
            return self._choose_screen(ctx)
        view = self._view(ctx)
        title = f"Pack {short_id(view.fulfillment)}"
        current = next((p for p in view.packages if p.sscc == data.get("sscc")), None)
        facts = [("Package", str(current.number) if current else "new")]
        if current is not None:
            facts.append(("SSCC", current.sscc))
            facts.append(("In it", f"{sum(i.quantity for i in current.items)} units"))
        item = data.get("item")
        if item:
            facts.append(("Item", f"{item['sku']} {item['name']}"))
            if item.get("lot"):
                facts.append(("Lot", item["lot"]))
        labels = [label_link(p.number, p.sscc) for p in view.packages if p.status == "closed"]
        left = Table(
            columns=["Left to pack", "Qty"],
            rows=[
                ([f"{t.sku} {t.name}" + (f" · lot {t.lot}" if t.lot else ""), str(t.remaining)], "")
                for t in view.to_pack
            ],
        )
        if step == "packed":
            return Screen(
                name="pack.packed",
                title=title,
                prompt=f"Packed in {len(view.packages)} package(s): label them and ship",
                hint="Scan the next fulfilment order to pack",
                expects="a picked fulfilment order",
                facts=[("Fulfilment", view.fulfillment)],
                links=labels,
                buttons=[Button("Ship it", "ship", style="primary"), Button("Next", "list")],
            )
        if step == "lot":
            return Screen(
                name="pack.lot",
                title=title,
                prompt=f"Scan the lot of {item['sku'] if item else ''}",
                hint="Or tap the lot below",
                expects="a lot picked for this fulfilment",
                facts=facts,
                choices=[
                    Choice(f"Lot {lot}", "lot", str(lot), f"{qty} to pack")
                    for lot, qty in data.get("lot_choices", [])
                ],
                buttons=[Button("Back", "back")],
            )
        if step == "quantity":
            return Screen(
                name="pack.quantity",
                title=title,
                prompt=f"Quantity — Enter for {data.get('default_qty')}",
                input="number",
                placeholder=str(data.get("default_qty") or ""),
                expects=f"a quantity up to {data.get('left')}",
                facts=facts,
                buttons=[Button("Back", "back")],
            )
        if step == "weight":
            return Screen(
                name="pack.weight",
                title=title,
                prompt=f"Weight of package {current.number if current else ''} in grams",
                input="number",
                expects="the weight in grams, more than 0",
                facts=facts,
                buttons=[Button("Back", "back")],
            )
        buttons = []
        if current is not None and current.items:
            buttons.append(Button("Close package", "close", style="primary"))
        return Screen(
            name="pack.item",
            title=title,
            prompt=f"Scan an item into package {current.number}"
            if current
            else "Scan an item: a new package opens",
            expects="a picked item of this fulfilment",
            facts=facts,
            table=left if view.to_pack else None,
            buttons=buttons,
            links=labels,
        )

    def _choose_screen(self, ctx: Ctx) -> Screen:
        return choose_fulfillment(
            ctx,
            name="pack.choose",
            title="Pack",
            prompt="Scan a picked fulfilment order",
            expects="a picked fulfilment order",
            statuses=[FulfillmentStatus.PICKED],
            hint="Or choose one to pack",
            empty="Nothing is waiting to be packed",
        )


def _grams(raw: str) -> int:
    value = clean(raw).lower().removesuffix("g").strip()
    if not value.isascii() or not value.isdigit() or len(value) > MAX_WEIGHT_DIGITS:
        raise ValidationFailed(
            f"entered {printable(clean(raw)) or 'nothing'}: type the weight in whole grams",
            field="weight_g",
        )
    return int(value)
