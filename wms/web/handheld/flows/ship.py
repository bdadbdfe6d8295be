"""Shipping on the handheld: scan a packed fulfilment (or a package label), carrier, tracking, ship.

The carrier is tapped from the list or typed; the tracking number is scanned from the carrier's
label. Nothing is booked until "Ship": then the packed stock leaves to the customer, the order
counts it shipped and the storefront gets ``fulfillment.shipped`` with the tracking number.
"""

from __future__ import annotations

from wms.errors import ValidationFailed
from wms.fulfillment import packing, shipping
from wms.fulfillment.models import FulfillmentStatus
from wms.fulfillment.shipping import MAX_FIELD
from wms.fulfillment.workflow import find_fulfillment
from wms.inventory.scanning import clean, printable
from wms.web.handheld.flows.base import Ctx, Flow
from wms.web.handheld.flows.outbound import choose_fulfillment, expect_fulfillment, short_id
from wms.web.handheld.screens import Button, Choice, Outcome, Screen, Table, info, ok

CARRIERS = (
    "SF Express",
    "JD Logistics",
    "China Post EMS",
    "ZTO Express",
    "YTO Express",
    "STO Express",
    "Yunda Express",
)


def _text(raw: str, what: str, field: str) -> str:
    value = clean(raw)
    if not value:
        raise ValidationFailed(f"scanned nothing: {what} is needed", field=field)
    if len(value) > MAX_FIELD or not value.isprintable():
        raise ValidationFailed(
            f"scanned {printable(value)[:40]}: not a {what} (at most {MAX_FIELD} characters)",
            field=field,
        )
    return value


class ShipFlow(Flow):
    name = "ship"
    title = "Ship"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("choose")
        if arg:
            return self._open(ctx, arg)
        return info("Scan a packed fulfilment order or a package label")

    def _open(self, ctx: Ctx, value: str) -> Outcome:
        row = expect_fulfillment(ctx, value, wanted="a packed fulfilment order or package label")
        if row.status != FulfillmentStatus.PACKED:
            raise ValidationFailed(
                f"fulfilment {row.public_id} is {row.status}; only a packed one ships",
                field="fulfillment",
            )
        ctx.state["data"] = {"fulfillment": row.public_id}
        ctx.go("carrier")
        return ok(f"Fulfilment {short_id(row.public_id)}: choose the carrier")

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        step = ctx.step
        if step in ("choose", "shipped"):
            return self._open(ctx, value)
        if step == "carrier":
            ctx.go("tracking", carrier=_text(value, "carrier name", "carrier"))
            return ok(f"{ctx.data['carrier']}: scan the tracking number")
        if step == "tracking":
            ctx.go("confirm", tracking=_text(value, "tracking number", "tracking_number"))
            return ok(f"Tracking {ctx.data['tracking']}: press Ship")
        raise ValidationFailed("press Ship to confirm, or Back", field="scan")

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        step, data = ctx.step, ctx.data
        if action == "open" and step in ("choose", "shipped"):
            return self._open(ctx, arg)
        if action == "carrier" and step == "carrier":
            if arg not in CARRIERS:
                raise ValidationFailed(f"{arg} is not on the carrier list", field="carrier")
            ctx.go("tracking", carrier=arg)
            return ok(f"{arg}: scan the tracking number")
        if action == "ship" and step == "confirm":
            result = shipping.ship(
                ctx.uow,
                data["fulfillment"],
                carrier=data["carrier"],
                tracking_number=data["tracking"],
                actor=ctx.user.username,
                warehouse=ctx.warehouse.code,
            )
            ctx.go("shipped")
            return ok(
                f"Shipped {short_id(data['fulfillment'])} with {data['carrier']} "
                f"{data['tracking']}: {len(result.data['packages'])} package(s) left"
            )
        if action == "back" and step in ("tracking", "confirm"):
            data.pop("tracking", None)
            data.pop("carrier", None)
            ctx.go("carrier")
            return info("Choose the carrier")
        if action == "list":
            return self.start(ctx, "")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        step, data = ctx.step, ctx.data
        if step == "choose":
            return self._choose_screen(ctx)
        fid = data["fulfillment"]
        fulfillment = find_fulfillment(ctx.session, fid)
        view = packing.packing_view(ctx.session, fid)
        title = f"Ship {short_id(fid)}"
        facts = [
            ("Fulfilment", fid),
            ("Packages", str(len(view.packages))),
            ("Weight", f"{sum(p.weight_g or 0 for p in view.packages)} g"),
        ]
        if data.get("carrier"):
            facts.append(("Carrier", data["carrier"]))
        if data.get("tracking"):
            facts.append(("Tracking", data["tracking"]))
        packages = Table(
            columns=["#", "SSCC", "Units", "g"],
            rows=[
                (
                    [
                        str(p.number),
                        p.sscc,
                        str(sum(i.quantity for i in p.items)),
                        str(p.weight_g or ""),
                    ],
                    "",
                )
                for p in view.packages
            ],
        )
        if step == "carrier":
            return Screen(
                name="ship.carrier",
                title=title,
                prompt="Choose the carrier",
                hint="Or type its name",
                expects="a carrier",
                facts=facts,
                table=packages,
                choices=[Choice(c, "carrier", c) for c in CARRIERS],
            )
        if step == "tracking":
            return Screen(
                name="ship.tracking",
                title=title,
                prompt="Scan the tracking number",
                hint="From the carrier's label",
                expects="the carrier's tracking number",
                facts=facts,
                buttons=[Button("Back", "back")],
            )
        if step == "confirm":
            return Screen(
                name="ship.confirm",
                title=title,
                prompt="Ship it?",
                hint="The stock leaves the warehouse; the customer is told the tracking number",
                expects="the Ship button",
                facts=facts,
                table=packages,
                buttons=[Button("Ship", "ship", style="primary"), Button("Back", "back")],
            )
        return Screen(
            name="ship.shipped",
            title=title,
            prompt=f"Shipped with {fulfillment.carrier} {fulfillment.tracking_number}",
            hint="Scan the next packed fulfilment order",
            expects="a packed fulfilment order or package label",
            facts=[("Fulfilment", fid), ("Status", fulfillment.status)],
            buttons=[Button("Next", "list")],
        )

    def _choose_screen(self, ctx: Ctx) -> Screen:
        return choose_fulfillment(
            ctx,
            name="ship.choose",
            title="Ship",
            prompt="Scan a packed fulfilment order or package label",
            expects="a packed fulfilment order or package label",
            statuses=[FulfillmentStatus.PACKED],
            hint="Or choose one to ship",
            empty="Nothing is waiting to ship",
        )
