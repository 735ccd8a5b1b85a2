"""What a remote device's chip does with keys (R21, R22, R23): sign its requests, check answers.

A wall device holds an Ed25519 private key; it signs every request over the
six-line string of docs/remote-protocol.md (:func:`hardware.wire.request_message`)
and trusts an answer, or a key blocking list, only when its tenant's key signed
it. The signed strings are the wire format (:mod:`hardware.wire`); the checks
here are the device's own, written apart from the server's so that a server
that signs wrongly is caught by the device, not excused by shared code.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hardware.wire import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    answer_message,
    blocking_list_message,
    request_message,
    rfc3339,
)


def sign_request(
    private_key: Ed25519PrivateKey,
    method: str,
    path: str,
    body: bytes,
    *,
    now: datetime,
    nonce: str | None = None,
) -> dict[str, str]:
    """The three authentication headers of one request (R23): the device's clock to the
    second, a fresh 128-bit nonce (or ``nonce``), the signature in base64."""
    timestamp = rfc3339(now.replace(microsecond=0))
    nonce = nonce or secrets.token_hex(16)
    signature = private_key.sign(request_message(method, path, timestamp, nonce, body))
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: base64.b64encode(signature).decode("ascii"),
    }


def _verifies(public_key: bytes | str, signature: Any, message: bytes) -> bool:
    """Whether ``signature`` (base64) is ``public_key``'s (raw or hex) Ed25519 signature."""
    try:
        raw = bytes.fromhex(public_key) if isinstance(public_key, str) else public_key
        if not isinstance(signature, str):
            return False
        Ed25519PublicKey.from_public_bytes(raw).verify(
            base64.b64decode(signature, validate=True), message
        )
    except (InvalidSignature, ValueError, TypeError, binascii.Error):
        return False
    return True


def answer_is_signed(
    tenant_key: bytes | str, signature: str, nonce: str, status: int, body: bytes
) -> bool:
    """Whether an answer carries the tenant's signature for the request with ``nonce``
    (its status and body included), as the device checks before acting on it."""
    return _verifies(tenant_key, signature, answer_message(nonce, status, body))


def blocking_list_is_signed(
    served: Mapping[str, Any], *, tenant_id: str, tenant_key: bytes | str
) -> bool:
    """R21: whether a blocking list as the heartbeat serves it (``version``, ``issuedAt``,
    ``validUntil``, ``keyUids``, ``signature``) is exactly what the tenant signed for this
    tenant. Anything missing or malformed is not signed."""
    try:
        version, uids = served["version"], served["keyUids"]
        if isinstance(version, bool) or not isinstance(version, int):
            return False
        if not isinstance(uids, list) or not all(isinstance(u, str) for u in uids):
            return False
        message = blocking_list_message(
            tenant_id=tenant_id,
            version=version,
            issued_at=served["issuedAt"],
            valid_until=served["validUntil"],
            key_uids=uids,
        )
    except (KeyError, TypeError, ValueError):
        return False
    return _verifies(tenant_key, served.get("signature"), message)
