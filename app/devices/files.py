"""Device files for a USB stick (R27): configuration file, trace-log request, trace log.

When a wall device cannot reach the server, an administrator carries files to it:

- the **configuration file** writes the device's current settings into it;
- the **trace-log request file** asks the device for its trace log; it names the
  one device it is for (tenant and serial) and expires after a week, so it is
  worth nothing for any other device;
- the device writes the **trace log** back to the stick; uploaded here, it is
  kept and can be read (firmware, bootloader and why the device cannot connect).

Server files are JSON documents signed with the tenant's key (the key of its
blocking lists, R21), which the device already trusts::

    {"format": "keywarden-device-file/1", "kind": "...", "body": {...},
     "signature": "<base64 Ed25519 over canonical JSON of {kind, body}>"}

The trace log is signed by the device's own key over the canonical JSON of
``{request, serial, createdAt, logSha256}``, where ``request`` is the signature
of the request file it answers::

    {"format": "keywarden-trace-log/1", "request": <the request file's JSON>,
     "serial": "...", "createdAt": "...", "log": "<text>", "signature": "<base64>"}

Producing a file writes nothing (a GET never mutates); the request file carries
everything needed to check the answer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.blocking_list import tenant_public_key
from app.devices.protocol import parse_timestamp, rfc3339
from app.errors import BAD_SIGNATURE, INVALID, NOT_FOUND, DomainError
from app.ids import decode_id
from app.models import DeviceTraceLog, RemoteDevice, Tenant, utcnow
from app.uploads import not_plain_text

FILE_FORMAT = "keywarden-device-file/1"
TRACE_LOG_FORMAT = "keywarden-trace-log/1"
REQUEST_VALIDITY = timedelta(days=7)
MAX_LOG_BYTES = 5 * 1024 * 1024


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def signed_file(kind: str, body: dict[str, Any], signing_key: bytes) -> bytes:
    """A server file of ``kind`` signed with the tenant's key."""
    key = Ed25519PrivateKey.from_private_bytes(signing_key)
    signature = key.sign(_canonical({"kind": kind, "body": body}))
    document = {
        "format": FILE_FORMAT,
        "kind": kind,
        "body": body,
        "signature": base64.b64encode(signature).decode(),
    }
    return json.dumps(document, indent=2, sort_keys=True).encode()


def verify_signed_file(document: Any, public_key: bytes, kind: str, field: str) -> dict[str, Any]:
    """The body of a server file of ``kind``, after checking its signature."""
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise DomainError(INVALID, f"{field}: not a Keywarden device file", field)
    if document.get("kind") != kind or not isinstance(document.get("body"), dict):
        raise DomainError(INVALID, f"{field}: not a {kind} file", field)
    try:
        signature = base64.b64decode(str(document.get("signature", "")), validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, _canonical({"kind": kind, "body": document["body"]})
        )
    except (binascii.Error, ValueError, InvalidSignature) as exc:
        raise DomainError(
            BAD_SIGNATURE, f"{field}: not signed by this installation", field
        ) from exc
    return dict(document["body"])


def configuration_file(
    tenant: Tenant, device: RemoteDevice, *, now: datetime | None = None
) -> bytes:
    """The device's current settings as a file for its USB port (R24, R27)."""
    body = {
        "tenant": tenant.id,
        "serial": device.serial,
        "name": device.name,
        "issuedAt": rfc3339(now or utcnow()),
        "heartbeatIntervalSeconds": device.heartbeat_interval_seconds,
        "offlineUpdates": None
        if device.offline_max_updates is None
        else {
            "maxOfflineUpdates": device.offline_max_updates,
            "maxHoursSinceOnlineUpdate": device.offline_max_hours_since_online,
            "blockingListValidityHours": device.offline_blocking_list_validity_hours,
            "offlineExtensionHours": device.offline_extension_hours,
        },
        "updaterGen1": device.updater_gen1,
        "updaterGen2": device.updater_gen2,
    }
    return signed_file("configuration", body, tenant.signing_key)


def trace_log_request_file(
    tenant: Tenant, device: RemoteDevice, *, now: datetime | None = None
) -> bytes:
    """A request for the trace log of this one device, valid for a week (R27)."""
    now = now or utcnow()
    body = {
        "tenant": tenant.id,
        "serial": device.serial,
        "requestId": secrets.token_hex(16),
        "issuedAt": rfc3339(now),
        "expiresAt": rfc3339(now + REQUEST_VALIDITY),
    }
    return signed_file("trace-log-request", body, tenant.signing_key)


async def device_for_file(session: AsyncSession, device_gid: str) -> tuple[Tenant, RemoteDevice]:
    """The tenant and the device a USB file is made for, by the device's global id (R27).

    Another tenant's or domain's device does not exist here (R1, R8): NOT_FOUND on ``device``.
    """
    _, device_id = decode_id(device_gid, "RemoteDevice", "device")
    device = await session.get(RemoteDevice, device_id)
    if device is None:
        raise DomainError(NOT_FOUND, "no such device", "device")
    tenant = await session.scalar(select(Tenant))
    assert tenant is not None
    return tenant, device


def trace_log_message(request_signature: str, serial: str, created_at: str, log: str) -> bytes:
    """What a device signs when it writes its trace log."""
    return _canonical(
        {
            "request": request_signature,
            "serial": serial,
            "createdAt": created_at,
            "logSha256": hashlib.sha256(log.encode()).hexdigest(),
        }
    )


def write_trace_log(
    request_file: bytes, serial: str, log: str, device_key: Ed25519PrivateKey, created_at: datetime
) -> bytes:
    """The trace log a device writes in answer to a request file (simulators use it)."""
    request = json.loads(request_file)
    stamp = rfc3339(created_at)
    signature = device_key.sign(trace_log_message(request["signature"], serial, stamp, log))
    return json.dumps(
        {
            "format": TRACE_LOG_FORMAT,
            "request": request,
            "serial": serial,
            "createdAt": stamp,
            "log": log,
            "signature": base64.b64encode(signature).decode(),
        }
    ).encode()


async def store_trace_log(
    session: AsyncSession, device: RemoteDevice, data: bytes, *, now: datetime | None = None
) -> DeviceTraceLog:
    """Keep a trace log uploaded for ``device`` after checking it answers a request made for
    that device and is signed by the device itself (R27). The caller commits."""
    now = now or utcnow()
    if len(data) > MAX_LOG_BYTES:
        raise DomainError(INVALID, f"file: a trace log is at most {MAX_LOG_BYTES} bytes", "file")
    problem = not_plain_text(data)
    if problem is not None:
        raise DomainError(INVALID, f"file: {problem}", "file")
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise DomainError(INVALID, "file: not a trace log (JSON expected)", "file") from exc
    if not isinstance(document, dict) or document.get("format") != TRACE_LOG_FORMAT:
        raise DomainError(INVALID, "file: not a Keywarden trace log", "file")
    tenant = await session.scalar(select(Tenant))
    assert tenant is not None
    request = verify_signed_file(
        document.get("request"), tenant_public_key(tenant), "trace-log-request", "file"
    )
    if request.get("tenant") != tenant.id or request.get("serial") != device.serial:
        raise DomainError(
            INVALID, "file: this trace log answers a request made for another device", "file"
        )
    expires = parse_timestamp(str(request.get("expiresAt", "")))
    created = parse_timestamp(str(document.get("createdAt", "")))
    if expires is None or created is None or created > expires:
        raise DomainError(
            INVALID, "file: the request had expired when the log was written", "file"
        )
    log = document.get("log")
    if not isinstance(log, str) or document.get("serial") != device.serial:
        raise DomainError(INVALID, "file: the trace log is incomplete", "file")
    try:
        signature = base64.b64decode(str(document.get("signature", "")), validate=True)
        Ed25519PublicKey.from_public_bytes(device.public_key or b"").verify(
            signature,
            trace_log_message(
                document["request"]["signature"], device.serial, str(document["createdAt"]), log
            ),
        )
    except (binascii.Error, ValueError, InvalidSignature) as exc:
        raise DomainError(
            BAD_SIGNATURE, "file: the trace log was not written by this device", "file"
        ) from exc
    existing = await session.scalar(
        select(DeviceTraceLog).where(
            DeviceTraceLog.device_id == device.id,
            DeviceTraceLog.request_id == str(request["requestId"]),
        )
    )
    if existing is not None:
        return existing  # the same log uploaded again
    row = DeviceTraceLog(
        device_id=device.id,
        request_id=str(request["requestId"]),
        written_at=created,
        uploaded_at=now,
        log=log,
        sha256=hashlib.sha256(log.encode()).hexdigest(),
    )
    session.add(row)
    await session.flush()
    return row
