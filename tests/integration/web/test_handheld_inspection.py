"""Incoming inspection on the handheld, driven on PostgreSQL without a browser: a lot of an
inspected product is received into the quality hold, sampled, judged and disposed of."""

from __future__ import annotations

import copy
import struct
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests import factories
from tests.conftest import Database
from wms.api.app import create_app
from wms.auth.services import UserRef, create_user
from wms.auth.sessions import set_badge, set_pin
from wms.config import Settings
from wms.db.uow import UnitOfWork
from wms.errors import InvalidTransition, ValidationFailed
from wms.inventory import receipts
from wms.inventory.catalog import get_warehouse
from wms.inventory.integrity import check_ledger
from wms.quality import dispositions
from wms.quality.inspections import InspectionNotOpen, decide
from wms.quality.photos import UnknownFinding, attach_photo
from wms.quality.specs import set_spec
from wms.web.handheld import flows
from wms.web.handheld.screens import Outcome, Screen

LOT = 80  # major AQL 2.5 at level II: 20 units, Ac 1 / Re 2; minor AQL 4.0: 13 units, 1 / 2
QC = "QC-SHA-000001"
PIN = "4321"
BADGES = {"operator": "BADGE-OP-0001", "supervisor": "BADGE-SUP-0001"}


@dataclass(frozen=True)
class World:
    receipt: str
    users: dict[str, UserRef]


def _world(pg: Database) -> World:
    """SHA with bins, MUG inspected on receipt from SUP-1, an operator and a supervisor."""
    users = {}
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.product(uow, "MUG")
        factories.product(uow, "BOWL")  # no spec: not inspected
        factories.supplier(uow, "SUP-1")
        set_spec(uow, actor="qa", sku="MUG", major_aql="2.5", minor_aql="4.0")
        for role, badge in BADGES.items():
            users[role] = create_user(
                uow, username=role, display_name=role.title(), role=role, password="pw-1234"
            )
            set_badge(uow, username=role, badge=badge)
            set_pin(uow, username=role, pin=PIN)
        view = receipts.create_receipt(
            uow,
            warehouse="SHA",
            supplier="SUP-1",
            expected_date=date.today(),  # noqa: DTZ011 - a calendar day
            lines=[receipts.ReceiptLineRequest("MUG", LOT), receipts.ReceiptLineRequest("BOWL", 5)],
            actor="planner",
        )
        uow.commit()
    return World(view.code, users)


def _ctx(uow: UnitOfWork, user: UserRef, state: dict[str, Any] | None = None) -> flows.Ctx:
    return flows.Ctx(uow, user, get_warehouse(uow.session, "SHA"), state or {"flow": flows.MENU})


def _scan(ctx: flows.Ctx, value: str) -> Outcome:
    return flows.apply(ctx, flows.Entry(id=uuid.uuid4().hex, kind="scan", value=value))


def _press(ctx: flows.Ctx, action: str, arg: str = "") -> Outcome:
    return flows.apply(ctx, flows.Entry(id=uuid.uuid4().hex, kind="action", action=action, arg=arg))


def _ok(outcome: Outcome) -> Outcome:
    assert outcome.status in ("ok", "info"), outcome
    return outcome


def _buttons(ctx: flows.Ctx) -> list[tuple[str, str, str]]:
    return [(b.label, b.action, b.arg) for b in flows.screen_for(ctx).buttons]


def _facts(screen: Screen) -> dict[str, str]:
    return dict(screen.facts)


def _receive(ctx: flows.Ctx, receipt: str, sku: str = "MUG", quantity: int = LOT) -> Outcome:
    _ok(_press(ctx, "start", "receive"))
    _ok(_scan(ctx, receipt))
    _ok(_scan(ctx, sku))
    return _ok(_scan(ctx, str(quantity)))


def _inspecting(ctx: flows.Ctx, world: World) -> None:
    """Received on the handheld, then opened from the receive screen's button."""
    received = _receive(ctx, world.receipt)
    assert received.message.endswith(f"held for inspection {QC}")
    _ok(_press(ctx, "start", f"inspect:{QC}"))
    assert (ctx.state["flow"], ctx.state["step"]) == ("inspect", "inspect")


def _reject(ctx: flows.Ctx) -> None:
    """Two major defects on distinct units of the major sample: Re 2 is reached."""
    for unit in ("3", "7"):
        _ok(_scan(ctx, unit))
        _ok(_press(ctx, "defect", "major"))
        _ok(_scan(ctx, f"crack on unit {unit}"))
    verdict = _press(ctx, "decide")
    assert verdict.status == "ok", verdict
    assert "lot rejected, major 2 found (Re 2)" in verdict.message


def _level(pg: Database, sku: str = "MUG") -> dict[str, int]:
    with pg.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT s.on_hand, s.quality_control, s.available FROM stock_levels s "
                "JOIN products p ON p.id = s.product_id WHERE p.sku = :sku"
            ),
            {"sku": sku},
        ).one()
    return {"on_hand": row[0], "quality_control": row[1], "available": row[2]}


def _moves(pg: Database) -> list[tuple[str, str, str, int, str]]:
    with pg.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT p.sku, f.code, t.code, m.quantity, m.reason FROM moves m "
                "JOIN products p ON p.id = m.product_id "
                "JOIN locations f ON f.id = m.from_location_id "
                "JOIN locations t ON t.id = m.to_location_id ORDER BY m.id"
            )
        ).all()
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def _ledger_ok(pg: Database) -> None:
    with pg.uow() as uow:
        report = check_ledger(uow.session)
    assert report.ok, report.discrepancies


# Receiving into the hold ------------------------------------------------------------------------


def test_an_inspected_lot_is_held_and_the_receipt_offers_its_inspection(pg: Database) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        received = _receive(ctx, world.receipt)
        assert received.status == "ok"
        assert received.message == (
            f"Received {LOT} x MUG into QC: {LOT}/{LOT}; held for inspection {QC}"
        )
        assert (f"Inspect {QC}", "start", f"inspect:{QC}") in _buttons(ctx)
        plain = _ok(_scan(ctx, "BOWL"))
        assert plain.status == "info"
        bowls = _scan(ctx, "5")
        assert bowls.message == "Received 5 x BOWL into RECV: 5/5"  # no spec: the dock
        assert (f"Inspect {QC}", "start", f"inspect:{QC}") in _buttons(ctx)
        uow.commit()
    assert _level(pg) == {"on_hand": LOT, "quality_control": LOT, "available": 0}
    assert _level(pg, "BOWL") == {"on_hand": 5, "quality_control": 0, "available": 5}
    assert _moves(pg) == [
        ("MUG", "SUPPLIER", "QC", LOT, "receipt"),
        ("BOWL", "SUPPLIER", "RECV", 5, "receipt"),
    ]
    _ledger_ok(pg)


def test_the_inspection_screen_shows_the_lot_the_plans_and_the_units_to_take(
    pg: Database,
) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _inspecting(ctx, world)
        screen = flows.screen_for(ctx)
        assert screen.name == "inspect.inspect"
        assert screen.input == "number"
        facts = _facts(screen)
        assert facts["Product"] == "MUG Test product MUG"
        assert (facts["Lot"], facts["Quantity"], facts["Supplier"]) == ("none", str(LOT), "SUP-1")
        assert facts["Critical"] == "units 1 to 20 · Ac 0 / Re 1 · found 0 · normal"
        assert facts["Major"] == "units 1 to 20 · Ac 1 / Re 2 · found 0 · normal"
        assert facts["Minor"] == "units 1 to 13 · Ac 1 / Re 2 · found 0 · normal"
        assert screen.table is not None
        assert [cells[0] for cells, _ in screen.table.rows] == [str(i) for i in range(1, 21)]
        positions = [int(cells[1].lstrip("#")) for cells, _ in screen.table.rows]
        assert len(set(positions)) == 20
        assert all(1 <= p <= LOT for p in positions)


def test_a_whole_lot_sample_says_so(pg: Database) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _receive(ctx, world.receipt, quantity=5)  # major AQL 2.5 on 5 units: all 5 are taken
        _ok(_press(ctx, "start", f"inspect:{QC}"))
        facts = _facts(flows.screen_for(ctx))
        assert facts["Major"] == "whole lot (1 to 5) · Ac 0 / Re 1 · found 0 · normal"
        assert facts["Minor"] == "units 1 to 3 · Ac 0 / Re 1 · found 0 · normal"


def test_an_inspection_code_scanned_on_the_menu_opens_it(pg: Database) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _receive(ctx, world.receipt)
        _press(ctx, "menu")
        assert "Inspect" in [tile.label for tile in flows.screen_for(ctx).menu]
        opened = _scan(ctx, QC.lower())
        assert opened.status == "ok", opened
        assert (ctx.state["flow"], ctx.state["step"]) == ("inspect", "inspect")
        assert "take the 20 units listed from the lot of 80" in opened.message


def test_the_inspection_list_offers_the_warehouses_held_lots(pg: Database) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _receive(ctx, world.receipt)
        _ok(_press(ctx, "start", "inspect"))
        screen = flows.screen_for(ctx)
        assert screen.name == "inspect.choose"
        assert [(c.label, c.action, c.arg, c.detail) for c in screen.choices] == [
            (QC, "open", QC, f"MUG · {LOT} · open")
        ]
        unknown = _scan(ctx, "QC-SHA-999999")
        assert unknown.status == "error"
        assert unknown.message == "Scanned QC-SHA-999999: no inspection has this code"
        assert unknown.expected == "an inspection of SHA (QC-...)"
        _ok(_press(ctx, "open", QC))
        assert ctx.state["step"] == "inspect"


# Verdicts and dispositions ----------------------------------------------------------------------


def test_a_lot_without_defects_is_accepted_released_and_put_away(pg: Database) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _inspecting(ctx, world)
        verdict = _press(ctx, "decide")
        assert verdict.message == f"Inspection {QC}: lot accepted; release it to putaway"
        screen = flows.screen_for(ctx)
        assert screen.name == "inspect.verdict"
        assert [b.label for b in screen.buttons] == ["Release to putaway", "Inspections"]
        assert screen.table is not None
        assert [cells for cells, _ in screen.table.rows] == [
            ["Critical", "0", "0", "1", "accept"],
            ["Major", "0", "1", "2", "accept"],
            ["Minor", "0", "1", "2", "accept"],
        ]
        released = _press(ctx, "dispose", "accept")
        assert released.message == f"Released {LOT} x MUG to receiving: put it away"
        assert ("Put away", "start", "putaway") in _buttons(ctx)
        uow.commit()
    assert _level(pg) == {"on_hand": LOT, "quality_control": 0, "available": LOT}
    assert _moves(pg)[-1] == ("MUG", "QC", "RECV", LOT, "qc_release")

    # Putaway finds the released lot on the receiving dock, as any received goods.
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _ok(_press(ctx, "start", "putaway"))
        _ok(_scan(ctx, "MUG"))
        assert ctx.state["data"]["available"] == LOT
        _ok(_scan(ctx, str(LOT)))
        suggested = ctx.state["data"]["suggested"]
        put = _scan(ctx, suggested)
        assert put.status == "ok", put
        uow.commit()
    assert _moves(pg)[-1] == ("MUG", "RECV", suggested.removeprefix("SHA-"), LOT, "putaway")
    _ledger_ok(pg)


def test_defects_up_to_re_reject_the_lot_and_it_goes_back_to_the_supplier(pg: Database) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _inspecting(ctx, world)
        asked = _scan(ctx, "3")
        assert asked.message.startswith("Unit 3 (#")
        assert flows.screen_for(ctx).name == "inspect.class"
        _ok(_press(ctx, "defect", "major"))
        assert flows.screen_for(ctx).name == "inspect.note"
        first = _scan(ctx, "crack in the glaze")
        assert first.status == "ok"
        assert first.message.startswith("Recorded a major defect on unit 3 (#")
        assert first.message.endswith("major 1 found, Ac 1 / Re 2")
        screen = flows.screen_for(ctx)
        assert _facts(screen)["Major"] == "units 1 to 20 · Ac 1 / Re 2 · found 1 · normal"
        assert screen.links[0].label == "Add photo: unit 3, major"
        assert screen.links[0].href.startswith(f"/handheld/inspections/{QC}/findings/")
        assert screen.table is not None
        assert screen.table.rows[2] == (["3", screen.table.rows[2][0][1], "major"], "over")

        # A minor defect beyond the minor sample (units 1 to 13) is kept but does not count.
        _ok(_scan(ctx, "17"))
        _ok(_scan(ctx, "MINOR"))  # the class typed instead of tapped
        beyond = _press(ctx, "record")
        assert beyond.message.endswith("not counted: the minor sample is units 1 to 13")

        _ok(_scan(ctx, "7"))
        _ok(_press(ctx, "defect", "major"))
        _ok(_press(ctx, "record"))  # no note
        verdict = _press(ctx, "decide")
        assert verdict.message.startswith(
            f"Inspection {QC}: lot rejected, major 2 found (Re 2); NCR"
        )
        screen = flows.screen_for(ctx)
        assert [b.label for b in screen.buttons] == [
            "Return to supplier",
            "Scrap",
            "Rework",
            "Use as is",
            "Inspections",
        ]
        assert _facts(screen)["Verdict"] == "REJECTED"
        assert screen.table is not None
        assert screen.table.rows[1] == (["Major", "2", "1", "2", "reject"], "over")

        assert _press(ctx, "dispose", "return").status == "info"
        assert flows.screen_for(ctx).name == "inspect.confirm"
        _ok(_press(ctx, "cancel"))  # changed their mind: nothing moves
        assert ctx.state["step"] == "verdict"
        _ok(_press(ctx, "dispose", "return"))
        returned = _press(ctx, "confirm")
        assert returned.status == "ok", returned
        assert returned.message == f"Return RT-SHA-000001: {LOT} x MUG back to SUP-1"
        done = flows.screen_for(ctx)
        assert done.name == "inspect.done"
        assert _facts(done)["Return"] == "RT-SHA-000001"
        assert _facts(done)["Disposition"] == "returned to the supplier"
        uow.commit()
    assert _level(pg) == {"on_hand": 0, "quality_control": 0, "available": 0}
    assert _moves(pg)[-1] == ("MUG", "QC", "SUPPLIER", LOT, "qc_return")
    assert pg.count("inspection_findings") == 3
    assert pg.scalar("SELECT status FROM inspections") == "closed"
    _ledger_ok(pg)


def test_a_rejected_lot_can_be_scrapped(pg: Database) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _inspecting(ctx, world)
        _reject(ctx)
        _ok(_press(ctx, "dispose", "scrap"))
        assert _buttons(ctx)[0] == ("Confirm: scrapped", "confirm", "")
        scrapped = _press(ctx, "confirm")
        assert scrapped.message == f"Scrapped {LOT} x MUG"
        uow.commit()
    assert _moves(pg)[-1] == ("MUG", "QC", "SCRAP", LOT, "qc_scrap")
    assert _level(pg)["quality_control"] == 0
    _ledger_ok(pg)


def test_rework_keeps_the_lot_held_and_opens_its_re_inspection(pg: Database) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _inspecting(ctx, world)
        _reject(ctx)
        reworked = _press(ctx, "dispose", "rework")
        again = "QC-SHA-000002"
        assert reworked.message == f"Rework: {LOT} x MUG stays held; re-inspect it as {again}"
        assert (f"Inspect {again}", "open", again) in _buttons(ctx)
        _ok(_press(ctx, "open", again))
        assert (ctx.state["step"], ctx.state["data"]["inspection"]) == ("inspect", again)
        uow.commit()
    assert _level(pg) == {"on_hand": LOT, "quality_control": LOT, "available": 0}


def test_use_as_is_needs_a_supervisor_badge(pg: Database) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _inspecting(ctx, world)
        _reject(ctx)
        asked = _press(ctx, "dispose", "use_as_is")
        assert asked.status == "info"
        screen = flows.screen_for(ctx)
        assert (screen.name, screen.secret) == ("inspect.supervisor", True)
        refused = _scan(ctx, BADGES["operator"])
        assert refused.status == "error"
        assert refused.message == "Operator is not a supervisor"
        assert refused.scanned == "(a badge; not shown)"
        assert refused.expected == "a supervisor's badge"
        assert ctx.state["step"] == "supervisor"
        assert _scan(ctx, "NOT-A-BADGE-AT-ALL").status == "error"
        state = copy.deepcopy(ctx.state)
        uow.commit()
    assert _level(pg)["quality_control"] == LOT  # nothing released
    assert pg.scalar("SELECT status FROM inspections") == "rejected"

    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"], state)
        released = _scan(ctx, BADGES["supervisor"])
        assert released.message == (
            f"Released {LOT} x MUG to receiving (approved by supervisor): put it away"
        )
        uow.commit()
    assert pg.scalar("SELECT disposition || ' by ' || approved_by FROM inspections") == (
        "use_as_is by supervisor"
    )
    assert _level(pg) == {"on_hand": LOT, "quality_control": 0, "available": LOT}
    _ledger_ok(pg)


def test_the_service_refuses_use_as_is_without_a_supervisor(pg: Database) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _inspecting(ctx, world)
        _reject(ctx)
        uow.commit()
    with pg.uow() as uow, pytest.raises(ValidationFailed, match="approval of a supervisor"):
        dispositions.dispose(uow, inspection=QC, disposition="use_as_is", actor="operator")


# Bad input changes nothing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "Scanned unit 0: the sample has units 1 to 20 only"),
        ("21", "Scanned unit 21: the sample has units 1 to 20 only"),
        ("4006381333931", "Scanned unit 4006381333931: the sample has units 1 to 20 only"),
        ("MUG", "Scanned MUG: expected a unit number, 1 to 20 (the unit's place in the sample"),
        ("", "Scanned nothing: expected a unit number, 1 to 20"),
    ],
)
def test_a_unit_outside_the_sample_is_refused(pg: Database, typed: str, message: str) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _inspecting(ctx, world)
        before = copy.deepcopy(ctx.state)
        refused = _scan(ctx, typed)
        assert refused.status == "error"
        assert refused.message.startswith(message)
        assert refused.scanned == (typed or "(empty)")
        assert refused.expected == "a unit number, 1 to 20"
        assert refused.next_step == "Type the unit's number in the sample (1 to 20)"
        assert ctx.state == before
        uow.commit()
    assert pg.count("inspection_findings") == 0


def test_a_wrong_defect_class_is_refused_and_cancel_records_nothing(pg: Database) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _inspecting(ctx, world)
        _ok(_scan(ctx, "5"))
        refused = _scan(ctx, "scratch")
        assert refused.status == "error"
        assert refused.message == "Entered scratch: expected a defect class, critical, major, minor"
        assert refused.expected == "a defect class: critical, major or minor"
        assert ctx.state["step"] == "class"
        _ok(_press(ctx, "cancel"))
        assert ctx.state["step"] == "inspect"
        uow.commit()
    assert pg.count("inspection_findings") == 0


def test_a_disposition_on_a_closed_inspection_is_refused(pg: Database) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _inspecting(ctx, world)
        _reject(ctx)
        state = copy.deepcopy(ctx.state)
        uow.commit()
    with pg.uow() as uow:  # someone else scraps the lot first (another handheld, the API)
        dispositions.dispose(uow, inspection=QC, disposition="scrap", actor="other")
        uow.commit()
    moves = _moves(pg)

    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"], state)
        refused = _press(ctx, "dispose", "return")
        assert refused.status == "error"
        assert refused.message == f"Inspection {QC} is already closed: scrapped; nothing more to do"
        assert ctx.state == state
        _ok(_press(ctx, "back"))
        reopened = _scan(ctx, QC)
        assert reopened.status == "error"
        assert reopened.message == f"Inspection {QC} is closed: scrapped; nothing to do"
        assert QC not in [c.arg for c in flows.screen_for(ctx).choices]
        uow.commit()
    assert _moves(pg) == moves
    with pg.uow() as uow, pytest.raises(InvalidTransition):
        dispositions.dispose(uow, inspection=QC, disposition="return", actor="operator")


def test_a_finding_after_the_verdict_is_refused(pg: Database) -> None:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _inspecting(ctx, world)
        _ok(_scan(ctx, "2"))
        _ok(_press(ctx, "defect", "minor"))
        on_note = copy.deepcopy(ctx.state)
        _ok(_press(ctx, "record"))
        _ok(_press(ctx, "decide"))
        ctx.state.clear()
        ctx.state.update(on_note)  # a second device still on the note step
        refused = _press(ctx, "record")
        assert refused.status == "error"
        assert refused.message == (
            f"Inspection {QC} is accepted; recording findings is no longer possible"
        )
        uow.commit()
    assert pg.count("inspection_findings") == 1


# Photos -----------------------------------------------------------------------------------------


def _png() -> bytes:
    """A valid 1x1 PNG (a phone's picture is larger, the checks are the same)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def _a_finding(pg: Database) -> tuple[World, int]:
    world = _world(pg)
    with pg.uow() as uow:
        ctx = _ctx(uow, world.users["operator"])
        _inspecting(ctx, world)
        _ok(_scan(ctx, "1"))
        _ok(_press(ctx, "defect", "critical"))
        _ok(_scan(ctx, "sharp edge on the rim"))
        finding_id = int(ctx.state["data"]["last_finding"])
        uow.commit()
    return world, finding_id


def test_the_photo_service_checks_type_size_content_and_status(pg: Database) -> None:
    _, finding = _a_finding(pg)
    photo = _png()
    refused: list[tuple[bytes, str, str]] = [
        (photo, "image/gif", "a photo is JPEG, PNG or WebP, not image/gif"),
        (b"", "image/png", "the photo is empty"),
        (b"\x89PNG" + b"x" * 2_000_000, "image/png", "a photo is at most 2 MB"),
        (photo, "image/jpeg", "the file is not a JPEG image"),
    ]
    for data, kind, message in refused:
        with pg.uow() as uow, pytest.raises(ValidationFailed, match=message):
            attach_photo(uow, inspection=QC, finding_id=finding, photo=data, content_type=kind)
    with pg.uow() as uow, pytest.raises(UnknownFinding, match="has no finding"):
        attach_photo(
            uow, inspection=QC, finding_id=finding + 1, photo=photo, content_type="image/png"
        )
    with pg.uow() as uow:
        attached = attach_photo(
            uow, inspection=QC, finding_id=finding, photo=photo, content_type="image/PNG; q=1"
        )
        assert (attached.content_type, attached.size) == ("image/png", len(photo))
        uow.commit()
    assert pg.scalar("SELECT photo_type FROM inspection_findings") == "image/png"
    with pg.uow() as uow:
        decide(uow, inspection=QC, actor="operator")
        uow.commit()
    with pg.uow() as uow, pytest.raises(InspectionNotOpen):
        attach_photo(uow, inspection=QC, finding_id=finding, photo=photo, content_type="image/png")


@pytest.fixture
def client(pg: Database) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=pg.url, secret_key="test-secret"))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_photo_page_stores_a_photo_and_serves_it_back(pg: Database, client: TestClient) -> None:
    _, finding = _a_finding(pg)
    page = f"/handheld/inspections/{QC}/findings/{finding}/photo"
    assert client.get(page, follow_redirects=False).headers["location"] == "/handheld/login"
    client.post("/handheld/login", data={"username": "operator", "pin": PIN})
    client.post("/handheld/warehouse", data={"warehouse": "SHA"})

    shown = client.get(page)
    assert shown.status_code == 200
    assert 'capture="environment"' in shown.text
    assert 'accept="image/*"' in shown.text
    assert "sharp edge on the rim" in shown.text
    assert client.get(f"{page}/image").status_code == 404  # no photo yet

    wrong = client.post(page, files={"photo": ("note.txt", b"not a picture", "text/plain")})
    assert wrong.status_code == 422
    assert "A photo is JPEG, PNG or WebP, not text/plain" in wrong.text
    stored = client.post(
        page, files={"photo": ("IMG_0001.png", _png(), "image/png")}, follow_redirects=False
    )
    assert stored.status_code == 303
    assert stored.headers["location"] == f"{page}?saved=1"
    assert "Photo saved" in client.get(stored.headers["location"]).text
    image = client.get(f"{page}/image")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.content == _png()

    too_big = client.post(
        page, files={"photo": ("big.png", b"\x89PNG" + b"x" * 2_100_000, "image/png")}
    )
    assert too_big.status_code == 413
    assert "too big: at most 2 MB" in too_big.text
    assert client.get(f"/handheld/inspections/{QC}/findings/{finding + 9}/photo").status_code == 404
