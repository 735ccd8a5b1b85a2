"""Importing firmware (R25): every image is a vendor-signed firmware file
(``app.factory.firmware``), checked against the tenant's trusted vendor keys
before anything is stored.

A file uploaded by hand goes into the certificate bundle (CCB) the user picks,
and must have been built for it; a file from the data center goes into the
bundle its header names (created when the tenant has none of that name yet:
the data center serves the installation's own bundles). An image of the same
target and bundle whose version equals it as numbers (``"12.3" == "12.3.0"``)
is there already: CONFLICT. Every Superadmin programming key holder with an
e-mail address is told through the outbox (R33).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CONFLICT, INVALID, NOT_FOUND, DomainError
from app.factory.firmware import (
    VerifiedFirmware,
    compare_versions,
    is_version,
    verify_firmware_file,
)
from app.firmware.targets import KEY_TARGETS, LABEL
from app.mail import builtin_role_emails, queue_mail
from app.models import CertificateBundle, Firmware, FirmwareSource, FirmwareTarget, TrustedVendorKey

# R25, R33: who hears of new firmware (the FAQ: "the user with the role Superadmin").
NOTIFIED_ROLE = "Superadmin"
RELEASE_NOTES_IN_MAIL = 2000


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
            NOT_FOUND,
            f"certificateBundleId: no certificate bundle {certificate_bundle_id}",
            "certificateBundleId",
        )
    verified = verify_firmware_file(data, await trusted_vendor_keys(session), max_size=max_size)
    if verified.certificate_bundle != bundle.name:
        raise DomainError(
            INVALID,
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
            CONFLICT,
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
    label = LABEL[verified.target]
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
