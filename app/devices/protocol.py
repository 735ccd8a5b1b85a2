"""Signed requests between remote devices and the server, and replay protection (R22, R23).

A device holds an Ed25519 private key; its public half comes with the factory
data (``RemoteDevice.public_key``, R31). Every request is a JSON ``POST`` to
``/remote/v1/<tenant id>/<serial>/<verb>`` with three headers:

- ``X-Keywarden-Timestamp``: the device's clock, RFC 3339 with its offset
  (``2026-11-29T10:00:00Z``); refused when more than five minutes off the server's.
- ``X-Keywarden-Nonce``: 32 to 64 lowercase hex digits, never used twice by the device.
- ``X-Keywarden-Signature``: base64 of the Ed25519 signature over
  :func:`request_message`::

      KEYWARDEN-REMOTE-V1\\n<METHOD>\\n<path>\\n<timestamp header>\\n<nonce>\\n<sha256 hex of body>

The path names the tenant and the device, so a request signed for one tenant or
device is worth nothing for another. A nonce is remembered per device until its
timestamp could no longer be accepted (:class:`app.models.DeviceNonce`); a
second request with it is refused as a replay.

Answers to authenticated requests are signed in turn with the tenant's key (the
key that signs its blocking lists, R21), over :func:`answer_message` — the
request's nonce, the HTTP status and the SHA-256 of the answer's body — so a
device knows an answer is its server's and belongs to its request.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import DeviceNonce, Extension, RemoteDevice, Tenant

# The signed strings, the time format and the header names are the wire format the devices
# share, owned by hardware.wire; "X as X" re-exports them for the server's modules.
from hardware.wire import NONCE_HEADER as NONCE_HEADER
from hardware.wire import SIGNATURE_HEADER as SIGNATURE_HEADER
from hardware.wire import TIMESTAMP_HEADER as TIMESTAMP_HEADER
from hardware.wire import answer_message as answer_message
from hardware.wire import parse_timestamp as parse_timestamp
from hardware.wire import request_message as request_message
from hardware.wire import request_path as request_path
from hardware.wire import rfc3339 as rfc3339

# R23: a request whose timestamp is further than this from the server's clock is refused.
MAX_CLOCK_SKEW = timedelta(minutes=5)

NONCE_PATTERN = re.compile(r"[0-9a-f]{32,64}")
SERIAL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
TENANT_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class DeviceAuthError(Exception):
    """A request that does not prove it comes from a registered, active device (HTTP 401).

    ``code`` is UNAUTHENTICATED (unknown device, bad signature: deliberately one
    message, so serials cannot be probed), STALE_TIMESTAMP or REPLAYED.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def new_nonce() -> str:
    """A fresh request nonce: 128 random bits in hex."""
    return secrets.token_hex(16)


def sign_request(
    private_key: Ed25519PrivateKey,
    method: str,
    path: str,
    body: bytes,
    *,
    now: datetime,
    nonce: str | None = None,
) -> dict[str, str]:
    """The three authentication headers of one request, as a device computes them (R23)."""
    timestamp = rfc3339(now.replace(microsecond=0))
    nonce = nonce or new_nonce()
    signature = private_key.sign(request_message(method, path, timestamp, nonce, body))
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: base64.b64encode(signature).decode("ascii"),
    }


def verify_signature(public_key: bytes | None, signature: str, message: bytes) -> bool:
    """Whether ``signature`` (base64) is ``public_key``'s Ed25519 signature over ``message``."""
    if public_key is None or len(public_key) != 32 or len(signature) > 200:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(raw, message)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def sign_answer(signing_key: bytes, nonce: str, status: int, body: bytes) -> str:
    """The server's signature (base64) over its answer, with the tenant's raw private key."""
    private = _private_key(signing_key)
    return base64.b64encode(private.sign(answer_message(nonce, status, body))).decode("ascii")


@functools.lru_cache(maxsize=4096)
def _private_key(signing_key: bytes) -> Ed25519PrivateKey:
    # Loading the key costs as much as signing with it; a deployment has few tenants.
    return Ed25519PrivateKey.from_private_bytes(signing_key)


def verify_answer(
    public_key: bytes | str, signature: str, nonce: str, status: int, body: bytes
) -> bool:
    """Whether an answer carries the tenant's signature for the request with ``nonce``."""
    try:
        raw_key = bytes.fromhex(public_key) if isinstance(public_key, str) else public_key
    except ValueError:
        return False
    return verify_signature(raw_key, signature, answer_message(nonce, status, body))


@dataclass(frozen=True)
class SignedHeaders:
    """The authentication headers of a request, well-formed and within the clock window."""

    timestamp: str
    at: datetime
    nonce: str
    signature: str


def check_headers(headers: Mapping[str, str], now: datetime) -> SignedHeaders:
    """Read the three headers and check the timestamp against the server's clock (R23).

    ``headers`` is case-insensitive as HTTP's are (Starlette's ``Headers``).

    Checked before any database work: a missing or malformed header is
    UNAUTHENTICATED, a timestamp more than five minutes off is STALE_TIMESTAMP.
    """
    timestamp = headers.get(TIMESTAMP_HEADER)
    nonce = headers.get(NONCE_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not timestamp or not nonce or not signature:
        raise DeviceAuthError(
            "UNAUTHENTICATED",
            f"the request needs the headers {TIMESTAMP_HEADER}, {NONCE_HEADER} and "
            f"{SIGNATURE_HEADER}",
        )
    at = parse_timestamp(timestamp)
    if at is None:
        raise DeviceAuthError(
            "UNAUTHENTICATED", f"{TIMESTAMP_HEADER} must be an RFC 3339 time with its offset"
        )
    if not NONCE_PATTERN.fullmatch(nonce):
        raise DeviceAuthError(
            "UNAUTHENTICATED", f"{NONCE_HEADER} must be 32 to 64 lowercase hex digits"
        )
    if abs(now - at) > MAX_CLOCK_SKEW:
        raise DeviceAuthError(
            "STALE_TIMESTAMP",
            f"the request's time {timestamp} is more than "
            f"{int(MAX_CLOCK_SKEW.total_seconds() // 60)} minutes off the server's "
            f"{rfc3339(now)}",
        )
    return SignedHeaders(timestamp, at, nonce, signature)


@dataclass
class AuthenticatedDevice:
    """A device whose request was proven genuine and fresh, with its tenant."""

    device: RemoteDevice
    tenant: Tenant
    nonce: str
    at: datetime


async def authenticate_request(
    session: AsyncSession,
    *,
    serial: str,
    method: str,
    path: str,
    signed: SignedHeaders,
    body: bytes,
    now: datetime,
) -> AuthenticatedDevice:
    """Prove a request comes from device ``serial`` of the session's tenant, once (R22, R23).

    The device must exist in the tenant (the tenant is the session's, taken
    from the path), hold a public key and belong to no extension that is still
    awaiting activation (R31); the signature must verify over the request as
    received. Then its nonce is claimed: a nonce the device used before is
    REPLAYED. Expired nonces of the device are pruned on the way. The caller
    commits (the claim is part of the request's transaction).
    """
    unauthenticated = DeviceAuthError("UNAUTHENTICATED", "unknown device or bad signature")
    if not SERIAL_PATTERN.fullmatch(serial):
        raise unauthenticated
    row = (
        await session.execute(
            select(RemoteDevice, Tenant, Extension.activated)
            .join(Tenant, Tenant.id == RemoteDevice.tenant_id)
            .outerjoin(Extension, Extension.id == RemoteDevice.extension_id)
            .where(RemoteDevice.serial == serial)
        )
    ).first()
    if row is None:
        raise unauthenticated
    device, tenant, activated = row
    if device.extension_id is not None and not activated:
        raise unauthenticated
    message = request_message(method, path, signed.timestamp, signed.nonce, body)
    if not verify_signature(device.public_key, signed.signature, message):
        raise unauthenticated
    # Spent nonces are pruned by the periodic worker (app.workers.maintenance), not on the
    # hot path: an expired nonce could only meet a request already refused as stale.
    if not await claim_nonce(session, device.id, signed.nonce, signed.at + MAX_CLOCK_SKEW):
        raise DeviceAuthError("REPLAYED", "this request was received before (nonce used)")
    return AuthenticatedDevice(device, tenant, signed.nonce, signed.at)


def insert_ignoring_conflicts(session: AsyncSession, model: type) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the session's database (SQLite or PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).on_conflict_do_nothing()


async def claim_nonce(
    session: AsyncSession, device_id: int, nonce: str, expires_at: datetime
) -> bool:
    """Record ``nonce`` as used by the device; False when it was used before (a replay).

    Two copies of one request racing each other both insert; the unique
    constraint lets exactly one through (the other waits for it, then finds it).
    """
    stmt = (
        insert_ignoring_conflicts(session, DeviceNonce)
        .values(
            tenant_id=session.info["tenant_id"],
            device_id=device_id,
            nonce=nonce,
            expires_at=expires_at,
        )
        .returning(DeviceNonce.id)
    )
    return (await session.execute(stmt)).scalar() is not None


async def prune_nonces(
    session: AsyncSession, now: datetime, *, device_id: int | None = None
) -> int:
    """Forget nonces whose requests would be refused as stale anyway; how many went.

    The periodic worker prunes the whole tenant's (``device_id`` None) every
    30 seconds; requests do not, to keep heartbeats cheap.
    """
    stmt = delete(DeviceNonce).where(DeviceNonce.expires_at < now)
    if device_id is not None:
        stmt = stmt.where(DeviceNonce.device_id == device_id)
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
