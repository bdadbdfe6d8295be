"""Printable labels over the API: bins, GS1-128 products, receipts and transfers, scanned back.

The round trips render each page with poppler's pdftoppm at 300 dpi and read it with zbar's zbarimg
(``scripts/system-deps.sh`` installs both). zbarimg prints GS1-128 data without the leading FNC1
and shows an FNC1 separator as the GS character (0x1D).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests import factories
from tests.conftest import Database
from tests.integration.api.conftest import assert_problem, written
from wms.inventory import catalog, receipts, stock
from wms.inventory.models import Product
from wms.procurement.models import Supplier

GS = "\x1d"

needs_scanner = pytest.mark.skipif(
    shutil.which("zbarimg") is None or shutil.which("pdftoppm") is None,
    reason="needs zbarimg and pdftoppm: run scripts/system-deps.sh",
)


def pages(pdf: bytes) -> int:
    """Page objects in the PDF (``/Type /Page``, not the ``/Type /Pages`` tree)."""
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def scan(
    pdf: bytes, tmp_path: Path, *, crop_mm: tuple[float, float, float, float] | None = None
) -> list[str]:
    """What a scanner reads on each page, in page order; ``crop_mm`` is (x, y, w, h) from top left."""
    source = tmp_path / "labels.pdf"
    source.write_bytes(pdf)
    for old in tmp_path.glob("page*.png"):
        old.unlink()
    crop: list[str] = []
    if crop_mm is not None:
        x, y, w, h = (str(round(v / 25.4 * 300)) for v in crop_mm)
        crop = ["-x", x, "-y", y, "-W", w, "-H", h]
    subprocess.run(
        ["pdftoppm", "-r", "300", "-png", *crop, str(source), str(tmp_path / "page")], check=True
    )
    found = []
    for image in sorted(tmp_path.glob("page*.png")):
        result = subprocess.run(
            ["zbarimg", "--raw", "-q", str(image)], capture_output=True, text=True, check=False
        )
        found.append(result.stdout.rstrip("\n"))
    return found


def text_of(pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(source), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def warehouse(pg: Database) -> dict[str, str]:
    """SHA with bins B01-B04, a lot-tracked tea and a spoon with GTINs, a bowl without one."""
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        tea = factories.product(uow, "TEA-1", lot_tracked=True, shelf_life_days=365)
        spoon = factories.product(uow, "SPOON-1")
        catalog.create_product(uow, sku="BOWL-1", name="Rice bowl")
        uow.commit()
        gtins = {
            sku: uow.session.get_one(Product, ref.id).gtin or ""
            for sku, ref in (("TEA-1", tea), ("SPOON-1", spoon))
        }
    return gtins


def get_pdf(client: TestClient, url: str, headers: dict[str, str], **params: object) -> bytes:
    response = client.get(url, headers=headers, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return bytes(response.content)


@needs_scanner
def test_prints_one_thermal_label_per_storage_bin_in_code_order(
    warehouse: dict[str, str], client: TestClient, reader: dict[str, str], tmp_path: Path
) -> None:
    response = client.get("/api/v1/labels/bins.pdf", headers=reader, params={"warehouse": "SHA"})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'inline; filename="bins-SHA.pdf"'
    assert pages(response.content) == 4
    assert scan(response.content, tmp_path) == ["SHA-B01", "SHA-B02", "SHA-B03", "SHA-B04"]
    text = text_of(response.content, tmp_path)
    assert "B01" in text
    assert "SHA · Shanghai DC" in text


@needs_scanner
def test_prints_named_bins_by_code_or_barcode_on_an_a4_sheet(
    warehouse: dict[str, str], client: TestClient, reader: dict[str, str], tmp_path: Path
) -> None:
    pdf = get_pdf(
        client,
        "/api/v1/labels/bins.pdf",
        reader,
        warehouse="SHA",
        location=["B03", "SHA-B01"],
        layout="a4",
    )
    assert pages(pdf) == 1
    # The sheet is 3 x 8 labels of 70 x 37 mm, 0.5 mm from the top of the A4 page.
    assert scan(pdf, tmp_path, crop_mm=(0, 0.5, 70, 37)) == ["SHA-B03"]
    assert scan(pdf, tmp_path, crop_mm=(70, 0.5, 70, 37)) == ["SHA-B01"]


def test_fills_a4_sheets_of_24_bin_labels(
    pg: Database, client: TestClient, reader: dict[str, str]
) -> None:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA", bins=25)
        uow.commit()
    pdf = get_pdf(client, "/api/v1/labels/bins.pdf", reader, warehouse="SHA", layout="a4")
    assert pages(pdf) == 2


@pytest.mark.parametrize(
    ("params", "status", "code", "field"),
    [
        ({"warehouse": "XXX"}, 422, "unknown_warehouse", "warehouse"),
        ({"warehouse": "SHA", "location": ["B01", "B99"]}, 422, "unknown_location", "location"),
        ({"warehouse": "SHA", "location": "STOCK"}, 409, "location_not_usable", "location"),
        ({"warehouse": "SHA", "layout": "a5"}, 422, "validation_failed", "layout"),
        ({}, 422, "validation_failed", "warehouse"),
    ],
)
def test_refuses_bin_labels_naming_the_field(
    warehouse: dict[str, str],
    client: TestClient,
    reader: dict[str, str],
    params: dict[str, object],
    status: int,
    code: str,
    field: str,
) -> None:
    response = client.get("/api/v1/labels/bins.pdf", headers=reader, params=params)
    assert_problem(response, status, code, field=field)


def test_refuses_bin_labels_for_a_warehouse_without_bins(
    pg: Database, client: TestClient, reader: dict[str, str]
) -> None:
    with pg.uow() as uow:
        factories.warehouse(uow, "CAN", bins=0)
        uow.commit()
    response = client.get("/api/v1/labels/bins.pdf", headers=reader, params={"warehouse": "CAN"})
    assert_problem(response, 422, "validation_failed", field="warehouse")


def test_refuses_labels_without_an_api_key(warehouse: dict[str, str], client: TestClient) -> None:
    response = client.get("/api/v1/labels/bins.pdf", params={"warehouse": "SHA"})
    assert_problem(response, 401, "unauthorized")


@needs_scanner
def test_scans_a_gs1_128_product_label_back_to_its_element_string(
    warehouse: dict[str, str], client: TestClient, reader: dict[str, str], tmp_path: Path
) -> None:
    gtin = warehouse["TEA-1"]
    response = client.get(
        "/api/v1/labels/products.pdf",
        headers=reader,
        params={"sku": "TEA-1", "lot": "L123", "expiry": "2027-12-31", "quantity": 24},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'inline; filename="product-TEA-1.pdf"'
    assert pages(response.content) == 1
    # (01) and (17) are fixed-length; (10) is not, so FNC1 (read as GS) ends it before (30).
    assert scan(response.content, tmp_path) == [f"01{gtin}17271231" + f"10L123{GS}3024"]
    text = text_of(response.content, tmp_path)
    assert f"(01){gtin}(17)271231(10)L123(30)24" in text
    assert "Test product TEA-1" in text


@needs_scanner
def test_keeps_an_odd_length_count_after_a_lot_intact(
    warehouse: dict[str, str], client: TestClient, reader: dict[str, str], tmp_path: Path
) -> None:
    gtin = warehouse["TEA-1"]
    pdf = get_pdf(
        client, "/api/v1/labels/products.pdf", reader, sku="TEA-1", lot="m24p", quantity=2823227
    )
    assert scan(pdf, tmp_path) == [f"01{gtin}10m24p{GS}302823227"]


@needs_scanner
def test_a_known_lot_prints_its_own_expiry_date(
    warehouse: dict[str, str],
    client: TestClient,
    reader: dict[str, str],
    tmp_path: Path,
    pg: Database,
) -> None:
    with pg.uow() as uow:
        stock.receive(
            uow,
            sku="TEA-1",
            quantity=10,
            warehouse="SHA",
            lot="L7",
            expiry_date=date(2028, 6, 30),
            actor="tests",
        )
        uow.commit()
    pdf = get_pdf(client, "/api/v1/labels/products.pdf", reader, sku="TEA-1", lot="L7")
    assert scan(pdf, tmp_path) == [f"01{warehouse['TEA-1']}17280630" + "10L7"]


def test_refuses_an_expiry_date_other_than_the_known_lots(
    warehouse: dict[str, str], client: TestClient, reader: dict[str, str], pg: Database
) -> None:
    with pg.uow() as uow:
        stock.receive(
            uow,
            sku="TEA-1",
            quantity=10,
            warehouse="SHA",
            lot="L7",
            expiry_date=date(2028, 6, 30),
            actor="tests",
        )
        uow.commit()
    before = written(pg)
    response = client.get(
        "/api/v1/labels/products.pdf",
        headers=reader,
        params={"sku": "TEA-1", "lot": "L7", "expiry": "2028-07-01"},
    )
    assert_problem(response, 409, "lot_expiry_mismatch", field="expiry_date")
    assert written(pg) == before


@needs_scanner
def test_prints_code_128_of_the_sku_for_a_product_without_gtin(
    warehouse: dict[str, str], client: TestClient, reader: dict[str, str], tmp_path: Path
) -> None:
    pdf = get_pdf(client, "/api/v1/labels/products.pdf", reader, sku="BOWL-1", quantity=6)
    assert scan(pdf, tmp_path) == ["BOWL-1"]
    assert "QTY 6" in text_of(pdf, tmp_path)


@needs_scanner
def test_prints_copies_of_a_product_label(
    warehouse: dict[str, str], client: TestClient, reader: dict[str, str], tmp_path: Path
) -> None:
    gtin = warehouse["SPOON-1"]
    thermal = get_pdf(client, "/api/v1/labels/products.pdf", reader, sku="SPOON-1", copies=3)
    assert pages(thermal) == 3
    assert scan(thermal, tmp_path) == [f"01{gtin}"] * 3
    a4 = get_pdf(
        client, "/api/v1/labels/products.pdf", reader, sku="SPOON-1", copies=25, layout="a4"
    )
    assert pages(a4) == 2


@needs_scanner
def test_prints_a_twenty_character_lot_on_a_thermal_label_only(
    warehouse: dict[str, str], client: TestClient, reader: dict[str, str], tmp_path: Path
) -> None:
    params = {
        "sku": "TEA-1",
        "lot": "ABCDEFGHIJ1234567890",
        "expiry": "2027-12-31",
        "quantity": 99999999,
    }
    thermal = get_pdf(client, "/api/v1/labels/products.pdf", reader, **params)
    gtin = warehouse["TEA-1"]
    assert scan(thermal, tmp_path) == [
        f"01{gtin}17271231" + f"10ABCDEFGHIJ1234567890{GS}3099999999"
    ]
    response = client.get(
        "/api/v1/labels/products.pdf", headers=reader, params={**params, "layout": "a4"}
    )
    assert_problem(response, 422, "barcode_too_long", field="lot")


@pytest.mark.parametrize(
    ("params", "status", "code", "field"),
    [
        ({"sku": "NOPE-1"}, 422, "unknown_sku", "sku"),
        ({"sku": "SPOON-1", "lot": "L1"}, 422, "lot_not_tracked", "lot"),
        ({"sku": "TEA-1", "lot": "L" * 21}, 422, "validation_failed", "lot"),
        ({"sku": "TEA-1", "lot": "LOT 1"}, 422, "validation_failed", "lot"),
        ({"sku": "SPOON-1", "copies": 0}, 422, "validation_failed", "copies"),
        ({"sku": "SPOON-1", "copies": 501}, 422, "validation_failed", "copies"),
        ({"sku": "SPOON-1", "quantity": 0}, 422, "invalid_quantity", "quantity"),
        ({"sku": "SPOON-1", "quantity": 100_000_000}, 422, "invalid_quantity", "quantity"),
        ({"sku": "SPOON-1", "expiry": "31/12/2027"}, 422, "validation_failed", "expiry"),
        ({"sku": "SPOON-1", "layout": "zebra"}, 422, "validation_failed", "layout"),
        ({"sku": "SPOON-1", "copies": "many"}, 422, "validation_failed", "copies"),
    ],
)
def test_refuses_product_labels_naming_the_field(
    warehouse: dict[str, str],
    client: TestClient,
    reader: dict[str, str],
    params: dict[str, object],
    status: int,
    code: str,
    field: str,
) -> None:
    response = client.get("/api/v1/labels/products.pdf", headers=reader, params=params)
    assert_problem(response, status, code, field=field)


@needs_scanner
def test_prints_a_receipt_label_with_its_supplier(
    warehouse: dict[str, str],
    client: TestClient,
    reader: dict[str, str],
    tmp_path: Path,
    pg: Database,
) -> None:
    with pg.uow() as uow:
        uow.session.add(Supplier(code="HZ-TEA", name="Hangzhou Longjing Tea", country="CN"))
        uow.session.flush()
        receipt = receipts.create_receipt(
            uow,
            warehouse="SHA",
            supplier="HZ-TEA",
            expected_date=date(2026, 3, 2),
            lines=[receipts.ReceiptLineRequest("TEA-1", 40)],
            actor="tests",
        )
        uow.commit()
    pdf = get_pdf(client, f"/api/v1/labels/documents/{receipt.code}.pdf", reader)
    assert pages(pdf) == 1
    assert scan(pdf, tmp_path) == [receipt.code]
    text = text_of(pdf, tmp_path)
    assert "Receipt from Hangzhou Longjing Tea" in text
    assert "Into SHA · expected 2026-03-02" in text


@needs_scanner
def test_prints_a_transfer_label_from_one_warehouse_to_the_other(
    warehouse: dict[str, str],
    client: TestClient,
    reader: dict[str, str],
    tmp_path: Path,
    pg: Database,
) -> None:
    with pg.uow() as uow:
        factories.warehouse(uow, "CAN", bins=0)
        stock.receive(uow, sku="SPOON-1", quantity=5, warehouse="SHA", location="B01", actor="t")
        stock.ship_transfer(
            uow,
            from_warehouse="SHA",
            to_warehouse="CAN",
            lines=[stock.TransferLineRequest("SPOON-1", 5, "B01")],
            reference="TR-0001",
            actor="tests",
        )
        uow.commit()
    pdf = get_pdf(client, "/api/v1/labels/documents/TR-0001.pdf", reader, layout="a4")
    assert scan(pdf, tmp_path, crop_mm=(0, 0.5, 70, 37)) == ["TR-0001"]
    assert "Transfer SHA to CAN" in text_of(pdf, tmp_path)


def test_answers_404_for_a_code_that_is_neither_receipt_nor_transfer(
    warehouse: dict[str, str], client: TestClient, reader: dict[str, str]
) -> None:
    response = client.get("/api/v1/labels/documents/RC-NOPE.pdf", headers=reader)
    body = assert_problem(response, 404, "unknown_document")
    assert body["document"] == "RC-NOPE"
