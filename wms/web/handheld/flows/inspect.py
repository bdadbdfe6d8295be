"""Inspect a lot held in quality control: take the sample, record defects, verdict, disposition."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from wms.auth.sessions import check_supervisor
from wms.errors import ValidationFailed
from wms.inventory.scanning import clean, printable
from wms.quality.dispositions import ALLOWED, dispose
from wms.quality.inspections import (
    OPEN_STATUSES,
    FindingInput,
    UnknownInspection,
    decide,
    record_findings,
)
from wms.quality.models import DefectClass, Disposition, Finding, InspectionStatus
from wms.quality.views import InspectionView, inspection_view, list_inspections
from wms.web.handheld.flows.base import Ctx, Flow
from wms.web.handheld.screens import Button, Choice, Link, Outcome, Screen, Table, info, ok

CLASSES = [c.value for c in DefectClass]
DONE = (InspectionStatus.CLOSED, InspectionStatus.CANCELLED)
LISTED = [s for s in InspectionStatus if s not in DONE]  # waiting for a verdict or a disposition
CONFIRMED = (Disposition.RETURN, Disposition.SCRAP)  # the stock leaves for good: ask first
DONE_AS = {
    Disposition.ACCEPT: "released to putaway",
    Disposition.USE_AS_IS: "used as is",
    Disposition.RETURN: "returned to the supplier",
    Disposition.SCRAP: "scrapped",
    Disposition.REWORK: "sent to rework",
}
DISPOSITION_BUTTONS = {
    Disposition.ACCEPT: Button("Release to putaway", "dispose", "accept", "primary"),
    Disposition.RETURN: Button("Return to supplier", "dispose", "return", "primary"),
    Disposition.SCRAP: Button("Scrap", "dispose", "scrap", "danger"),
    Disposition.REWORK: Button("Rework", "dispose", "rework"),
    Disposition.USE_AS_IS: Button("Use as is", "dispose", "use_as_is"),
}
FINDING_KEYS = ("unit", "position", "defect_class")
Facts = list[tuple[str, str]]


def photo_href(code: str, finding_id: int) -> str:
    return f"/handheld/inspections/{code}/findings/{finding_id}/photo"


def _lot(view: InspectionView) -> str:
    return f"{view.sku}{' lot ' + view.lot if view.lot else ''}"


def _plan_text(view: InspectionView, cls: str) -> str:
    plan, n = view.plans[cls], int(view.plans[cls]["sample_size"])
    units = f"whole lot (1 to {n})" if n >= view.quantity else f"units 1 to {n}"
    counted = "defects" if plan["basis"] == "nonconformities" else "found"
    return (
        f"{units} · Ac {plan['ac']} / Re {plan['re']} · {counted} {view.counts[cls]}"
        f" · {plan['severity']}"
    )


def _allowed(view: InspectionView) -> tuple[Disposition, ...]:
    return ALLOWED.get(InspectionStatus(view.status), ())


def _refuse_unless_allowed(view: InspectionView, arg: str) -> Disposition:
    """The disposition, when the verdict allows it (a screen may be stale: say why not)."""
    allowed = _allowed(view)
    if arg in allowed:
        return Disposition(arg)
    if view.disposition:
        now = f"already closed: {DONE_AS[Disposition(view.disposition)]}; nothing more to do"
    elif not allowed:
        now = f"{view.status}: it needs a verdict first"
    else:
        now = f"{view.status}: it can be {' or '.join(DONE_AS[a] for a in allowed)}"
    raise ValidationFailed(f"inspection {view.code} is {now}", field="disposition")


class InspectFlow(Flow):
    name = "inspect"
    title = "Inspect"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("choose")
        if arg:
            return self._open(ctx, arg)
        return info("Scan an inspection's code or choose it")

    def _view(self, ctx: Ctx) -> InspectionView:
        return inspection_view(ctx.session, str(ctx.data["inspection"]))

    def _open(self, ctx: Ctx, raw: str) -> Outcome:
        code = clean(raw).upper()
        try:
            view = inspection_view(ctx.session, code)
        except UnknownInspection:
            raise ValidationFailed(
                f"scanned {printable(code) or 'nothing'}: no inspection has this code",
                field="scan",
            ) from None
        if view.warehouse != ctx.warehouse.code:
            raise ValidationFailed(
                f"inspection {view.code} is in {view.warehouse}, not {ctx.warehouse.code}"
            )
        if view.status not in LISTED:
            how = f": {DONE_AS[Disposition(view.disposition)]}" if view.disposition else ""
            raise ValidationFailed(f"inspection {view.code} is {view.status}{how}; nothing to do")
        ctx.state["data"] = {"inspection": view.code}
        if view.status in OPEN_STATUSES:
            ctx.go("inspect")
            return ok(
                f"Inspection {view.code}: take the {view.sample_size} units listed from the lot "
                f"of {view.quantity}; type a unit's number for each defect"
            )
        ctx.go("verdict")
        return ok(f"Inspection {view.code} is {view.status}: choose what happens to the lot")

    # Scans and buttons ----------------------------------------------------------------------

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        step = ctx.step
        if step in ("choose", "done"):
            return self._open(ctx, value)
        if step == "inspect":
            view = self._view(ctx)
            unit = self._unit(view, value)
            ctx.go("class", unit=unit, position=view.units[unit - 1])
            return info(f"Unit {unit} (#{view.units[unit - 1]}): choose the defect class")
        if step == "class":
            return self._choose_class(ctx, clean(value).lower())
        if step == "note":
            return self._record(ctx, printable(value).strip())
        if step == "supervisor":
            supervisor = check_supervisor(ctx.uow, badge=clean(value))
            return self._dispose(ctx, Disposition.USE_AS_IS, approved_by=supervisor.username)
        raise ValidationFailed("nothing to scan here: tap a button", field="scan")

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        step, data = ctx.step, ctx.data
        if action == "open" and step in ("choose", "done"):
            return self._open(ctx, arg)
        if action == "back" and step in ("choose", "inspect", "verdict", "done"):
            return self.start(ctx, "")
        if action == "defect" and step == "class":
            return self._choose_class(ctx, arg)
        if action == "record" and step == "note":
            return self._record(ctx, "")
        if action == "cancel" and step in ("class", "note"):
            for key in FINDING_KEYS:
                data.pop(key, None)
            ctx.go("inspect")
            return info("Nothing recorded: type the next unit's number")
        if action == "cancel" and step in ("confirm", "supervisor"):
            data.pop("pending", None)
            ctx.go("verdict")
            return info("Nothing done: choose what happens to the lot")
        if action == "decide" and step == "inspect":
            return self._decide(ctx)
        if action == "dispose" and step == "verdict":
            view = self._view(ctx)
            disposition = _refuse_unless_allowed(view, arg)
            if disposition == Disposition.USE_AS_IS:
                ctx.go("supervisor")
                return info("Using a rejected lot as is needs a supervisor: scan their badge")
            if disposition in CONFIRMED:
                ctx.go("confirm", pending=disposition.value)
                return info(f"Confirm: {view.quantity} x {_lot(view)} {DONE_AS[disposition]}?")
            return self._dispose(ctx, disposition, approved_by=None)
        if action == "confirm" and step == "confirm":
            return self._dispose(ctx, Disposition(data["pending"]), approved_by=None)
        raise ValidationFailed(f"{action} is not available here", field="action")

    def _unit(self, view: InspectionView, raw: str) -> int:
        value, n = clean(raw), view.sample_size
        if not value.isascii() or not value.isdigit():
            raise ValidationFailed(
                f"scanned {printable(value) or 'nothing'}: expected a unit number, 1 to {n} "
                "(the unit's place in the sample, not a barcode)",
                field="unit",
            )
        if not 1 <= int(value) <= n:
            raise ValidationFailed(
                f"scanned unit {int(value)}: the sample has units 1 to {n} only", field="unit"
            )
        return int(value)

    def _choose_class(self, ctx: Ctx, cls: str) -> Outcome:
        if cls not in CLASSES:
            raise ValidationFailed(
                f"entered {printable(cls) or 'nothing'}: expected a defect class, "
                f"{', '.join(CLASSES)}",
                field="defect_class",
            )
        ctx.go("note", defect_class=cls)
        return info(f"{cls.title()} defect on unit {ctx.data['unit']}: type a note or press Enter")

    def _record(self, ctx: Ctx, note: str) -> Outcome:
        data = ctx.data
        cls, unit = str(data["defect_class"]), int(data["unit"])
        row = record_findings(
            ctx.uow,
            inspection=str(data["inspection"]),
            findings=[FindingInput(cls, unit, note)],
            actor=ctx.user.username,
        )
        # record_findings gives back the (locked) inspection: its newest finding is this one.
        finding_id = ctx.session.scalar(
            select(func.max(Finding.id)).where(Finding.inspection_id == row.id)
        )
        for key in FINDING_KEYS:
            data.pop(key, None)
        ctx.go("inspect", last_finding=finding_id)
        view = self._view(ctx)
        plan = view.plans[cls]
        counted = (
            f"{cls} {view.counts[cls]} found, Ac {plan['ac']} / Re {plan['re']}"
            if unit <= int(plan["sample_size"])
            else f"not counted: the {cls} sample is units 1 to {plan['sample_size']}"
        )
        return ok(f"Recorded a {cls} defect on unit {unit} (#{view.units[unit - 1]}): {counted}")

    def _decide(self, ctx: Ctx) -> Outcome:
        decision = decide(ctx.uow, inspection=str(ctx.data["inspection"]), actor=ctx.user.username)
        code = decision.inspection.code
        ctx.go("verdict", ncr=decision.ncr_code)
        switched = "".join(
            f"; {cls} inspection goes {t.from_severity} to {t.to_severity}"
            for cls, t in decision.transitions
        )
        if decision.accepted:
            return ok(f"Inspection {code}: lot accepted{switched}; release it to putaway")
        failed = ", ".join(
            f"{cls} {d['found']} found (Re {d['re']})"
            for cls, d in (decision.inspection.verdict_detail or {}).items()
            if d["outcome"] == "reject"
        )
        return ok(
            f"Inspection {code}: lot rejected, {failed}; {decision.ncr_code} opened{switched}"
        )

    def _dispose(self, ctx: Ctx, disposition: Disposition, *, approved_by: str | None) -> Outcome:
        code = str(ctx.data["inspection"])
        _refuse_unless_allowed(self._view(ctx), disposition.value)
        result = dispose(
            ctx.uow,
            inspection=code,
            disposition=disposition.value,
            actor=ctx.user.username,
            approved_by=approved_by,
        )
        ctx.data.pop("pending", None)
        ctx.go("done", return_code=result.return_code, resubmission=result.resubmission)
        view = self._view(ctx)
        lot = f"{result.quantity} x {_lot(view)}"
        if disposition == Disposition.RETURN:
            return ok(f"Return {result.return_code}: {lot} back to {view.supplier}")
        if disposition == Disposition.REWORK:
            return ok(f"Rework: {lot} stays held; re-inspect it as {result.resubmission}")
        if disposition == Disposition.SCRAP:
            return ok(f"Scrapped {lot}")
        approved = f" (approved by {approved_by})" if approved_by else ""
        return ok(f"Released {lot} to receiving{approved}: put it away")

    # Screens ---------------------------------------------------------------------------------

    def screen(self, ctx: Ctx) -> Screen:
        step = ctx.step
        if step == "choose":
            rows = list_inspections(
                ctx.session, warehouse=ctx.warehouse.code, statuses=LISTED, limit=50
            )
            return Screen(
                name="inspect.choose",
                title="Inspect",
                prompt="Scan the inspection code",
                expects=f"an inspection of {ctx.warehouse.code} (QC-...)",
                on_error="Scan the inspection's code, or tap it in the list",
                hint="Or choose a held lot" if rows else "No lot is waiting for inspection",
                choices=[
                    Choice(
                        r.code,
                        "open",
                        r.code,
                        f"{r.sku}{' lot ' + r.lot if r.lot else ''} · {r.quantity} · {r.status}",
                    )
                    for r in rows
                ],
            )
        view = self._view(ctx)
        facts = [
            ("Inspection", view.code),
            ("Product", f"{view.sku} {view.product_name}"),
            ("Lot", view.lot or "none"),
            ("Quantity", str(view.quantity)),
            ("Supplier", view.supplier),
        ]
        if step == "inspect":
            return self._inspect_screen(ctx, view, facts)
        if step in ("class", "note"):
            data = ctx.data
            unit = f"unit {data['unit']} (#{data['position']})"
            if step == "class":
                return self._screen(
                    "class",
                    view,
                    facts,
                    prompt=f"Which defect on {unit}?",
                    expects="a defect class: critical, major or minor",
                    on_error="Tap Critical, Major or Minor",
                    hint="Critical: unsafe or unusable · Major: fails its use · Minor: cosmetic",
                    buttons=[
                        Button("Critical", "defect", "critical", style="danger"),
                        Button("Major", "defect", "major", style="primary"),
                        Button("Minor", "defect", "minor"),
                        Button("Cancel", "cancel"),
                    ],
                )
            return self._screen(
                "note",
                view,
                facts,
                prompt=f"Note on the {data['defect_class']} defect of {unit}: Enter for none",
                hint="Type what is wrong; a photo can be added next",
                buttons=[Button("Record", "record", style="primary"), Button("Cancel", "cancel")],
            )
        return self._verdict_screen(ctx, view, facts)

    def _screen(self, step: str, view: InspectionView, facts: Facts, **kw: Any) -> Screen:
        return Screen(name=f"inspect.{step}", title=f"Inspect {view.code}", facts=facts, **kw)

    def _inspect_screen(self, ctx: Ctx, view: InspectionView, facts: Facts) -> Screen:
        found: dict[int, list[str]] = {}
        for f in view.findings:
            found.setdefault(f.unit or 0, []).append(f.defect_class)
        last = next((f for f in view.findings if f.id == ctx.data.get("last_finding")), None)
        links = []
        if last is not None:
            label = f"{'Replace' if last.has_photo else 'Add'} photo: unit {last.unit}"
            links.append(Link(f"{label}, {last.defect_class}", photo_href(view.code, last.id)))
        return self._screen(
            "inspect",
            view,
            facts + [(cls.title(), _plan_text(view, cls)) for cls in CLASSES],
            prompt="Defect found? Type the unit's number",
            expects=f"a unit number, 1 to {view.sample_size}",
            on_error=f"Type the unit's number in the sample (1 to {view.sample_size})",
            hint="No more defects: press Done for the verdict",
            input="number",
            table=Table(
                columns=["Unit", "Take #", "Defects"],
                rows=[
                    ([str(i), f"#{pos}", ", ".join(found.get(i, []))], "over" if i in found else "")
                    for i, pos in enumerate(view.units, start=1)
                ],
                caption=f"Take these {view.sample_size} units of the {view.quantity}, in order",
            ),
            links=links,
            buttons=[
                Button("Done — verdict", "decide", style="primary"),
                Button("Inspections", "back"),
            ],
        )

    def _verdict_screen(self, ctx: Ctx, view: InspectionView, facts: Facts) -> Screen:
        step, data = ctx.step, ctx.data
        detail: dict[str, Any] = view.verdict_detail or {}
        table = Table(
            columns=["Class", "Found", "Ac", "Re", "Result"],
            rows=[
                (
                    [cls.title(), str(d["found"]), str(d["ac"]), str(d["re"]), d["outcome"]],
                    "over" if d["outcome"] == "reject" else "done",
                )
                for cls in CLASSES
                if (d := detail.get(cls))
            ],
        )
        facts = [*facts, ("Verdict", (view.verdict or view.status).upper())]
        if data.get("ncr"):
            facts.append(("NCR", str(data["ncr"])))
        if step == "supervisor":
            return self._screen(
                "supervisor",
                view,
                facts,
                prompt="Supervisor: scan your badge to use the lot as is",
                expects="a supervisor's badge",
                on_error="Call a supervisor to scan their badge, or press Cancel",
                secret=True,
                hint="A rejected lot is released only under a supervisor's concession",
                table=table,
                buttons=[Button("Cancel", "cancel", style="danger")],
            )
        if step == "confirm":
            pending = DONE_AS[Disposition(data["pending"])]
            return self._screen(
                "confirm",
                view,
                facts,
                prompt=f"{view.quantity} x {_lot(view)} {pending}?",
                hint="The stock leaves the warehouse",
                buttons=[
                    Button(f"Confirm: {pending}", "confirm", style="danger"),
                    Button("Cancel", "cancel"),
                ],
            )
        if step == "verdict":
            buttons = [DISPOSITION_BUTTONS[a] for a in _allowed(view)]
            return self._screen(
                "verdict",
                view,
                facts,
                prompt=f"Lot {view.status}: what happens to it?",
                hint="Use as is needs a supervisor's badge" if len(buttons) > 1 else "",
                table=table,
                buttons=[*buttons, Button("Inspections", "back")],
            )
        done_as = DONE_AS[Disposition(view.disposition)] if view.disposition else view.status
        facts.append(("Disposition", done_as))
        buttons = []
        if data.get("return_code"):
            facts.append(("Return", str(data["return_code"])))
        if data.get("resubmission"):
            again = str(data["resubmission"])
            facts.append(("Re-inspection", again))
            buttons.append(Button(f"Inspect {again}", "open", again, "primary"))
        if view.disposition in (Disposition.ACCEPT, Disposition.USE_AS_IS):
            buttons.append(Button("Put away", "start", "putaway", "primary"))
        return self._screen(
            "done",
            view,
            facts,
            prompt="Done: scan another inspection or choose",
            expects="an inspection code (QC-...)",
            table=table,
            buttons=[*buttons, Button("Inspections", "back"), Button("Menu", "menu")],
        )
