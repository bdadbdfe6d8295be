"""Transfers between warehouses: ship out to transit, receive in."""

from __future__ import annotations

from sqlalchemy import select

from wms.errors import ValidationFailed
from wms.inventory import stock
from wms.inventory.models import (
    Lot,
    Product,
    Transfer,
    Warehouse,
)
from wms.inventory.scanning import (
    clean,
    printable,
    resolve_product,
)
from wms.web.handheld.flows.base import Ctx, Flow, item_text, label_of, read_quantity
from wms.web.handheld.screens import (
    Button,
    Choice,
    Outcome,
    Screen,
    Table,
    info,
    ok,
)


class TransferOutFlow(Flow):
    name = "transfer_out"
    title = "Transfer out"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {"lines": []}
        ctx.go("destination")
        return info("Choose the destination warehouse")

    def _destination(self, ctx: Ctx, code: str) -> Outcome:
        code = clean(code).upper()
        row = ctx.session.scalar(select(Warehouse).where(Warehouse.code == code, Warehouse.active))
        if row is None or row.id == ctx.warehouse.id:
            raise ValidationFailed(
                f"scanned {printable(code)}: expected another warehouse's code",
                field="to_warehouse",
            )
        ctx.go("from", to=row.code)
        return ok(f"To {row.code}: scan the bin to take from")

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        step, data = ctx.step, ctx.data
        if step == "destination":
            return self._destination(ctx, value)
        if step == "from":
            source = ctx.location(value, field="from")
            if not source.holds_stock:
                raise ValidationFailed(
                    f"scanned {label_of(source)}: it holds no stock", field="from"
                )
            ctx.go(
                "item",
                **{"from": source.code, "from_label": label_of(source), "from_id": source.id},
            )
            return ok(f"From {label_of(source)}: scan the product")
        if step in ("item", "lot"):
            return self.take_item_step(ctx, step, value)
        if step == "quantity":
            quantity = read_quantity(ctx, value)
            already = sum(
                int(ln["quantity"])
                for ln in data["lines"]
                if ln["sku"] == data["item"]["sku"]
                and ln.get("lot") == data["item"].get("lot")
                and ln["from"] == data["from"]
            )
            if quantity + already > int(data["available"]):
                raise ValidationFailed(
                    f"entered {quantity}: only {int(data['available']) - already} left in {data['from_label']}",
                    field="quantity",
                )
            item = data.pop("item")
            data["lines"].append(
                {
                    "sku": item["sku"],
                    "lot": item.get("lot"),
                    "from": data["from"],
                    "quantity": quantity,
                }
            )
            data.pop("default_qty", None)
            ctx.go("from")
            return ok(f"Added {quantity} x {item_text(item)}; scan the next bin or press Ship")
        raise ValidationFailed("nothing to scan here", field="scan")

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        data = ctx.data
        if action == "pick" and ctx.step == "destination":
            return self._destination(ctx, arg)
        if action == "lot" and ctx.step == "lot":
            self.choose_lot(ctx, arg)
            ctx.go("quantity")
            return info(f"{item_text(data['item'])}: {data['available']} here")
        if action == "ship" and data.get("lines"):
            result = stock.ship_transfer(
                ctx.uow,
                from_warehouse=ctx.warehouse.code,
                to_warehouse=data["to"],
                lines=[
                    stock.TransferLineRequest(
                        sku=ln["sku"],
                        quantity=int(ln["quantity"]),
                        location=ln["from"],
                        lot=ln.get("lot"),
                    )
                    for ln in data["lines"]
                ],
                actor=ctx.user.username,
            )
            ctx.state["data"] = {"reference": result.reference, "to": data["to"]}
            ctx.go("shipped")
            return ok(f"Transfer {result.reference} shipped to {data['to']}: in transit")
        if action == "back":
            for key in ("item", "default_qty", "available"):
                data.pop(key, None)
            ctx.go("from" if data.get("to") else "destination")
            return info("Scan the bin to take from")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        step, data = ctx.step, ctx.data
        if step == "destination":
            rows = ctx.session.scalars(
                select(Warehouse)
                .where(Warehouse.active, Warehouse.id != ctx.warehouse.id)
                .order_by(Warehouse.code)
            ).all()
            return Screen(
                name="transfer_out.destination",
                title="Transfer out",
                prompt="Choose the destination warehouse",
                choices=[Choice(w.code, "pick", w.code, w.name) for w in rows],
            )
        if step == "shipped":
            return Screen(
                name="transfer_out.shipped",
                title="Transfer out",
                prompt=f"Shipped {data.get('reference')}",
                hint=f"Label the goods with {data.get('reference')}; {data.get('to')} receives them",
                facts=[("Transfer", str(data.get("reference"))), ("To", str(data.get("to")))],
                buttons=[
                    Button("New transfer", "start", "transfer_out", style="primary"),
                    Button("Menu", "menu"),
                ],
            )
        lines = Table(
            columns=["SKU", "Lot", "From", "Qty"],
            rows=[
                ([ln["sku"], ln.get("lot") or "", ln["from"], str(ln["quantity"])], "")
                for ln in data.get("lines", [])
            ],
        )
        facts = [("To", str(data.get("to")))]
        if data.get("from_label") and step != "from":
            facts.append(("From", data["from_label"]))
        item = data.get("item")
        if item:
            facts.append(("Item", f"{item['sku']} {item['name']}"))
        buttons = [Button("Back", "back")]
        if data.get("lines"):
            buttons.insert(0, Button(f"Ship {len(data['lines'])} line(s)", "ship", style="primary"))
        prompts = {
            "from": "Scan the bin to take from",
            "item": "Scan the product",
            "quantity": "Enter the quantity",
        }
        if step == "lot":
            return self.lot_screen(ctx, "Transfer out")
        return Screen(
            name=f"transfer_out.{step}",
            title=f"Transfer to {data.get('to')}",
            prompt=prompts.get(step, ""),
            hint=f"{data.get('available')} here" if step == "quantity" else "",
            input="number" if step == "quantity" else "text",
            facts=facts,
            table=lines if data.get("lines") else None,
            buttons=buttons,
        )


class TransferInFlow(Flow):
    name = "transfer_in"
    title = "Transfer in"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("transfer")
        if arg:
            return self._open(ctx, arg)
        return info("Scan the transfer's barcode or choose it")

    def _open(self, ctx: Ctx, reference: str) -> Outcome:
        reference = clean(reference).upper()
        row = ctx.session.scalar(select(Transfer).where(Transfer.reference == reference))
        if row is None:
            raise ValidationFailed(f"scanned {printable(reference)}: no transfer has this barcode")
        if row.to_warehouse_id != ctx.warehouse.id:
            raise ValidationFailed(
                f"transfer {reference} goes to another warehouse, not {ctx.warehouse.code}"
            )
        if row.status == "received":
            raise ValidationFailed(f"transfer {reference} was already received")
        ctx.go("confirm", reference=reference)
        return ok(f"Transfer {reference}: check the goods, then Receive")

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        if ctx.step == "transfer":
            return self._open(ctx, value)
        if ctx.step == "confirm":
            scanned = resolve_product(ctx.session, value)
            lines = self._lines(ctx)
            if scanned.product.sku not in {ln[0] for ln in lines}:
                raise ValidationFailed(
                    f"scanned {scanned.product.sku}: not on transfer {ctx.data['reference']}",
                    field="scan",
                )
            return ok(f"{scanned.product.sku} is on this transfer")
        raise ValidationFailed("nothing to scan here", field="scan")

    def _lines(self, ctx: Ctx) -> list[tuple[str, str, int, int]]:
        transfer = ctx.session.scalar(
            select(Transfer).where(Transfer.reference == ctx.data["reference"])
        )
        assert transfer is not None
        out = []
        for line in transfer.lines:
            product = ctx.session.get(Product, line.product_id)
            lot = ctx.session.get(Lot, line.lot_id) if line.lot_id else None
            out.append(
                (
                    product.sku if product else "?",
                    lot.code if lot else "",
                    line.quantity,
                    line.received_quantity,
                )
            )
        return out

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        if action == "open" and ctx.step == "transfer":
            return self._open(ctx, arg)
        if action == "receive" and ctx.step == "confirm":
            result = stock.receive_transfer(
                ctx.uow, reference=ctx.data["reference"], actor=ctx.user.username
            )
            ctx.state["data"] = {}
            ctx.go("transfer")
            return ok(f"Transfer {result.reference} received into receiving: put it away next")
        if action == "back":
            return self.start(ctx, "")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        if ctx.step == "transfer":
            rows = ctx.session.execute(
                select(Transfer.reference, Warehouse.code, Transfer.shipped_at)
                .join(Warehouse, Warehouse.id == Transfer.from_warehouse_id)
                .where(Transfer.to_warehouse_id == ctx.warehouse.id, Transfer.status != "received")
                .order_by(Transfer.shipped_at)
                .limit(30)
            ).all()
            return Screen(
                name="transfer_in.transfer",
                title="Transfer in",
                prompt="Scan the transfer barcode",
                hint="Or choose an incoming transfer" if rows else "No transfers are on their way",
                choices=[
                    Choice(
                        r.reference,
                        "open",
                        r.reference,
                        f"from {r.code} · {r.shipped_at:%d %b %H:%M}",
                    )
                    for r in rows
                ],
            )
        return Screen(
            name="transfer_in.confirm",
            title=f"Transfer {ctx.data['reference']}",
            prompt="Check the goods, then Receive",
            hint="Scanning a product checks it is on this transfer",
            table=Table(
                columns=["SKU", "Lot", "Shipped", "Received"],
                rows=[([sku, lot, str(q), str(r)], "") for sku, lot, q, r in self._lines(ctx)],
            ),
            buttons=[Button("Receive all", "receive", style="primary"), Button("Back", "back")],
        )
