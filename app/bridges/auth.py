"""How a site bridge proves who it is: a signed, single-use credential (R1, R22).

The agent holds the Ed25519 private key whose public half it gave at enrolment.
For the WebSocket it sends, in the graphql-transport-ws ``connection_init``
payload::

    {"bridge": {"tenantId", "bridgeId", "timestamp", "nonce", "signature"}}

- ``tenantId`` the tenant's uuid and ``bridgeId`` the global id ``enrolBridge``
  answered, both exactly as signed;
- ``timestamp`` unix seconds, within ±120 s of the server's clock;
- ``nonce`` 32 lowercase hex digits, never used twice by the bridge;
- ``signature`` base64 Ed25519 over :func:`credential_message`.

For a plain HTTP request (the key firmware image) the same object travels as
``Authorization: Bridge <base64url of its JSON>`` (:func:`parse_authorization`):
a fresh credential per request, refused like a replay when used twice.

A nonce is kept (:class:`app.models.BridgeNonce`) until its timestamp could no
longer be accepted; the bridge's spent nonces are pruned on the way. A revoked or
not yet enrolled bridge is refused; so is any bridge of another tenant, since
the lookup runs under the tenant the credential names (R1).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from app.auth.principal import Principal
from app.db import Database
from app.ids import parse_global_id
from app.models import Bridge, BridgeNonce, utcnow

MAX_CLOCK_SKEW = timedelta(seconds=120)
NONCE_PATTERN = re.compile(r"[0-9a-f]{32}")
AUTH_SCHEME = "bridge"


class BridgeAuthError(Exception):
    """A credential that does not prove it comes from an enrolled, unrevoked bridge.

    ``code``: MALFORMED, UNKNOWN (unknown bridge or bad signature, deliberately
    one answer), REVOKED, STALE_TIMESTAMP or REPLAYED.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class BridgeCredential:
    """A bridge's signed claim to be ``bridge_gid`` of ``tenant_id`` at ``timestamp``."""

    tenant_id: str
    bridge_gid: str
    timestamp: int
    nonce: str
    signature: bytes

    @property
    def tenant_uuid(self) -> str:
        return str(uuid.UUID(self.tenant_id))

    @property
    def bridge_id(self) -> int:
        parsed = parse_global_id(self.bridge_gid)
        assert parsed is not None
        return int(parsed[1])


def credential_message(tenant_id: str, bridge_id: str, timestamp: int, nonce: str) -> bytes:
    """The exact bytes a bridge signs: ``keywarden-bridge:<tenant>:<bridge>:<time>:<nonce>``."""
    return b":".join(
        [b"keywarden-bridge", tenant_id.encode(), bridge_id.encode(), str(timestamp).encode(),
         nonce.encode()]
    )


def parse_credential(value: Any) -> BridgeCredential:
    """The credential in a ``connection_init`` ``bridge`` object; MALFORMED when it is not one."""
    if not isinstance(value, Mapping):
        raise BridgeAuthError("MALFORMED", "bridge: an object with tenantId, bridgeId, "
                              "timestamp, nonce and signature")
    tenant_id = value.get("tenantId")
    bridge_gid = value.get("bridgeId")
    timestamp = value.get("timestamp")
    nonce = value.get("nonce")
    signature = value.get("signature")
    if not (isinstance(tenant_id, str) and isinstance(bridge_gid, str) and isinstance(nonce, str)
            and isinstance(signature, str)):
        raise BridgeAuthError("MALFORMED", "bridge: tenantId, bridgeId, nonce and signature "
                              "are strings")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise BridgeAuthError("MALFORMED", "bridge.timestamp: unix seconds as an integer")
    try:
        uuid.UUID(tenant_id)
    except ValueError as exc:
        raise BridgeAuthError("MALFORMED", "bridge.tenantId: not a tenant id") from exc
    parsed = parse_global_id(bridge_gid)
    if parsed is None or parsed[0] != "Bridge" or not parsed[1].isdigit():
        raise BridgeAuthError("MALFORMED", "bridge.bridgeId: not a bridge id")
    if not NONCE_PATTERN.fullmatch(nonce):
        raise BridgeAuthError("MALFORMED", "bridge.nonce: 32 lowercase hex digits")
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BridgeAuthError("MALFORMED", "bridge.signature: not base64") from exc
    return BridgeCredential(tenant_id, bridge_gid, timestamp, nonce, raw)


def parse_authorization(header: str) -> BridgeCredential:
    """The credential of an ``Authorization: Bridge <base64url JSON>`` header."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != AUTH_SCHEME or not token.strip():
        raise BridgeAuthError("MALFORMED", "Authorization must be 'Bridge <credential>'")
    token = token.strip()
    try:
        body = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BridgeAuthError("MALFORMED", "the Bridge credential is not base64url JSON") from exc
    return parse_credential(body)


def encode_authorization(credential: Mapping[str, Any]) -> str:
    """The ``Authorization`` header value for a credential object (what the agent sends)."""
    raw = json.dumps(dict(credential), separators=(",", ":")).encode()
    return "Bridge " + base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def authenticate_bridge(
    database: Database, credential: BridgeCredential, *, now: datetime | None = None
) -> Principal:
    """The bridge principal behind a credential, its nonce spent; BridgeAuthError otherwise.

    The principal holds no right (R7): a bridge receives and reports its own
    commands and sees nothing else. Its domain is the bridge's (R8).
    """
    now = now or utcnow()
    try:
        signed_at = datetime.fromtimestamp(credential.timestamp, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise BridgeAuthError("STALE_TIMESTAMP", "the timestamp is more than 120 s off") from exc
    if abs(now - signed_at) > MAX_CLOCK_SKEW:
        raise BridgeAuthError("STALE_TIMESTAMP", "the timestamp is more than 120 s off")
    async with database.tenant_session(credential.tenant_uuid) as session:
        bridge = await session.get(Bridge, credential.bridge_id)
        if bridge is None or bridge.public_key is None:
            raise BridgeAuthError("UNKNOWN", "unknown bridge or bad signature")
        message = credential_message(
            credential.tenant_id, credential.bridge_gid, credential.timestamp, credential.nonce
        )
        try:
            Ed25519PublicKey.from_public_bytes(bridge.public_key).verify(
                credential.signature, message
            )
        except (InvalidSignature, ValueError) as exc:
            raise BridgeAuthError("UNKNOWN", "unknown bridge or bad signature") from exc
        if bridge.revoked_at is not None:
            raise BridgeAuthError("REVOKED", "this bridge was revoked")
        await session.execute(
            delete(BridgeNonce).where(
                BridgeNonce.bridge_id == bridge.id, BridgeNonce.expires_at <= now
            )
        )
        session.add(
            BridgeNonce(
                bridge_id=bridge.id, nonce=credential.nonce,
                expires_at=signed_at + MAX_CLOCK_SKEW,
            )
        )
        try:
            await session.flush()
        except IntegrityError as exc:
            await session.rollback()
            raise BridgeAuthError("REPLAYED", "this nonce was used already") from exc
        bridge.last_seen_at = now
        principal = Principal(
            tenant_id=bridge.tenant_id,
            kind="bridge",
            name=f"bridge {bridge.name}",
            rights=frozenset(),
            domain_ids=frozenset({bridge.domain_id}),
            bridge_id=bridge.id,
        )
        await session.commit()
    return principal
