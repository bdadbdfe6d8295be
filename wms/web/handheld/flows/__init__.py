"""The handheld's scan-driven flows: each one a small state machine kept in the session.

A device sends scans and button presses one at a time, in order. Each is applied to the flow's
current step on the server, inside the same transaction as the stock it books, so that a scan
queued offline and replayed later means exactly what it would have meant when it was made. A
refused scan changes nothing: its stock writes roll back to a savepoint and the step stays put.

Flows: receive, inspect (quality control), put away, pick, pack, ship, move, count, approvals
and short picks (supervisors), transfer out, transfer in and inquiry: each a ``Flow`` subclass
and a menu tile.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from sqlalchemy import select

from wms.auth.sessions import can_supervise
from wms.errors import Forbidden, ValidationFailed, WmsError
from wms.inventory.models import (
    CountTask,
    Receipt,
    Transfer,
)
from wms.inventory.scanning import (
    clean,
    printable,
)
from wms.quality.models import Inspection
from wms.web.handheld.flows.base import Ctx, Flow
from wms.web.handheld.flows.count import ApprovalsFlow, CountFlow
from wms.web.handheld.flows.exceptions import PickExceptionsFlow
from wms.web.handheld.flows.inquiry import InquiryFlow
from wms.web.handheld.flows.inspect import InspectFlow
from wms.web.handheld.flows.outbound import task_for_scan
from wms.web.handheld.flows.pack import PackFlow
from wms.web.handheld.flows.pick import PickFlow
from wms.web.handheld.flows.putaway import MoveFlow, PutawayFlow
from wms.web.handheld.flows.receive import ReceiveFlow
from wms.web.handheld.flows.ship import ShipFlow
from wms.web.handheld.flows.transfer import TransferInFlow, TransferOutFlow
from wms.web.handheld.screens import (
    Choice,
    Link,
    Outcome,
    Screen,
    info,
)

MENU = "menu"

FLOWS: dict[str, Flow] = {
    flow.name: flow
    for flow in (
        ReceiveFlow(),
        InspectFlow(),
        PutawayFlow(),
        MoveFlow(),
        CountFlow(),
        TransferOutFlow(),
        TransferInFlow(),
        InquiryFlow(),
        ApprovalsFlow(),
        PickFlow(),
        PackFlow(),
        ShipFlow(),
        PickExceptionsFlow(),
    )
}
MENU_ORDER = [
    "receive",
    "inspect",
    "putaway",
    "pick",
    "pack",
    "ship",
    "move",
    "count",
    "transfer_out",
    "transfer_in",
    "inquiry",
    "approvals",
    "pick_exceptions",
]


def menu_screen(ctx: Ctx) -> Screen:
    tiles = [
        Choice(FLOWS[name].title, "start", name)
        for name in MENU_ORDER
        if not FLOWS[name].supervisors_only or can_supervise(ctx.user)
    ]
    return Screen(
        name="menu",
        title=f"{ctx.warehouse.code} · {ctx.user.display_name}",
        prompt="Scan anything, or choose a task",
        hint="A receipt, inspection, transfer, fulfilment, package, bin or product barcode "
        "opens its task",
        menu=tiles,
        links=[
            Link(f"Change warehouse ({ctx.warehouse.code})", "/handheld/switch-warehouse"),
            *(
                [Link("Print bin labels (PDF)", "/handheld/labels/bins.pdf", new_tab=True)]
                if can_supervise(ctx.user)
                else []
            ),
        ],
    )


def _start(ctx: Ctx, name: str, arg: str = "") -> Outcome:
    flow = FLOWS.get(name)
    if flow is None:
        raise ValidationFailed(f"there is no task {name!r}", field="action")
    if flow.supervisors_only and not can_supervise(ctx.user):
        raise Forbidden(f"{flow.title} is for supervisors", field="action")
    ctx.state.clear()
    ctx.state.update({"flow": name, "step": "", "data": {}})
    return flow.start(ctx, arg)


def _menu_scan(ctx: Ctx, value: str) -> Outcome:
    """A scan on the menu opens the task it belongs to."""
    code = clean(value).upper()
    session = ctx.session
    if session.scalar(select(Receipt.id).where(Receipt.code == code)) is not None:
        return _start(ctx, "receive", code)
    if session.scalar(select(Inspection.id).where(Inspection.code == code)) is not None:
        return _start(ctx, "inspect", code)
    if session.scalar(select(Transfer.id).where(Transfer.reference == code)) is not None:
        return _start(ctx, "transfer_in", code)
    if session.scalar(select(CountTask.id).where(CountTask.code == code)) is not None:
        return _start(ctx, "count", code)
    outbound = task_for_scan(ctx, value)  # a fulfilment order or package label
    if outbound is not None:
        return _start(ctx, *outbound)
    return _start(ctx, "inquiry", clean(value))


def screen_for(ctx: Ctx) -> Screen:
    flow = FLOWS.get(str(ctx.state.get("flow", MENU)))
    if flow is None:
        return menu_screen(ctx)
    return flow.screen(ctx)


@dataclass(frozen=True)
class Entry:
    """One scan or button press from a device, with the id the device gave it."""

    id: str
    kind: str  # "scan" or "action"
    value: str = ""
    action: str = ""
    arg: str = ""


def apply(ctx: Ctx, entry: Entry) -> Outcome:
    """Apply one entry to the session's flow; a refused entry leaves stock and state unchanged."""
    before = copy.deepcopy(ctx.state)
    try:
        with ctx.session.begin_nested():
            outcome = _dispatch(ctx, entry)
    except WmsError as exc:
        ctx.state.clear()
        ctx.state.update(before)
        current = screen_for(ctx)
        if current.on_error:
            next_step = current.on_error
        elif current.input == "number":
            next_step = "Type it again and press Enter"
        else:
            next_step = "Check the label and scan again"
        if entry.kind != "scan":
            scanned = entry.action
        elif current.secret:
            scanned = "(a badge; not shown)"  # the answer is stored: keep the credential out
        else:
            scanned = printable(entry.value) or "(empty)"
        return Outcome(
            "error",
            _sentence(exc.message),
            scanned=scanned,
            expected=current.expects or current.prompt,
            next_step=next_step,
        )
    return outcome


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] if message else message


def _dispatch(ctx: Ctx, entry: Entry) -> Outcome:
    flow_name = str(ctx.state.get("flow", MENU))
    if entry.kind == "action":
        if entry.action == "menu":
            ctx.state.clear()
            ctx.state.update({"flow": MENU})
            return info("Menu")
        if entry.action == "start":  # "flow", or "flow:document" to open it there
            name, _, arg = entry.arg.partition(":")
            return _start(ctx, name, arg)
    flow = FLOWS.get(flow_name)
    if flow is None:
        if entry.kind == "scan":
            if not clean(entry.value):
                raise ValidationFailed(
                    "scanned nothing: scan a barcode or choose a task", field="scan"
                )
            return _menu_scan(ctx, entry.value)
        raise ValidationFailed(f"{entry.action} is not available on the menu", field="action")
    if entry.kind == "scan":
        return flow.on_scan(ctx, entry.value)
    return flow.on_action(ctx, entry.action, entry.arg)


__all__ = ["FLOWS", "MENU", "Ctx", "Entry", "apply", "menu_screen", "screen_for"]
