"""What remote devices are told and what they report (R14, R18, R21–R24, R26, R29).

Three conversations, each one request and one answer in one transaction:

- **heartbeat** (R23): the device is online; it learns its configuration, the
  tenant's current signed key blocking list (R21) and the server's time, and it
  hands in the offline updates it granted since its last contact (R24). A
  device receiving firmware reports how far it got and takes the next chunk
  (R25).
- **key inserted** (R18): a key met the device; the answer carries the key's
  remote jobs, its validity extension by its effective interval (R14), whether
  to read its audit trail (R29) and, at a potential-free output, whether the
  key may switch it (R22). A key firmware update goes only where the device
  holds the key image it flashes from (R26).
- **results**: the device reports how the delivered jobs went and hands in the
  key's audit trail (R28); jobs are closed, failed ones are queued again; a key
  firmware update's outcome decides the key's fate (R26).

The answers are plain JSON-ready dicts (docs/remote-protocol.md describes every
field). The functions flush, never commit: the endpoint commits. What
subscribers should hear of (a device coming online, firmware progress, remote
jobs delivered or closed, R23) is queued on the session
(``app.events.publish``): the caller announces it with ``publish_queued`` after
its commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.authorizations import authorizations_for_keys
from app.access.blocking_list import (
    REISSUE_INTERVAL,
    current_blocking_list,
    reissue_if_due,
    tenant_public_key,
)
from app.approval.service import complete_readouts, readout_request_ids
from app.audit.service import ReadEvent, store_audit_events
from app.db import SerialSession
from app.devices.protocol import insert_ignoring_conflicts, rfc3339
from app.errors import DomainError
from app.events.publish import queue_device_status, queue_job_events
from app.factory.firmware import POTENTIAL_FREE_OUTPUT_MIN_KEY_FIRMWARE, version_at_least
from app.firmware.service import (
    CHUNK_SIZE,
    KeyImage,
    key_firmware_outcome,
    key_images_on_device,
    next_firmware_chunk,
    record_firmware_progress,
    updater_flag_changed,
)
from app.models import (
    AuditSource,
    BlockingList,
    Cylinder,
    Key,
    KeyGeneration,
    KeyRevalidation,
    KeyStatus,
    KeyType,
    RemoteDevice,
    RemoteDeviceKind,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
    Tenant,
)
from app.models.base import UTCDateTime
from app.tenants.scoping import ALL_DOMAINS
from app.tenants.service import lock_tenant

log = logging.getLogger("keywarden.devices")

# R23: a device that misses two heartbeat intervals is offline.
MISSED_INTERVALS = 2
# The shortest heartbeat interval a device may have (R22); used to pre-select candidates.
MIN_HEARTBEAT_INTERVAL_SECONDS = 10
# Offline updates accounted for per heartbeat; a device hands in the rest with the next one.
MAX_OFFLINE_UPDATES_PER_HEARTBEAT = 1000
# R26: the reason a device gives for a job the key left mid-write (pulled out too early).
INTERRUPTED = "INTERRUPTED"
OPEN = (RemoteJobStatus.PENDING, RemoteJobStatus.DELIVERED)
_EVERY_DOMAIN = {ALL_DOMAINS: True}


# --- heartbeat (R21, R23, R24) --------------------------------------------------------


@dataclass(frozen=True)
class OfflineUpdate:
    """A validity extension a wall device granted on its own while offline (R24)."""

    key_uid: str
    at: datetime
    valid_until: datetime | None = None


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
    for the offline updates it granted (R24, :func:`account_offline_updates`)
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

    The report is recorded (:func:`~app.firmware.service.record_firmware_progress`):
    ``RECEIVING`` with the offset the device holds, ``DONE`` once it installed the
    whole image (its firmware or bootloader version becomes the image's; a key
    image is only stored, R26), or
    ``SUPERSEDED`` when the device has no deployment of that image any more (a
    newer one replaced it): the device drops what it holds of it.

    The chunk is the next piece of the device's active deployment (bootloader
    before firmware, :func:`~app.firmware.service.next_firmware_chunk`): from the
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


async def account_offline_updates(
    session: AsyncSession,
    device: RemoteDevice,
    updates: Sequence[OfflineUpdate],
    *,
    now: datetime,
) -> tuple[int, int]:
    """Account for offline updates a device granted on its own (R24); (recorded, known before).

    Nothing is refused — the device already extended those keys within its
    offline settings; each becomes a :class:`KeyRevalidation` marked offline,
    reported at ``now``. A heartbeat sent again (the device missed the answer)
    records nothing twice: an update is identified by device, key UID and time.
    An update of a key that is lost by now is logged as a warning.
    """
    if not updates:
        return 0, 0
    unique = {(u.key_uid, u.at): u for u in updates}
    uids = {uid for uid, _ in unique}
    known = {
        uid: (ident, status)
        for uid, ident, status in (
            await session.execute(
                select(Key.uid, Key.id, Key.status)
                .where(Key.uid.in_(uids))
                .execution_options(**_EVERY_DOMAIN)
            )
        ).all()
    }
    rows = [
        {
            "tenant_id": session.info["tenant_id"],
            "key_id": known[u.key_uid][0] if u.key_uid in known else None,
            "key_uid": u.key_uid,
            "device_id": device.id,
            "at": u.at,
            "valid_until": u.valid_until,
            "offline": True,
            "reported_at": now,
        }
        for u in unique.values()
    ]
    stmt = (
        insert_ignoring_conflicts(session, KeyRevalidation)
        .values(rows)
        .returning(KeyRevalidation.id)
    )
    recorded = len((await session.execute(stmt)).all())
    lost = sorted(uid for uid, (_, status) in known.items() if status is KeyStatus.LOST)
    if lost:
        log.warning(
            "device %s updated lost keys offline (its blocking list was older): %s",
            device.serial,
            ", ".join(lost),
        )
    return recorded, len(updates) - recorded


async def mark_offline_devices(session: AsyncSession, now: datetime) -> list[int]:
    """Devices of the session's tenant that missed two heartbeat intervals go offline (R23).

    Returns the ids of the devices that went offline now (for the status
    subscription). A device whose heartbeat arrives while this runs stays
    online: each row is only changed if its last heartbeat is still the one read.
    """
    earliest_due = now - timedelta(seconds=MISSED_INTERVALS * MIN_HEARTBEAT_INTERVAL_SECONDS)
    candidates = (
        await session.execute(
            select(
                RemoteDevice.id,
                RemoteDevice.last_heartbeat_at,
                RemoteDevice.heartbeat_interval_seconds,
            )
            .where(RemoteDevice.online.is_(True))
            .where(
                RemoteDevice.last_heartbeat_at.is_(None)
                | (RemoteDevice.last_heartbeat_at < earliest_due)
            )
            .execution_options(**_EVERY_DOMAIN)
        )
    ).all()
    silent = [
        (ident, last)
        for ident, last, interval in candidates
        if last is None or last + timedelta(seconds=MISSED_INTERVALS * interval) < now
    ]
    if not silent:
        return []
    table = RemoteDevice.__table__
    tenant_id = session.info["tenant_id"]
    never = [ident for ident, last in silent if last is None]
    seen = [{"device_id": ident, "seen": last} for ident, last in silent if last is not None]
    if never:
        await session.execute(
            table.update()
            .where(table.c.tenant_id == tenant_id, table.c.id.in_(never))
            .where(table.c.online.is_(True), table.c.last_heartbeat_at.is_(None))
            .values(online=False)
        )
    if seen:
        await session.execute(
            table.update()
            .where(table.c.tenant_id == tenant_id, table.c.id == bindparam("device_id"))
            .where(
                table.c.online.is_(True),
                table.c.last_heartbeat_at == bindparam("seen", type_=UTCDateTime),
            )
            .values(online=False),
            seen,
        )
    ids = [ident for ident, _ in silent]
    went = list(
        await session.scalars(
            select(RemoteDevice.id)
            .where(RemoteDevice.id.in_(ids), RemoteDevice.online.is_(False))
            .order_by(RemoteDevice.id)
            .execution_options(**_EVERY_DOMAIN)
        )
    )
    # Rows loaded in this session before the Core update must not keep a stale 'online'.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, RemoteDevice) and obj.id in went:
            session.expire(obj, ["online"])
    return went


# --- key inserted (R14, R18, R22, R26, R29) ---------------------------------------------


@dataclass(frozen=True)
class KeyInsertion:
    """A key inserted at a device: its UID, the firmware it runs and, optionally, its clock."""

    key_uid: str
    key_firmware: str
    key_clock: datetime | None = None


def _answer(now: datetime, insertion: KeyInsertion) -> dict[str, Any]:
    return {
        "serverTime": rfc3339(now),
        "keyUid": insertion.key_uid,
        "status": "ok",
        "code": None,
        "message": None,
        "jobs": [],
        "validity": None,
        "auditReadout": False,
        "setClock": None,
        "keyClockDriftSeconds": (
            round((insertion.key_clock - now).total_seconds())
            if insertion.key_clock is not None
            else None
        ),
        "output": None,
        "keyFirmwareImage": None,
        "firmwarePending": None,
    }


def _refuse(answer: dict[str, Any], status: str, code: str, message: str) -> dict[str, Any]:
    answer.update(status=status, code=code, message=message)
    return answer


def _output(device: RemoteDevice, answer: dict[str, Any], key: Key | None) -> None:
    """R22: a potential-free output switches only for E3 keys with firmware ≥ 16.3.7."""
    if not device.potential_free_output:
        return
    minimum = POTENTIAL_FREE_OUTPUT_MIN_KEY_FIRMWARE
    if answer["status"] != "ok" or key is None:
        answer["output"] = {"code": "REFUSED", "minimumKeyFirmware": minimum}
    elif key.type is not KeyType.E3 or not version_at_least(key.firmware_version, minimum):
        answer["output"] = {
            "code": "FIRMWARE_TOO_OLD",
            "minimumKeyFirmware": minimum,
            "keyFirmware": key.firmware_version,
            "message": (
                f"the output needs E3 key firmware {minimum} or newer; this key runs "
                f"{key.firmware_version}: it gets its updates, but the output stays off"
            ),
        }
    else:
        answer["output"] = {"code": "OK", "minimumKeyFirmware": minimum}


async def key_inserted(
    session: AsyncSession,
    device: RemoteDevice,
    tenant: Tenant,
    insertion: KeyInsertion,
    *,
    now: datetime,
) -> dict[str, Any]:
    """A key met a device: what the device writes into it (R14, R18, R22, R26, R29).

    - an unknown UID is ``unknown`` (a foreign key); a LOST key is ``blocked``
      (R19, R21): the device blocks it and nothing is delivered;
    - an E1 key takes no remote updates; an E2 key takes them only at a desk
      device (R10, R18); a key not yet activated takes nothing: ``refused``;
    - otherwise its open remote jobs are delivered (marked DELIVERED via this
      device; firmware only where the device's updater flag for the key's
      generation is on and the device holds the whole key image, R26). A key
      IN_STOCK or DEFECTIVE gets its jobs (they withdraw its rights) but is
      ``refused`` further;
    - a FIRMWARE job delivered names the image to flash in ``keyFirmwareImage``
      (``firmwareId``, ``target``, ``version``, ``sha256``, ``size``, and the
      ``remoteJobId``); one held back because the image has not (fully) reached
      the device yet is named in ``firmwarePending`` with a message for the
      device's display: the key gets its other jobs now, the firmware later;
    - an ISSUED key gets its validity extended by its effective interval (R14:
      ``now`` + the key's interval, never past a fixed end; with flexible
      extensions, cylinders reached only through profiles with a shorter
      interval get their own end), recorded as a :class:`KeyRevalidation`,
      and the device sets the key's clock;
    - the audit trail is read (R29) when an AUDIT_READOUT job is delivered, or,
      with the approver function off, whenever readout is enabled for the key
      (at a desk device readout needs no approval);
    - at a potential-free output the key's firmware decides (R22): below
      16.3.7 the output answers FIRMWARE_TOO_OLD, the key still gets its updates.

    The firmware the key reports is stored as the key's firmware version.
    """
    answer = _answer(now, insertion)
    key = await session.scalar(
        select(Key).where(Key.uid == insertion.key_uid).execution_options(**_EVERY_DOMAIN)
    )
    if key is None:
        _refuse(answer, "unknown", "UNKNOWN_KEY", "the key does not belong to this system")
        _output(device, answer, None)
        return answer
    answer["keyType"] = key.type.value
    if key.firmware_version != insertion.key_firmware:
        key.firmware_version = insertion.key_firmware
    refusal = _refusal(device, key)
    if refusal is not None:
        _refuse(answer, *refusal)
        _output(device, answer, key)
        await session.flush()
        return answer
    answer["setClock"] = rfc3339(now)
    delivery = await _deliver_jobs(session, device, key)
    delivered = delivery.jobs
    answer["keyFirmwareImage"] = delivery.image
    answer["firmwarePending"] = delivery.pending
    answer["jobs"] = [
        {
            "remoteJobId": job.id,
            "kind": job.kind.value,
            "payload": {k: v for k, v in job.payload.items() if k != "deliverAt"},
        }
        for job in delivered
    ]
    if key.status is not KeyStatus.ISSUED:
        _refuse(
            answer,
            "refused",
            "NOT_ISSUED",
            f"the key is {key.status.name}: it gets its pending changes, no extension",
        )
        _output(device, answer, key)
        await session.flush()
        return answer
    answer["validity"] = await _extend_validity(session, device, tenant, key, now)
    readout_job = any(job.kind is RemoteJobKind.AUDIT_READOUT for job in delivered)
    automatic = key.audit_readout_enabled and (
        not tenant.approver_function or device.kind is RemoteDeviceKind.DESK
    )
    answer["auditReadout"] = readout_job or automatic
    _output(device, answer, key)
    await session.flush()
    return answer


def _refusal(device: RemoteDevice, key: Key) -> tuple[str, str, str] | None:
    if key.status is KeyStatus.LOST:
        return ("blocked", "KEY_LOST", "the key is reported lost: block it (R19)")
    if key.type is KeyType.E1:
        return ("refused", "NO_REMOTE_UPDATES", "E1 keys have no clock and take no remote updates")
    if key.type is KeyType.E2 and device.kind is not RemoteDeviceKind.DESK:
        return ("refused", "DESK_DEVICE_ONLY", "E2 keys are updated at a desk programming device")
    if key.status is KeyStatus.NOT_ACTIVATED:
        return ("refused", "NOT_ACTIVATED", "the key's extension is not activated yet (R31)")
    return None


@dataclass
class _Delivery:
    """The jobs delivered at a key insertion, the key image the device flashes for the
    FIRMWARE job among them, and the FIRMWARE job held back for want of the image (R26)."""

    jobs: list[RemoteJob] = field(default_factory=list)
    image: dict[str, Any] | None = None
    pending: dict[str, Any] | None = None


def _firmware_id(job: RemoteJob) -> int | None:
    value = job.payload.get("firmwareId")
    return value if isinstance(value, int) else None


def _pending_firmware(job: RemoteJob, image: KeyImage | None) -> dict[str, Any]:
    """R26: why a key's firmware update waits at this updater device, for its display."""
    version = image.version if image is not None else job.payload.get("version")
    if image is not None and image.deployed:
        message = (
            f"key firmware {version} is still on its way to this device ({image.percent} %): "
            "the key got its other updates; insert it again later for the firmware"
        )
    else:
        message = (
            f"this device does not hold key firmware {version}: the key got its other "
            "updates; insert it again later for the firmware"
        )
    return {
        "remoteJobId": job.id,
        "firmwareId": _firmware_id(job),
        "version": version,
        "code": "KEY_IMAGE_NOT_ON_DEVICE",
        "percent": image.percent if image is not None else 0,
        "message": message,
    }


def _deliverable_here(device: RemoteDevice, key: Key, job: RemoteJob) -> bool:
    if job.payload.get("deliverAt") == "desk" and device.kind is not RemoteDeviceKind.DESK:
        return False
    if job.kind is RemoteJobKind.FIRMWARE:
        # R26: generation-1 keys only at the updater-mode device, generation 2 with its flag.
        if key.generation is KeyGeneration.GEN1:
            return device.updater_gen1
        return device.updater_gen2
    return True


async def _deliver_jobs(session: AsyncSession, device: RemoteDevice, key: Key) -> _Delivery:
    """The key's open jobs this device can carry, marked DELIVERED via it (R18).

    A job delivered before whose result never came is delivered again, unless a
    newer job of its kind replaced it (every job carries the whole state of its
    kind): then the older one is cancelled. Audit readouts are never replaced
    (each closes its own readout requests). A FIRMWARE job goes only where the
    device holds its key image completely (R26, the device flashes from its own
    storage); otherwise it waits, as the delivery's ``pending`` says.
    ``jobEvents`` subscribers hear of every job delivered or cancelled here
    (after the commit).
    """
    jobs = list(
        await session.scalars(
            select(RemoteJob)
            .where(RemoteJob.key_id == key.id, RemoteJob.status.in_(OPEN))
            .order_by(RemoteJob.id)
        )
    )
    newest: dict[RemoteJobKind, int] = {job.kind: job.id for job in jobs}
    due = [job for job in jobs if _deliverable_here(device, key, job)]
    # R26: the key images the FIRMWARE jobs name, and how much of each this device holds.
    wanted = [
        firmware_id
        for job in due
        if job.kind is RemoteJobKind.FIRMWARE and (firmware_id := _firmware_id(job)) is not None
    ]
    images = await key_images_on_device(session, device, wanted) if wanted else {}
    delivery = _Delivery()
    cancelled = []
    for job in due:
        superseded = job.kind is not RemoteJobKind.AUDIT_READOUT and newest[job.kind] != job.id
        if superseded:
            if job.status is RemoteJobStatus.DELIVERED:
                job.status = RemoteJobStatus.CANCELLED
                cancelled.append(job.id)
            continue
        if job.kind is RemoteJobKind.FIRMWARE:
            firmware_id = _firmware_id(job)
            image = images.get(firmware_id) if firmware_id is not None else None
            if image is None or not image.held:
                delivery.pending = _pending_firmware(job, image)
                continue
            delivery.image = {"remoteJobId": job.id, **image.named()}
        job.status = RemoteJobStatus.DELIVERED
        job.delivered_via_id = device.id
        delivery.jobs.append(job)
    if delivery.jobs or cancelled:
        queue_job_events(session, remote_job_ids=[*cancelled, *(j.id for j in delivery.jobs)])
    return delivery


def _capped(key: Key, now: datetime, hours: int) -> datetime | None:
    """``now`` + ``hours``, never past the key's fixed validity end; None once that passed."""
    until = now + timedelta(hours=hours)
    if not key.always_valid and key.valid_until is not None:
        until = min(until, key.valid_until)
    return until if until > now else None


async def _extend_validity(
    session: AsyncSession, device: RemoteDevice, tenant: Tenant, key: Key, now: datetime
) -> dict[str, Any] | None:
    """R14: the key's new validity end, and shorter ends of profile cylinders when flexible."""
    hours = key.extension_interval_hours
    until = _capped(key, now, hours) if hours is not None else None
    cylinders: list[dict[str, Any]] = []
    if tenant.flexible_extensions:
        cylinders = await cylinder_validity(session, key, now)
    if until is None and not cylinders:
        return None
    session.add(
        KeyRevalidation(
            key_id=key.id,
            key_uid=key.uid,
            device_id=device.id,
            at=now,
            valid_until=until,
            offline=False,
            reported_at=now,
        )
    )
    return {
        "validUntil": rfc3339(until) if until is not None else None,
        "extensionIntervalHours": hours,
        "cylinders": cylinders,
    }


async def cylinder_validity(
    session: AsyncSession, key: Key, now: datetime
) -> list[dict[str, Any]]:
    """Cylinders whose effective interval is shorter than the key's (R14, flexible extensions).

    A cylinder the key reaches several ways gets the longest of their intervals
    (any way without an interval: no limit of its own).
    """
    [authorizations] = await authorizations_for_keys(SerialSession(session), [key.id])
    longest: dict[int, int | None] = {}
    for a in authorizations:
        hours = a.effective_extension_interval_hours
        if a.cylinder_id in longest:
            before = longest[a.cylinder_id]
            longest[a.cylinder_id] = None if before is None or hours is None else max(before, hours)
        else:
            longest[a.cylinder_id] = hours
    own = key.extension_interval_hours
    shorter = {
        cylinder_id: hours
        for cylinder_id, hours in longest.items()
        if hours is not None and (own is None or hours < own)
    }
    if not shorter:
        return []
    uids = dict(
        (
            await session.execute(
                select(Cylinder.id, Cylinder.uid)
                .where(Cylinder.id.in_(shorter))
                .execution_options(**_EVERY_DOMAIN)
            )
        ).all()
    )
    entries = []
    for cylinder_id, hours in shorter.items():
        until = _capped(key, now, hours)
        if until is not None and cylinder_id in uids:
            entries.append({"cylinderUid": uids[cylinder_id], "validUntil": rfc3339(until)})
    return sorted(entries, key=lambda e: e["cylinderUid"])


# --- results (R18, R28, R29) -------------------------------------------------------------


@dataclass(frozen=True)
class JobResult:
    """How one delivered remote job went: DONE or FAILED, and why it failed (``reason``;
    ``INTERRUPTED``: the key was pulled out while it was being written, R26)."""

    remote_job_id: int
    outcome: RemoteJobStatus
    reason: str | None = None

    @property
    def interrupted(self) -> bool:
        """Whether the key left the device mid-write (R26: what that means depends on it)."""
        return self.outcome is RemoteJobStatus.FAILED and self.reason == INTERRUPTED


@dataclass(frozen=True)
class DeviceResults:
    """A device's report after a key insertion: job outcomes and the key's audit trail."""

    key_uid: str | None = None
    jobs: Sequence[JobResult] = ()
    audit_events: Sequence[ReadEvent] = field(default_factory=tuple)


async def report_results(
    session: AsyncSession,
    device: RemoteDevice,
    tenant: Tenant,
    results: DeviceResults,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Close the jobs a device carried out and store the audit trail it read (R18, R28, R29).

    A job delivered via this device becomes DONE or FAILED (``completed_at``
    ``now``); a done AUDIT_READOUT job completes the readout requests it
    carries. A failed job is queued again (a new PENDING job with the same
    change) unless a newer change of its kind waits already — an audit readout
    then adds its requests to the waiting one. Reporting the same outcome again
    is accepted and changes nothing; a job not delivered via this device, or
    closed otherwise, is answered ``accepted: false`` with a code.

    A FIRMWARE job's outcome is the key's (R26, :func:`~app.firmware.service.
    key_firmware_outcome`), answered in ``keyFirmware``: done, the key runs the
    new firmware; failed ``INTERRUPTED`` (pulled out mid-update), a
    generation-1 key is DEFECTIVE with a replacement proposed, while a
    generation-2 key gets its validity, schedule, authorizations and the
    firmware again at its next insertion. Failed for another reason, the update
    never began: it is queued again like any job.

    ``jobEvents`` subscribers hear of every job closed, queued again or
    cancelled here (after the commit).

    The key's audit events (``key_uid``) are stored, each once (R28), when the
    device was asked to read them: an AUDIT_READOUT job of the key delivered via
    this device, or readout enabled for the key with the approver function off
    (R29). Otherwise they are not stored (``NOT_REQUESTED``).
    """
    ids = [r.remote_job_id for r in results.jobs]
    jobs: dict[int, RemoteJob] = {}
    if ids:
        found = await session.scalars(select(RemoteJob).where(RemoteJob.id.in_(ids)))
        jobs = {job.id: job for job in found}
    changed: list[RemoteJob] = []
    verdicts = [
        await _close_job(session, device, jobs.get(r.remote_job_id), r, now, changed)
        for r in results.jobs
    ]
    audit: dict[str, Any] | None = None
    if results.audit_events:
        audit = await _store_key_trail(session, device, tenant, results)
    await session.flush()
    if changed:
        queue_job_events(session, remote_job_ids=[job.id for job in changed], at=now)
    return {"serverTime": rfc3339(now), "jobs": verdicts, "auditEvents": audit}


async def _close_job(
    session: AsyncSession,
    device: RemoteDevice,
    job: RemoteJob | None,
    result: JobResult,
    now: datetime,
    changed: list[RemoteJob],
) -> dict[str, Any]:
    verdict: dict[str, Any] = {"remoteJobId": result.remote_job_id, "accepted": False}
    if job is None or job.delivered_via_id != device.id:
        return {**verdict, "code": "NOT_DELIVERED_HERE"}
    verdict["status"] = job.status.value
    if job.status is result.outcome:
        return {**verdict, "accepted": True, "code": "ALREADY_REPORTED"}
    if job.status is not RemoteJobStatus.DELIVERED:
        return {**verdict, "code": f"JOB_{job.status.value}"}
    job.status = result.outcome
    job.completed_at = now
    changed.append(job)
    key_firmware = None
    if job.kind is RemoteJobKind.FIRMWARE and (
        result.outcome is RemoteJobStatus.DONE or result.interrupted
    ):
        key_firmware = await _key_firmware(session, job, result, changed)
    else:
        if result.outcome is RemoteJobStatus.DONE and job.kind is RemoteJobKind.AUDIT_READOUT:
            await complete_readouts(session, job)
        if result.outcome is RemoteJobStatus.FAILED:
            again = await _queue_again(session, job)
            if again is not None:
                changed.append(again)
    if result.outcome is RemoteJobStatus.FAILED:
        log.info(
            "remote job %s (%s) failed at device %s: %s",
            job.id, job.kind.value, device.serial, result.reason or "no reason given",
        )
    answer = {**verdict, "accepted": True, "status": job.status.value, "code": None}
    if job.kind is RemoteJobKind.FIRMWARE:
        answer["keyFirmware"] = key_firmware
    return answer


async def _key_firmware(
    session: AsyncSession, job: RemoteJob, result: JobResult, changed: list[RemoteJob]
) -> dict[str, Any] | None:
    """R26: what a key firmware update that ran (to the end or broken off) means for the key."""
    key = await session.get(Key, job.key_id)
    if key is None:
        return None
    waiting: list[int] = []
    if result.interrupted and key.generation is KeyGeneration.GEN1:
        # A defective key's waiting jobs are cancelled with it: subscribers hear of them too.
        waiting = list(
            await session.scalars(
                select(RemoteJob.id).where(
                    RemoteJob.key_id == key.id, RemoteJob.status == RemoteJobStatus.PENDING
                )
            )
        )
    outcome = await key_firmware_outcome(session, key, interrupted=result.interrupted, job=job)
    changed.extend(outcome.remote_jobs)
    if outcome.outcome == "DEFECTIVE" and waiting:
        changed.extend(
            await session.scalars(select(RemoteJob).where(RemoteJob.id.in_(waiting)))
        )
    if outcome.outcome != "UPDATED":
        log.warning("key %s: %s", key.marking, outcome.message)
    return {
        "outcome": outcome.outcome,
        "keyStatus": key.status.value,
        "keyFirmware": key.firmware_version,
        "message": outcome.message,
        "warnings": [{"code": w.code, "message": w.message} for w in outcome.warnings],
        "remoteJobIds": [j.id for j in outcome.remote_jobs],
    }


async def _queue_again(session: AsyncSession, failed: RemoteJob) -> RemoteJob | None:
    """A failed change goes to the key again at its next insertion (R18); the job that
    carries it (new, or the waiting one an audit readout joined), else None."""
    key = await session.get(Key, failed.key_id)
    if key is None or key.status not in (KeyStatus.ISSUED, KeyStatus.IN_STOCK):
        return None
    waiting = await session.scalar(
        select(RemoteJob).where(
            RemoteJob.key_id == failed.key_id,
            RemoteJob.kind == failed.kind,
            RemoteJob.status == RemoteJobStatus.PENDING,
        )
    )
    if waiting is None:
        again = RemoteJob(
            key_id=failed.key_id,
            kind=failed.kind,
            status=RemoteJobStatus.PENDING,
            payload=dict(failed.payload),
        )
        session.add(again)
        return again
    if failed.kind is RemoteJobKind.AUDIT_READOUT:
        carried = readout_request_ids(failed)
        merged = [*carried, *(i for i in readout_request_ids(waiting) if i not in carried)]
        waiting.payload = {**waiting.payload, "readoutRequestIds": sorted(set(merged))}
        return waiting
    return None


async def _store_key_trail(
    session: AsyncSession,
    device: RemoteDevice,
    tenant: Tenant,
    results: DeviceResults,
) -> dict[str, Any]:
    if results.key_uid is None:
        raise DomainError("INVALID", "keyUid: name the key whose audit trail this is", "keyUid")
    key = await session.scalar(
        select(Key).where(Key.uid == results.key_uid).execution_options(**_EVERY_DOMAIN)
    )
    if key is None:
        return {"stored": 0, "alreadyStored": 0, "code": "UNKNOWN_KEY"}
    asked = await session.scalar(
        select(RemoteJob.id).where(
            RemoteJob.key_id == key.id,
            RemoteJob.kind == RemoteJobKind.AUDIT_READOUT,
            RemoteJob.delivered_via_id == device.id,
            RemoteJob.status.in_((RemoteJobStatus.DELIVERED, RemoteJobStatus.DONE)),
        ).limit(1)
    )
    automatic = key.audit_readout_enabled and (
        not tenant.approver_function or device.kind is RemoteDeviceKind.DESK
    )
    if asked is None and not automatic:
        return {"stored": 0, "alreadyStored": 0, "code": "NOT_REQUESTED"}
    stored = await store_audit_events(
        session, source=AuditSource.KEY, key_id=key.id, events=results.audit_events
    )
    return {"stored": len(stored.stored), "alreadyStored": stored.already_stored, "code": None}


# --- device settings (R22, R24, R26) -----------------------------------------------------

MIN_HEARTBEAT_SECONDS = MIN_HEARTBEAT_INTERVAL_SECONDS
MAX_HEARTBEAT_SECONDS = 86_400
MAX_OFFLINE_UPDATES = 255
MAX_OFFLINE_EXTENSION_HOURS = 730 * 24
MAX_NAME = 200


@dataclass(frozen=True)
class OfflineSettings:
    """A wall device's offline-update settings (R24); None means unlimited where allowed."""

    max_offline_updates: int
    max_hours_since_online_update: int | None
    blocking_list_validity_hours: int | None
    offline_extension_hours: int


def check_offline_settings(settings: OfflineSettings, field_name: str = "offlineUpdates") -> None:
    """R24: 0–255 offline updates (0 = off); the time since the last online update and the
    blocking list's validity at least an hour or unlimited; the extension 1 h to 730 days.
    A value out of range is INVALID naming its field (``offlineUpdates.maxOfflineUpdates``)."""
    if not 0 <= settings.max_offline_updates <= MAX_OFFLINE_UPDATES:
        raise DomainError(
            "INVALID",
            f"at most {MAX_OFFLINE_UPDATES} offline updates after an online update (0 = off)",
            f"{field_name}.maxOfflineUpdates",
        )
    for name, value in (
        ("maxHoursSinceOnlineUpdate", settings.max_hours_since_online_update),
        ("blockingListValidityHours", settings.blocking_list_validity_hours),
    ):
        if value is not None and value < 1:
            raise DomainError(
                "INVALID", "at least 1 hour, or null for unlimited", f"{field_name}.{name}"
            )
    if not 1 <= settings.offline_extension_hours <= MAX_OFFLINE_EXTENSION_HOURS:
        raise DomainError(
            "INVALID",
            f"between 1 hour and 730 days ({MAX_OFFLINE_EXTENSION_HOURS} hours)",
            f"{field_name}.offlineExtensionHours",
        )


async def update_remote_device(
    session: AsyncSession,
    *,
    device_id: int,
    name: str | None = None,
    heartbeat_interval_seconds: int | None = None,
    offline: OfflineSettings | None = None,
    updater_gen1: bool | None = None,
    updater_gen2: bool | None = None,
) -> RemoteDevice:
    """Change a remote device's settings (R22, R24, R26); None leaves a setting as it is.

    - ``name``: 1 to 200 characters; ``heartbeat_interval_seconds``: 10 s to a day;
    - ``offline``: wall devices only, checked by :func:`check_offline_settings`;
    - ``updater_gen1``: the generation-1 updater runs on one wall device at a time
      (CONFLICT naming the device that has it, R26);
    - ``updater_gen2``: on wall devices and system-linked mobile devices only.

    An updater flag turned on gives the device a deployment of the newest applied
    key image of that generation, which its heartbeats fetch; turned off, its
    unfinished transfers of those images are dropped (R26,
    :func:`~app.firmware.service.updater_flag_changed`).

    The device must be visible to the session (its domains, R8): NOT_FOUND on
    ``deviceId`` otherwise. The new settings reach the device with its next
    heartbeat. The caller commits.
    """
    device = await session.scalar(select(RemoteDevice).where(RemoteDevice.id == device_id))
    if device is None:
        raise DomainError("NOT_FOUND", "deviceId: no such remote device", "deviceId")
    if name is not None:
        name = name.strip()
        if not 0 < len(name) <= MAX_NAME:
            raise DomainError("INVALID", f"name: 1 to {MAX_NAME} characters", "name")
        device.name = name
    if heartbeat_interval_seconds is not None:
        if not MIN_HEARTBEAT_SECONDS <= heartbeat_interval_seconds <= MAX_HEARTBEAT_SECONDS:
            raise DomainError(
                "INVALID",
                f"between {MIN_HEARTBEAT_SECONDS} and {MAX_HEARTBEAT_SECONDS} seconds",
                "heartbeatIntervalSeconds",
            )
        device.heartbeat_interval_seconds = heartbeat_interval_seconds
    if offline is not None:
        if device.kind is not RemoteDeviceKind.WALL:
            raise DomainError(
                "INVALID", "offline updates are a wall device's setting (R24)", "offlineUpdates"
            )
        check_offline_settings(offline)
        device.offline_max_updates = offline.max_offline_updates
        device.offline_max_hours_since_online = offline.max_hours_since_online_update
        device.offline_blocking_list_validity_hours = offline.blocking_list_validity_hours
        device.offline_extension_hours = offline.offline_extension_hours
    if updater_gen2 is not None:
        if updater_gen2 and not (
            device.kind is RemoteDeviceKind.WALL
            or (device.kind is RemoteDeviceKind.MOBILE and device.system_linked)
        ):
            raise DomainError(
                "INVALID",
                "the generation-2 updater runs on wall devices and system-linked mobile "
                "devices only (R26)",
                "updaterGen2",
            )
        device.updater_gen2 = updater_gen2
    if updater_gen1 is not None:
        if updater_gen1:
            await _gen1_updater_free(session, device)
        device.updater_gen1 = updater_gen1
    flags = ((KeyGeneration.GEN1, updater_gen1), (KeyGeneration.GEN2, updater_gen2))
    for generation, flag in flags:
        if flag is not None:
            await updater_flag_changed(session, device, generation)
    await session.flush()
    return device


async def _gen1_updater_free(session: AsyncSession, device: RemoteDevice) -> None:
    """R26: generation-1 keys update at the one wall device in updater mode, never two."""
    if device.kind is not RemoteDeviceKind.WALL:
        raise DomainError(
            "INVALID", "the generation-1 updater runs on a wall device only (R26)", "updaterGen1"
        )
    await lock_tenant(session)
    holder = await session.scalar(
        select(RemoteDevice)
        .where(RemoteDevice.updater_gen1.is_(True), RemoteDevice.id != device.id)
        .execution_options(**_EVERY_DOMAIN)
        .limit(1)
    )
    if holder is not None:
        visible = session.info.get("domain_ids")
        where = (
            f"{holder.name} ({holder.serial})"
            if visible is None or holder.domain_id in visible
            else "a wall device of a domain you do not administer"  # R8: no names from there
        )
        raise DomainError(
            "CONFLICT",
            f"the generation-1 updater is on at {where} already: at most one wall device at "
            "a time (R26); turn it off there first",
            "updaterGen1",
        )
