"""What a key's firmware update at a device came to (R26): updated, broken (generation 1
pulled out too early) or to be restored at its next insertion (generation 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.access.remote_jobs import ensure_remote_job
from app.access.service import Notice
from app.factory.firmware import is_version
from app.firmware.targets import is_lower
from app.keys.service import key_remote_jobs, report_key_defective
from app.models import Key, KeyGeneration, KeyStatus, RemoteJob, RemoteJobKind


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
        if version is not None and is_version(version) and is_lower(key.firmware_version, version):
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
