"""GS1-128 element strings, the Code 128 encoder behind every label, and label sheets."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reportlab.graphics.barcode.code128 import Code128Auto  # type: ignore[import-untyped]

from wms.errors import ValidationFailed
from wms.inventory.errors import InvalidGtin, InvalidQuantity
from wms.inventory.labels import (
    FNC1,
    GS1_CSET82,
    SHEETS,
    BarcodeTooLong,
    Label,
    code128_values,
    gs1_element_string,
    render_labels,
)

GTIN = "09506000134352"  # GS1's own example GTIN-14


def decode_code128(values: list[int]) -> str:
    """The data a scanner reads from Code 128 symbol values (sets B and C), check verified."""
    *symbols, check, stop = values
    assert stop == 106
    assert check == (symbols[0] + sum(i * v for i, v in enumerate(symbols[1:], start=1))) % 103
    code_set = {104: "B", 105: "C"}[symbols[0]]
    out = ""
    for value in symbols[1:]:
        if value == 102:
            out += FNC1
        elif code_set == "C" and value == 100:
            code_set = "B"
        elif code_set == "B" and value == 99:
            code_set = "C"
        elif code_set == "C":
            out += f"{value:02d}"
        else:
            assert value < 95, value
            out += chr(value + 32)
    return out


def test_starts_with_fnc1_and_puts_the_fixed_length_fields_first() -> None:
    data, text = gs1_element_string(GTIN, "L123", date(2027, 12, 31), None)
    assert data == f"{FNC1}01{GTIN}17271231" + "10L123"
    assert text == f"(01){GTIN}(17)271231(10)L123"


def test_separates_a_lot_from_a_following_count_with_fnc1() -> None:
    data, text = gs1_element_string(GTIN, "L123", date(2027, 12, 31), 24)
    assert data == f"{FNC1}01{GTIN}17271231" + f"10L123{FNC1}3024"
    assert data.count(FNC1) == 2
    assert text == f"(01){GTIN}(17)271231(10)L123(30)24"


def test_ends_without_fnc1_after_the_last_field() -> None:
    data, _ = gs1_element_string(GTIN, None, None, 24)
    assert data == f"{FNC1}01{GTIN}3024"
    data, _ = gs1_element_string(GTIN, None, None, None)
    assert data == f"{FNC1}01{GTIN}"


def test_pads_a_gtin_13_to_gtin_14() -> None:
    data, text = gs1_element_string("4006381333931", None, None, None)
    assert data == f"{FNC1}0104006381333931"
    assert text == "(01)04006381333931"


def test_refuses_a_gtin_with_a_wrong_check_digit() -> None:
    with pytest.raises(InvalidGtin, match="check digit should be 2") as caught:
        gs1_element_string("09506000134353", None, None, None)
    assert caught.value.field == "gtin"


@pytest.mark.parametrize(
    ("expiry", "yymmdd"),
    [(date(2027, 12, 31), "271231"), (date(2030, 1, 5), "300105"), (date(2000, 2, 29), "000229")],
)
def test_writes_the_expiry_date_as_yymmdd(expiry: date, yymmdd: str) -> None:
    data, text = gs1_element_string(GTIN, None, expiry, None)
    assert data.endswith(f"17{yymmdd}")
    assert text == f"(01){GTIN}(17){yymmdd}"


def test_refuses_an_expiry_year_that_two_digits_cannot_hold() -> None:
    with pytest.raises(ValidationFailed) as caught:
        gs1_element_string(GTIN, None, date(2100, 1, 1), None)
    assert caught.value.field == "expiry_date"


@pytest.mark.parametrize("lot", ["", "L" * 21, "LOT 1", "LÖT1", "L#1"])
def test_refuses_a_lot_that_ai_10_cannot_carry(lot: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        gs1_element_string(GTIN, lot, None, None)
    assert caught.value.field == "lot"


@pytest.mark.parametrize("count", [0, -1, 100_000_000])
def test_refuses_a_count_that_ai_30_cannot_carry(count: int) -> None:
    with pytest.raises(InvalidQuantity) as caught:
        gs1_element_string(GTIN, None, None, count)
    assert caught.value.field == "quantity"


def test_encodes_gs1_data_in_code_set_c_after_start_c_and_fnc1() -> None:
    values = code128_values(f"{FNC1}01{GTIN}")
    assert values[:3] == [105, 102, 1]  # START C, FNC1, "01"
    assert values[3:10] == [9, 50, 60, 0, 13, 43, 52]


gs1_fields = st.tuples(
    st.text(alphabet=sorted(GS1_CSET82), min_size=1, max_size=20) | st.none(),
    st.dates(date(2000, 1, 1), date(2099, 12, 31)) | st.none(),
    st.integers(1, 99_999_999) | st.none(),
)


@given(gs1_fields)
def test_every_gs1_element_string_scans_back_unchanged(
    fields: tuple[str | None, date | None, int | None],
) -> None:
    data, _ = gs1_element_string(GTIN, *fields)
    values = code128_values(data)
    assert decode_code128(values) == data
    # Never longer than reportlab's own automatic encoder, which is correct but not shortest.
    auto = Code128Auto(data)
    auto._calculate()
    assert len(values) <= len(auto.encoded)


def test_keeps_an_odd_count_that_follows_a_lot() -> None:
    # reportlab 5.1's Code128 encodes this as "...FNC1 02823227": the AI (30) becomes (02).
    data, _ = gs1_element_string(GTIN, "m24p", date(2027, 12, 31), 2823227)
    assert decode_code128(code128_values(data)).endswith(f"10m24p{FNC1}302823227")


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1))
def test_every_printable_ascii_text_scans_back_unchanged(text: str) -> None:
    assert decode_code128(code128_values(text)) == text


def label(barcode: str = "SHA-B01") -> Label:
    return Label(heading="B01", lines=("SHA · Shanghai DC",), barcode=barcode, barcode_text=barcode)


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


@pytest.mark.parametrize(("layout", "count", "expected"), [("thermal", 5, 5), ("a4", 25, 2)])
def test_lays_out_one_thermal_label_a_page_or_24_to_an_a4_sheet(
    layout: str, count: int, expected: int
) -> None:
    pdf = render_labels([label()] * count, SHEETS[layout], title="t", field="location")
    assert pdf.startswith(b"%PDF-")
    assert pages(pdf) == expected


def test_refuses_a_barcode_too_long_for_the_label() -> None:
    with pytest.raises(BarcodeTooLong) as caught:
        render_labels([label("X" * 40)], SHEETS["a4"], title="t", field="location")
    assert caught.value.field == "location"
    assert "70 mm wide" in caught.value.message
