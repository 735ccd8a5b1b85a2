"""What a bridge's report of each command does (R15, R17, R18, R26, R28, R29).

The effects run when the bridge reports, in the report's transaction
(``app.bridges.reports``):

- READ_KEY: the key's firmware version and generation are updated when they
  changed; a generation-1 user key read as broken is DEFECTIVE with a
  replacement proposed (R26).
- WRITE_KEY: validity and schedule for E2/E3 keys, key memory for E3 keys (R12,
  R13, R18). On success the key's open remote jobs whose change the write
  carried are DONE — E2 changes wait for the desk (R18); a job whose change was
  replaced after the command was queued stays open.
- LOAD_PROGRAMMING_JOBS: every job assigned to or on the programming key, with
  its global id (R17; no firmware minimum at the desk). Jobs become ON_KEY only
  when the bridge reports success, and only those whose content is still what
  was written; a job changed or cancelled in between stays as it is.
- READ_PROGRAMMING_RESULTS: the key's results go to
  ``report_programming_results`` — jobs DONE/FAILED/ABORTED, the cylinders'
  audit trails stored, the final e-mail through the outbox (R15, R17, R33).
- READ_AUDIT_TRAIL: an E2/E3 key's events are stored (R28); at the desk this is
  always allowed, approver function or not (R29), and it completes the key's
  waiting audit readouts.
- UPDATE_KEY_FIRMWARE: the image is downloaded by the bridge
  (``app.bridges.routes``); success updates the key's firmware version and
  closes its firmware remote jobs; a failure reported as ``INTERRUPTED`` (the
  key pulled out mid-update) is R26's outcome (generation 1: DEFECTIVE,
  replacement proposed; generation 2: rights restored at the next insertion).
- SIGN_LOGIN: ``app.bridges.login``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.remote_jobs import WAITING
from app.approval.service import complete_readouts
from app.audit.service import ReadEvent, store_audit_events
from app.bridges.commands import CARRIED, job_items
from app.bridges.login import complete_signed_login, fail_login_of
from app.errors import CONFLICT, INVALID, NOT_FOUND, DomainError
from app.events.publish import queue_job_events
from app.factory.firmware import compare_versions, is_version
from app.firmware.key_outcome import key_firmware_outcome
from app.ids import parse_global_id
from app.models import (
    AccessResult,
    AuditSource,
    BridgeCommand,
    BridgeCommandKind,
    Key,
    KeyGeneration,
    ProgrammingJob,
    ProgrammingJobStatus,
    ProgrammingKey,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
)
from app.programming.service import JobOutcome, ProgrammingResult, report_programming_results
from app.programming.visit import load_onto_key

log = logging.getLogger("keywarden.bridges")


GENERATIONS = {1: KeyGeneration.GEN1, 2: KeyGeneration.GEN2}
# A failed firmware report with this code: the key left the desk after the update began (R26).
INTERRUPTED = "INTERRUPTED"


async def _key_by_uid(session: AsyncSession, uid: Any) -> Key | None:
    if not isinstance(uid, str) or not uid:
        return None
    return await session.scalar(select(Key).where(Key.uid == uid))


async def _payload_key(session: AsyncSession, command: BridgeCommand) -> Key:
    key = await _key_by_uid(session, command.payload.get("keyUid"))
    if key is None:
        raise DomainError(NOT_FOUND, "the key of this command no longer exists", "keyUid")
    return key


def _same_key(command: BridgeCommand, result: dict[str, Any]) -> None:
    reported = result.get("uid")
    if reported is not None and reported != command.payload.get("keyUid"):
        raise DomainError(
            CONFLICT,
            f"the desk held key {reported!s}, not {command.payload.get('keyUid')}",
            "result.uid",
        )


async def _update_key_identity(session: AsyncSession, key: Key, result: dict[str, Any]) -> None:
    """Firmware version and generation as the key reports them (R10)."""
    version = result.get("firmwareVersion")
    if isinstance(version, str) and is_version(version) and version != key.firmware_version:
        key.firmware_version = version
    generation = GENERATIONS.get(result.get("generation"))  # type: ignore[arg-type]
    if generation is not None and generation is not key.generation:
        key.generation = generation


async def _read_key(
    session: AsyncSession, command: BridgeCommand, result: dict[str, Any], now: datetime
) -> None:
    uid = result.get("uid")
    if result.get("kind") == "PROGRAMMING":
        pkey = await session.scalar(select(ProgrammingKey).where(ProgrammingKey.uid == uid))
        version = result.get("firmwareVersion")
        if pkey is not None and isinstance(version, str) and is_version(version):
            pkey.firmware_version = version
        return
    key = await _key_by_uid(session, uid)
    if key is None:
        return  # a key of another system, or outside the caller's domains: nothing to update
    await _update_key_identity(session, key, result)
    if result.get("broken") is True and key.generation is KeyGeneration.GEN1:
        # Its waiting remote jobs are cancelled (and announced) with it.
        outcome = await key_firmware_outcome(session, key, interrupted=True)
        log.warning("key %s: %s", key.marking, outcome.message)


def _open_job_matches(job: RemoteJob, carried: dict[str, Any]) -> bool:
    """Whether a waiting remote job's change is exactly what the desk wrote."""
    body = {k: v for k, v in job.payload.items() if k != "deliverAt"}
    if job.kind is RemoteJobKind.VALIDITY:
        return carried.get("validity") is not None and body == carried["validity"]
    if job.kind is RemoteJobKind.SCHEDULE:
        return carried.get("schedule") is not None and body == carried["schedule"]
    if job.kind is RemoteJobKind.AUTHORIZATIONS:
        memory = carried.get("keyMemory")
        # The groups are the job's change; per-cylinder ends (R14) come with every revalidation.
        return memory is not None and body == {
            k: v for k, v in memory.items() if k != "cylinderValidity"
        }
    if job.kind is RemoteJobKind.BLOCK:
        validity = carried.get("validity") or {}
        return validity.get("blocked") is True
    return False


async def _write_key(
    session: AsyncSession, command: BridgeCommand, result: dict[str, Any], now: datetime
) -> None:
    _same_key(command, result)
    key = await _payload_key(session, command)
    await _update_key_identity(session, key, result)
    waiting = await session.scalars(
        select(RemoteJob)
        .where(RemoteJob.key_id == key.id, RemoteJob.status.in_(WAITING))
        .order_by(RemoteJob.id)
    )
    closed = []
    for job in waiting:
        if _open_job_matches(job, command.payload):
            job.status = RemoteJobStatus.DONE
            job.completed_at = now
            closed.append(job.id)
    await session.flush()
    if closed:
        queue_job_events(session, remote_job_ids=closed, at=now)


def _job_id(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    parsed = parse_global_id(value)
    if parsed is None or parsed[0] != "ProgrammingJob" or not parsed[1].isdigit():
        return None
    return int(parsed[1])


async def _command_programming_key(session: AsyncSession, command: BridgeCommand) -> ProgrammingKey:
    """The programming key a jobs command was queued for (by the UID in its payload)."""
    pkey = await session.scalar(
        select(ProgrammingKey).where(ProgrammingKey.uid == command.payload.get("programmingKeyUid"))
    )
    if pkey is None:
        raise DomainError(NOT_FOUND, "the programming key no longer exists", "programmingKeyUid")
    return pkey


async def _load_jobs(
    session: AsyncSession, command: BridgeCommand, result: dict[str, Any], now: datetime
) -> None:
    """R17: the written jobs that are still as written become ON_KEY; the holder is e-mailed."""
    pkey = await _command_programming_key(session, command)
    written = {item["jobId"]: item for item in command.payload.get("jobs", [])}
    current = {
        item["jobId"]: item for item in await job_items(session, pkey.id, CARRIED)
    }
    loaded = [
        job_gid for job_gid, item in written.items()
        if current.get(job_gid) == item
    ]
    stale = sorted(set(written) - set(loaded))
    ids = [i for i in (_job_id(g) for g in loaded) if i is not None]
    load = await load_onto_key(session, pkey, job_ids=ids)
    if load.loaded:
        queue_job_events(session, job_ids=list(load.loaded), at=now)
    if stale:
        log.info("bridge command %s: %d job(s) changed while being loaded stay assigned",
                 command.id, len(stale))
    command.result = {**(command.result or {}), "loadedJobIds": loaded, "staleJobIds": stale}


def _parse_at(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise DomainError(INVALID, f"{field}: a time with its UTC offset", field)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DomainError(INVALID, f"{field}: a time with its UTC offset", field) from exc


def _access_result(value: Any, field: str) -> AccessResult:
    try:
        return AccessResult[value]
    except (KeyError, TypeError) as exc:
        raise DomainError(INVALID, f"{field}: not an access result", field) from exc


async def _read_results(
    session: AsyncSession, command: BridgeCommand, result: dict[str, Any], now: datetime
) -> None:
    """R15, R17: the key's results close its jobs; results for jobs not on it are left out."""
    pkey = await _command_programming_key(session, command)
    raw = result.get("results")
    if not isinstance(raw, list):
        raise DomainError(INVALID, "result.results: a list of job results", "result.results")
    on_key = set(
        await session.scalars(
            select(ProgrammingJob.id).where(
                ProgrammingJob.assignee_id == pkey.id,
                ProgrammingJob.status == ProgrammingJobStatus.ON_KEY,
            )
        )
    )
    results: list[ProgrammingResult] = []
    ignored: list[Any] = []
    for i, item in enumerate(raw):
        at = f"result.results.{i}"
        if not isinstance(item, dict):
            raise DomainError(INVALID, f"{at}: a job result object", at)
        job_id = _job_id(item.get("jobId"))
        if job_id is None or job_id not in on_key or any(r.job_id == job_id for r in results):
            ignored.append(item.get("jobId"))
            continue
        outcome = item.get("outcome")
        if outcome not in (JobOutcome.DONE, JobOutcome.ABORTED, JobOutcome.FAILED):
            raise DomainError(INVALID, f"{at}.outcome: DONE, ABORTED or FAILED", f"{at}.outcome")
        events = []
        for j, event in enumerate(item.get("auditEvents") or []):
            where = f"{at}.auditEvents.{j}"
            if not isinstance(event, dict):
                raise DomainError(INVALID, f"{where}: an audit event object", where)
            events.append(ReadEvent(
                at=_parse_at(event.get("at"), f"{where}.at"),
                result=_access_result(event.get("result"), f"{where}.result"),
                key_uid=event.get("keyUid"),
            ))
        results.append(ProgrammingResult(job_id, outcome, events))
    report = None
    if results:
        report = await report_programming_results(
            session, programming_key_id=pkey.id, results=results
        )
        queue_job_events(
            session,
            job_ids=[j.id for j in (*report.reported, *report.returned, *report.created)],
            at=now,
        )
    command.result = {
        **(command.result or {}),
        "ignoredJobIds": ignored,
        "done": report.done if report else 0,
        "failed": report.failed if report else 0,
        "aborted": report.aborted if report else 0,
    }


async def _read_audit_trail(
    session: AsyncSession, command: BridgeCommand, result: dict[str, Any], now: datetime
) -> None:
    """R28, R29: the key's events are stored; its waiting audit readouts are done."""
    key = await _payload_key(session, command)
    raw = result.get("events")
    if not isinstance(raw, list):
        raise DomainError(INVALID, "result.events: a list of audit events", "result.events")
    events = []
    for i, event in enumerate(raw):
        where = f"result.events.{i}"
        if not isinstance(event, dict):
            raise DomainError(INVALID, f"{where}: an audit event object", where)
        events.append(ReadEvent(
            at=_parse_at(event.get("at"), f"{where}.at"),
            result=_access_result(event.get("result"), f"{where}.result"),
            cylinder_uid=event.get("cylinderUid"),
        ))
    stored = await store_audit_events(
        session, source=AuditSource.KEY, key_id=key.id, events=events, field="result.events"
    )
    readouts = list(
        await session.scalars(
            select(RemoteJob).where(
                RemoteJob.key_id == key.id,
                RemoteJob.kind == RemoteJobKind.AUDIT_READOUT,
                RemoteJob.status.in_(WAITING),
            )
        )
    )
    for job in readouts:
        job.status = RemoteJobStatus.DONE
        job.completed_at = now
        await complete_readouts(session, job)
    await session.flush()
    if readouts:
        queue_job_events(session, remote_job_ids=[j.id for j in readouts], at=now)
    command.result = {
        **(command.result or {}),
        "stored": len(stored.stored),
        "alreadyStored": stored.already_stored,
    }


async def _firmware_jobs_done(session: AsyncSession, key: Key, now: datetime) -> list[int]:
    """The key's waiting firmware remote jobs its new firmware fulfils (R26)."""
    closed = []
    for job in await session.scalars(
        select(RemoteJob).where(
            RemoteJob.key_id == key.id,
            RemoteJob.kind == RemoteJobKind.FIRMWARE,
            RemoteJob.status.in_(WAITING),
        )
    ):
        version = job.payload.get("version")
        if isinstance(version, str) and is_version(version) and is_version(key.firmware_version) \
                and compare_versions(version, key.firmware_version) <= 0:
            job.status = RemoteJobStatus.DONE
            job.completed_at = now
            closed.append(job.id)
    return closed


async def _update_firmware(
    session: AsyncSession, command: BridgeCommand, result: dict[str, Any], now: datetime
) -> None:
    key = await _payload_key(session, command)
    reported = result.get("firmwareVersion")
    version = reported if isinstance(reported, str) and is_version(reported) else None
    outcome = await key_firmware_outcome(
        session, key, interrupted=False,
        firmware_version=version or str(command.payload.get("version")),
    )
    closed = await _firmware_jobs_done(session, key, now)
    await session.flush()
    if closed:
        queue_job_events(session, remote_job_ids=closed, at=now)
    command.result = {**(command.result or {}), "outcome": outcome.outcome}


async def _firmware_failed(
    session: AsyncSession, command: BridgeCommand, result: dict[str, Any], now: datetime
) -> None:
    """R26: only an update broken off with the key pulled out changes the key."""
    if command.error_code != INTERRUPTED:
        return
    key = await _payload_key(session, command)
    outcome = await key_firmware_outcome(session, key, interrupted=True)
    if outcome.remote_jobs:
        queue_job_events(session, remote_job_ids=[j.id for j in outcome.remote_jobs], at=now)
    log.warning("key %s: %s", key.marking, outcome.message)
    command.error_message = outcome.message


async def _sign_login(
    session: AsyncSession, command: BridgeCommand, result: dict[str, Any], now: datetime
) -> None:
    await complete_signed_login(session, command, result, now)


async def _sign_login_failed(
    session: AsyncSession, command: BridgeCommand, result: dict[str, Any], now: datetime
) -> None:
    await fail_login_of(
        session, command, command.error_code or "FAILED", command.error_message or ""
    )


SUCCESS_EFFECTS = {
    BridgeCommandKind.READ_KEY: _read_key,
    BridgeCommandKind.WRITE_KEY: _write_key,
    BridgeCommandKind.LOAD_PROGRAMMING_JOBS: _load_jobs,
    BridgeCommandKind.READ_PROGRAMMING_RESULTS: _read_results,
    BridgeCommandKind.READ_AUDIT_TRAIL: _read_audit_trail,
    BridgeCommandKind.UPDATE_KEY_FIRMWARE: _update_firmware,
    BridgeCommandKind.SIGN_LOGIN: _sign_login,
}
FAILURE_EFFECTS = {
    BridgeCommandKind.UPDATE_KEY_FIRMWARE: _firmware_failed,
    BridgeCommandKind.SIGN_LOGIN: _sign_login_failed,
}
