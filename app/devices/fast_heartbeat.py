"""The quiet heartbeat on PostgreSQL: one read, one write, straight on the driver (R23).

Most heartbeats of a deployment change nothing but the device's last contact:
the device holds the current blocking list, receives no firmware and reports
no offline updates. Those are answered here with two statements on the asyncpg
connection — the device with everything its answer needs, then the nonce
claim and the device update in one statement — instead of the ORM path's
seven round trips and its per-object bookkeeping.

The answer, the authentication and the replay protection are exactly those
of :func:`app.devices.heartbeat.heartbeat` behind
:func:`app.devices.protocol.authenticate_request` (the tests compare both
paths). Whenever a heartbeat is not quiet — anything in the body besides
versions and the held list version, a firmware deployment due, a list that is
stale or not the one held — :func:`quiet_heartbeat` touches nothing and
returns ``None``, and the caller takes the ORM path.

Row-level security applies as on every request: the transaction sets
``app.tenant_id`` first (R1), and every statement names the tenant as well.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import asyncpg

from app.access.blocking_list import REISSUE_INTERVAL, tenant_public_key_of
from app.db import Database
from app.devices.heartbeat import HeartbeatReport, device_configuration
from app.devices.protocol import (
    MAX_CLOCK_SKEW,
    TENANT_PATTERN,
    DeviceAuthError,
    SignedHeaders,
    request_message,
    rfc3339,
    verify_signature,
)
from app.events import DeviceStatusChanged
from app.models import RemoteDeviceKind

log = logging.getLogger("keywarden.devices")

# What a connection closed by the server (restart, administrator, idle timeout) raises at
# its next use, depending on whether the closing notice was read before the query went out.
_BROKEN = (
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.InterfaceError,
)

# Everything the answer needs, with the tenant's newest blocking list and whether firmware
# is due; one index lookup each (remote_devices by tenant+serial, blocking_lists by
# tenant+version, firmware_deployments by tenant+device).
_READ = """
SELECT d.id, d.public_key, d.online, d.name, d.kind, d.heartbeat_interval_seconds,
       d.system_linked, d.potential_free_output, d.updater_gen1, d.updater_gen2,
       d.offline_max_updates, d.offline_max_hours_since_online,
       d.offline_blocking_list_validity_hours, d.offline_extension_hours,
       (d.extension_id IS NULL OR e.activated) AS usable,
       t.signing_key,
       bl.version AS list_version, bl.issued_at AS list_issued_at,
       EXISTS (
           SELECT 1 FROM firmware_deployments f
           WHERE f.tenant_id = d.tenant_id AND f.device_id = d.id AND NOT f.done
       ) AS firmware_due
FROM remote_devices d
JOIN tenants t ON t.id = d.tenant_id
LEFT JOIN extensions e ON e.id = d.extension_id
LEFT JOIN LATERAL (
    SELECT b.version, b.issued_at FROM blocking_lists b
    WHERE b.tenant_id = d.tenant_id ORDER BY b.version DESC LIMIT 1
) bl ON true
WHERE d.tenant_id = $1 AND d.serial = $2
"""

# The nonce is claimed and the device updated in one statement; a nonce seen before
# (a replay, or the loser of two racing copies) updates nothing and returns no row.
_WRITE = """
WITH claimed AS (
    INSERT INTO device_nonces (tenant_id, device_id, nonce, expires_at)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT DO NOTHING
    RETURNING id
)
UPDATE remote_devices
SET online = true, last_heartbeat_at = $5,
    firmware_version = coalesce($6, firmware_version),
    bootloader_version = coalesce($7, bootloader_version)
WHERE tenant_id = $1 AND id = $2 AND EXISTS (SELECT 1 FROM claimed)
RETURNING id
"""


@dataclass(frozen=True)
class QuietHeartbeat:
    """A quiet heartbeat answered: the answer, the key that signs it, and the live event."""

    answer: dict[str, Any]
    signing_key: bytes
    came_online: DeviceStatusChanged | None


def is_quiet(report: HeartbeatReport) -> bool:
    """Whether the body alone allows the quiet path: no offline updates, no firmware report."""
    return not report.offline_updates and report.firmware is None


async def quiet_heartbeat(
    database: Database,
    *,
    tenant_id: str,
    serial: str,
    method: str,
    path: str,
    signed: SignedHeaders,
    body: bytes,
    report: HeartbeatReport,
    now: datetime,
) -> QuietHeartbeat | None:
    """Answer a quiet heartbeat in one short transaction, or None to take the ORM path.

    Raises :class:`DeviceAuthError` as :func:`~app.devices.protocol.authenticate_request`
    does (unknown device, bad signature, extension not activated, replayed nonce); in
    every case nothing is written.
    """
    if not TENANT_PATTERN.fullmatch(tenant_id):  # it goes into the SET below as a literal
        raise DeviceAuthError("UNAUTHENTICATED", "unknown device or bad signature")
    for attempt in (1, 2):
        async with database.driver_engine.connect() as connection:
            raw = await connection.get_raw_connection()
            pg: Any = raw.driver_connection
            try:
                # BEGIN, the tenant setting and the commit mode in one round trip (simple
                # query protocol). A heartbeat's commit does not wait for the WAL flush: a
                # database crash can lose the last second of last-contact times, which the
                # next heartbeat rewrites, and of nonces, whose requests are five minutes
                # from being refused as stale.
                await pg.execute(
                    "BEGIN; SET LOCAL synchronous_commit = off; "
                    f"SELECT set_config('app.tenant_id', '{tenant_id}', true)"
                )
            except _BROKEN:
                # A pooled connection the server closed meanwhile (no ping at checkout):
                # nothing was done in it. The server restarted or ended the sessions, so
                # the others in the pool are gone too: a new pool takes the request.
                await connection.invalidate()
                if attempt == 2:
                    raise
                await database.driver_engine.dispose()
                continue
            row = await _in_transaction(
                pg, tenant_id, serial, method, path, signed, body, report, now
            )
            break
    if row is None:
        return None
    list_version = row["list_version"]
    came_online = not row["online"]
    if came_online:
        log.info("device %s is online", serial)
    answer = {
        "serverTime": rfc3339(now),
        "configuration": device_configuration(_device(row)),
        "blockingListVersion": list_version,
        "blockingList": None,
        "tenantPublicKey": tenant_public_key_of(row["signing_key"]).hex(),
        "offlineUpdates": {"recorded": 0, "alreadyRecorded": 0},
        "firmwareReport": None,
        "firmwareChunk": None,
    }
    event = DeviceStatusChanged(tenant_id, row["id"], True, now) if came_online else None
    return QuietHeartbeat(answer, row["signing_key"], event)


async def _in_transaction(
    pg: Any,
    tenant_id: str,
    serial: str,
    method: str,
    path: str,
    signed: SignedHeaders,
    body: bytes,
    report: HeartbeatReport,
    now: datetime,
) -> Any:
    """The read, the checks and the write of a quiet heartbeat in the open transaction, which
    ends committed (the device's row) or rolled back (None: not quiet; or refused)."""
    committed = False
    try:
        row = await pg.fetchrow(_READ, tenant_id, serial)
        if row is None or not row["usable"]:
            raise DeviceAuthError("UNAUTHENTICATED", "unknown device or bad signature")
        message = request_message(method, path, signed.timestamp, signed.nonce, body)
        if not verify_signature(row["public_key"], signed.signature, message):
            raise DeviceAuthError("UNAUTHENTICATED", "unknown device or bad signature")
        list_version = row["list_version"]
        if (
            row["firmware_due"]
            or list_version is None
            or list_version != report.blocking_list_version
            or row["list_issued_at"] <= now - REISSUE_INTERVAL
        ):
            return None
        updated = await pg.fetchval(
            _WRITE,
            tenant_id,
            row["id"],
            signed.nonce,
            signed.at + MAX_CLOCK_SKEW,
            now,
            report.firmware_version,
            report.bootloader_version,
        )
        if updated is None:
            raise DeviceAuthError("REPLAYED", "this request was received before (nonce used)")
        await pg.execute("COMMIT")
        committed = True
        return row
    finally:
        if not committed:
            await pg.execute("ROLLBACK")


def _device(row: Any) -> Any:
    """The device's settings as attributes, the way its configuration reads them (no ORM
    object: building one costs more than the rest of the answer)."""
    settings = SimpleNamespace(**dict(row.items()))
    settings.kind = RemoteDeviceKind(row["kind"])
    return settings
