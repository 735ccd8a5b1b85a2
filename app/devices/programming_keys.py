"""Programming keys at wall and mobile devices: loading their jobs, taking their results (R17).

FAQ "Assigning programming tasks to other programming keys": the holder of a
sub key "goes to a remote device and downloads the programming jobs to his
programming key from there" (key firmware 12.3 or newer, remote unit firmware 5
or newer), programs the cylinders, and "the programming key is inserted back
into the remote unit for an update. The programming jobs are deleted from the
key!" Two verbs of the device protocol (docs/remote-protocol.md) carry this:

- ``programming-key-inserted`` — :func:`programming_key_inserted`: the key's
  assigned jobs go onto it (``app.programming.service.load_at_remote_device``),
  answered as the key carries them;
- ``programming-results`` — :func:`programming_results`: what the key did at
  each cylinder (the trail read before rewriting, R15) closes its jobs
  (``report_programming_results``); jobs it no longer holds are ignored, so a
  device sending its report again changes nothing.

A key or device whose firmware is too old is answered ``refused`` with the
reason (KEY_FIRMWARE_TOO_OLD / DEVICE_FIRMWARE_TOO_OLD); nothing is loaded or
closed, and the refusal is kept on the programming key (``remote_refusal``,
GraphQL ``ProgrammingKey.remoteRefusal``) for the administrators until the key
loads or reports successfully at a device. These functions flush, never commit;
job events are queued for ``jobEvents`` subscribers after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import ReadEvent
from app.bridges.commands import job_items
from app.devices.protocol import rfc3339
from app.events.publish import queue_job_events
from app.ids import to_global_id
from app.models import (
    ProgrammingJob,
    ProgrammingJobStatus,
    ProgrammingKey,
    ProgrammingKeyStatus,
    RemoteDevice,
)
from app.programming.service import (
    LoadingRefusal,
    ProgrammingResult,
    load_at_remote_device,
    remote_loading_refusal,
    report_programming_results,
)
from app.tenants.scoping import ALL_DOMAINS

log = logging.getLogger("keywarden.devices")

_EVERY_DOMAIN = {ALL_DOMAINS: True}
ON_KEY = (ProgrammingJobStatus.ON_KEY,)


@dataclass(frozen=True)
class ProgrammingKeyInsertion:
    """A programming key inserted in a device: its UID and the firmware it reports."""

    uid: str
    firmware: str


@dataclass(frozen=True)
class WireResult:
    """One job result as the key carries it: the job's global id (None when unreadable),
    its outcome and the cylinder's trail read before it was rewritten (R15)."""

    job_id: int | None
    job_gid: str
    outcome: str
    audit_events: Sequence[ReadEvent] = ()


@dataclass(frozen=True)
class ProgrammingKeyReport:
    """What a programming key brings back to a device: its identity and its job results."""

    insertion: ProgrammingKeyInsertion
    results: Sequence[WireResult] = field(default_factory=tuple)


def _answer(now: datetime, uid: str, status: str, code: str | None, message: str | None,
            **rest: Any) -> dict[str, Any]:
    return {"serverTime": rfc3339(now), "programmingKeyUid": uid, "status": status,
            "code": code, "message": message, **rest}


async def _admitted(
    session: AsyncSession, device: RemoteDevice, insertion: ProgrammingKeyInsertion,
    now: datetime,
) -> ProgrammingKey | dict[str, Any]:
    """The active programming key inserted (by UID, in every domain: the device serves them
    all); or the answer refusing it (unknown, not active)."""
    key = await session.scalar(
        select(ProgrammingKey)
        .where(ProgrammingKey.uid == insertion.uid)
        .execution_options(**_EVERY_DOMAIN)
    )
    if key is None:
        return _answer(now, insertion.uid, "unknown", "UNKNOWN_KEY",
                       "not a programming key of this system")
    if key.status is not ProgrammingKeyStatus.ACTIVE:
        return _answer(now, insertion.uid, "refused", "NOT_ACTIVE",
                       f"programming key {key.marking} is {key.status.value}")
    return key


async def _refused(
    session: AsyncSession, key: ProgrammingKey, device: RemoteDevice, refusal: LoadingRefusal,
    now: datetime,
) -> dict[str, Any]:
    """Keep the refusal for the administrators (R17) and answer it."""
    key.remote_refusal = {
        "code": refusal.code, "message": refusal.message, "at": rfc3339(now),
        "deviceName": device.name, "deviceSerial": device.serial,
    }
    await session.flush()
    log.warning("programming key %s refused at device %s: %s",
                key.marking, device.serial, refusal.message)
    return _answer(now, key.uid, "refused", refusal.code, refusal.message)


async def programming_key_inserted(
    session: AsyncSession, device: RemoteDevice, insertion: ProgrammingKeyInsertion,
    *, now: datetime,
) -> dict[str, Any]:
    """Load the jobs assigned to the inserted programming key onto it (R17).

    Answered ``ok`` with every job now on the key (security-relevant cylinders
    first) as the key carries them, and ``loaded``, how many went on now (the
    holder then gets the list of cylinders to visit, R33); ``refused`` for firmware
    too old or a key not active, ``unknown`` for a UID that is no programming key.
    """
    admitted = await _admitted(session, device, insertion, now)
    if not isinstance(admitted, ProgrammingKey):
        return admitted
    key = admitted
    result = await load_at_remote_device(
        session, key=key, device=device, key_firmware=insertion.firmware
    )
    if isinstance(result, LoadingRefusal):
        return await _refused(session, key, device, result, now)
    key.remote_refusal = None
    await session.flush()
    if result.loaded_ids:
        queue_job_events(session, job_ids=result.loaded_ids, at=now)
    return _answer(now, key.uid, "ok", None, None,
                   loaded=result.newly_loaded,
                   jobs=await job_items(session, key.id, ON_KEY))


async def programming_results(
    session: AsyncSession, device: RemoteDevice, report: ProgrammingKeyReport, *, now: datetime
) -> dict[str, Any]:
    """Close the jobs the programming key reports, then clear the key (R15, R17).

    Results for jobs that are on the key go to ``report_programming_results``: the
    cylinders' trails are stored, DONE jobs program the cylinder, ABORTED ones leave
    it for a full reprogramming, FAILED ones bring their changes back; the jobs the
    key carried but did not report are assigned to it again (the device clears the
    key), and the holder gets the final e-mail. Results for jobs not on the key
    (reported already, or not this key's) are ignored and listed.
    """
    admitted = await _admitted(session, device, report.insertion, now)
    if not isinstance(admitted, ProgrammingKey):
        return admitted
    key = admitted
    key.firmware_version = report.insertion.firmware
    refusal = remote_loading_refusal(key, device)
    if refusal is not None:
        return await _refused(session, key, device, refusal, now)
    key.remote_refusal = None
    on_key = set(
        await session.scalars(
            select(ProgrammingJob.id).where(
                ProgrammingJob.assignee_id == key.id, ProgrammingJob.status.in_(ON_KEY)
            )
        )
    )
    taken: list[ProgrammingResult] = []
    ignored: list[str] = []
    for result in report.results:
        job_id = result.job_id
        if job_id is not None and job_id in on_key and all(t.job_id != job_id for t in taken):
            taken.append(ProgrammingResult(job_id, result.outcome, result.audit_events))
        else:
            ignored.append(result.job_gid)
    if not taken and not on_key:
        await session.flush()
        return _answer(now, key.uid, "ok", None, None, ignoredJobIds=ignored, done=0, failed=0,
                       aborted=0, returnedJobIds=[], createdJobIds=[], auditEventsStored=0,
                       allCompleted=True, openCylinderUids=[])
    summary = await report_programming_results(
        session, programming_key_id=key.id, results=taken
    )
    queue_job_events(
        session,
        job_ids=[j.id for j in (*summary.reported, *summary.returned, *summary.created)],
        at=now,
    )
    return _answer(
        now, key.uid, "ok", None, None,
        ignoredJobIds=ignored,
        done=summary.done, failed=summary.failed, aborted=summary.aborted,
        returnedJobIds=[to_global_id("ProgrammingJob", j.id) for j in summary.returned],
        createdJobIds=[to_global_id("ProgrammingJob", j.id) for j in summary.created],
        auditEventsStored=summary.audit_events_stored,
        allCompleted=summary.all_completed,
        openCylinderUids=[c.uid for c in summary.open_cylinders],
    )
