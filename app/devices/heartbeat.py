"""A device's heartbeat (R21, R23, R24, R25): it is online, and learns what is pending for it.

The answer carries the device's configuration, the tenant's current signed key
blocking list (R21) and the server's time; the device hands in the offline
updates it granted since its last contact (R24, ``app.devices.offline_updates``)
and, receiving firmware, reports how far it got and takes the next chunk (R25).

One request, one answer, one transaction: these functions flush, never commit.
What subscribers should hear of (a device coming online, firmware progress) is
queued on the session (``app.events.publish``) for after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.blocking_list import (
    REISSUE_INTERVAL,
    current_blocking_list,
    reissue_if_due,
    tenant_public_key,
)
from app.devices.offline_updates import OfflineUpdate, account_offline_updates
from app.devices.protocol import rfc3339
from app.errors import DomainError
from app.events.publish import queue_device_status
from app.factory.firmware import POTENTIAL_FREE_OUTPUT_MIN_KEY_FIRMWARE
from app.firmware.transfer import CHUNK_SIZE, next_firmware_chunk, record_firmware_progress
from app.models import BlockingList, RemoteDevice, Tenant

log = logging.getLogger("keywarden.devices")


@dataclass(frozen=True)
class FirmwareReport:
    """How far a device got with the image it is receiving (R25): the bytes it holds
    (``offset``), and ``done`` once it has all of them, checked and installed."""

    firmware_id: int
    offset: int
    done: bool = False


@dataclass(frozen=True)
class HeartbeatReport:
    """What a device says with its heartbeat: its versions, the blocking list it holds, the
    offline updates it granted since its last online contact, and its firmware transfer."""

    firmware_version: str | None = None
    bootloader_version: str | None = None
    blocking_list_version: int | None = None
    offline_updates: Sequence[OfflineUpdate] = ()
    firmware: FirmwareReport | None = None
    firmware_chunk_size: int = CHUNK_SIZE


@dataclass
class HeartbeatResult:
    """The answer for the device; whether this heartbeat brought it back online (R23), and
    whether it moved a firmware transfer on (R25)."""

    answer: dict[str, Any]
    came_online: bool
    firmware_progressed: bool = False


def device_configuration(device: RemoteDevice) -> dict[str, Any]:
    """The settings a device works by (R22, R24): interval, offline rules, output, updaters."""
    offline = None
    if device.offline_max_updates is not None and device.offline_extension_hours is not None:
        offline = {
            "maxOfflineUpdates": device.offline_max_updates,
            "maxHoursSinceOnlineUpdate": device.offline_max_hours_since_online,
            "blockingListValidityHours": device.offline_blocking_list_validity_hours,
            "offlineExtensionHours": device.offline_extension_hours,
        }
    return {
        "name": device.name,
        "kind": device.kind.value,
        "heartbeatIntervalSeconds": device.heartbeat_interval_seconds,
        "offlineUpdates": offline,
        "potentialFreeOutput": device.potential_free_output,
        "minimumKeyFirmwareForOutput": POTENTIAL_FREE_OUTPUT_MIN_KEY_FIRMWARE,
        "updaterGen1": device.updater_gen1,
        "updaterGen2": device.updater_gen2,
        "systemLinked": device.system_linked,
    }


def served_blocking_list(row: BlockingList) -> dict[str, Any]:
    """A blocking list as devices receive it; it verifies with ``verify_served_blocking_list``."""
    return {
        "version": row.version,
        "issuedAt": rfc3339(row.issued_at),
        "validUntil": rfc3339(row.valid_until) if row.valid_until is not None else None,
        "keyUids": list(row.key_uids),
        "signature": row.signature,
    }


async def fresh_blocking_list(session: AsyncSession, now: datetime) -> BlockingList:
    """The tenant's newest blocking list, reissued first when it is an hour old or missing (R21).

    Only a due reissue takes the tenant's lock, so heartbeats do not queue
    behind one another; with devices calling, lists stay fresh even when no
    periodic worker runs.
    """
    newest = await current_blocking_list(session)
    if newest is not None and newest.issued_at > now - REISSUE_INTERVAL:
        return newest
    issued = await reissue_if_due(session, now)
    if issued is not None:
        return issued
    newest = await current_blocking_list(session)
    assert newest is not None  # reissue_if_due issues one when there is none
    return newest


async def _blocking_list_for(
    session: AsyncSession, held: int | None, now: datetime
) -> tuple[int, dict[str, Any] | None]:
    """The current list's version, and the list itself unless the device holds it already.

    Most heartbeats find the device up to date: then only the version is read,
    not the up to 3,000 UIDs.
    """
    head = (
        await session.execute(
            select(BlockingList.id, BlockingList.version, BlockingList.issued_at)
            .order_by(BlockingList.version.desc())
            .limit(1)
        )
    ).first()
    if head is not None and head.issued_at > now - REISSUE_INTERVAL:
        if head.version == held:
            return head.version, None
        row = await session.get(BlockingList, head.id)
        assert row is not None
    else:
        row = await fresh_blocking_list(session, now)
    return row.version, None if row.version == held else served_blocking_list(row)


async def heartbeat(
    session: AsyncSession,
    device: RemoteDevice,
    tenant: Tenant,
    report: HeartbeatReport,
    *,
    now: datetime,
) -> HeartbeatResult:
    """A device calls in (R23): it is online, and learns what is pending for it.

    Records the time and the reported firmware and bootloader versions, accounts
    for the offline updates it granted (R24,
    :func:`~app.devices.offline_updates.account_offline_updates`)
    and answers with its configuration, the tenant's current blocking list
    (left out when the device already holds that version) with the tenant's
    public key to verify it (R21), and the server's time.

    Firmware (R25, :func:`firmware_for_heartbeat`): the device's report of the
    image it is receiving is recorded, and the answer carries the next chunk of
    its active deployment from the offset it holds, so a transfer broken off
    resumes there; once the bootloader is done, the firmware follows, and then
    the key images an updater device stores to flash keys with (R26).

    Subscribers of ``deviceStatus`` hear (queued for after the commit) when the
    device comes online and whenever its firmware transfer moves on.
    """
    came_online = not device.online
    device.online = True
    device.last_heartbeat_at = now
    if report.firmware_version:
        device.firmware_version = report.firmware_version
    if report.bootloader_version:
        device.bootloader_version = report.bootloader_version
    recorded, already = await account_offline_updates(
        session, device, report.offline_updates, now=now
    )
    version, served = await _blocking_list_for(session, report.blocking_list_version, now)
    firmware_report, chunk = await firmware_for_heartbeat(
        session, device, report.firmware, chunk_size=report.firmware_chunk_size, now=now
    )
    await session.flush()
    progressed = firmware_report is not None and firmware_report["status"] != "SUPERSEDED"
    if came_online:
        log.info("device %s is online", device.serial)
    if came_online or progressed:
        queue_device_status(session, [device.id], online=True, at=now)
    answer = {
        "serverTime": rfc3339(now),
        "configuration": device_configuration(device),
        "blockingListVersion": version,
        "blockingList": served,
        "tenantPublicKey": tenant_public_key(tenant).hex(),
        "offlineUpdates": {"recorded": recorded, "alreadyRecorded": already},
        "firmwareReport": firmware_report,
        "firmwareChunk": chunk,
    }
    return HeartbeatResult(answer, came_online, progressed)


async def firmware_for_heartbeat(
    session: AsyncSession,
    device: RemoteDevice,
    report: FirmwareReport | None,
    *,
    chunk_size: int = CHUNK_SIZE,
    now: datetime,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The firmware part of a heartbeat (R25): the verdict on the device's report, and the
    next chunk for it.

    The report is recorded (:func:`~app.firmware.transfer.record_firmware_progress`):
    ``RECEIVING`` with the offset the device holds, ``DONE`` once it installed the
    whole image (its firmware or bootloader version becomes the image's; a key
    image is only stored, R26), or
    ``SUPERSEDED`` when the device has no deployment of that image any more (a
    newer one replaced it): the device drops what it holds of it.

    The chunk is the next piece of the device's active deployment (bootloader
    before firmware, :func:`~app.firmware.transfer.next_firmware_chunk`): from the
    reported offset while that image is still the one due, else from the start
    of the image that is due now (the firmware once the bootloader is done).
    None when nothing is to be sent. A reported offset outside the image, or
    ``done`` before all of it arrived, is INVALID on ``firmware.offset``.
    """
    verdict: dict[str, Any] | None = None
    offset = 0
    if report is not None:
        try:
            deployment = await record_firmware_progress(
                session, device, report.firmware_id, report.offset, report.done, now=now
            )
        except DomainError as exc:
            raise DomainError(exc.code, f"firmware.{exc.message}", "firmware.offset") from exc
        if deployment is None:
            verdict = {"firmwareId": report.firmware_id, "status": "SUPERSEDED", "offset": 0}
        else:
            verdict = {
                "firmwareId": report.firmware_id,
                "status": "DONE" if deployment.done else "RECEIVING",
                "offset": deployment.offset,
            }
            if not deployment.done:
                offset = report.offset
    if offset:
        assert report is not None
        try:
            chunk = await next_firmware_chunk(
                session, device, offset=offset, chunk_size=chunk_size
            )
        except DomainError:
            pass  # another image, shorter than the offset, is due now
        else:
            if chunk is None or chunk["firmwareId"] == report.firmware_id:
                return verdict, chunk
    # Nothing reported, the report's image finished, or another image is due first.
    return verdict, await next_firmware_chunk(session, device, offset=0, chunk_size=chunk_size)
