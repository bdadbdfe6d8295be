"""Incoming inspection on the handheld: a lot of an inspected product is received into the quality
hold, sampled, found defective beyond its Re, rejected and returned to the supplier."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from playwright.sync_api import FilePayload, expect

from tests.browser.conftest import SECRET, Handheld, Ledger, MoveRow, Seed, World
from tests.commands import run_wms, wms_env
from wms.quality.specs import set_spec

LOT = 80  # major AQL 2.5 at level II: a sample of 20 units, Ac 1 / Re 2
QC = "QC-SHA-000001"
RETURN = "RT-SHA-000001"


def png() -> bytes:
    """A valid 1x1 PNG, standing in for the phone camera's picture."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xc0\x30\x30")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def quality_control(ledger: Ledger, warehouse: str, sku: str) -> int:
    return int(
        ledger.scalar(
            "SELECT s.quality_control FROM stock_levels s JOIN products p ON p.id = s.product_id "
            "JOIN warehouses w ON w.id = s.warehouse_id WHERE p.sku = :sku AND w.code = :warehouse",
            sku=sku,
            warehouse=warehouse,
        )
    )


def test_handheld_inspection_rejects_a_lot_and_returns_it(
    hh: Handheld, world: World, seed: Seed, ledger: Ledger, tmp_path: Path
) -> None:
    with ledger.pg.uow() as uow:
        set_spec(uow, actor="qa", sku=world.plain_sku, major_aql="2.5", minor_aql="4.0")
        uow.commit()
    receipt = seed.receipt("SHA", world.supplier, {world.plain_sku: LOT})

    hh.sign_in(world.operator)
    hh.choose_warehouse("SHA")
    hh.scan(receipt, status="ok", screen="receive.product")
    hh.scan(world.plain_ean, status="info", screen="receive.quantity")
    hh.scan(str(LOT), status="ok", screen="receive.product")
    expect(hh.result).to_have_text(
        f"Received {LOT} x {world.plain_sku} into QC: {LOT}/{LOT}; held for inspection {QC}"
    )
    expect(hh.button("start", f"inspect:{QC}")).to_have_text(f"Inspect {QC}")
    hh.shot("01-received-held")
    assert quality_control(ledger, "SHA", world.plain_sku) == LOT
    assert ledger.level("SHA", world.plain_sku)["available"] == 0

    # The inspection: the lot, each class's plan, and the 20 units to take from the lot.
    hh.press("start", f"inspect:{QC}", status="ok", screen="inspect.inspect")
    context = hh.screen.locator(".context")
    expect(context).to_contain_text(f"{world.plain_sku} Ceramic mug 350 ml")
    expect(context).to_contain_text("units 1 to 20 · Ac 1 / Re 2 · found 0 · normal")
    expect(hh.screen.locator("table.lines tbody tr")).to_have_count(20)
    hh.shot("02-inspection")

    # A unit outside the sample is refused and says what was expected.
    hh.scan("25", status="error", screen="inspect.inspect")
    hh.expect_error(
        scanned="25",
        expected="a unit number, 1 to 20",
        next_step="Type the unit's number in the sample (1 to 20)",
    )
    expect(hh.error_box).to_contain_text("Scanned unit 25: the sample has units 1 to 20 only")
    hh.shot("03-unit-outside-the-sample")

    # Two major defects on distinct units: Re 2 reached. The first gets a note and a photo.
    hh.scan("3", status="info", screen="inspect.class")
    hh.press("defect", "major", status="info", screen="inspect.note")
    hh.scan("crack in the glaze", status="ok", screen="inspect.inspect")
    expect(hh.result).to_contain_text("Recorded a major defect on unit 3")
    expect(hh.screen.locator("table.lines tr.over")).to_have_count(1)
    hh.page.get_by_role("link", name="Add photo: unit 3, major").click()
    expect(hh.page.locator("section.screen")).to_have_attribute("data-screen", "inspect.photo")
    expect(hh.page.get_by_test_id("photo-input")).to_have_attribute("capture", "environment")
    photo: FilePayload = {"name": "crack.png", "mimeType": "image/png", "buffer": png()}
    hh.page.get_by_test_id("photo-input").set_input_files(files=[photo])
    hh.page.get_by_test_id("photo-save").click()
    expect(hh.page.get_by_test_id("photo-saved")).to_have_text("Photo saved")
    expect(hh.page.get_by_test_id("photo")).to_be_visible()
    hh.shot("04-photo")
    assert ledger.scalar("SELECT photo_type FROM inspection_findings") == "image/png"
    hh.page.get_by_test_id("photo-back").click()
    hh.expect_screen("inspect.inspect")

    hh.scan("7", status="info", screen="inspect.class")
    hh.press("defect", "major", status="info", screen="inspect.note")
    hh.scan("", status="ok", screen="inspect.inspect")  # Enter alone: no note
    expect(context).to_contain_text("units 1 to 20 · Ac 1 / Re 2 · found 2 · normal")
    hh.shot("05-defects")

    hh.press("decide", status="ok", screen="inspect.verdict")
    expect(hh.result).to_contain_text(f"Inspection {QC}: lot rejected, major 2 found (Re 2)")
    expect(hh.screen.locator("table.lines tr.over")).to_contain_text("Major")
    for action_arg in ("return", "scrap", "rework", "use_as_is"):
        expect(hh.button("dispose", action_arg)).to_be_visible()
    expect(hh.button("dispose", "accept")).to_have_count(0)
    hh.shot("06-rejected")

    hh.press("dispose", "return", status="info", screen="inspect.confirm")
    hh.press("confirm", status="ok", screen="inspect.done")
    expect(hh.result).to_have_text(
        f"Return {RETURN}: {LOT} x {world.plain_sku} back to {world.supplier}"
    )
    expect(hh.screen.locator(".context")).to_contain_text(RETURN)
    hh.shot("07-returned")

    assert ledger.moves("qc_return") == [
        MoveRow(world.plain_sku, None, "SHA/QC", "SUPPLIER", LOT, "qc_return", RETURN, "operator")
    ]
    assert quality_control(ledger, "SHA", world.plain_sku) == 0
    assert ledger.level("SHA", world.plain_sku) == {"on_hand": 0, "incoming": 0, "available": 0}
    assert ledger.scalar("SELECT status || '/' || disposition FROM inspections") == "closed/return"
    ledger.assert_consistent()
    env = wms_env(WMS_DATABASE_URL=ledger.pg.url, WMS_SECRET_KEY=SECRET)
    checked = run_wms("check", cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
