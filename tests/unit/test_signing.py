"""Standard Webhooks signatures: the published test vector, round trips, and every tampering."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.storefront.signing import (
    InvalidSecret,
    SignatureError,
    generate_secret,
    secret_key,
    sign,
    signature,
    verify,
)

# The test vector every Standard Webhooks reference library checks (libraries/*/tests).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = '{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

VECTOR_HEADERS = {
    "webhook-id": VECTOR_ID,
    "webhook-timestamp": str(VECTOR_TIMESTAMP),
    "webhook-signature": VECTOR_SIGNATURE,
}


def test_the_published_test_vector_is_reproduced_exactly() -> None:
    assert signature(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    headers = sign(VECTOR_SECRET, VECTOR_ID, VECTOR_BODY.encode(), timestamp=VECTOR_TIMESTAMP)
    assert headers == VECTOR_HEADERS


def test_the_published_test_vector_verifies_at_its_own_time() -> None:
    msg_id = verify(VECTOR_SECRET, VECTOR_HEADERS, VECTOR_BODY, now=VECTOR_TIMESTAMP)
    assert msg_id == VECTOR_ID


def test_a_secret_without_its_prefix_is_the_same_key() -> None:
    bare = VECTOR_SECRET.removeprefix("whsec_")
    assert secret_key(bare) == secret_key(VECTOR_SECRET)
    assert verify(bare, VECTOR_HEADERS, VECTOR_BODY, now=VECTOR_TIMESTAMP) == VECTOR_ID


def test_one_matching_signature_among_several_verifies() -> None:
    # The reference libraries' rotation case: unknown versions and stale signatures are skipped.
    headers = {
        **VECTOR_HEADERS,
        "webhook-signature": " ".join(
            [
                "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
                "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
                VECTOR_SIGNATURE,
                "v1,not base64!",
            ]
        ),
    }
    assert verify(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIMESTAMP) == VECTOR_ID


def test_signing_with_two_secrets_during_a_rotation_satisfies_either() -> None:
    old, new = generate_secret(), generate_secret()
    headers = sign([old, new], "evt_1", b"{}", timestamp=1_700_000_000)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert verify(secret, headers, b"{}", now=1_700_000_000) == "evt_1"
    assert verify([generate_secret(), new], headers, b"{}", now=1_700_000_000) == "evt_1"
    with pytest.raises(SignatureError, match="no signature matches"):
        verify(generate_secret(), headers, b"{}", now=1_700_000_000)


def test_header_names_are_case_insensitive() -> None:
    shouting = {name.upper(): value for name, value in VECTOR_HEADERS.items()}
    assert verify(VECTOR_SECRET, shouting, VECTOR_BODY, now=VECTOR_TIMESTAMP) == VECTOR_ID


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_named(missing: str) -> None:
    headers = {k: v for k, v in VECTOR_HEADERS.items() if k != missing}
    with pytest.raises(SignatureError, match=missing):
        verify(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIMESTAMP)


@pytest.mark.parametrize(
    "stamp",
    [
        "hello",
        "1614265330.5",
        "-1614265330",
        "\uff11\uff16\uff11\uff14\uff12\uff16\uff15\uff13\uff13\uff10",
    ],
)
def test_a_timestamp_that_is_not_unix_seconds_is_refused(stamp: str) -> None:
    headers = {**VECTOR_HEADERS, "webhook-timestamp": stamp}
    with pytest.raises(SignatureError, match="not unix seconds"):
        verify(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_timestamps_outside_the_tolerance_are_refused_both_ways() -> None:
    assert verify(VECTOR_SECRET, VECTOR_HEADERS, VECTOR_BODY, now=VECTOR_TIMESTAMP + 300)
    assert verify(VECTOR_SECRET, VECTOR_HEADERS, VECTOR_BODY, now=VECTOR_TIMESTAMP - 300)
    with pytest.raises(SignatureError, match="old"):
        verify(VECTOR_SECRET, VECTOR_HEADERS, VECTOR_BODY, now=VECTOR_TIMESTAMP + 301)
    with pytest.raises(SignatureError, match="future"):
        verify(VECTOR_SECRET, VECTOR_HEADERS, VECTOR_BODY, now=VECTOR_TIMESTAMP - 301)
    with pytest.raises(SignatureError, match="old"):
        verify(VECTOR_SECRET, VECTOR_HEADERS, VECTOR_BODY, now=VECTOR_TIMESTAMP + 11, tolerance=10)


def test_the_current_clock_is_used_by_default() -> None:
    headers = sign(VECTOR_SECRET, "evt_now", b"[]")
    assert verify(VECTOR_SECRET, headers, b"[]") == "evt_now"
    with pytest.raises(SignatureError, match="old"):
        verify(VECTOR_SECRET, VECTOR_HEADERS, VECTOR_BODY)  # signed in 2021


def test_a_signature_off_by_one_bit_is_refused() -> None:
    headers = {
        **VECTOR_HEADERS,
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",
    }
    with pytest.raises(SignatureError, match="no signature matches"):
        verify(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_a_signature_of_another_version_is_not_accepted() -> None:
    headers = {**VECTOR_HEADERS, "webhook-signature": VECTOR_SIGNATURE.replace("v1,", "v1a,")}
    with pytest.raises(SignatureError):
        verify(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_generated_secrets_are_prefixed_random_and_of_the_right_size() -> None:
    secrets = {generate_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert len(secret_key(generate_secret(24))) == 24
    with pytest.raises(InvalidSecret):
        generate_secret(8)


@pytest.mark.parametrize(
    "secret", ["", "whsec_", "whsec_not*base64", "whsec_" + base64.b64encode(b"short").decode()]
)
def test_a_malformed_secret_is_refused_with_a_reason(secret: str) -> None:
    with pytest.raises(InvalidSecret):
        sign(secret, "evt_1", b"{}")


ids = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="."),
    min_size=1,
    max_size=40,
)
stamps = st.integers(min_value=1_000_000_000, max_value=4_000_000_000)


@given(body=st.binary(max_size=2000), msg_id=ids, timestamp=stamps, nbytes=st.integers(24, 64))
def test_whatever_is_signed_verifies(body: bytes, msg_id: str, timestamp: int, nbytes: int) -> None:
    secret = generate_secret(nbytes)
    headers = sign(secret, msg_id, body, timestamp=timestamp)
    assert verify(secret, headers, body, now=timestamp) == msg_id


@given(
    body=st.binary(min_size=1, max_size=500),
    msg_id=ids,
    timestamp=stamps,
    position=st.integers(min_value=0),
    flip=st.integers(min_value=1, max_value=255),
)
def test_any_altered_byte_of_the_body_fails(
    body: bytes, msg_id: str, timestamp: int, position: int, flip: int
) -> None:
    secret = generate_secret()
    headers = sign(secret, msg_id, body, timestamp=timestamp)
    tampered = bytearray(body)
    tampered[position % len(body)] ^= flip
    with pytest.raises(SignatureError):
        verify(secret, headers, bytes(tampered), now=timestamp)


@given(body=st.binary(max_size=200), msg_id=ids, other=ids, timestamp=stamps)
def test_the_id_and_the_timestamp_are_signed_too(
    body: bytes, msg_id: str, other: str, timestamp: int
) -> None:
    secret = generate_secret()
    headers = sign(secret, msg_id, body, timestamp=timestamp)
    if other != msg_id:
        with pytest.raises(SignatureError):
            verify(secret, {**headers, "webhook-id": other}, body, now=timestamp)
    with pytest.raises(SignatureError):
        verify(secret, {**headers, "webhook-timestamp": str(timestamp + 1)}, body, now=timestamp)
    with pytest.raises(SignatureError):
        verify(generate_secret(), headers, body, now=timestamp)
