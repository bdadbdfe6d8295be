"""Reading scans: EAN/UPC/GTIN-14, GS1 element strings, typed quantities and dates."""

from __future__ import annotations

from datetime import date

import pytest

from wms.errors import ValidationFailed
from wms.inventory.scanning import (
    GS,
    ProductCode,
    parse_date,
    parse_product_code,
    parse_quantity,
    printable,
)

EAN13 = "4006381333931"
GTIN14 = "0" + EAN13


@pytest.mark.parametrize(
    ("raw", "gtin14"),
    [
        pytest.param("4006381333931", "04006381333931", id="gtin-13"),
        pytest.param("036000291452", "00036000291452", id="upc-12"),
        pytest.param("96385074", "00000096385074", id="gtin-8"),
        pytest.param("10614141000415", "10614141000415", id="gtin-14"),
        pytest.param(" 4006381333931\r\n", "04006381333931", id="scanner-whitespace"),
    ],
)
def test_retail_barcodes_are_read_as_a_gtin_14(raw: str, gtin14: str) -> None:
    assert parse_product_code(raw) == ProductCode(gtin=gtin14)


@pytest.mark.parametrize("raw", ["4006381333932", "036000291453", "96385075", "10614141000416"])
def test_a_wrong_check_digit_is_refused_naming_the_scan(raw: str) -> None:
    with pytest.raises(ValidationFailed, match="check digit") as caught:
        parse_product_code(raw)
    assert raw in caught.value.message
    assert caught.value.field == "scan"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(f"01{GTIN14}{GS}10LOT-7{GS}1726123130012", id="gs-separated"),
        pytest.param(f"01{GTIN14}17261231{GS}10LOT-7{GS}3012", id="fixed-length-first"),
        pytest.param(f"01{GTIN14}1726123110LOT-7{GS}3012", id="lot-then-count"),
        pytest.param(f"]C101{GTIN14}17261231{GS}10LOT-7{GS}3012", id="aim-gs1-128"),
        pytest.param(f"]d201{GTIN14}1726123110LOT-7{GS}3012", id="aim-gs1-datamatrix"),
        pytest.param(f"(01){GTIN14}(17)261231(10)LOT-7(30)12", id="bracketed-hri"),
    ],
)
def test_gs1_element_strings_carry_gtin_lot_expiry_and_count(raw: str) -> None:
    assert parse_product_code(raw) == ProductCode(
        gtin=GTIN14, lot="LOT-7", expiry_date=date(2026, 12, 31), count=12
    )


def test_the_bracketed_form_may_list_the_fields_in_any_order() -> None:
    code = parse_product_code(f"(01){GTIN14}(17)270630(10)A1")
    assert (code.gtin, code.lot, code.expiry_date, code.count) == (
        GTIN14,
        "A1",
        date(2027, 6, 30),
        None,
    )


def test_an_expiry_day_of_00_means_the_end_of_that_month() -> None:
    assert parse_product_code(f"(01){GTIN14}(17)260200(10)X").expiry_date == date(2026, 2, 28)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(f"01{GTIN14}", id="digits-only"),
        pytest.param(f"]C101{GTIN14}", id="aim-gs1-128"),
        pytest.param(f"]d201{GTIN14}", id="aim-gs1-datamatrix"),
        pytest.param(f"(01){GTIN14}", id="bracketed-hri"),
        pytest.param(f"]E0{EAN13}", id="aim-ean-13"),
    ],
)
def test_a_gs1_string_with_only_the_gtin_is_read_as_that_gtin(raw: str) -> None:
    assert parse_product_code(raw) == ProductCode(gtin=GTIN14)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(f"(01){GTIN14}(17)260231(10)X", id="february-31-bracketed"),
        pytest.param(f"01{GTIN14}{GS}17260231{GS}10X", id="february-31-gs"),
        pytest.param(f"]C101{GTIN14}172602311012AB", id="february-31-aim"),
        pytest.param(f"(01){GTIN14}(17)261331(10)X", id="month-13"),
    ],
)
def test_an_impossible_expiry_date_is_refused_naming_ai_17(raw: str) -> None:
    with pytest.raises(ValidationFailed, match=r"\(17\)") as caught:
        parse_product_code(raw)
    assert caught.value.field == "scan"
    assert caught.value.message.startswith(f"scanned {printable(raw)}")
    assert "<GS>" in caught.value.message or GS not in raw


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("(10)ABC(17)261231", id="bracketed"),
        pytest.param(f"10ABC{GS}17261231", id="gs-separated"),
        pytest.param(f"]C110ABC{GS}3012", id="aim"),
    ],
)
def test_a_gs1_string_without_a_gtin_is_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed, match=r"without a GTIN \(AI 01\)") as caught:
        parse_product_code(raw)
    assert caught.value.field == "scan"


def test_a_gs1_string_whose_gtin_has_a_bad_check_digit_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="check digit should be 1"):
        parse_product_code("(01)04006381333932(10)X")


def test_a_gs1_count_of_zero_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="count is zero"):
        parse_product_code(f"(01){GTIN14}(30)0")


def test_garbage_after_an_aim_prefix_is_refused_rather_than_looked_up_as_a_sku() -> None:
    with pytest.raises(ValidationFailed, match=r"scanned \]C1nonsense"):
        parse_product_code("]C1nonsense")


@pytest.mark.parametrize(
    ("raw", "text"),
    [("MUG-1", "MUG-1"), ("  mug-1\n", "mug-1"), ("3001", "3001"), ("10ABC", "10ABC")],
)
def test_anything_else_is_kept_as_text_to_look_up_as_a_sku(raw: str, text: str) -> None:
    assert parse_product_code(raw) == ProductCode(gtin=None, text=text)


@pytest.mark.parametrize("raw", ["", "   ", "\r\n"])
def test_an_empty_scan_is_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed, match="empty"):
        parse_product_code(raw)


def test_printable_shows_the_group_separator_and_drops_other_controls() -> None:
    assert printable(f"01{GTIN14}{GS}10A\x07\x00") == f"01{GTIN14}<GS>10A"
    assert len(printable("9" * 1000)) == 200


@pytest.mark.parametrize(
    ("raw", "quantity"),
    [("1", 1), (" 7 \r\n", 7), ("007", 7), ("1000000000", 1_000_000_000)],
)
def test_a_quantity_is_a_positive_whole_number(raw: str, quantity: int) -> None:
    assert parse_quantity(raw) == quantity


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param("0", "more than 0", id="zero"),
        pytest.param("000", "more than 0", id="zeros"),
        pytest.param("-5", "whole number", id="negative"),
        pytest.param("+5", "whole number", id="plus-sign"),
        pytest.param("12a", "whole number", id="letters"),
        pytest.param("1e3", "whole number", id="exponent"),
        pytest.param("1_000", "whole number", id="underscore"),
        pytest.param("2.5", "whole number", id="decimal"),
        pytest.param("\uff11\uff12", "whole number", id="full-width-digits"),
        pytest.param("", "entered nothing", id="empty"),
        pytest.param("1000000001", "more than one operation", id="just-too-many"),
        pytest.param("9" * 400, "more than one operation", id="huge"),
    ],
)
def test_a_bad_quantity_is_refused_saying_why(raw: str, reason: str) -> None:
    with pytest.raises(ValidationFailed, match=reason) as caught:
        parse_quantity(raw, field="count")
    assert caught.value.field == "count"


@pytest.mark.parametrize(
    "raw", ["2026-12-31", "20261231", "261231", " 2026-12-31\n"], ids=str.strip
)
def test_a_date_is_typed_as_iso_or_compact(raw: str) -> None:
    assert parse_date(raw) == date(2026, 12, 31)


@pytest.mark.parametrize(
    "raw",
    ["2026-02-30", "260230", "20261301", "31/12/2026", "2026-1-31", "abcdefgh", "0", "", "-1"],
)
def test_an_impossible_or_malformed_date_is_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed, match="YYYY-MM-DD or YYMMDD") as caught:
        parse_date(raw)
    assert caught.value.field == "expiry_date"
