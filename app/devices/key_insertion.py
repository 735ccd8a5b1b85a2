"""A key met a device (R14, R18, R22, R26, R29): what the device writes into it.

The answer carries the key's remote jobs, its validity extension by its
effective interval (R14, ``app.devices.validity``), whether to read its audit
trail (R29) and, at a potential-free output, whether the key may switch it
(R22). A key firmware update goes only where the device holds the key image it
flashes from (R26).

These functions flush, never commit; remote jobs delivered or cancelled are
queued on the session for ``jobEvents`` subscribers after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.devices.protocol import rfc3339
from app.devices.validity import extend_validity
from app.events.publish import queue_job_events
from app.factory.firmware import POTENTIAL_FREE_OUTPUT_MIN_KEY_FIRMWARE, version_at_least
from app.firmware.key_images import KeyImage, key_images_on_device
from app.models import (
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    RemoteDevice,
    RemoteDeviceKind,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
    Tenant,
)
from app.tenants.scoping import ALL_DOMAINS

_EVERY_DOMAIN = {ALL_DOMAINS: True}


OPEN = (RemoteJobStatus.PENDING, RemoteJobStatus.DELIVERED)


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
    answer["validity"] = await extend_validity(session, device, tenant, key, now)
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
