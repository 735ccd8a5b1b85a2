"""Firmware in a tenant: import, certificate bundles, and roll-out to devices and keys (R25, R26).

**Import (R25).** Every image is a vendor-signed firmware file
(``app.factory.firmware``), checked against the tenant's trusted vendor keys
before anything is stored. A file uploaded by hand goes into the certificate
bundle (CCB) the user picks, and must have been built for it; a file from the
data center goes into the bundle its header names (created when the tenant has
none of that name yet: the data center serves the installation's own bundles).
An image of the same target and bundle whose version equals it as numbers
(``"12.3" == "12.3.0"``) is there already: CONFLICT. Every Superadmin
programming key holder with an e-mail address is told through the outbox (R33).

**Remote devices (R25).** Two steps on chosen wall and mobile devices: the
bootloader (REMOTE_BOOTLOADER), then the firmware (REMOTE_DEVICE). Applying
creates one ``FirmwareDeployment`` per device; the device fetches the image in
chunks with its heartbeats (:func:`next_firmware_chunk`) from the offset it has
reached and reports its progress (:func:`record_firmware_progress`), so a
transfer broken off resumes where it stopped. A device takes REMOTE_DEVICE
firmware only once its bootloader is current: it has completed a bootloader
deployment of the same bundle, or already runs a bootloader at least as new as
the bundle's newest bootloader image (with no bootloader image in the bundle
there is nothing to send first). A device busy with another image of the same
target gets the new one instead (the old, unfinished transfer is dropped).

**Keys (R26).** Applying key firmware creates a FIRMWARE remote job for every
key of that generation with lower firmware that can still take it (not LOST,
DEFECTIVE or NOT_ACTIVATED). Generation-1 keys update only at the one wall
device in generation-1 updater mode, so applying needs exactly one; generation-2
keys at any wall device or system-linked mobile device with the generation-2
updater flag, so applying needs at least one. :func:`key_firmware_outcome`
says what a finished or interrupted update means for the key.

**Key images on the updater devices (R25, R26).** An updater device flashes
keys from its own storage, so it must hold the key image before a key's
FIRMWARE job can be delivered there. Applying key firmware gives every updater
device of that generation (in every domain: keys of any domain meet them) a
``FirmwareDeployment`` of the image, carried by the same chunked, resumable
heartbeat transfer as device firmware, after the device's own bootloader and
firmware (:func:`next_firmware_chunk`). An unfinished transfer of an older key
image of the same generation is dropped (SUPERSEDED); a finished key image
never changes the device's own versions. A device whose updater flag is turned
on later gets the newest applied key image of that generation; turned off, its
unfinished key-image transfers are dropped (:func:`updater_flag_changed`).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, LargeBinary, case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.remote_jobs import WAITING, ensure_remote_job
from app.access.service import Notice
from app.db import id_in
from app.errors import DomainError
from app.factory.firmware import (
    MAX_BUNDLE_LENGTH,
    VerifiedFirmware,
    compare_versions,
    is_version,
    verify_firmware_file,
)
from app.keys.service import key_remote_jobs, report_key_defective
from app.mail import builtin_role_emails, queue_mail
from app.models import (
    CertificateBundle,
    Firmware,
    FirmwareDeployment,
    FirmwareSource,
    FirmwareTarget,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    RemoteDevice,
    RemoteDeviceKind,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
    TrustedVendorKey,
    utcnow,
)
from app.tenants.scoping import ALL_DOMAINS

T = TypeVar("T")

# R25, R33: who hears of new firmware (the FAQ: "the user with the role Superadmin").
NOTIFIED_ROLE = "Superadmin"
# Bytes of image per heartbeat answer unless the caller asks otherwise, and the most it may ask.
CHUNK_SIZE = 4096
MAX_CHUNK_SIZE = 256 * 1024
# Values per IN (...) list on SQLite; PostgreSQL takes one array parameter (``id_in``).
IN_CHUNK = 5000
RELEASE_NOTES_IN_MAIL = 2000

KEY_TARGETS = {
    FirmwareTarget.KEY_GEN1: KeyGeneration.GEN1,
    FirmwareTarget.KEY_GEN2: KeyGeneration.GEN2,
}
KEY_TARGET_OF = {generation: target for target, generation in KEY_TARGETS.items()}
DEVICE_TARGETS = (FirmwareTarget.REMOTE_BOOTLOADER, FirmwareTarget.REMOTE_DEVICE)
# R26: keys that take no firmware update.
NO_UPDATE = (KeyStatus.LOST, KeyStatus.DEFECTIVE, KeyStatus.NOT_ACTIVATED)
# R22, R23: devices that fetch firmware with their heartbeats (desk devices sit behind the bridge).
HEARTBEAT_KINDS = (RemoteDeviceKind.WALL, RemoteDeviceKind.MOBILE)

_LABEL = {
    FirmwareTarget.KEY_GEN1: "generation-1 key",
    FirmwareTarget.KEY_GEN2: "generation-2 key",
    FirmwareTarget.REMOTE_DEVICE: "remote device",
    FirmwareTarget.REMOTE_BOOTLOADER: "remote device bootloader",
}
_EVERY_DOMAIN = {ALL_DOMAINS: True}


def _chunks(values: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def _is_lower(current: str, version: str) -> bool:
    """Whether firmware ``current`` is older than ``version``; unreadable counts as older."""
    if not is_version(current):
        return True
    return compare_versions(current, version) < 0


# --- certificate bundles -------------------------------------------------------------


async def create_certificate_bundle(session: AsyncSession, *, name: str) -> CertificateBundle:
    """Record a certificate bundle (CCB) of the installation, which firmware is built for (R25).

    A purchased installation without a data-center connection names its bundles
    itself and picks one at each manual firmware import. Raises ``DomainError``
    on field ``name``: INVALID when empty or longer than 200 characters,
    CONFLICT when the tenant has a bundle of that name. Never commits.
    """
    clean = name.strip()
    if not clean:
        raise DomainError("INVALID", "name: must not be empty", "name")
    if len(clean) > MAX_BUNDLE_LENGTH:
        raise DomainError(
            "INVALID", f"name: must be at most {MAX_BUNDLE_LENGTH} characters", "name"
        )
    taken = await session.scalar(
        select(CertificateBundle.id).where(CertificateBundle.name == clean)
    )
    if taken is not None:
        raise DomainError(
            "CONFLICT", f"name: a certificate bundle {clean!r} exists already", "name"
        )
    bundle = CertificateBundle(name=clean)
    session.add(bundle)
    await session.flush()
    return bundle


# --- import ----------------------------------------------------------------------------


@dataclass
class ImportedFirmware:
    """A stored firmware image, its bundle, and how many Superadmins were e-mailed (R25)."""

    firmware: Firmware
    certificate_bundle: CertificateBundle
    notified: int


async def trusted_vendor_keys(session: AsyncSession) -> list[str]:
    """The hex public keys of the vendors whose signatures the session's tenant accepts."""
    return list(await session.scalars(select(TrustedVendorKey.public_key)))


async def existing_firmware_id(
    session: AsyncSession, target: FirmwareTarget, version: str, certificate_bundle_id: int
) -> int | None:
    """The id of the tenant's image of this target and bundle whose version equals ``version``
    as numbers (``"12.3"`` is ``"12.3.0"``), or None (R25: each image is imported once)."""
    rows = (
        await session.execute(
            select(Firmware.id, Firmware.version).where(
                Firmware.target == target,
                Firmware.certificate_bundle_id == certificate_bundle_id,
            )
        )
    ).all()
    for firmware_id, stored in rows:
        if is_version(stored) and compare_versions(stored, version) == 0:
            return int(firmware_id)
    return None


async def import_firmware(
    session: AsyncSession,
    data: bytes,
    *,
    certificate_bundle_id: int,
    max_size: int | None = None,
) -> ImportedFirmware:
    """Import a firmware file uploaded by hand into the bundle the user picked (R25).

    The file's vendor signature is checked against the tenant's trusted vendor
    keys before anything is stored, and it must be built for the chosen
    certificate bundle. Stored with source MANUAL; every Superadmin programming
    key holder with an e-mail address gets one through the outbox (R33): call
    ``notify_outbox()`` after the commit.

    Raises ``DomainError``: NOT_FOUND (``certificateBundleId``) for a bundle the
    tenant does not have; BAD_SIGNATURE or INVALID (``file``) for the file, see
    ``verify_firmware_file`` (an image above ``max_size`` bytes is INVALID);
    INVALID (``certificateBundleId``) when the file is built for another bundle;
    CONFLICT (``file``) when the image is there already. Never commits.
    """
    bundle = await session.scalar(
        select(CertificateBundle)
        .where(CertificateBundle.id == certificate_bundle_id)
        .with_for_update()
    )
    if bundle is None:
        raise DomainError(
            "NOT_FOUND",
            f"certificateBundleId: no certificate bundle {certificate_bundle_id}",
            "certificateBundleId",
        )
    verified = verify_firmware_file(data, await trusted_vendor_keys(session), max_size=max_size)
    if verified.certificate_bundle != bundle.name:
        raise DomainError(
            "INVALID",
            f"certificateBundleId: the file is built for certificate bundle "
            f"{verified.certificate_bundle!r}, not {bundle.name!r}: "
            "choose the bundle it belongs to",
            "certificateBundleId",
        )
    return await _store(session, verified, bundle, FirmwareSource.MANUAL)


async def import_firmware_from_data_center(
    session: AsyncSession, data: bytes, *, max_size: int | None = None
) -> ImportedFirmware:
    """Import a firmware file the data center offered, into the bundle it names (R2, R25).

    Checked like a manual upload; the certificate bundle is the one the file's
    header names, created when the tenant has none of that name. Stored with
    source DATA_CENTER; Superadmins are e-mailed (R33). Raises ``DomainError``
    BAD_SIGNATURE, INVALID or CONFLICT (``file``) as :func:`import_firmware`.
    Never commits.
    """
    verified = verify_firmware_file(data, await trusted_vendor_keys(session), max_size=max_size)
    bundle = await session.scalar(
        select(CertificateBundle)
        .where(CertificateBundle.name == verified.certificate_bundle)
        .with_for_update()
    )
    if bundle is None:
        bundle = CertificateBundle(name=verified.certificate_bundle)
        session.add(bundle)
        await session.flush()
    return await _store(session, verified, bundle, FirmwareSource.DATA_CENTER)


async def _store(
    session: AsyncSession,
    verified: VerifiedFirmware,
    bundle: CertificateBundle,
    source: FirmwareSource,
) -> ImportedFirmware:
    existing = await existing_firmware_id(session, verified.target, verified.version, bundle.id)
    if existing is not None:
        raise DomainError(
            "CONFLICT",
            f"{verified.target.name} firmware {verified.version} for certificate bundle "
            f"{bundle.name!r} has been imported already",
            "file",
        )
    row = Firmware(
        target=verified.target,
        version=verified.version,
        source=source,
        certificate_bundle_id=bundle.id,
        image=verified.image,
        sha256=verified.sha256,
    )
    session.add(row)
    await session.flush()
    notified = await _notify_superadmins(session, verified, bundle, source)
    return ImportedFirmware(row, bundle, notified)


async def _notify_superadmins(
    session: AsyncSession,
    verified: VerifiedFirmware,
    bundle: CertificateBundle,
    source: FirmwareSource,
) -> int:
    """One e-mail per Superadmin holder's address, in the import's transaction (R25, R33)."""
    recipients = await builtin_role_emails(session, [NOTIFIED_ROLE])
    if not recipients:
        return 0
    label = _LABEL[verified.target]
    how = "from the data center" if source is FirmwareSource.DATA_CENTER else "by hand"
    lines = [
        f"Firmware {verified.version} for {label}s has been imported {how}; "
        "its vendor signature has been checked.",
        "",
        f"Certificate bundle: {bundle.name}",
        f"Size: {len(verified.image)} bytes",
        f"SHA-256: {verified.sha256}",
        "",
    ]
    if verified.target in KEY_TARGETS:
        lines.append(
            "Apply it to create a firmware update for every key of that generation with "
            "older firmware. Generation-1 keys update only at the one wall device in updater "
            "mode; generation-2 keys at wall devices and system-linked mobile devices with the "
            "generation-2 updater on."
        )
    else:
        lines.append(
            "Apply the bootloader to the chosen devices first, then the firmware; "
            "both travel with the devices' heartbeats."
        )
    notes = verified.release_notes.strip()
    if notes:
        if len(notes) > RELEASE_NOTES_IN_MAIL:
            notes = notes[:RELEASE_NOTES_IN_MAIL] + " …"
        lines += ["", "Release notes:", notes]
    subject = f"New {label} firmware {verified.version} is ready"
    queue_mail(
        session,
        kind="firmware_imported",
        recipients=recipients,
        subject=subject,
        body="\n".join(lines),
    )
    return len(recipients)


# --- apply -----------------------------------------------------------------------------


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
        raise DomainError("NOT_FOUND", f"firmwareId: no firmware {firmware_id}", "firmwareId")
    if firmware.target in DEVICE_TARGETS:
        result = await _apply_to_devices(session, firmware, device_ids or ())
    else:
        if device_ids:
            raise DomainError(
                "INVALID",
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
            "INVALID",
            "deviceIds: choose the remote devices to update (R25)",
            "deviceIds",
        )
    devices: list[RemoteDevice] = []
    for chunk in _chunks(ids):
        devices += await session.scalars(
            select(RemoteDevice).where(id_in(session, RemoteDevice.id, chunk))
        )
    if len(devices) != len(ids):
        missing = len(ids) - len(devices)
        raise DomainError(
            "NOT_FOUND",
            f"deviceIds: {missing} of the chosen devices do not exist or are not visible to you",
            "deviceIds",
        )
    devices.sort(key=lambda d: (d.name, d.id))
    desk = [d.name for d in devices if d.kind not in HEARTBEAT_KINDS]
    if desk:
        raise DomainError(
            "INVALID",
            "deviceIds: firmware travels with heartbeats, which desk programming devices do not "
            f"send: {', '.join(desk[:5])}",
            "deviceIds",
        )
    if firmware.target is FirmwareTarget.REMOTE_DEVICE:
        await _require_bootloader(session, firmware, devices)

    deployments: dict[int, FirmwareDeployment] = {}
    superseded: list[int] = []
    for chunk in _chunks(ids):
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
    for chunk in _chunks(superseded):
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
                    f"{device.name} runs {_stage(firmware.target)} {firmware.version} already",
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


def _stage(target: FirmwareTarget) -> str:
    """The stage of a transfer (R25, R26): "bootloader" or "firmware" for the device's own
    images, "key" for a key image it stores to flash keys with."""
    if target in KEY_TARGETS:
        return "key"
    return "bootloader" if target is FirmwareTarget.REMOTE_BOOTLOADER else "firmware"


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
    for chunk in _chunks(ids):
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
        if d.id not in completed and _is_lower(d.bootloader_version, newest)
    ]
    if waiting:
        named = ", ".join(f"{d.name} (bootloader {d.bootloader_version})" for d in waiting[:5])
        more = len(waiting) - 5
        raise DomainError(
            "CONFLICT",
            f"deviceIds: roll out bootloader {newest} to these devices first, then the "
            f"firmware (R25): {named}" + (f" and {more} more" if more > 0 else ""),
            "deviceIds",
        )


async def _apply_to_keys(session: AsyncSession, firmware: Firmware) -> AppliedFirmware:
    generation = KEY_TARGETS[firmware.target]
    await _require_updater(session, generation)
    keys = list(
        await session.scalars(
            select(Key)
            .where(Key.generation == generation, Key.status.not_in(NO_UPDATE))
            .order_by(Key.marking, Key.id)
        )
    )
    lower = [k for k in keys if _is_lower(k.firmware_version, firmware.version)]
    payload = {
        "firmwareId": firmware.id,
        "version": firmware.version,
        "sha256": firmware.sha256,
        "size": len(firmware.image),
    }
    result = AppliedFirmware(firmware)
    result.remote_jobs = await _ensure_firmware_jobs(session, lower, payload)
    updaters = await _updater_devices(session, generation)
    result.deployments = await _deploy_key_image(
        session, firmware.id, firmware.target, firmware.version, updaters
    )
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


async def _require_updater(session: AsyncSession, generation: KeyGeneration) -> None:
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
                "CONFLICT",
                "generation-1 keys update only at the one wall device in updater mode: "
                "switch one wall device to updater mode (updaterGen1) first (R26)",
            )
        if len(names) > 1:
            raise DomainError(
                "CONFLICT",
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
            "CONFLICT",
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


async def _updater_devices(session: AsyncSession, generation: KeyGeneration) -> list[RemoteDevice]:
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


async def _deploy_key_image(
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
    for chunk in _chunks(ids):
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
            elif not deployment.done and _is_lower(other, version):
                superseded.append(deployment.id)
    for chunk in _chunks(superseded):
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
    return await _deploy_key_image(session, current[0], target, current[1], [device])


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


async def _ensure_firmware_jobs(
    session: AsyncSession, keys: Sequence[Key], payload: dict[str, Any]
) -> list[RemoteJob]:
    """``ensure_remote_job`` for many keys at once, with its rules (R18): none for E1 keys,
    E2 keys at a desk device, one waiting FIRMWARE job per key brought up to date, except
    that a waiting job for newer firmware is kept."""
    remote = [k for k in keys if k.type is not KeyType.E1]
    waiting: dict[int, RemoteJob] = {}
    ids = [k.id for k in remote]
    for chunk in _chunks(ids):
        for job in await session.scalars(
            select(RemoteJob).where(
                id_in(session, RemoteJob.key_id, chunk),
                RemoteJob.kind == RemoteJobKind.FIRMWARE,
                RemoteJob.status.in_(WAITING),
            )
        ):
            waiting.setdefault(job.key_id, job)
    jobs: list[RemoteJob] = []
    for key in remote:
        body = {**payload, "deliverAt": "remote" if key.type is KeyType.E3 else "desk"}
        job = waiting.get(key.id)
        if job is None:
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
        jobs.append(job)
    await session.flush()
    return jobs


# --- key firmware outcome (R26) ---------------------------------------------------------------


@dataclass
class KeyFirmwareOutcome:
    """What a key's firmware update at a device came to (R26).

    ``outcome`` is ``UPDATED``, ``DEFECTIVE`` (generation 1 pulled out too early:
    a replacement is proposed in ``warnings``) or ``RESTORE_AT_NEXT_INSERTION``
    (generation 2 pulled out too early: ``remote_jobs`` restore its rights and
    retry the firmware at the next insertion). ``message`` is for the device's
    display and the admin.
    """

    outcome: str
    key: Key
    message: str
    remote_jobs: list[RemoteJob] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)


async def key_firmware_outcome(
    session: AsyncSession,
    key: Key,
    *,
    interrupted: bool,
    job: RemoteJob | None = None,
    firmware_version: str | None = None,
) -> KeyFirmwareOutcome:
    """Apply what a key's firmware update at a device came to (R26); the device code calls it.

    ``job`` is the FIRMWARE remote job that was carried out, ``firmware_version``
    the version the key reports (default: the job's version).

    - Completed: the key's firmware version becomes the new one (never lowered).
    - Generation 1 interrupted (key pulled out too early): the key is broken.
      It becomes DEFECTIVE, its waiting remote jobs are cancelled, and a
      replacement is proposed: copy its configuration onto another key (R20).
    - Generation 2 interrupted: the key may have lost its rights but not its
      identity. Remote jobs restoring its validity, schedule and (E3)
      authorizations wait for its next insertion, with the firmware again.

    The remote job's own status is the device report's business (DONE/FAILED).
    Never commits.
    """
    version = firmware_version
    if version is None and job is not None:
        queued = job.payload.get("version")
        version = queued if isinstance(queued, str) else None
    if not interrupted:
        if version is not None and is_version(version) and _is_lower(key.firmware_version, version):
            key.firmware_version = version
        await session.flush()
        return KeyFirmwareOutcome(
            "UPDATED", key, f"{key.marking} runs firmware {key.firmware_version}"
        )
    if key.generation is KeyGeneration.GEN1:
        if key.status in (KeyStatus.ISSUED, KeyStatus.IN_STOCK):
            await report_key_defective(session, key_id=key.id)
        proposal = Notice(
            "REPLACEMENT_PROPOSED",
            f"{key.marking} was pulled out during its firmware update and is broken (R26): "
            "copy its configuration onto a replacement key (copyKeyConfiguration, R20)",
        )
        return KeyFirmwareOutcome(
            "DEFECTIVE",
            key,
            f"{key.marking} is defective: generation-1 keys must stay in the device until the "
            "update is complete",
            warnings=[proposal],
        )
    jobs = await key_remote_jobs(
        session, key, [RemoteJobKind.VALIDITY, RemoteJobKind.SCHEDULE, RemoteJobKind.AUTHORIZATIONS]
    )
    if job is not None and job.kind is RemoteJobKind.FIRMWARE:
        again = {k: v for k, v in job.payload.items() if k != "deliverAt"}
        retry = await ensure_remote_job(session, key, RemoteJobKind.FIRMWARE, again)
        if retry is not None:
            jobs.append(retry)
    await session.flush()
    return KeyFirmwareOutcome(
        "RESTORE_AT_NEXT_INSERTION",
        key,
        f"{key.marking} was pulled out too early: insert it again to restore its rights "
        "and finish the update",
        remote_jobs=jobs,
    )


# --- chunks over heartbeats (R25) --------------------------------------------------------------


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
            "INVALID", f"offset: must be between 0 and {total}, the image's size", "offset"
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
        "stage": _stage(target),
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
            "INVALID", f"offset: must be between 0 and {total}, the image's size", "offset"
        )
    if done and offset != total:
        raise DomainError(
            "INVALID",
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
