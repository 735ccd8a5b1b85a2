"""What a device reports after a key insertion (R18, R26, R28, R29).

Delivered jobs are closed (failed ones queued again), a key firmware update's
outcome decides the key's fate (R26), and the key's audit trail is stored when
the device was asked to read it (R28, R29).

These functions flush, never commit; jobs closed, queued again or cancelled
are queued on the session for ``jobEvents`` subscribers after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.approval.service import complete_readouts, readout_request_ids
from app.audit.service import ReadEvent, store_audit_events
from app.devices.protocol import rfc3339
from app.errors import INVALID, DomainError
from app.events.publish import queue_job_events
from app.firmware.gen1_followup import release_gen1_updater
from app.firmware.key_outcome import key_firmware_outcome
from app.models import (
    AuditSource,
    Key,
    KeyGeneration,
    KeyStatus,
    RemoteDevice,
    RemoteDeviceKind,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
    Tenant,
)
from app.tenants.scoping import ALL_DOMAINS

log = logging.getLogger("keywarden.devices")

_EVERY_DOMAIN = {ALL_DOMAINS: True}

# R26: the reason a device gives for a job the key left mid-write (pulled out too early).
INTERRUPTED = "INTERRUPTED"


@dataclass(frozen=True)
class JobResult:
    """How one delivered remote job went: DONE or FAILED, and why it failed (``reason``;
    ``INTERRUPTED``: the key was pulled out while it was being written, R26)."""

    remote_job_id: int
    outcome: RemoteJobStatus
    reason: str | None = None

    @property
    def interrupted(self) -> bool:
        """Whether the key left the device mid-write (R26: what that means depends on it)."""
        return self.outcome is RemoteJobStatus.FAILED and self.reason == INTERRUPTED


@dataclass(frozen=True)
class DeviceResults:
    """A device's report after a key insertion: job outcomes and the key's audit trail."""

    key_uid: str | None = None
    jobs: Sequence[JobResult] = ()
    audit_events: Sequence[ReadEvent] = field(default_factory=tuple)


async def report_results(
    session: AsyncSession,
    device: RemoteDevice,
    tenant: Tenant,
    results: DeviceResults,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Close the jobs a device carried out and store the audit trail it read (R18, R28, R29).

    A job delivered via this device becomes DONE or FAILED (``completed_at``
    ``now``); a done AUDIT_READOUT job completes the readout requests it
    carries. A failed job is queued again (a new PENDING job with the same
    change) unless a newer change of its kind waits already — an audit readout
    then adds its requests to the waiting one. Reporting the same outcome again
    is accepted and changes nothing; a job not delivered via this device, or
    closed otherwise, is answered ``accepted: false`` with a code.

    A FIRMWARE job's outcome is the key's (R26, :func:`~app.firmware.key_outcome.
    key_firmware_outcome`), answered in ``keyFirmware``: done, the key runs the
    new firmware; failed ``INTERRUPTED`` (pulled out mid-update), a
    generation-1 key is DEFECTIVE with a replacement proposed, while a
    generation-2 key gets its validity, schedule, authorizations and the
    firmware again at its next insertion. Failed for another reason, the update
    never began: it is queued again like any job.

    ``jobEvents`` subscribers hear of every job closed, queued again or
    cancelled here (after the commit).

    The key's audit events (``key_uid``) are stored, each once (R28), when the
    device was asked to read them: an AUDIT_READOUT job of the key delivered via
    this device, or readout enabled for the key with the approver function off
    (R29). Otherwise they are not stored (``NOT_REQUESTED``).

    When a closed FIRMWARE job was the last one a generation-1 key waited for, the
    administrators are told the updater wall device may go back to normal mode
    (:func:`~app.firmware.gen1_followup.release_gen1_updater`).
    """
    ids = [r.remote_job_id for r in results.jobs]
    jobs: dict[int, RemoteJob] = {}
    if ids:
        found = await session.scalars(select(RemoteJob).where(RemoteJob.id.in_(ids)))
        jobs = {job.id: job for job in found}
    changed: list[RemoteJob] = []
    verdicts = [
        await _close_job(session, device, jobs.get(r.remote_job_id), r, now, changed)
        for r in results.jobs
    ]
    audit: dict[str, Any] | None = None
    if results.audit_events:
        audit = await _store_key_trail(session, device, tenant, results)
    await session.flush()
    if any(job.kind is RemoteJobKind.FIRMWARE for job in changed):
        # The last generation-1 key updated: the admin may switch the updater off (R26).
        await release_gen1_updater(session, now)
    if changed:
        queue_job_events(session, remote_job_ids=[job.id for job in changed], at=now)
    return {"serverTime": rfc3339(now), "jobs": verdicts, "auditEvents": audit}


async def _close_job(
    session: AsyncSession,
    device: RemoteDevice,
    job: RemoteJob | None,
    result: JobResult,
    now: datetime,
    changed: list[RemoteJob],
) -> dict[str, Any]:
    verdict: dict[str, Any] = {"remoteJobId": result.remote_job_id, "accepted": False}
    if job is None or job.delivered_via_id != device.id:
        return {**verdict, "code": "NOT_DELIVERED_HERE"}
    verdict["status"] = job.status.value
    if job.status is result.outcome:
        return {**verdict, "accepted": True, "code": "ALREADY_REPORTED"}
    if job.status is not RemoteJobStatus.DELIVERED:
        return {**verdict, "code": f"JOB_{job.status.value}"}
    job.status = result.outcome
    job.completed_at = now
    changed.append(job)
    key_firmware = None
    if job.kind is RemoteJobKind.FIRMWARE and (
        result.outcome is RemoteJobStatus.DONE or result.interrupted
    ):
        key_firmware = await _key_firmware(session, job, result, changed)
    else:
        if result.outcome is RemoteJobStatus.DONE and job.kind is RemoteJobKind.AUDIT_READOUT:
            await complete_readouts(session, job)
        if result.outcome is RemoteJobStatus.FAILED:
            again = await _queue_again(session, job)
            if again is not None:
                changed.append(again)
    if result.outcome is RemoteJobStatus.FAILED:
        log.info(
            "remote job %s (%s) failed at device %s: %s",
            job.id, job.kind.value, device.serial, result.reason or "no reason given",
        )
    answer = {**verdict, "accepted": True, "status": job.status.value, "code": None}
    if job.kind is RemoteJobKind.FIRMWARE:
        answer["keyFirmware"] = key_firmware
    return answer


async def _key_firmware(
    session: AsyncSession, job: RemoteJob, result: JobResult, changed: list[RemoteJob]
) -> dict[str, Any] | None:
    """R26: what a key firmware update that ran (to the end or broken off) means for the key."""
    key = await session.get(Key, job.key_id)
    if key is None:
        return None
    waiting: list[int] = []
    if result.interrupted and key.generation is KeyGeneration.GEN1:
        # A defective key's waiting jobs are cancelled with it: subscribers hear of them too.
        waiting = list(
            await session.scalars(
                select(RemoteJob.id).where(
                    RemoteJob.key_id == key.id, RemoteJob.status == RemoteJobStatus.PENDING
                )
            )
        )
    outcome = await key_firmware_outcome(session, key, interrupted=result.interrupted, job=job)
    changed.extend(outcome.remote_jobs)
    if outcome.outcome == "DEFECTIVE" and waiting:
        changed.extend(
            await session.scalars(select(RemoteJob).where(RemoteJob.id.in_(waiting)))
        )
    if outcome.outcome != "UPDATED":
        log.warning("key %s: %s", key.marking, outcome.message)
    return {
        "outcome": outcome.outcome,
        "keyStatus": key.status.value,
        "keyFirmware": key.firmware_version,
        "message": outcome.message,
        "warnings": [{"code": w.code, "message": w.message} for w in outcome.warnings],
        "remoteJobIds": [j.id for j in outcome.remote_jobs],
    }


async def _queue_again(session: AsyncSession, failed: RemoteJob) -> RemoteJob | None:
    """A failed change goes to the key again at its next insertion (R18); the job that
    carries it (new, or the waiting one an audit readout joined), else None."""
    key = await session.get(Key, failed.key_id)
    if key is None or key.status not in (KeyStatus.ISSUED, KeyStatus.IN_STOCK):
        return None
    waiting = await session.scalar(
        select(RemoteJob).where(
            RemoteJob.key_id == failed.key_id,
            RemoteJob.kind == failed.kind,
            RemoteJob.status == RemoteJobStatus.PENDING,
        )
    )
    if waiting is None:
        again = RemoteJob(
            key_id=failed.key_id,
            kind=failed.kind,
            status=RemoteJobStatus.PENDING,
            payload=dict(failed.payload),
        )
        session.add(again)
        return again
    if failed.kind is RemoteJobKind.AUDIT_READOUT:
        carried = readout_request_ids(failed)
        merged = [*carried, *(i for i in readout_request_ids(waiting) if i not in carried)]
        waiting.payload = {**waiting.payload, "readoutRequestIds": sorted(set(merged))}
        return waiting
    return None


async def _store_key_trail(
    session: AsyncSession,
    device: RemoteDevice,
    tenant: Tenant,
    results: DeviceResults,
) -> dict[str, Any]:
    if results.key_uid is None:
        raise DomainError(INVALID, "keyUid: name the key whose audit trail this is", "keyUid")
    key = await session.scalar(
        select(Key).where(Key.uid == results.key_uid).execution_options(**_EVERY_DOMAIN)
    )
    if key is None:
        return {"stored": 0, "alreadyStored": 0, "code": "UNKNOWN_KEY"}
    asked = await session.scalar(
        select(RemoteJob.id).where(
            RemoteJob.key_id == key.id,
            RemoteJob.kind == RemoteJobKind.AUDIT_READOUT,
            RemoteJob.delivered_via_id == device.id,
            RemoteJob.status.in_((RemoteJobStatus.DELIVERED, RemoteJobStatus.DONE)),
        ).limit(1)
    )
    automatic = key.audit_readout_enabled and (
        not tenant.approver_function or device.kind is RemoteDeviceKind.DESK
    )
    if asked is None and not automatic:
        return {"stored": 0, "alreadyStored": 0, "code": "NOT_REQUESTED"}
    stored = await store_audit_events(
        session, source=AuditSource.KEY, key_id=key.id, events=results.audit_events
    )
    return {"stored": len(stored.stored), "alreadyStored": stored.already_stored, "code": None}
