"""Firmware travels with heartbeats, chunk by chunk (R25): the next piece for a device, and
how far it got. A transfer broken off resumes from the offset the device holds.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import INVALID, DomainError
from app.firmware.targets import stage
from app.models import Firmware, FirmwareDeployment, FirmwareTarget, RemoteDevice, utcnow

# Bytes of image per heartbeat answer unless the caller asks otherwise, and the most it may ask.
CHUNK_SIZE = 4096
MAX_CHUNK_SIZE = 256 * 1024


async def next_firmware_chunk(
    session: AsyncSession, device: RemoteDevice, *, offset: int, chunk_size: int = CHUNK_SIZE
) -> dict[str, Any] | None:
    """The next piece of firmware for a device's heartbeat answer, from ``offset`` (R25).

    The device's active deployment is its unfinished one, bootloader before
    firmware before key images (R26: an updater device stores those to flash
    keys), oldest first; None when it has none. The answer::

        {"firmwareId", "target", "stage", "version", "offset", "data" (base64),
         "total", "sha256", "last"}

    ``offset`` is where the device stands (the bytes it holds), so a transfer
    broken off resumes there; at ``offset == total`` ``data`` is empty and the
    device checks the SHA-256 and reports the deployment done
    (:func:`record_firmware_progress`). Only the chunk is read from the
    database, not the whole image. Raises ``DomainError`` INVALID (``offset``)
    for an offset outside the image. Reads only.
    """
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be 1..{MAX_CHUNK_SIZE}, got {chunk_size}")
    row = (
        await session.execute(
            select(
                Firmware.id,
                Firmware.target,
                Firmware.version,
                Firmware.sha256,
                func.length(Firmware.image),
            )
            .join(FirmwareDeployment, FirmwareDeployment.firmware_id == Firmware.id)
            .where(
                FirmwareDeployment.device_id == device.id,
                FirmwareDeployment.done.is_(False),
            )
            .order_by(
                # The device's own bootloader, then its firmware, then key images (R25, R26).
                case(
                    (Firmware.target == FirmwareTarget.REMOTE_BOOTLOADER, 0),
                    (Firmware.target == FirmwareTarget.REMOTE_DEVICE, 1),
                    else_=2,
                ),
                FirmwareDeployment.id,
            )
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    firmware_id, target, version, sha256, total = row
    total = int(total)
    if not 0 <= offset <= total:
        raise DomainError(
            INVALID, f"offset: must be between 0 and {total}, the image's size", "offset"
        )
    data = b""
    if offset < total:
        data = await session.scalar(
            select(
                func.substr(Firmware.image, offset + 1, chunk_size, type_=LargeBinary)
            ).where(Firmware.id == firmware_id)
        ) or b""
    return {
        "firmwareId": firmware_id,
        "target": target.name,
        "stage": stage(target),
        "version": version,
        "offset": offset,
        "data": base64.b64encode(data).decode("ascii"),
        "total": total,
        "sha256": sha256,
        "last": offset + len(data) >= total,
    }


async def record_firmware_progress(
    session: AsyncSession,
    device: RemoteDevice,
    firmware_id: int,
    offset: int,
    done: bool,
    *,
    now: datetime | None = None,
) -> FirmwareDeployment | None:
    """Record how far a device got with an image, as its heartbeat reports it (R25).

    ``offset`` is the number of bytes the device holds; the next chunk starts
    there. ``done`` means the device has the whole image, checked its SHA-256
    and installed it: the deployment is complete (``completed_at`` = ``now``)
    and the device's firmware or bootloader version becomes the image's — not
    for a key image, which the device only stores (R26): its own versions stay.
    Reporting again after completion changes nothing. Returns the deployment
    (for the progress shown in GraphQL and on ``deviceStatus``), or None when
    the device has no deployment of that image (it was superseded: the device
    should drop it). Raises ``DomainError`` INVALID (``offset``) for an offset
    outside the image, or ``done`` before the whole image. Never commits.
    """
    row = (
        await session.execute(
            select(
                FirmwareDeployment,
                Firmware.target,
                Firmware.version,
                func.length(Firmware.image),
            )
            .join(Firmware, Firmware.id == FirmwareDeployment.firmware_id)
            .where(
                FirmwareDeployment.device_id == device.id,
                FirmwareDeployment.firmware_id == firmware_id,
            )
        )
    ).first()
    if row is None:
        return None
    deployment, target, version, total = row
    total = int(total)
    if deployment.done:
        return deployment
    if not 0 <= offset <= total:
        raise DomainError(
            INVALID, f"offset: must be between 0 and {total}, the image's size", "offset"
        )
    if done and offset != total:
        raise DomainError(
            INVALID,
            f"offset: the image is {total} bytes; it is done only when all arrived ({offset})",
            "offset",
        )
    deployment.offset = offset
    if done:
        deployment.done = True
        deployment.completed_at = now or utcnow()
        if target is FirmwareTarget.REMOTE_BOOTLOADER:
            device.bootloader_version = version
        elif target is FirmwareTarget.REMOTE_DEVICE:
            device.firmware_version = version
    await session.flush()
    return deployment
