"""Key images on updater devices (R25, R26): an updater device flashes keys from its own
storage, so a key's FIRMWARE job goes only where the device holds the whole image.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.firmware.targets import KEY_TARGETS
from app.models import Firmware, FirmwareDeployment, FirmwareTarget, RemoteDevice


@dataclass(frozen=True)
class KeyImage:
    """A key firmware image and how much of it an updater device holds (R26).

    ``held`` once the device received the whole image and checked its SHA-256 (its
    deployment is done): only then can it flash keys with it. ``received`` is the
    bytes it holds so far, ``deployed`` whether it has a deployment of it at all.
    """

    firmware_id: int
    target: FirmwareTarget
    version: str
    sha256: str
    size: int
    deployed: bool
    held: bool
    received: int

    @property
    def percent(self) -> int:
        """How much of the image the device holds, in whole per cent."""
        return min(100, self.received * 100 // max(self.size, 1))

    def named(self) -> dict[str, Any]:
        """The image as a device is told to flash it: id, target, version, SHA-256, size."""
        return {
            "firmwareId": self.firmware_id,
            "target": self.target.name,
            "version": self.version,
            "sha256": self.sha256,
            "size": self.size,
        }


async def key_images_on_device(
    session: AsyncSession, device: RemoteDevice, firmware_ids: Iterable[int]
) -> dict[int, KeyImage]:
    """The key images ``firmware_ids`` and how much of each ``device`` holds (R26), by id;
    ids that are no key image of the tenant are left out. Reads only, not the images."""
    ids = sorted(set(firmware_ids))
    if not ids:
        return {}
    rows = (
        await session.execute(
            select(
                Firmware.id,
                Firmware.target,
                Firmware.version,
                Firmware.sha256,
                func.length(Firmware.image),
            ).where(Firmware.id.in_(ids), Firmware.target.in_(tuple(KEY_TARGETS)))
        )
    ).all()
    progress = {
        firmware_id: (done, offset)
        for firmware_id, done, offset in (
            await session.execute(
                select(
                    FirmwareDeployment.firmware_id,
                    FirmwareDeployment.done,
                    FirmwareDeployment.offset,
                ).where(
                    FirmwareDeployment.device_id == device.id,
                    FirmwareDeployment.firmware_id.in_(ids),
                )
            )
        ).all()
    }
    images: dict[int, KeyImage] = {}
    for firmware_id, target, version, sha256, size in rows:
        done, offset = progress.get(firmware_id, (False, 0))
        images[int(firmware_id)] = KeyImage(
            firmware_id=int(firmware_id),
            target=target,
            version=version,
            sha256=sha256,
            size=int(size),
            deployed=firmware_id in progress,
            held=bool(done),
            received=int(size) if done else int(offset),
        )
    return images
