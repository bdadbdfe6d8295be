"""Short picks for supervisors: review each one and re-allocate or backorder what is missing."""

from __future__ import annotations

from wms.errors import ValidationFailed
from wms.fulfillment import exceptions
from wms.fulfillment.exceptions import ExceptionView
from wms.fulfillment.models import ExceptionStatus
from wms.inventory.scanning import clean
from wms.web.handheld.flows.base import Ctx, Flow
from wms.web.handheld.flows.outbound import short_id
from wms.web.handheld.screens import Button, Choice, Outcome, Screen, info, ok

DECISIONS = {"reallocate": "re-allocated", "backorder": "backordered"}


class PickExceptionsFlow(Flow):
    name = "pick_exceptions"
    title = "Short picks"
    supervisors_only = True

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("list")
        return info("Short picks waiting for a decision")

    def _load(self, ctx: Ctx, raw: str) -> ExceptionView:
        value = clean(raw)
        if not value.isdigit():
            raise ValidationFailed("choose a short pick from the list", field="exception")
        view = exceptions.get_exception(ctx.session, int(value))
        if view.warehouse != ctx.warehouse.code:
            raise ValidationFailed(
                f"short pick {view.id} is at {view.warehouse}, not {ctx.warehouse.code}",
                field="exception",
            )
        return view

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        if ctx.step == "list":
            raise ValidationFailed("choose a short pick from the list", field="scan")
        raise ValidationFailed("press Re-allocate or Backorder", field="scan")

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        if action == "open" and ctx.step == "list":
            view = self._load(ctx, arg)
            if view.status != ExceptionStatus.OPEN:
                raise ValidationFailed(f"short pick {view.id} is already {view.status}")
            ctx.go("review", exception=view.id)
            return info(f"{view.short_quantity} x {view.sku} missing in {view.location}")
        if action == "resolve" and ctx.step == "review":
            if arg not in DECISIONS:
                raise ValidationFailed(f"{arg} is not a decision here", field="action")
            view = exceptions.resolve(
                ctx.uow, int(ctx.data["exception"]), action=arg, actor=ctx.user.username
            )
            ctx.state["data"] = {}
            ctx.go("list")
            return ok(
                f"{view.short_quantity} x {view.sku} {DECISIONS[arg]}; fulfilment "
                f"{short_id(view.fulfillment)} is {view.fulfillment_status}"
            )
        if action == "back":
            return self.start(ctx, "")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        if ctx.step == "list":
            rows = exceptions.list_exceptions(ctx.session, warehouse=ctx.warehouse.code)
            return Screen(
                name="pick_exceptions.list",
                title="Short picks",
                prompt="Choose a short pick",
                hint="" if rows else "No short picks are waiting",
                expects="a short pick from the list",
                choices=[
                    Choice(
                        f"{r.short_quantity} x {r.sku} · {r.location_barcode or r.location}",
                        "open",
                        str(r.id),
                        f"{r.order_ref} · {short_id(r.fulfillment)} · by {r.reported_by}",
                    )
                    for r in rows
                ],
            )
        view = exceptions.get_exception(ctx.session, int(ctx.data["exception"]))
        return Screen(
            name="pick_exceptions.review",
            title=f"Short pick {view.id}",
            prompt=f"{view.short_quantity} x {view.sku} missing",
            hint="Re-allocate finds it elsewhere; Backorder lets the order wait for stock. "
            "A count of the bin is already asked for.",
            expects="Re-allocate or Backorder",
            facts=[
                ("Item", f"{view.sku} {view.name}"),
                *([("Lot", view.lot)] if view.lot else []),
                ("Bin", view.location_barcode or view.location),
                ("Asked", str(view.task_quantity)),
                ("Found", str(view.picked)),
                ("Order", view.order_ref),
                ("Fulfilment", view.fulfillment),
                ("Reported", f"{view.reported_by} {view.reported_at:%d %b %H:%M}"),
            ],
            buttons=[
                Button("Re-allocate", "resolve", "reallocate", style="primary"),
                Button("Backorder", "resolve", "backorder", style="danger"),
                Button("Back", "back"),
            ],
        )
