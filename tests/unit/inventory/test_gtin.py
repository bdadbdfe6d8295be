"""GTIN check digits and normalisation to GTIN-14."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wms.inventory.errors import InvalidGtin
from wms.inventory.gtin import check_digit, make_gtin, normalise_gtin


@pytest.mark.parametrize(
    ("raw", "gtin14"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # UPC-A
        ("4006381333931", "04006381333931"),  # EAN-13
        ("10614141000415", "10614141000415"),  # GTIN-14 with indicator digit
        (" 4006381333931 ", "04006381333931"),  # scanner whitespace
    ],
)
def test_valid_gtins_are_stored_as_gtin_14(raw: str, gtin14: str) -> None:
    assert normalise_gtin(raw) == gtin14


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("4006381333932", "check digit should be 1"),
        ("40063813339A1", "only digits"),
        ("123456789", "8, 12, 13 or 14 digits"),
        ("", "only digits"),
    ],
)
def test_invalid_gtins_are_refused_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidGtin, match=reason) as caught:
        normalise_gtin(raw)
    assert caught.value.field == "gtin"


@given(st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_a_made_gtin_always_validates(body: str) -> None:
    assert normalise_gtin(make_gtin(body)) == make_gtin(body)


@given(
    st.text(alphabet="0123456789", min_size=13, max_size=13), st.integers(0, 12), st.integers(1, 9)
)
def test_any_single_digit_error_is_detected(body: str, position: int, shift: int) -> None:
    gtin = make_gtin(body)
    wrong = gtin[:position] + str((int(gtin[position]) + shift) % 10) + gtin[position + 1 :]
    with pytest.raises(InvalidGtin):
        normalise_gtin(wrong)


def test_check_digit_matches_the_gs1_example() -> None:
    # GS1 General Specifications worked example: 629104150021 -> 3
    assert check_digit("629104150021") == 3
