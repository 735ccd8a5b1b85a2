"""Factory extensions in a tenant: import and activation (R31, R32).

For every order the vendor's factory delivers an *extension*: the list of
elements it has just made for the tenant's master key system. The tenant
imports it (by hand, or automatically from the data center), which verifies
the vendor's signature and creates the elements as NOT_ACTIVATED; an admin
then activates it, after which the elements can be used (R31).

The file, its signature and its checks are ``app.factory.extension_file``.

A cylinder whose marking already exists in the tenant is a *clone*: a
replacement made by the factory with the original order's state (R32). It is
not added as a new element and needs no activation (as the FAQ says); at
import the existing cylinder is flagged for reprogramming and a full
reprogramming job is created for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import chunked
from app.errors import CONFLICT, NOT_FOUND, DomainError
from app.factory.extension_file import FILE_FIELD, verify_extension_file, without_secrets
from app.mail import builtin_role_emails, main_key_holder_emails, queue_mail
from app.models import (
    Cylinder,
    CylinderStatus,
    Domain,
    Extension,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    ProgrammingJob,
    ProgrammingJobStatus,
    ProgrammingKey,
    ProgrammingKeyKind,
    ProgrammingKeyStatus,
    RemoteDevice,
    RemoteDeviceKind,
    Schedule,
    TrustedVendorKey,
    utcnow,
)
from app.tenants.service import require_every_domain

# R31, R33: these roles hear about a new extension (the FAQ: "Admin/Superadmin"), and so does
# the main key's holder ("You as the PR owner ... will receive an e-mail").
NOTIFIED_ROLES = ("Superadmin", "Admin")
OPEN_JOB_STATUSES = (
    ProgrammingJobStatus.PENDING,
    ProgrammingJobStatus.ASSIGNED,
    ProgrammingJobStatus.ON_KEY,
)
# How many conflicting elements an error message names before it summarises.
NAMED_IN_MESSAGE = 5


@dataclass
class ImportedExtension:
    """What an extension import did, or for a dry run would do (R31, R32).

    ``extension`` is None for a dry run. ``programming_jobs`` are the full
    reprogramming jobs of the clones (R32), created now or already open.
    """

    file_id: str
    order_number: str
    extension: Extension | None
    new_keys: int
    new_cylinders: int
    new_programming_keys: int
    new_remote_devices: int
    clones: int
    clone_markings: list[str] = field(default_factory=list)
    programming_jobs: list[ProgrammingJob] = field(default_factory=list)


async def import_extension(
    session: AsyncSession, data: bytes, *, dry_run: bool = False
) -> ImportedExtension:
    """Import the factory's extension file into the session's tenant (R31, R32).

    The file must be signed by one of the tenant's trusted vendor keys. New
    keys, cylinders, programming keys and remote devices are created in the
    default domain as NOT_ACTIVATED (keys with the default schedule, always
    valid, R12), linked to the new ``Extension``; they become usable when an
    admin activates it. A cylinder whose marking exists already is a clone
    (R32): it needs no activation, so here and now the existing cylinder is
    flagged ``needs_reprogramming`` and gets one full reprogramming job. Every
    Superadmin and Admin with an e-mail address, and the main key's holder (the
    FAQ's "PR owner"), is told through the outbox (R31, R33). Programming keys
    keep the PIN and PUK hashes of the factory's letter when the file has them.

    Raises ``DomainError``: BAD_SIGNATURE or INVALID for the file (see
    ``verify_extension_file``); CONFLICT when the file was imported before or
    names a key, programming key, device or cylinder UID that exists already;
    FORBIDDEN when the session is limited to some of the tenant's domains
    (factory data concerns them all, R8). ``dry_run`` checks everything and
    writes nothing. Never commits.
    """
    await require_every_domain(session, "importing or activating factory data (R31)")
    trusted = list(await session.scalars(select(TrustedVendorKey.public_key)))
    payload = verify_extension_file(data, trusted)
    file_id: str = payload["fileId"]
    order_number: str = payload["orderNumber"]
    keys: list[dict[str, Any]] = payload["keys"]
    cylinders: list[dict[str, Any]] = payload["cylinders"]
    programming_keys: list[dict[str, Any]] = payload["programmingKeys"]
    remote_devices: list[dict[str, Any]] = payload["remoteDevices"]

    if await session.scalar(select(Extension.id).where(Extension.file_id == file_id)) is not None:
        raise DomainError(
            CONFLICT,
            f"the extension file {file_id} (order {order_number}) has been imported already",
            FILE_FIELD,
        )

    conflicts: list[str] = []
    conflicts += await _existing_identities(session, Key, "key", keys, ("marking", "uid"))
    conflicts += await _existing_identities(
        session, ProgrammingKey, "programming key", programming_keys, ("marking", "uid")
    )
    conflicts += await _existing_identities(
        session, RemoteDevice, "remote device", remote_devices, ("serial",)
    )
    if any(p["kind"] == ProgrammingKeyKind.MAIN.name for p in programming_keys):
        main = await session.scalar(
            select(ProgrammingKey.marking).where(ProgrammingKey.kind == ProgrammingKeyKind.MAIN)
        )
        if main is not None:
            conflicts.append(f"a MAIN programming key ({main}; one per system, R5)")
    originals, cylinder_conflicts = await _match_cylinders(session, cylinders)
    conflicts += cylinder_conflicts
    if conflicts:
        named = ", ".join(conflicts[:NAMED_IN_MESSAGE])
        more = len(conflicts) - NAMED_IN_MESSAGE
        raise DomainError(
            CONFLICT,
            f"already in this system: {named}" + (f" and {more} more" if more > 0 else ""),
            FILE_FIELD,
        )

    new_cylinders = [c for c in cylinders if c["marking"] not in originals]
    clone_markings = [c["marking"] for c in cylinders if c["marking"] in originals]
    result = ImportedExtension(
        file_id=file_id,
        order_number=order_number,
        extension=None,
        new_keys=len(keys),
        new_cylinders=len(new_cylinders),
        new_programming_keys=len(programming_keys),
        new_remote_devices=len(remote_devices),
        clones=len(clone_markings),
        clone_markings=clone_markings,
    )
    if dry_run:
        return result

    domain_id = await session.scalar(select(Domain.id).where(Domain.is_default))
    schedule_id = await session.scalar(select(Schedule.id).where(Schedule.is_default))
    if domain_id is None or schedule_id is None:
        # create_tenant makes both; a tenant without them is damaged, not a user mistake.
        raise RuntimeError("the tenant has no default domain or no default schedule")

    has_new_elements = bool(keys or new_cylinders or programming_keys or remote_devices)
    now = utcnow()
    extension = Extension(
        file_id=file_id,
        content=without_secrets(payload),
        new_keys=result.new_keys,
        new_cylinders=result.new_cylinders,
        clones=result.clones,
        # Clones need no activation (FAQ): a file of clones only has nothing to activate.
        activated=not has_new_elements,
        activated_at=None if has_new_elements else now,
    )
    session.add(extension)
    await session.flush()

    session.add_all(
        Key(
            domain_id=domain_id,
            marking=k["marking"],
            uid=k["uid"],
            type=KeyType[k["type"]],
            generation=KeyGeneration[k["generation"]],
            firmware_version=k["firmwareVersion"],
            status=KeyStatus.NOT_ACTIVATED,
            always_valid=True,
            schedule_id=schedule_id,
            extension_id=extension.id,
        )
        for k in keys
    )
    session.add_all(
        Cylinder(
            domain_id=domain_id,
            marking=c["marking"],
            uid=c["uid"],
            status=CylinderStatus.NOT_ACTIVATED,
            security_relevant=c["securityRelevant"],
            extension_id=extension.id,
        )
        for c in new_cylinders
    )
    session.add_all(
        ProgrammingKey(
            marking=p["marking"],
            uid=p["uid"],
            kind=ProgrammingKeyKind[p["kind"]],
            status=ProgrammingKeyStatus.NOT_ACTIVATED,
            firmware_version=p["firmwareVersion"],
            public_key=bytes.fromhex(p["publicKey"]),
            # The factory's PIN (and PUK) letter; without it the holder sets the first PIN.
            pin_hash=p.get("pinHash"),
            puk_hash=p.get("pukHash"),
            extension_id=extension.id,
        )
        for p in programming_keys
    )
    session.add_all(
        RemoteDevice(
            domain_id=domain_id,
            name=d["name"],
            kind=RemoteDeviceKind[d["kind"]],
            serial=d["serial"],
            public_key=bytes.fromhex(d["publicKey"]),
            firmware_version=d["firmwareVersion"],
            bootloader_version=d["bootloaderVersion"],
            potential_free_output=d["potentialFreeOutput"],
            system_linked=d["systemLinked"],
            extension_id=extension.id,
        )
        for d in remote_devices
    )
    for clone in cylinders:
        if clone["marking"] in originals:
            _mark_clone(originals[clone["marking"]], clone)
    result.programming_jobs = await _full_reprogram_jobs(
        session, [originals[m] for m in clone_markings]
    )
    await _notify_admins(session, result, has_new_elements)
    await session.flush()
    result.extension = extension
    return result


async def activate_extension(session: AsyncSession, extension_id: int) -> Extension:
    """Activate an imported extension: its elements become usable (R31).

    Its keys go IN_STOCK, its cylinders and programming keys ACTIVE; remote
    devices carry no status and count as activated with their extension.
    Raises ``DomainError``: NOT_FOUND (field ``id``) for an extension this
    tenant does not have, CONFLICT when it is activated already, FORBIDDEN when
    the session is limited to some of the tenant's domains. Never commits.
    """
    await require_every_domain(session, "importing or activating factory data (R31)")
    extension = await session.scalar(
        select(Extension).where(Extension.id == extension_id).with_for_update()
    )
    if extension is None:
        raise DomainError(NOT_FOUND, f"no extension {extension_id}", "id")
    if extension.activated:
        raise DomainError(
            CONFLICT, f"the extension {extension.file_id} is activated already", "id"
        )
    await session.execute(
        update(Key)
        .where(Key.extension_id == extension.id, Key.status == KeyStatus.NOT_ACTIVATED)
        .values(status=KeyStatus.IN_STOCK)
    )
    await session.execute(
        update(Cylinder)
        .where(
            Cylinder.extension_id == extension.id,
            Cylinder.status == CylinderStatus.NOT_ACTIVATED,
        )
        .values(status=CylinderStatus.ACTIVE)
    )
    await session.execute(
        update(ProgrammingKey)
        .where(
            ProgrammingKey.extension_id == extension.id,
            ProgrammingKey.status == ProgrammingKeyStatus.NOT_ACTIVATED,
        )
        .values(status=ProgrammingKeyStatus.ACTIVE)
    )
    extension.activated = True
    extension.activated_at = utcnow()
    await session.flush()
    return extension


async def _existing_identities(
    session: AsyncSession,
    model: type[Key] | type[ProgrammingKey] | type[RemoteDevice],
    label: str,
    items: list[dict[str, Any]],
    attributes: tuple[str, ...],
) -> list[str]:
    """The identities (marking, uid, serial) of ``items`` that the tenant has already."""
    found: list[str] = []
    for attribute in attributes:
        wanted = [item[attribute] for item in items]
        column = getattr(model, attribute)
        for chunk in chunked(wanted):
            taken = set(await session.scalars(select(column).where(column.in_(chunk))))
            found += [f"{label} {attribute} {value}" for value in chunk if value in taken]
    return found


async def _match_cylinders(
    session: AsyncSession, cylinders: list[dict[str, Any]]
) -> tuple[dict[str, Cylinder], list[str]]:
    """Find the originals of clones (same marking, R32) and UIDs another cylinder has."""
    originals: dict[str, Cylinder] = {}
    by_uid: dict[str, Cylinder] = {}
    markings = [c["marking"] for c in cylinders]
    uids = [c["uid"] for c in cylinders]
    for marking_chunk, uid_chunk in zip(chunked(markings), chunked(uids), strict=True):
        statement: Select[tuple[Cylinder]] = select(Cylinder).where(
            or_(Cylinder.marking.in_(marking_chunk), Cylinder.uid.in_(uid_chunk))
        )
        for cylinder in await session.scalars(statement):
            originals[cylinder.marking] = cylinder
            by_uid[cylinder.uid] = cylinder
    conflicts: list[str] = []
    for item in cylinders:
        holder = by_uid.get(item["uid"])
        if holder is not None and holder.marking != item["marking"]:
            conflicts.append(f"cylinder uid {item['uid']} (cylinder {holder.marking})")
    wanted = set(markings)
    return {m: c for m, c in originals.items() if m in wanted}, conflicts


def _mark_clone(original: Cylinder, clone: Mapping[str, Any]) -> None:
    """The replacement takes the original's place and waits for a full reprogramming (R32)."""
    original.is_clone = True
    original.needs_reprogramming = True
    # The replacement's chip is what now sits in the door.
    original.uid = clone["uid"]
    original.security_relevant = original.security_relevant or clone["securityRelevant"]
    if original.status is CylinderStatus.DEFECTIVE:
        # A defective cylinder is what a replacement is ordered for; the new one works.
        original.status = CylinderStatus.ACTIVE


async def _full_reprogram_jobs(
    session: AsyncSession, cylinders: list[Cylinder]
) -> list[ProgrammingJob]:
    """One open full reprogramming job per clone, reusing one already open (R15, R32)."""
    if not cylinders:
        return []
    ids = [c.id for c in cylinders]
    open_jobs: dict[int, ProgrammingJob] = {}
    for chunk in chunked(ids):
        for job in await session.scalars(
            select(ProgrammingJob)
            .where(
                ProgrammingJob.cylinder_id.in_(chunk),
                ProgrammingJob.full_reprogram.is_(True),
                ProgrammingJob.status.in_(OPEN_JOB_STATUSES),
            )
            .order_by(ProgrammingJob.id)
        ):
            open_jobs.setdefault(job.cylinder_id, job)
    jobs: list[ProgrammingJob] = []
    for cylinder in cylinders:
        job = open_jobs.get(cylinder.id)
        if job is None:
            job = ProgrammingJob(
                cylinder_id=cylinder.id,
                status=ProgrammingJobStatus.PENDING,
                full_reprogram=True,
            )
            session.add(job)
        jobs.append(job)
    await session.flush()
    return jobs


async def _notify_admins(
    session: AsyncSession, result: ImportedExtension, has_new_elements: bool
) -> None:
    """Write one e-mail per address of a Superadmin, an Admin or the main key's holder to the
    outbox (R31, R33)."""
    recipients = sorted(
        set(await builtin_role_emails(session, NOTIFIED_ROLES))
        | set(await main_key_holder_emails(session))
    )
    if not recipients:
        return
    lines = [
        f"Factory data for order {result.order_number} has been imported "
        f"(file {result.file_id}).",
        "",
        f"New keys: {result.new_keys}",
        f"New cylinders: {result.new_cylinders}",
        f"New programming keys: {result.new_programming_keys}",
        f"New remote devices: {result.new_remote_devices}",
        f"Replacement cylinders (clones): {result.clones}",
        "",
    ]
    if has_new_elements:
        lines.append("Activate the extension to put the new elements into use.")
    if result.clones:
        lines.append(
            "Clones need no activation. Each one has a full reprogramming job waiting; "
            "until it is carried out the cylinder holds only the original order's state: "
            + ", ".join(result.clone_markings)
        )
    subject = (
        f"Extension for order {result.order_number} is ready to activate"
        if has_new_elements
        else f"Replacement cylinders for order {result.order_number} need reprogramming"
    )
    queue_mail(
        session,
        kind="extension_imported",
        recipients=recipients,
        subject=subject,
        body="\n".join(lines),
    )
