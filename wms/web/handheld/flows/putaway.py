"""Put away from receiving, and move between bins."""

from __future__ import annotations

from wms.errors import ValidationFailed
from wms.inventory import inquiry, putaway, stock
from wms.inventory.catalog import (
    LocationRef,
    storage_location_of_kind,
)
from wms.inventory.models import (
    LocationKind,
)
from wms.web.handheld.flows.base import Ctx, Flow, item_text, label_of, read_quantity
from wms.web.handheld.screens import (
    Button,
    Outcome,
    Screen,
    Table,
    info,
    ok,
)


class PutawayFlow(Flow):
    name = "putaway"
    title = "Put away"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("item")
        return info("Scan a product in receiving")

    def _dock(self, ctx: Ctx) -> LocationRef:
        return storage_location_of_kind(ctx.session, ctx.warehouse.id, LocationKind.RECEIVING)

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        step, data = ctx.step, ctx.data
        if step == "item":
            for key in ("item", "default_qty", "available", "suggested", "override"):
                data.pop(key, None)
            pending = self.read_item(ctx, value, from_location_id=self._dock(ctx).id)
            if pending is not None:
                ctx.go("lot")
                return pending
            return self._ask_quantity(ctx)
        if step == "lot":
            self.choose_lot(ctx, value)
            return self._ask_quantity(ctx)
        if step == "quantity":
            quantity = read_quantity(ctx, value)
            if quantity > int(data["available"]):
                raise ValidationFailed(
                    f"entered {quantity}: only {data['available']} in receiving", field="quantity"
                )
            item = data["item"]
            suggestion = putaway.suggest(
                ctx.session,
                warehouse=ctx.warehouse.code,
                sku=item["sku"],
                lot=item.get("lot"),
                quantity=quantity,
            )
            ctx.go(
                "bin",
                quantity=quantity,
                suggested=label_of(suggestion.location),
                rule=putaway.RULE_LABELS[suggestion.rule],
            )
            return info(f"Take {quantity} to {label_of(suggestion.location)}")
        if step == "bin":
            target = ctx.location(value)
            if label_of(target) != data["suggested"] and target.code != data["suggested"]:
                data["override"] = label_of(target)
                return Outcome(
                    "error",
                    f"Wrong bin: scanned {label_of(target)}, expected {data['suggested']}",
                    scanned=label_of(target),
                    expected=data["suggested"],
                    next_step=f"Scan {data['suggested']}, or press Override to use {label_of(target)}",
                )
            return self._book(ctx, target.code, override=False)
        raise ValidationFailed("nothing to scan here", field="scan")

    def _ask_quantity(self, ctx: Ctx) -> Outcome:
        data = ctx.data
        if not data.get("default_qty") or int(data["default_qty"]) > int(data["available"]):
            data["default_qty"] = data["available"]
        ctx.go("quantity")
        return info(f"{item_text(data['item'])}: {data['available']} in receiving")

    def _book(self, ctx: Ctx, location: str, *, override: bool) -> Outcome:
        data = ctx.data
        item = data["item"]
        result = putaway.putaway(
            ctx.uow,
            warehouse=ctx.warehouse.code,
            sku=item["sku"],
            lot=item.get("lot"),
            quantity=int(data["quantity"]),
            to_location=location,
            override=override,
            actor=ctx.user.username,
        )
        ctx.state["data"] = {}
        ctx.go("item")
        note = " (override)" if result.overridden else ""
        return ok(f"Put {result.quantity} x {item_text(item)} in {result.to_location}{note}")

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        if action == "lot" and ctx.step == "lot":
            self.choose_lot(ctx, arg)
            return self._ask_quantity(ctx)
        if action == "override" and ctx.step == "bin" and ctx.data.get("override"):
            return self._book(ctx, ctx.data["override"], override=True)
        if action == "back":
            ctx.state["data"] = {}
            ctx.go("item")
            return info("Scan a product in receiving")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        step, data = ctx.step, ctx.data
        item = data.get("item")
        facts: list[tuple[str, str]] = []
        if item:
            facts.append(("Item", f"{item['sku']} {item['name']}"))
            if item.get("lot"):
                facts.append(("Lot", item["lot"]))
        if step == "item":
            rows = inquiry.location_contents(ctx.session, self._dock(ctx))
            return Screen(
                name="putaway.item",
                title="Put away",
                prompt="Scan a product in receiving",
                expects="a product that is in receiving",
                table=Table(
                    columns=["In receiving", "Lot", "Qty"],
                    rows=[([f"{r.sku} {r.name}", r.lot or "", str(r.quantity)], "") for r in rows],
                )
                if rows
                else None,
                hint="" if rows else "Receiving is empty",
            )
        if step == "lot":
            return self.lot_screen(ctx, "Put away")
        if step == "quantity":
            return Screen(
                name="putaway.quantity",
                title="Put away",
                prompt=f"Quantity — Enter for {data.get('default_qty')}",
                input="number",
                placeholder=str(data.get("default_qty") or ""),
                facts=[*facts, ("In receiving", str(data.get("available")))],
                buttons=[Button("Back", "back")],
            )
        buttons = [Button("Back", "back")]
        if data.get("override"):
            buttons.insert(
                0, Button(f"Override: use {data['override']}", "override", style="danger")
            )
        return Screen(
            name="putaway.bin",
            title="Put away",
            prompt=f"Take to {data.get('suggested')}",
            expects=f"bin {data.get('suggested')}",
            hint=f"Suggested: {data.get('rule')}. Scan the bin to confirm",
            facts=[
                *facts,
                ("Quantity", str(data.get("quantity"))),
                ("Bin", str(data.get("suggested"))),
            ],
            buttons=buttons,
        )


class MoveFlow(Flow):
    name = "move"
    title = "Move"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("from")
        return info("Scan the bin to take from")

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        step, data = ctx.step, ctx.data
        if step == "from":
            source = ctx.location(value, field="from")
            if not source.holds_stock:
                raise ValidationFailed(
                    f"scanned {label_of(source)}: it holds no stock", field="from"
                )
            ctx.state["data"] = {
                "from": source.code,
                "from_label": label_of(source),
                "from_id": source.id,
            }
            ctx.go("item")
            return ok(f"From {label_of(source)}: scan the product")
        if step in ("item", "lot"):
            return self.take_item_step(ctx, step, value)
        if step == "quantity":
            quantity = read_quantity(ctx, value)
            if quantity > int(data["available"]):
                raise ValidationFailed(
                    f"entered {quantity}: only {data['available']} in {data['from_label']}",
                    field="quantity",
                )
            ctx.go("to", quantity=quantity)
            return info(f"Take {quantity}: scan the destination bin")
        if step == "to":
            target = ctx.location(value, field="to")
            item = data["item"]
            stock.move(
                ctx.uow,
                sku=item["sku"],
                lot=item.get("lot"),
                quantity=int(data["quantity"]),
                warehouse=ctx.warehouse.code,
                from_location=data["from"],
                to_location=target.code,
                actor=ctx.user.username,
            )
            moved = f"Moved {data['quantity']} x {item_text(item)} {data['from_label']} → {label_of(target)}"
            ctx.state["data"] = {}
            ctx.go("from")
            return ok(moved)
        raise ValidationFailed("nothing to scan here", field="scan")

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        if action == "lot" and ctx.step == "lot":
            self.choose_lot(ctx, arg)
            ctx.go("quantity")
            return info(f"{item_text(ctx.data['item'])}: {ctx.data['available']} here")
        if action == "back":
            return self.start(ctx, "")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        step, data = ctx.step, ctx.data
        facts: list[tuple[str, str]] = []
        if data.get("from_label"):
            facts.append(("From", data["from_label"]))
        item = data.get("item")
        if item:
            facts.append(("Item", f"{item['sku']} {item['name']}"))
            if item.get("lot"):
                facts.append(("Lot", item["lot"]))
        if data.get("quantity"):
            facts.append(("Quantity", str(data["quantity"])))
        back = [Button("Start over", "back")]
        if step == "from":
            return Screen(name="move.from", title="Move", prompt="Scan the bin to take from")
        if step == "item":
            return Screen(
                name="move.item", title="Move", prompt="Scan the product", facts=facts, buttons=back
            )
        if step == "lot":
            return self.lot_screen(ctx, "Move")
        if step == "quantity":
            return Screen(
                name="move.quantity",
                title="Move",
                prompt="Enter the quantity",
                hint=f"{data.get('available')} here",
                input="number",
                facts=facts,
                buttons=back,
            )
        return Screen(
            name="move.to",
            title="Move",
            prompt="Scan the destination bin",
            facts=facts,
            buttons=back,
        )
