"""The generation-1 key firmware follow-up (R26, R33; FAQ "How is a key firmware update made").

Generation-1 keys update only at the one wall device in updater mode. The FAQ
leaves two things to the administrator, which Keywarden does by e-mail:

- "The administrator should inform the users accordingly to go to this one
  updater wall programming device": :func:`tell_gen1_key_holders`, when
  applying generation-1 key firmware gives E3 keys a FIRMWARE job, writes to
  each holder (the key's employee) naming the device. A key whose waiting job
  carried this image already was told already: applying again sends nothing.
- "Once all Generation-1 keys have received the new firmware, please reset the
  wall programming device to normal mode": :func:`release_gen1_updater`, once
  no generation-1 E3 key waits for a FIRMWARE job any more, tells the Admins
  and Superadmins, and the main key's holder, that the device may leave updater
  mode. It runs when a device reports a key firmware update and from the
  periodic worker (keys can stop waiting in other ways: lost, defective,
  replaced); the newest applied generation-1 image records that it was told
  (``updater_released_at``), so the message goes out once per image.

E2 keys take their firmware at a desk device and E1 keys none (R10, R18): neither
needs the wall device. The caller owns the transaction: these functions flush,
never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.remote_jobs import WAITING
from app.firmware.key_updaters import current_key_firmware, updater_devices
from app.firmware.targets import NO_UPDATE
from app.mail import builtin_role_emails, holder_email, queue_mail
from app.models import (
    Employee,
    Firmware,
    FirmwareTarget,
    Key,
    KeyGeneration,
    KeyType,
    OutboxMessage,
    ProgrammingKey,
    ProgrammingKeyKind,
    ProgrammingKeyStatus,
    RemoteDevice,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
)
from app.tenants.scoping import ALL_DOMAINS

_EVERY_DOMAIN = {ALL_DOMAINS: True}

VISIT_KIND = "key_firmware_gen1_visit"
RELEASE_KIND = "key_firmware_gen1_updater_release"
# FAQ: the holders of these roles and of the main key (PR) administer the system.
ADMIN_ROLES = ("Superadmin", "Admin")
# A FIRMWARE job not closed yet: waiting for the key, or delivered without a result.
OPEN = (*WAITING, RemoteJobStatus.DELIVERED)


async def tell_gen1_key_holders(
    session: AsyncSession, firmware: Firmware, keys: Sequence[Key], device: RemoteDevice
) -> list[OutboxMessage]:
    """One e-mail per holder of the E3 ``keys`` (just given a FIRMWARE job of ``firmware``):
    insert the keys at ``device``, the wall device in generation-1 updater mode, and
    leave each in until the update is complete (R26, R33). Keys without a holder, or
    whose holder has no e-mail, are skipped."""
    by_holder: dict[int, list[Key]] = {}
    for key in keys:
        if key.type is KeyType.E3 and key.holder_id is not None:
            by_holder.setdefault(key.holder_id, []).append(key)
    if not by_holder:
        return []
    holders = await session.scalars(
        select(Employee)
        .where(Employee.id.in_(by_holder), Employee.email.is_not(None))
        .order_by(Employee.id)
        .execution_options(**_EVERY_DOMAIN)
    )
    messages: list[OutboxMessage] = []
    for holder in holders:
        address = (holder.email or "").strip()
        if not address:
            continue
        markings = ", ".join(sorted(k.marking for k in by_holder[holder.id]))
        messages += queue_mail(
            session,
            kind=VISIT_KIND,
            recipients=[address],
            subject=f"Key firmware update: please visit wall device {device.name}",
            body=(
                f"Hello {holder.first_name} {holder.last_name},\n\n"
                f"new firmware {firmware.version} is ready for your key(s) {markings}. "
                f"Generation-1 keys are updated only at the wall programming device "
                f"{device.name}: please insert each key there.\n\n"
                "The new firmware and the key's time and locking rights are loaded in one "
                "insertion, which takes a while. Leave the key in the device until it beeps "
                "and the update is complete: a generation-1 key pulled out too early is "
                "broken and must be replaced.\n"
            ),
        )
    await session.flush()
    return messages


async def release_gen1_updater(
    session: AsyncSession, now: datetime
) -> list[OutboxMessage] | None:
    """Tell the administrators once that the generation-1 updater may go back to normal mode.

    Does so when generation-1 key firmware has been applied, no generation-1 E3 key that
    can still take it (not LOST, DEFECTIVE or NOT_ACTIVATED) has an open FIRMWARE job
    (waiting, or delivered without a result), a wall device is
    in generation-1 updater mode and nobody was told for the newest applied image yet.
    The recipients are the holders of Admin and Superadmin keys and of the main key,
    each once. Returns the messages, or None when nothing was due. Two callers at once
    send it once: the image's row is claimed by a conditional update. Never commits.
    """
    current = await current_key_firmware(session, FirmwareTarget.KEY_GEN1)
    if current is None:
        return None
    firmware_id, version = current
    told = await session.scalar(
        select(Firmware.updater_released_at).where(Firmware.id == firmware_id)
    )
    if told is not None:
        return None
    waiting = await session.scalar(
        select(RemoteJob.id)
        .join(Key, Key.id == RemoteJob.key_id)
        .where(
            Key.generation == KeyGeneration.GEN1,
            Key.type == KeyType.E3,
            Key.status.not_in(NO_UPDATE),
            RemoteJob.kind == RemoteJobKind.FIRMWARE,
            RemoteJob.status.in_(OPEN),
        )
        .limit(1)
        .execution_options(**_EVERY_DOMAIN)
    )
    if waiting is not None:
        return None
    devices = await updater_devices(session, KeyGeneration.GEN1)
    if not devices:
        return None
    claimed = await session.execute(
        update(Firmware)
        .where(Firmware.id == firmware_id, Firmware.updater_released_at.is_(None))
        .values(updater_released_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    names = ", ".join(d.name for d in devices)
    messages = queue_mail(
        session,
        kind=RELEASE_KIND,
        recipients=await administrator_emails(session),
        subject=f"Wall device {names} can leave generation-1 updater mode",
        body=(
            f"Every generation-1 key that was waiting for key firmware {version} has received "
            f"it, or no longer needs it.\n\n"
            f"Please reset the wall programming device {names} to normal mode "
            "(Remote devices: turn off the generation-1 updater).\n"
        ),
    )
    await session.flush()
    return messages


async def administrator_emails(session: AsyncSession) -> list[str]:
    """The addresses of the Admin and Superadmin holders and of the main key's holder,
    sorted, each once."""
    addresses = set(await builtin_role_emails(session, ADMIN_ROLES))
    main = await session.scalar(
        select(ProgrammingKey)
        .where(
            ProgrammingKey.kind == ProgrammingKeyKind.MAIN,
            ProgrammingKey.status == ProgrammingKeyStatus.ACTIVE,
        )
        .limit(1)
        .execution_options(**_EVERY_DOMAIN)
    )
    if main is not None and (address := await holder_email(session, main)) is not None:
        addresses.add(address)
    return sorted(addresses)
