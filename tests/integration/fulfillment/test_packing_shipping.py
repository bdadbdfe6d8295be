"""Packing and shipping on PostgreSQL: packages with SSCCs, stock to the customer, events in order."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from biip.sscc import Sscc

from tests import factories
from tests.concurrency import race
from tests.conftest import Database
from tests.integration.fulfillment import floor
from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import Conflict, InvalidTransition, ValidationFailed
from wms.fulfillment import packing, picking, shipping
from wms.fulfillment.floor_errors import WrongItem, WrongLot
from wms.fulfillment.labels import package_label_pdf
from wms.fulfillment.packing import PackageClosed
from wms.inventory.integrity import check_ledger

SOON = utcnow().date() + timedelta(days=30)
LATER = utcnow().date() + timedelta(days=90)


def pdf_text(pdf: bytes) -> str:
    """The text drawing operators of a reportlab PDF (its streams are ASCII85 and Flate)."""
    out = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        raw = match.group(1).strip().removesuffix(b"~>")
        out.append(zlib.decompress(base64.a85decode(raw)).decode("latin-1"))
    return "\n".join(out)


def scanned(pdf: bytes, tmp_path: Path) -> str:
    """What a scanner reads on the label: the page rendered at 300 dpi, read by zbarimg."""
    (tmp_path / "label.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "300", "-png", str(tmp_path / "label.pdf"), str(tmp_path / "page")],
        check=True,
    )
    (image,) = tmp_path.glob("page*.png")
    result = subprocess.run(
        ["zbarimg", "--raw", "-q", str(image)], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


needs_scanner = pytest.mark.skipif(
    shutil.which("zbarimg") is None or shutil.which("pdftoppm") is None,
    reason="needs zbarimg and pdftoppm: run scripts/system-deps.sh",
)


def _picked(pg: Database) -> str:
    """SHA holds MUG (no lots) and TEA in two lots; an order of 3 MUG and 4 TEA, all picked."""
    with pg.uow() as uow:
        floor.warehouse(uow)
        factories.product(uow, "MUG")
        factories.product(uow, "TEA", lot_tracked=True, shelf_life_days=365)
        floor.put(uow, "MUG", "B01", 10)
        floor.put(uow, "TEA", "B02", 2, lot="T-SOON", expiry=SOON)
        floor.put(uow, "TEA", "B03", 9, lot="T-LATER", expiry=LATER)
        fid = floor.order(uow, ("MUG", 3), ("TEA", 4))
        for stop in picking.pick_list(uow, fid, actor="op").stops:
            picking.confirm_pick(
                uow,
                stop.task_id,
                bin_barcode=stop.bin_label,
                item=stop.sku,
                lot=stop.lot,
                quantity=stop.quantity,
                actor="op",
            )
        uow.commit()
    assert floor.fulfillment_status(pg, fid) == "picked"
    return fid


def test_a_fulfilment_is_packed_shipped_and_delivered_with_an_event_each(pg: Database) -> None:
    fid = _picked(pg)
    with pg.uow() as uow:
        first = packing.open_package(uow, fid, actor="packer")
        packing.pack_item(uow, first.sscc, item="MUG", quantity=3, actor="packer")
        packing.pack_item(uow, first.sscc, item="TEA", lot="T-SOON", quantity=2, actor="packer")
        view = packing.close_package(uow, first.sscc, weight_g=1500, actor="packer")
        assert view.status == "picked"
        assert [(t.sku, t.lot, t.remaining) for t in view.to_pack] == [("TEA", "T-LATER", 2)]
        second = packing.open_package(uow, fid, actor="packer")
        packing.pack_item(uow, second.sscc, item="TEA", actor="packer")  # the only lot left
        packing.pack_item(uow, second.sscc, item="TEA", actor="packer")
        view = packing.close_package(uow, second.sscc, weight_g=400, actor="packer")
        uow.commit()
    assert view.status == "packed"
    assert [p.number for p in view.packages] == [1, 2]
    for package in view.packages:
        parsed = Sscc.parse(package.sscc)  # an independent check of the check digit
        assert parsed.payload.startswith("00614141")
    assert int(view.packages[1].sscc[8:17]) == int(view.packages[0].sscc[8:17]) + 1
    assert floor.quant(pg, "TEA", "PACK") == 4  # packing moves no stock

    with pg.uow() as uow:
        shipped = shipping.ship(
            uow, fid, carrier="SF Express", tracking_number="SF1234567890", actor="shipper"
        )
        uow.commit()
    assert shipped.status == "shipped"
    assert floor.quant(pg, "MUG", "PACK") == 0
    assert floor.quant(pg, "TEA", "PACK") == 0
    assert floor.level(pg, "MUG") == {"on_hand": 7, "committed": 0, "reserved": 0, "available": 7}
    assert floor.level(pg, "TEA")["committed"] == 0
    assert (
        pg.scalar(
            "SELECT string_agg(reason || ':' || quantity, ',' ORDER BY id) FROM moves "
            "WHERE to_location_id = (SELECT id FROM locations WHERE code = 'CUSTOMER')"
        )
        == "shipment:3,shipment:2,shipment:2"
    )
    assert pg.scalar("SELECT status FROM orders") == "shipped"
    assert (
        pg.scalar(
            "SELECT string_agg(status || ':' || shipped_quantity, ',' ORDER BY line_no) "
            "FROM order_lines"
        )
        == "shipped:3,shipped:4"
    )

    with pg.uow() as uow:
        delivered = shipping.mark_delivered(uow, fid)
        uow.commit()
    assert delivered.status == "delivered"
    assert pg.scalar("SELECT status FROM orders") == "delivered"

    events = floor.events(pg)
    assert [t for t, _ in events] == [
        "fulfillment.picked",
        "fulfillment.packed",
        "fulfillment.shipped",
        "fulfillment.delivered",
    ]
    packed = events[1][1]
    assert [(p["sscc"], p["weight_g"]) for p in packed["packages"]] == [
        (view.packages[0].sscc, 1500),
        (view.packages[1].sscc, 400),
    ]
    assert packed["packages"][0]["items"] == [
        {"sku": "MUG", "lot": None, "quantity": 3},
        {"sku": "TEA", "lot": "T-SOON", "quantity": 2},
    ]
    ship_event = events[2][1]
    assert (ship_event["carrier"], ship_event["tracking_number"]) == ("SF Express", "SF1234567890")
    assert [(ln["sku"], ln["shipped"]) for ln in ship_event["lines"]] == [("MUG", 3), ("TEA", 4)]
    assert events[3][1]["delivered_at"] is not None
    with pg.uow() as uow:
        assert check_ledger(uow.session).ok


def test_packing_refuses_what_was_not_picked_or_is_packed_already(pg: Database) -> None:
    fid = _picked(pg)
    with pg.uow() as uow:
        factories.product(uow, "SPOON")
        package = packing.open_package(uow, fid, actor="packer")
        uow.commit()
    with pg.uow() as uow:
        with pytest.raises(WrongItem, match=r"scanned item SPOON .*expected MUG, TEA"):
            packing.pack_item(uow, package.sscc, item="SPOON", actor="packer")
        with pytest.raises(WrongLot, match="one of lots T-LATER, T-SOON"):
            packing.pack_item(uow, package.sscc, item="TEA", actor="packer")
        with pytest.raises(WrongLot, match="scanned lot T-NONE of TEA"):
            packing.pack_item(uow, package.sscc, item="TEA", lot="T-NONE", actor="packer")
        with pytest.raises(ValidationFailed, match="only 3 x MUG left to pack"):
            packing.pack_item(uow, package.sscc, item="MUG", quantity=4, actor="packer")
        packing.pack_item(uow, package.sscc, item="MUG", quantity=3, actor="packer")
        with pytest.raises(WrongItem, match="expected TEA"):
            packing.pack_item(uow, package.sscc, item="MUG", actor="packer")
        with pytest.raises(ValidationFailed, match="above 0"):
            packing.close_package(uow, package.sscc, weight_g=0, actor="packer")
        second = packing.open_package(uow, fid, actor="packer")  # the first holds items
        with pytest.raises(Conflict, match=f"package {second.sscc} is open and empty"):
            packing.open_package(uow, fid, actor="packer")
        uow.commit()
    assert pg.scalar("SELECT sum(quantity) FROM package_items") == 3


def test_a_closed_package_takes_no_more_items_and_an_empty_one_cannot_close(
    pg: Database,
) -> None:
    fid = _picked(pg)
    with pg.uow() as uow:
        package = packing.open_package(uow, fid, actor="packer")
        with pytest.raises(Conflict, match="is empty"):
            packing.close_package(uow, package.sscc, weight_g=100, actor="packer")
        packing.pack_item(uow, package.sscc, item="MUG", actor="packer")
        packing.close_package(uow, package.sscc, weight_g=100, actor="packer")
        with pytest.raises(PackageClosed):
            packing.pack_item(uow, package.sscc, item="MUG", actor="packer")


def test_state_changes_out_of_order_are_refused(pg: Database) -> None:
    fid = _picked(pg)
    with pg.uow() as uow:
        with pytest.raises(InvalidTransition, match="cannot go from picked to shipped"):
            shipping.ship(uow, fid, carrier="SF", tracking_number="1", actor="shipper")
        with pytest.raises(InvalidTransition, match="cannot go from picked to delivered"):
            shipping.mark_delivered(uow, fid)
        with pytest.raises(ValidationFailed, match="carrier is empty"):
            shipping.ship(uow, fid, carrier=" ", tracking_number="1", actor="shipper")
    with pg.uow() as uow:
        package = packing.open_package(uow, fid, actor="packer")
        packing.pack_item(uow, package.sscc, item="MUG", quantity=3, actor="packer")
        packing.pack_item(uow, package.sscc, item="TEA", lot="T-SOON", quantity=2, actor="packer")
        packing.pack_item(uow, package.sscc, item="TEA", lot="T-LATER", quantity=2, actor="pk")
        packing.close_package(uow, package.sscc, weight_g=900, actor="packer")
        shipping.ship(uow, fid, carrier="SF", tracking_number="SF1", actor="shipper")
        uow.commit()
    with pg.uow() as uow:
        with pytest.raises(InvalidTransition, match="cannot go from shipped to shipped"):
            shipping.ship(uow, fid, carrier="SF", tracking_number="SF1", actor="shipper")
        with pytest.raises(ValidationFailed, match="future"):
            shipping.mark_delivered(uow, fid, delivered_at=utcnow() + timedelta(days=1))
        with pytest.raises(ValidationFailed, match="before the shipment left"):
            shipping.mark_delivered(uow, fid, delivered_at=utcnow() - timedelta(days=1))
        with pytest.raises(Conflict, match="packing needs it picked"):
            packing.open_package(uow, fid, actor="packer")
    assert [t for t, _ in floor.events(pg)][-1] == "fulfillment.shipped"


def test_packers_opening_packages_in_parallel_get_distinct_ssccs(pg: Database) -> None:
    ids = []
    with pg.uow() as uow:
        floor.warehouse(uow)
        factories.product(uow, "MUG")
        floor.put(uow, "MUG", "B01", 20)
        for index in range(5):
            fid = floor.order(uow, ("MUG", 1), ref=f"WEB-{index}")
            stop = picking.pick_list(uow, fid, actor="op").stops[0]
            picking.confirm_pick(
                uow, stop.task_id, bin_barcode="B01", item="MUG", quantity=1, actor="op"
            )
            ids.append(fid)
        uow.commit()

    def open_one(uow: UnitOfWork, index: int) -> None:
        packing.open_package(uow, ids[index], actor=f"packer{index}", company_prefix="4012345")

    assert race(pg, 5, open_one) == {"ok": 5}
    assert pg.scalar("SELECT count(DISTINCT sscc) FROM packages") == 5
    assert pg.scalar("SELECT last_serial FROM sscc_counters WHERE company_prefix = '4012345'") == 5


def test_the_shipping_label_shows_the_address_order_and_sscc(pg: Database) -> None:
    fid = _picked(pg)
    with pg.uow() as uow:
        package = packing.open_package(uow, fid, actor="packer")
        packing.pack_item(uow, package.sscc, item="MUG", quantity=3, actor="packer")
        packing.close_package(uow, package.sscc, weight_g=1200, actor="packer")
        uow.commit()
        pdf = package_label_pdf(
            uow.session, package.sscc, fulfillment=fid, company_prefix="0614141"
        )
        with pytest.raises(packing.UnknownPackage):
            package_label_pdf(uow.session, package.sscc, fulfillment="ful_other")
    assert pdf.startswith(b"%PDF-")
    assert b"/MediaBox [ 0 0 283.4646 425.1969 ]" in pdf  # 100 x 150 mm
    text = pdf_text(pdf)
    sscc = package.sscc
    for expected in (
        "(Li Wei)",
        "(88 Century Avenue)",
        "(200120 Shanghai)",
        "(ORDER WEB-1)",
        f"(Fulfilment {fid})",
        f"(\\(00\\) {sscc[0]} {sscc[1:8]} {sscc[8:17]} {sscc[17]})",
        f"(\\(00\\){sscc})",
    ):
        assert expected in text, expected


@needs_scanner
def test_a_scanner_reads_ai_00_and_the_sscc_from_the_label(pg: Database, tmp_path: Path) -> None:
    fid = _picked(pg)
    with pg.uow() as uow:
        package = packing.open_package(uow, fid, actor="packer")
        packing.pack_item(uow, package.sscc, item="MUG", actor="packer")
        uow.commit()
        pdf = package_label_pdf(uow.session, package.sscc)
    assert scanned(pdf, tmp_path) == "00" + package.sscc
