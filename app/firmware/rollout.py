"""Applying imported firmware (R25, R26): on chosen remote devices, or on every key that
needs it.

**Remote devices (R25).** Two steps on chosen wall and mobile devices: the
bootloader (REMOTE_BOOTLOADER), then the firmware (REMOTE_DEVICE). Applying
creates one ``FirmwareDeployment`` per device; the device fetches the image in
chunks with its heartbeats (``app.firmware.transfer``) from the offset it has
reached and reports its progress, so a transfer broken off resumes where it
stopped. A device takes REMOTE_DEVICE firmware only once its bootloader is
current: it has completed a bootloader deployment of the same bundle, or
already runs a bootloader at least as new as the bundle's newest bootloader
image (with no bootloader image in the bundle there is nothing to send first).
A device busy with another image of the same target gets the new one instead
(the old, unfinished transfer is dropped).

**Keys (R26).** Applying key firmware creates a FIRMWARE remote job for every
key of that generation with lower firmware that can still take it (not LOST,
DEFECTIVE or NOT_ACTIVATED), and gives every updater device of the generation
the key image (``app.firmware.key_updaters``): the jobs are delivered only
where the image has arrived (``app.firmware.key_images``). Holders of
generation-1 keys given a job are told by e-mail to visit the updater wall
device (``app.firmware.gen1_followup``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.remote_jobs import WAITING
from app.access.service import Notice
from app.db import chunked, id_in
from app.errors import CONFLICT, INVALID, NOT_FOUND, DomainError
from app.factory.firmware import compare_versions, is_version
from app.firmware.gen1_followup import tell_gen1_key_holders
from app.firmware.key_updaters import deploy_key_image, require_updater, updater_devices
from app.firmware.targets import (
    DEVICE_TARGETS,
    HEARTBEAT_KINDS,
    KEY_TARGETS,
    NO_UPDATE,
    is_lower,
    stage,
)
from app.models import (
    Firmware,
    FirmwareDeployment,
    FirmwareTarget,
    Key,
    KeyGeneration,
    KeyType,
    RemoteDevice,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
)


@dataclass
class AppliedFirmware:
    """What applying firmware started (R25, R26).

    ``devices`` are the remote devices that now have a deployment of the image
    (new, or still under way) — for key firmware, the updater devices the caller
    may see, while ``deployments`` covers every updater device (R8: no devices
    of other domains are named); ``remote_jobs`` the keys' FIRMWARE jobs.
    """

    firmware: Firmware
    devices: list[RemoteDevice] = field(default_factory=list)
    deployments: list[FirmwareDeployment] = field(default_factory=list)
    remote_jobs: list[RemoteJob] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)


async def apply_firmware(
    session: AsyncSession, *, firmware_id: int, device_ids: Sequence[int] | None = None
) -> AppliedFirmware:
    """Put an imported image to use: on chosen remote devices, or on every key that needs it.

    - REMOTE_BOOTLOADER / REMOTE_DEVICE (R25): ``device_ids`` (wall or mobile
      devices the caller may see) each get a deployment that their heartbeats
      carry out chunk by chunk. Firmware needs a current bootloader first (see
      the module docstring); a device that already runs this version, or has
      completed this deployment and still runs it, is left alone with a warning.
    - KEY_GEN1 / KEY_GEN2 (R26): a FIRMWARE remote job (payload ``firmwareId``,
      ``version``, ``sha256``, ``size``) for every key of the generation, in the
      caller's domains, whose firmware is lower, unless LOST, DEFECTIVE or
      NOT_ACTIVATED. A waiting job for newer firmware is kept. Every updater
      device of the generation gets a deployment of the image (see the module
      docstring): the jobs are delivered only where the image has arrived.

    The firmware is marked applied. Raises ``DomainError``: NOT_FOUND
    (``firmwareId``, or ``deviceIds`` for devices the caller cannot see);
    INVALID (``deviceIds``) when devices are missing for a device image, given
    for a key image, or include a desk device; CONFLICT (``deviceIds``) when a
    device needs its bootloader first; CONFLICT when generation-1 keys have not
    exactly one wall device in updater mode, or generation-2 keys no device with
    the generation-2 updater. Never commits.
    """
    firmware = await session.scalar(select(Firmware).where(Firmware.id == firmware_id))
    if firmware is None:
        raise DomainError(NOT_FOUND, f"firmwareId: no firmware {firmware_id}", "firmwareId")
    if firmware.target in DEVICE_TARGETS:
        result = await _apply_to_devices(session, firmware, device_ids or ())
    else:
        if device_ids:
            raise DomainError(
                INVALID,
                "deviceIds: key firmware reaches the keys at updater devices; "
                "leave deviceIds out (R26)",
                "deviceIds",
            )
        result = await _apply_to_keys(session, firmware)
    firmware.applied = True
    await session.flush()
    return result


async def _apply_to_devices(
    session: AsyncSession, firmware: Firmware, device_ids: Sequence[int]
) -> AppliedFirmware:
    ids = list(dict.fromkeys(device_ids))
    if not ids:
        raise DomainError(
            INVALID,
            "deviceIds: choose the remote devices to update (R25)",
            "deviceIds",
        )
    devices: list[RemoteDevice] = []
    for chunk in chunked(ids):
        devices += await session.scalars(
            select(RemoteDevice).where(id_in(session, RemoteDevice.id, chunk))
        )
    if len(devices) != len(ids):
        missing = len(ids) - len(devices)
        raise DomainError(
            NOT_FOUND,
            f"deviceIds: {missing} of the chosen devices do not exist or are not visible to you",
            "deviceIds",
        )
    devices.sort(key=lambda d: (d.name, d.id))
    desk = [d.name for d in devices if d.kind not in HEARTBEAT_KINDS]
    if desk:
        raise DomainError(
            INVALID,
            "deviceIds: firmware travels with heartbeats, which desk programming devices do not "
            f"send: {', '.join(desk[:5])}",
            "deviceIds",
        )
    if firmware.target is FirmwareTarget.REMOTE_DEVICE:
        await _require_bootloader(session, firmware, devices)

    deployments: dict[int, FirmwareDeployment] = {}
    superseded: list[int] = []
    for chunk in chunked(ids):
        rows = await session.execute(
            select(FirmwareDeployment, Firmware.target)
            .join(Firmware, Firmware.id == FirmwareDeployment.firmware_id)
            .where(id_in(session, FirmwareDeployment.device_id, chunk))
        )
        for deployment, target in rows.all():
            if deployment.firmware_id == firmware.id:
                deployments[deployment.device_id] = deployment
            elif target is firmware.target and not deployment.done:
                superseded.append(deployment.id)
    for chunk in chunked(superseded):
        # An unfinished transfer of an older image of the same target is of no use any more.
        await session.execute(
            delete(FirmwareDeployment)
            .where(id_in(session, FirmwareDeployment.id, chunk))
            .execution_options(synchronize_session=False)
        )

    result = AppliedFirmware(firmware)
    for device in devices:
        current = _installed_version(device, firmware.target)
        runs_it = is_version(current) and compare_versions(current, firmware.version) == 0
        deployment = deployments.get(device.id)
        if runs_it and (deployment is None or deployment.done):
            result.warnings.append(
                Notice(
                    "ALREADY_INSTALLED",
                    f"{device.name} runs {stage(firmware.target)} {firmware.version} already",
                )
            )
            continue
        if deployment is None:
            deployment = FirmwareDeployment(
                device_id=device.id, firmware_id=firmware.id, offset=0, done=False
            )
            session.add(deployment)
        elif deployment.done:
            # Completed once, but the device runs something else now: send it again.
            deployment.offset = 0
            deployment.done = False
            deployment.completed_at = None
        result.devices.append(device)
        result.deployments.append(deployment)
    await session.flush()
    return result


def _installed_version(device: RemoteDevice, target: FirmwareTarget) -> str:
    if target is FirmwareTarget.REMOTE_BOOTLOADER:
        return device.bootloader_version
    return device.firmware_version


async def _require_bootloader(
    session: AsyncSession, firmware: Firmware, devices: list[RemoteDevice]
) -> None:
    """R25, FAQ: the bootloader first, then the firmware.

    A device is ready when it completed a bootloader deployment of the firmware's
    bundle, or runs a bootloader at least as new as the bundle's newest
    bootloader image. A bundle without a bootloader image has nothing to send first.
    """
    versions = list(
        await session.scalars(
            select(Firmware.version).where(
                Firmware.target == FirmwareTarget.REMOTE_BOOTLOADER,
                Firmware.certificate_bundle_id == firmware.certificate_bundle_id,
            )
        )
    )
    newest: str | None = None
    for version in versions:
        if is_version(version) and (newest is None or compare_versions(version, newest) > 0):
            newest = version
    if newest is None:
        return
    ids = [d.id for d in devices]
    completed: set[int] = set()
    for chunk in chunked(ids):
        completed |= set(
            await session.scalars(
                select(FirmwareDeployment.device_id)
                .join(Firmware, Firmware.id == FirmwareDeployment.firmware_id)
                .where(
                    id_in(session, FirmwareDeployment.device_id, chunk),
                    FirmwareDeployment.done.is_(True),
                    Firmware.target == FirmwareTarget.REMOTE_BOOTLOADER,
                    Firmware.certificate_bundle_id == firmware.certificate_bundle_id,
                )
            )
        )
    waiting = [
        d
        for d in devices
        if d.id not in completed and is_lower(d.bootloader_version, newest)
    ]
    if waiting:
        named = ", ".join(f"{d.name} (bootloader {d.bootloader_version})" for d in waiting[:5])
        more = len(waiting) - 5
        raise DomainError(
            CONFLICT,
            f"deviceIds: roll out bootloader {newest} to these devices first, then the "
            f"firmware (R25): {named}" + (f" and {more} more" if more > 0 else ""),
            "deviceIds",
        )


async def _apply_to_keys(session: AsyncSession, firmware: Firmware) -> AppliedFirmware:
    generation = KEY_TARGETS[firmware.target]
    await require_updater(session, generation)
    keys = list(
        await session.scalars(
            select(Key)
            .where(Key.generation == generation, Key.status.not_in(NO_UPDATE))
            .order_by(Key.marking, Key.id)
        )
    )
    lower = [k for k in keys if is_lower(k.firmware_version, firmware.version)]
    payload = {
        "firmwareId": firmware.id,
        "version": firmware.version,
        "sha256": firmware.sha256,
        "size": len(firmware.image),
    }
    result = AppliedFirmware(firmware)
    result.remote_jobs, fresh = await _ensure_firmware_jobs(session, lower, payload)
    updaters = await updater_devices(session, generation)
    result.deployments = await deploy_key_image(
        session, firmware.id, firmware.target, firmware.version, updaters
    )
    if generation is KeyGeneration.GEN1:
        # FAQ: the holders are told to go to the one updater wall device (R26, R33).
        [updater] = updaters
        await tell_gen1_key_holders(session, firmware, fresh, updater)
    visible = session.info.get("domain_ids")
    result.devices = [d for d in updaters if visible is None or d.domain_id in visible]
    without = sum(1 for k in lower if k.type is KeyType.E1)
    if without:
        result.warnings.append(
            Notice(
                "NO_REMOTE_UPDATE",
                f"{without} E1 key(s) with older firmware take no remote jobs (no clock, R10)",
            )
        )
    return result


async def _ensure_firmware_jobs(
    session: AsyncSession, keys: Sequence[Key], payload: dict[str, Any]
) -> tuple[list[RemoteJob], list[Key]]:
    """``ensure_remote_job`` for many keys at once, with its rules (R18): none for E1 keys,
    E2 keys at a desk device, one waiting FIRMWARE job per key brought up to date, except
    that a waiting job for newer firmware is kept. Returns the jobs and the keys whose job
    is new or now carries this payload (those not told of it before)."""
    remote = [k for k in keys if k.type is not KeyType.E1]
    waiting: dict[int, RemoteJob] = {}
    ids = [k.id for k in remote]
    for chunk in chunked(ids):
        for job in await session.scalars(
            select(RemoteJob).where(
                id_in(session, RemoteJob.key_id, chunk),
                RemoteJob.kind == RemoteJobKind.FIRMWARE,
                RemoteJob.status.in_(WAITING),
            )
        ):
            waiting.setdefault(job.key_id, job)
    jobs: list[RemoteJob] = []
    fresh: list[Key] = []
    for key in remote:
        body = {**payload, "deliverAt": "remote" if key.type is KeyType.E3 else "desk"}
        job = waiting.get(key.id)
        if job is None:
            fresh.append(key)
            job = RemoteJob(
                key_id=key.id,
                kind=RemoteJobKind.FIRMWARE,
                status=RemoteJobStatus.PENDING,
                payload=body,
            )
            session.add(job)
        else:
            queued = job.payload.get("version")
            newer_queued = (
                isinstance(queued, str)
                and is_version(queued)
                and compare_versions(queued, str(payload["version"])) > 0
            )
            if not newer_queued and job.payload != body:
                job.payload = body
                fresh.append(key)
        jobs.append(job)
    await session.flush()
    return jobs, fresh
