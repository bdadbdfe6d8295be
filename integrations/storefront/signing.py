"""Standard Webhooks signatures (https://www.standardwebhooks.com), standard library only.

A storefront can copy this file as it is: it imports nothing from ``wms``.

- The secret is ``whsec_`` followed by the base64 of 24 to 64 random bytes; the HMAC key is those
  bytes (a secret without the prefix is read as bare base64, as the reference libraries do).
- The signed content is ``f"{webhook_id}.{timestamp}.{body}"``: the message id, the unix time in
  whole seconds, and the raw body bytes, exactly as sent.
- ``webhook-signature`` is ``v1,<base64 of HMAC-SHA256>``; while a secret is being rotated it
  holds several, separated by spaces, and any one of them verifies.
- A receiver refuses a timestamp more than ``tolerance`` seconds from its own clock, so a captured
  request cannot be replayed later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE = 300  # seconds either side of the receiver's clock
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


class InvalidSecret(ValueError):
    """The secret is not ``whsec_`` followed by base64 of 24 to 64 bytes."""


class SignatureError(Exception):
    """A webhook failed verification; the message says why (never which signature was expected)."""


def generate_secret(nbytes: int = 32) -> str:
    """A new random secret, ``whsec_`` + base64 of ``nbytes`` bytes."""
    if not MIN_KEY_BYTES <= nbytes <= MAX_KEY_BYTES:
        raise InvalidSecret(f"a secret has {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes, not {nbytes}")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(nbytes)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key a secret stands for (its base64 part, decoded)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret("the secret is not whsec_ followed by base64") from exc
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise InvalidSecret(
            f"the secret decodes to {len(key)} bytes; expected {MIN_KEY_BYTES} to {MAX_KEY_BYTES}"
        )
    return key


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def _digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    content = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, content, hashlib.sha256).digest()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """One ``v1,<base64>`` signature of ``body`` sent as message ``msg_id`` at ``timestamp``."""
    digest = _digest(secret_key(secret), msg_id, timestamp, _as_bytes(body))
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def sign(
    secret: str | Sequence[str],
    msg_id: str,
    body: bytes | str,
    *,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The three headers to send with ``body``; several secrets (a rotation) sign it each."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    keys = [secret] if isinstance(secret, str) else list(secret)
    if not keys:
        raise InvalidSecret("at least one secret is needed to sign")
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: " ".join(signature(key, msg_id, ts, body) for key in keys),
    }


def verify(
    secret: str | Sequence[str],
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> str:
    """Check the signature headers of a received ``body``; return its ``webhook-id``.

    ``headers`` may use any letter case. Raises ``SignatureError`` if a header is missing, the
    timestamp is not a whole number or is more than ``tolerance`` seconds away from ``now``, or no
    ``v1`` signature matches (compared in constant time). Several secrets (during a rotation) are
    each tried.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get(ID_HEADER, "").strip()
    stamp = lowered.get(TIMESTAMP_HEADER, "").strip()
    signatures = lowered.get(SIGNATURE_HEADER, "").strip()
    missing = [
        name
        for name, value in (
            (ID_HEADER, msg_id),
            (TIMESTAMP_HEADER, stamp),
            (SIGNATURE_HEADER, signatures),
        )
        if not value
    ]
    if missing:
        raise SignatureError(f"missing header(s): {', '.join(missing)}")
    if not stamp.isascii() or not stamp.isdigit():
        raise SignatureError(f"{TIMESTAMP_HEADER} is not unix seconds: {stamp[:32]!r}")
    timestamp = int(stamp)
    clock = time.time() if now is None else now
    if timestamp < clock - tolerance:
        raise SignatureError(f"the timestamp is more than {tolerance:g} s old")
    if timestamp > clock + tolerance:
        raise SignatureError(f"the timestamp is more than {tolerance:g} s in the future")
    raw = _as_bytes(body)
    keys = [secret] if isinstance(secret, str) else list(secret)
    expected = [_digest(secret_key(key), msg_id, timestamp, raw) for key in keys]
    matched = False
    for candidate in signatures.split(" "):
        version, _, encoded = candidate.partition(",")
        if version != SIGNATURE_VERSION or not encoded:
            continue
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        for digest in expected:
            # Every comparison runs, so the time taken says nothing about which one matched.
            matched |= hmac.compare_digest(digest, given)
    if not matched:
        raise SignatureError("no signature matches the body; wrong secret or altered content")
    return msg_id
