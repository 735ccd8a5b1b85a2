"""What each bridge command carries (R15, R17, R18, R26, R28): its payload, computed by the
server when the command is queued.

The agent only carries payloads to the desk programming device. Each ``*_payload``
function checks the command can make sense and raises DomainError otherwise.
What a report does is ``app.bridges.effects``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.access.service import key_memory
from app.bridges.service import check_slot
from app.devices.validity import cylinder_validity
from app.errors import CONFLICT, INVALID, NOT_FOUND, UNSUPPORTED_KEY_TYPE, DomainError
from app.factory.firmware import compare_versions, is_version
from app.ids import to_global_id
from app.models import (
    Firmware,
    FirmwareTarget,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    ProgrammingJobStatus,
    ProgrammingKey,
    ProgrammingKeyStatus,
    Schedule,
    Tenant,
)
from app.programming.visit import AccessWrite, planned_jobs

KEY_FIRMWARE_TARGETS = {
    KeyGeneration.GEN1: FirmwareTarget.KEY_GEN1,
    KeyGeneration.GEN2: FirmwareTarget.KEY_GEN2,
}
NOT_WRITABLE = (KeyStatus.NOT_ACTIVATED, KeyStatus.DEFECTIVE)


def image_path(command_id: int) -> str:
    """Where the bridge downloads a command's key firmware image (``app.bridges.routes``)."""
    return f"/bridge/commands/{to_global_id('BridgeCommand', command_id)}/image"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _user_key(session: AsyncSession, key_id: int) -> Key:
    key = await session.get(Key, key_id)
    if key is None:
        raise DomainError(NOT_FOUND, "keyId: no such key", "keyId")
    return key


async def _programming_key(session: AsyncSession, programming_key_id: int) -> ProgrammingKey:
    key = await session.get(ProgrammingKey, programming_key_id)
    if key is None:
        raise DomainError(
            NOT_FOUND, "programmingKeyId: no such programming key", "programmingKeyId"
        )
    if key.status != ProgrammingKeyStatus.ACTIVE:
        raise DomainError(
            INVALID, f"programming key {key.marking} is {key.status.value}", "programmingKeyId"
        )
    return key


# --- payloads --------------------------------------------------------------------------


def read_key_payload(slot: str | None) -> dict[str, Any]:
    """READ_KEY: whatever key is in ``slot`` (or the one inserted, when None)."""
    return {"slot": check_slot(slot)}


async def key_state(session: AsyncSession, key: Key, now: datetime) -> dict[str, Any]:
    """What a desk write puts into a key's memory (R12, R13, R14, R18).

    The same shapes as the key's remote jobs: VALIDITY (``blocked`` unless the
    key is issued), SCHEDULE and, for E3, the key memory. E1 keys have no clock:
    no validity and no schedule. An E3 key written at the desk is revalidated.
    """
    if key.type is KeyType.E1:
        return {"validity": None, "schedule": None, "keyMemory": None, "revalidatedAt": None}
    schedule = await session.get(Schedule, key.schedule_id)
    assert schedule is not None
    e3 = key.type is KeyType.E3
    memory = None
    if e3:
        memory = await key_memory(session, key)
        # R14, flexible extensions: cylinders reached only through profiles with a shorter
        # interval get their own end, as at a wall device's revalidation.
        tenant = await session.get(Tenant, session.info["tenant_id"])
        flexible = tenant is not None and tenant.flexible_extensions
        memory["cylinderValidity"] = await cylinder_validity(session, key, now) if flexible else []
    return {
        "validity": {
            "alwaysValid": key.always_valid,
            "validFrom": _iso(key.valid_from),
            "validUntil": _iso(key.valid_until),
            "extensionIntervalHours": key.extension_interval_hours,
            "blocked": key.status != KeyStatus.ISSUED,
        },
        "schedule": {"scheduleId": schedule.id, "windows": schedule.windows},
        "keyMemory": memory,
        "revalidatedAt": now.isoformat() if e3 else None,
    }


async def write_key_payload(
    session: AsyncSession, key_id: int, slot: str | None, now: datetime
) -> dict[str, Any]:
    """WRITE_KEY: the key's configuration as its memory must hold it (R18)."""
    key = await _user_key(session, key_id)
    if key.status in NOT_WRITABLE:
        raise DomainError(CONFLICT, f"keyId: the key is {key.status.name}", "keyId")
    return {"slot": check_slot(slot), "keyUid": key.uid, **await key_state(session, key, now)}


def _write_item(write: AccessWrite) -> dict[str, Any]:
    """One change as the programming key carries it: exactly one of key, key group or
    cylinder group (R13)."""
    item = {"op": write.op.value, "keyUid": write.key_uid, "groupId": write.key_group_id}
    if write.cylinder_group_id is not None:
        item["cylinderGroupId"] = write.cylinder_group_id
    return item


async def job_items(
    session: AsyncSession, programming_key_id: int, statuses: tuple[ProgrammingJobStatus, ...]
) -> list[dict[str, Any]]:
    """The key's jobs in these statuses as the key carries them, security-relevant first (R19)."""
    return [
        {
            "jobId": to_global_id("ProgrammingJob", planned.job.id),
            "cylinderUid": planned.cylinder.uid,
            "fullReprogram": planned.job.full_reprogram,
            "changes": [_write_item(w) for w in planned.changes],
            "accessList": (
                None if planned.access_list is None
                else [_write_item(w) for w in planned.access_list]
            ),
        }
        for planned in await planned_jobs(session, programming_key_id, statuses)
    ]


CARRIED = (ProgrammingJobStatus.ASSIGNED, ProgrammingJobStatus.ON_KEY)


async def load_jobs_payload(
    session: AsyncSession, programming_key_id: int, slot: str | None
) -> dict[str, Any]:
    """LOAD_PROGRAMMING_JOBS: every job assigned to or on the programming key (R17)."""
    key = await _programming_key(session, programming_key_id)
    jobs = await job_items(session, key.id, CARRIED)
    if not jobs:
        raise DomainError(
            INVALID,
            f"programmingKeyId: no programming jobs are assigned to {key.marking}",
            "programmingKeyId",
        )
    return {"slot": check_slot(slot), "programmingKeyUid": key.uid, "jobs": jobs}


async def read_results_payload(
    session: AsyncSession, programming_key_id: int, slot: str | None
) -> dict[str, Any]:
    """READ_PROGRAMMING_RESULTS: the programming key whose results are read back (R17)."""
    key = await _programming_key(session, programming_key_id)
    return {"slot": check_slot(slot), "programmingKeyUid": key.uid}


async def audit_trail_payload(
    session: AsyncSession, key_id: int, slot: str | None
) -> dict[str, Any]:
    """READ_AUDIT_TRAIL: an E2 or E3 key's own trail (R28; always allowed at the desk, R29)."""
    key = await _user_key(session, key_id)
    if key.type is KeyType.E1:
        raise DomainError(UNSUPPORTED_KEY_TYPE, "keyId: E1 keys keep no audit trail", "keyId")
    return {"slot": check_slot(slot), "keyUid": key.uid}


async def firmware_payload(
    session: AsyncSession, key_id: int, firmware_id: int, slot: str | None
) -> tuple[dict[str, Any], Firmware]:
    """UPDATE_KEY_FIRMWARE: the key's generation's firmware, newer than what it runs (R26).

    The image itself is downloaded by the bridge (``imageUrl``, set once the
    command has its id); ``sha256`` and ``size`` let it check what it got.
    """
    key = await _user_key(session, key_id)
    if key.status in NOT_WRITABLE or key.status is KeyStatus.LOST:
        raise DomainError(CONFLICT, f"keyId: the key is {key.status.name}", "keyId")
    firmware = await session.get(Firmware, firmware_id)
    if firmware is None:
        raise DomainError(NOT_FOUND, "firmwareId: no such firmware", "firmwareId")
    if firmware.target is not KEY_FIRMWARE_TARGETS[key.generation]:
        raise DomainError(
            INVALID,
            f"firmwareId: {firmware.target.value} firmware does not fit a "
            f"{key.generation.value} key",
            "firmwareId",
        )
    if is_version(key.firmware_version) and compare_versions(
        key.firmware_version, firmware.version
    ) >= 0:
        raise DomainError(
            CONFLICT,
            f"firmwareId: {key.marking} runs {key.firmware_version} already",
            "firmwareId",
        )
    payload = {
        "slot": check_slot(slot),
        "keyUid": key.uid,
        "version": firmware.version,
        "firmwareId": firmware.id,
        "sha256": firmware.sha256,
        "size": len(firmware.image),
        "imageUrl": None,
    }
    return payload, firmware
