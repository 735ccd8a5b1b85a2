"""The devices that update keys (R25, R26), and the key images they are given to flash keys with.

Generation-1 keys update only at the one wall device in generation-1 updater
mode; generation-2 keys at any wall device or system-linked mobile device with
the generation-2 updater flag. Every updater device of a generation (in every
domain: keys of any domain meet them) gets a ``FirmwareDeployment`` of the
applied key image, carried by the same chunked, resumable heartbeat transfer as
device firmware, after the device's own bootloader and firmware
(``app.firmware.transfer``). An unfinished transfer of an older key image of
the same generation is dropped (SUPERSEDED); a finished key image never changes
the device's own versions. A device whose updater flag is turned on later gets
the newest applied key image of that generation; turned off, its unfinished
key-image transfers are dropped (:func:`updater_flag_changed`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.service import Notice
from app.db import chunked, id_in
from app.errors import CONFLICT, DomainError
from app.factory.firmware import compare_versions, is_version
from app.firmware.targets import KEY_TARGET_OF, is_lower
from app.models import (
    Firmware,
    FirmwareDeployment,
    FirmwareTarget,
    Key,
    KeyGeneration,
    KeyStatus,
    RemoteDevice,
    RemoteDeviceKind,
)
from app.tenants.scoping import ALL_DOMAINS

_EVERY_DOMAIN = {ALL_DOMAINS: True}


async def require_updater(session: AsyncSession, generation: KeyGeneration) -> None:
    """R26: generation 1 needs exactly one wall device in updater mode, generation 2 at least
    one wall or system-linked mobile device with its updater flag (in any domain)."""
    if generation is KeyGeneration.GEN1:
        names = list(
            await session.scalars(
                select(RemoteDevice.name)
                .where(
                    RemoteDevice.kind == RemoteDeviceKind.WALL,
                    RemoteDevice.updater_gen1.is_(True),
                )
                .order_by(RemoteDevice.name)
                .execution_options(**_EVERY_DOMAIN)
            )
        )
        if not names:
            raise DomainError(
                CONFLICT,
                "generation-1 keys update only at the one wall device in updater mode: "
                "switch one wall device to updater mode (updaterGen1) first (R26)",
            )
        if len(names) > 1:
            raise DomainError(
                CONFLICT,
                f"{len(names)} wall devices are in generation-1 updater mode "
                f"({', '.join(names[:5])}); only one may be: switch all but one back to "
                "normal mode (R26)",
            )
        return
    found = await session.scalar(
        select(RemoteDevice.id)
        .where(
            RemoteDevice.updater_gen2.is_(True),
            (RemoteDevice.kind == RemoteDeviceKind.WALL)
            | (
                (RemoteDevice.kind == RemoteDeviceKind.MOBILE)
                & RemoteDevice.system_linked.is_(True)
            ),
        )
        .limit(1)
        .execution_options(**_EVERY_DOMAIN)
    )
    if found is None:
        raise DomainError(
            CONFLICT,
            "generation-2 keys update at wall devices and system-linked mobile devices with the "
            "generation-2 updater on: switch it on at one of them first (R26)",
        )


def _is_updater(generation: KeyGeneration) -> ColumnElement[bool]:
    """R26: the devices that update keys of ``generation``: for generation 1 the wall
    device in updater mode, for generation 2 wall devices and system-linked mobile
    devices with the generation-2 updater flag."""
    if generation is KeyGeneration.GEN1:
        return (RemoteDevice.kind == RemoteDeviceKind.WALL) & RemoteDevice.updater_gen1.is_(True)
    return RemoteDevice.updater_gen2.is_(True) & (
        (RemoteDevice.kind == RemoteDeviceKind.WALL)
        | ((RemoteDevice.kind == RemoteDeviceKind.MOBILE) & RemoteDevice.system_linked.is_(True))
    )


def is_key_updater(device: RemoteDevice, generation: KeyGeneration) -> bool:
    """Whether ``device`` updates keys of ``generation`` (R26), as :func:`_is_updater`."""
    if generation is KeyGeneration.GEN1:
        return device.kind is RemoteDeviceKind.WALL and device.updater_gen1
    return device.updater_gen2 and (
        device.kind is RemoteDeviceKind.WALL
        or (device.kind is RemoteDeviceKind.MOBILE and device.system_linked)
    )


async def updater_devices(session: AsyncSession, generation: KeyGeneration) -> list[RemoteDevice]:
    """Every updater device of ``generation`` in the tenant, in every domain: a key of any
    domain may be inserted there (R26)."""
    return list(
        await session.scalars(
            select(RemoteDevice)
            .where(_is_updater(generation))
            .order_by(RemoteDevice.name, RemoteDevice.id)
            .execution_options(**_EVERY_DOMAIN)
        )
    )


# R26 (FAQ: "For large systems, it would make sense to activate only one unit at a time as
# an updater"): from this many generation-2 keys a system is large, and a second updater warns.
LARGE_SYSTEM_GEN2_KEYS = 1000


async def many_gen2_updaters(session: AsyncSession) -> Notice | None:
    """A warning when more than one device has the generation-2 updater on in a large
    system (R26): every key with older firmware updates at the first updater it meets, so
    many at once load the devices and the server with key images together.

    Counted in every domain, as keys of any domain meet any updater. None otherwise.
    """
    devices = await session.scalar(
        select(func.count(RemoteDevice.id))
        .where(_is_updater(KeyGeneration.GEN2))
        .execution_options(**_EVERY_DOMAIN)
    )
    if not devices or devices < 2:
        return None
    keys = await session.scalar(
        select(func.count(Key.id))
        .where(
            Key.generation == KeyGeneration.GEN2,
            Key.status.not_in([KeyStatus.LOST, KeyStatus.DEFECTIVE]),
        )
        .execution_options(**_EVERY_DOMAIN)
    )
    if not keys or keys < LARGE_SYSTEM_GEN2_KEYS:
        return None
    return Notice(
        "MANY_GEN2_UPDATERS",
        f"the generation-2 updater is now on at {devices} devices in a system of {keys} "
        "generation-2 keys; in a large system turn it on at one device at a time (R26)",
    )


async def deploy_key_image(
    session: AsyncSession,
    firmware_id: int,
    target: FirmwareTarget,
    version: str,
    devices: Sequence[RemoteDevice],
) -> list[FirmwareDeployment]:
    """A deployment of key image ``firmware_id`` on each device, kept when there already
    (under way, or complete: the device holds the image); unfinished transfers of older
    images of the same key target are dropped — the device reports them and hears
    SUPERSEDED (R25, R26). Transfers of newer key images are kept: keys may still wait
    for them. Never commits."""
    ids = [d.id for d in devices]
    existing: dict[int, FirmwareDeployment] = {}
    superseded: list[int] = []
    for chunk in chunked(ids):
        rows = await session.execute(
            select(FirmwareDeployment, Firmware.version)
            .join(Firmware, Firmware.id == FirmwareDeployment.firmware_id)
            .where(
                id_in(session, FirmwareDeployment.device_id, chunk),
                Firmware.target == target,
            )
        )
        for deployment, other in rows.all():
            if deployment.firmware_id == firmware_id:
                existing[deployment.device_id] = deployment
            elif not deployment.done and is_lower(other, version):
                superseded.append(deployment.id)
    for chunk in chunked(superseded):
        await session.execute(
            delete(FirmwareDeployment)
            .where(id_in(session, FirmwareDeployment.id, chunk))
            .execution_options(synchronize_session=False)
        )
    deployments: list[FirmwareDeployment] = []
    for device in devices:
        deployment = existing.get(device.id)
        if deployment is None:
            # done = False until the device reports the whole image checked: the quiet
            # heartbeat path steps aside for devices with an unfinished deployment.
            deployment = FirmwareDeployment(
                device_id=device.id, firmware_id=firmware_id, offset=0, done=False
            )
            session.add(deployment)
        deployments.append(deployment)
    await session.flush()
    return deployments


async def current_key_firmware(
    session: AsyncSession, target: FirmwareTarget
) -> tuple[int, str] | None:
    """The id and version of the newest applied key image of ``target`` (R26), or None.

    Only the ids and versions are read, not the images.
    """
    newest: tuple[int, str] | None = None
    rows = await session.execute(
        select(Firmware.id, Firmware.version)
        .where(Firmware.target == target, Firmware.applied.is_(True))
        .order_by(Firmware.id)
    )
    for firmware_id, version in rows.all():
        if not is_version(version):
            continue
        if newest is None or compare_versions(version, newest[1]) >= 0:
            newest = (int(firmware_id), version)
    return newest


async def updater_flag_changed(
    session: AsyncSession, device: RemoteDevice, generation: KeyGeneration
) -> list[FirmwareDeployment]:
    """Follow a device's updater flag for ``generation`` with its key images (R26).

    Call after the flag was set. An updater device gets a deployment of the newest
    applied key image of the generation (none applied: nothing; held already: kept),
    so the flag "acts only when newer firmware exists" as soon as the image arrived.
    A device that no longer updates that generation drops its unfinished transfers of
    the generation's key images (complete ones stay: the device holds them). Returns
    the device's deployment of the current image, if any. Never commits.
    """
    target = KEY_TARGET_OF[generation]
    if not is_key_updater(device, generation):
        await session.execute(
            delete(FirmwareDeployment)
            .where(
                FirmwareDeployment.device_id == device.id,
                FirmwareDeployment.done.is_(False),
                FirmwareDeployment.firmware_id.in_(
                    select(Firmware.id).where(Firmware.target == target)
                ),
            )
            .execution_options(synchronize_session=False)
        )
        return []
    current = await current_key_firmware(session, target)
    if current is None:
        return []
    return await deploy_key_image(session, current[0], target, current[1], [device])
