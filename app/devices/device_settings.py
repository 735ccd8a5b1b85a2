"""A remote device's settings (R22, R24, R26): name, heartbeat interval, offline updates,
key firmware updaters. They reach the device with its next heartbeat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.service import Notice
from app.devices.presence import MIN_HEARTBEAT_INTERVAL_SECONDS
from app.errors import CONFLICT, INVALID, NOT_FOUND, DomainError
from app.firmware.key_updaters import many_gen2_updaters, updater_flag_changed
from app.models import KeyGeneration, RemoteDevice, RemoteDeviceKind
from app.tenants.scoping import ALL_DOMAINS
from app.tenants.service import lock_tenant

_EVERY_DOMAIN = {ALL_DOMAINS: True}


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
            INVALID,
            f"at most {MAX_OFFLINE_UPDATES} offline updates after an online update (0 = off)",
            f"{field_name}.maxOfflineUpdates",
        )
    for name, value in (
        ("maxHoursSinceOnlineUpdate", settings.max_hours_since_online_update),
        ("blockingListValidityHours", settings.blocking_list_validity_hours),
    ):
        if value is not None and value < 1:
            raise DomainError(
                INVALID, "at least 1 hour, or null for unlimited", f"{field_name}.{name}"
            )
    if not 1 <= settings.offline_extension_hours <= MAX_OFFLINE_EXTENSION_HOURS:
        raise DomainError(
            INVALID,
            f"between 1 hour and 730 days ({MAX_OFFLINE_EXTENSION_HOURS} hours)",
            f"{field_name}.offlineExtensionHours",
        )


@dataclass
class DeviceChange:
    """A device's new settings and the warnings they give (R26)."""

    device: RemoteDevice
    warnings: list[Notice] = field(default_factory=list)


async def update_remote_device(
    session: AsyncSession,
    *,
    device_id: int,
    name: str | None = None,
    heartbeat_interval_seconds: int | None = None,
    offline: OfflineSettings | None = None,
    updater_gen1: bool | None = None,
    updater_gen2: bool | None = None,
) -> DeviceChange:
    """Change a remote device's settings (R22, R24, R26); None leaves a setting as it is.

    - ``name``: 1 to 200 characters; ``heartbeat_interval_seconds``: 10 s to a day;
    - ``offline``: wall devices only, checked by :func:`check_offline_settings`;
    - ``updater_gen1``: the generation-1 updater runs on one wall device at a time
      (CONFLICT naming the device that has it, R26);
    - ``updater_gen2``: on wall devices and system-linked mobile devices only.

    An updater flag turned on gives the device a deployment of the newest applied
    key image of that generation, which its heartbeats fetch; turned off, its
    unfinished transfers of those images are dropped (R26,
    :func:`~app.firmware.key_updaters.updater_flag_changed`).

    The device must be visible to the session (its domains, R8): NOT_FOUND on
    ``deviceId`` otherwise. The new settings reach the device with its next
    heartbeat. Turning the generation-2 updater on where other devices have it already,
    in a large system, warns (R26, :func:`~app.firmware.key_updaters.many_gen2_updaters`).
    The caller commits.
    """
    device = await session.scalar(select(RemoteDevice).where(RemoteDevice.id == device_id))
    if device is None:
        raise DomainError(NOT_FOUND, "deviceId: no such remote device", "deviceId")
    if name is not None:
        name = name.strip()
        if not 0 < len(name) <= MAX_NAME:
            raise DomainError(INVALID, f"name: 1 to {MAX_NAME} characters", "name")
        device.name = name
    if heartbeat_interval_seconds is not None:
        if not MIN_HEARTBEAT_SECONDS <= heartbeat_interval_seconds <= MAX_HEARTBEAT_SECONDS:
            raise DomainError(
                INVALID,
                f"between {MIN_HEARTBEAT_SECONDS} and {MAX_HEARTBEAT_SECONDS} seconds",
                "heartbeatIntervalSeconds",
            )
        device.heartbeat_interval_seconds = heartbeat_interval_seconds
    if offline is not None:
        if device.kind is not RemoteDeviceKind.WALL:
            raise DomainError(
                INVALID, "offline updates are a wall device's setting (R24)", "offlineUpdates"
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
                INVALID,
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
    warning = await many_gen2_updaters(session) if updater_gen2 else None
    return DeviceChange(device, [warning] if warning is not None else [])


async def _gen1_updater_free(session: AsyncSession, device: RemoteDevice) -> None:
    """R26: generation-1 keys update at the one wall device in updater mode, never two."""
    if device.kind is not RemoteDeviceKind.WALL:
        raise DomainError(
            INVALID, "the generation-1 updater runs on a wall device only (R26)", "updaterGen1"
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
            CONFLICT,
            f"the generation-1 updater is on at {where} already: at most one wall device at "
            "a time (R26); turn it off there first",
            "updaterGen1",
        )
