"""SSCCs: the GS1 mod-10 check digit, the layout of the 18 digits, and the label's barcode data."""

from __future__ import annotations

import pytest
from biip.sscc import Sscc
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_labels import decode_code128
from wms.errors import ValidationFailed
from wms.fulfillment.sscc import (
    gs1_check_digit,
    human_readable,
    is_valid_sscc,
    make_sscc,
    validate_company_prefix,
)
from wms.inventory.labels import FNC1, code128_values

# Published examples: GS1's example company prefix 0614141 (General Specifications, AI 00) and
# the SSCC in biip's documentation.
KNOWN = ["106141411234567897", "006141411234567890", "157035381410375177"]


@pytest.mark.parametrize("sscc", KNOWN)
def test_the_check_digit_of_published_ssccs(sscc: str) -> None:
    assert gs1_check_digit(sscc[:-1]) == int(sscc[-1])
    assert is_valid_sscc(sscc)


def test_an_sscc_is_extension_prefix_serial_and_check_digit() -> None:
    assert make_sscc(1, "0614141", 123456789) == "106141411234567897"
    assert make_sscc(0, "0614141", 123456789) == "006141411234567890"
    assert make_sscc(0, "0614141", 1) == "006141410000000012"
    assert make_sscc(3, "4012345678", 7)[:11] == "34012345678"


def test_a_wrong_digit_fails_the_check() -> None:
    assert not is_valid_sscc("106141411234567898")
    assert not is_valid_sscc("10614141123456789")
    assert not is_valid_sscc("10614141123456789X")


@given(
    st.integers(min_value=0, max_value=9),
    st.sampled_from(["061414", "0614141", "40123456", "401234567890"]),
    st.data(),
)
def test_every_generated_sscc_parses_as_gs1_does(
    extension: int, prefix: str, data: st.DataObject
) -> None:
    serial = data.draw(st.integers(min_value=0, max_value=10 ** (16 - len(prefix)) - 1))
    sscc = make_sscc(extension, prefix, serial)
    parsed = Sscc.parse(sscc)  # biip refuses a wrong check digit
    assert parsed.extension_digit == extension
    assert sscc[1 : 1 + len(prefix)] == prefix


def test_company_prefixes_and_serials_are_checked() -> None:
    for bad in ("12345", "1234567890123", "06141a1", ""):
        with pytest.raises(ValidationFailed, match="company prefix"):
            validate_company_prefix(bad)
    with pytest.raises(ValueError, match="does not fit"):
        make_sscc(0, "0614141", 10**9)
    with pytest.raises(ValidationFailed, match="extension digit"):
        make_sscc(10, "0614141", 1)


def test_the_human_readable_form_groups_the_digits() -> None:
    assert human_readable("106141411234567897") == "(00) 106141411234567897"
    assert (
        human_readable("106141411234567897", company_prefix_length=7)
        == "(00) 1 0614141 123456789 7"
    )


def test_the_barcode_carries_fnc1_then_ai_00_and_the_sscc_in_code_set_c() -> None:
    values = code128_values(f"{FNC1}00106141411234567897")
    assert values[0] == 105  # START C: all digits, two per symbol
    assert decode_code128(values) == f"{FNC1}00106141411234567897"
    assert len(values) == 1 + 1 + 10 + 2  # start, FNC1, ten digit pairs, check, stop
