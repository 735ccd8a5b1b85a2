"""Programming jobs carried out with programming keys (R15, R17).

The path of a job, as the FAQ "Assigning programming tasks to other
programming keys" describes it:

1. :func:`assign_programming_jobs` — an administrator assigns open jobs to a
   sub or submaster programming key; its holder is told by e-mail that cylinder
   programming is available. More than 30 jobs on one key is allowed but
   warned against.
2. :func:`load_programming_jobs` — the holder loads the jobs onto the key, at
   the desk or at a wall or mobile programming device (there: key firmware
   12.3 or newer, device firmware 5 or newer) and gets an e-mail listing the
   cylinders to visit, security-relevant ones first.
3. :func:`report_programming_results` — after visiting the cylinders the key
   is inserted again and reports each job: the audit trail read out of the
   cylinder before it was rewritten is stored (nothing is lost, R15; shown only
   under the approver function's rules, R29), the
   job's outcome is applied by the job engine, the jobs left on the key go
   back to being assigned to it (they are cleared from the key), and a final
   e-mail says whether all were done.

Access changes themselves are never made here: the job engine
(``app.access.engine``) owns jobs' changes and access lists. E-mails go
through the outbox in the same transaction (R33). The caller owns the
transaction: these functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.engine import JobOutcome, reconcile, record_programming
from app.approval.service import store_cylinder_trail
from app.audit.service import ReadEvent
from app.errors import CONFLICT, FIRMWARE_TOO_OLD, INVALID, NOT_FOUND, DomainError
from app.factory.firmware import (
    JOB_LOADING_MIN_KEY_FIRMWARE,
    JOB_LOADING_MIN_REMOTE_DEVICE_FIRMWARE,
    is_version,
    version_at_least,
)
from app.mail import mail_holder
from app.models import (
    Cylinder,
    ProgrammingJob,
    ProgrammingJobStatus,
    ProgrammingKey,
    ProgrammingKeyDomain,
    ProgrammingKeyKind,
    ProgrammingKeyStatus,
    RemoteDevice,
    RemoteDeviceKind,
)
from app.programming.visit import (
    LoadedJob,
    cylinder_lines,
    jobs_with_cylinders,
    load_onto_key,
    visiting_order_cylinders,
    with_writes,
)

# FAQ: "We recommend assigning a maximum of 30 jobs to the programming key in this way."
RECOMMENDED_MAX_JOBS_PER_KEY = 30
TOO_MANY_JOBS = "TOO_MANY_JOBS"
# Input lists are capped (STYLE); far above what one key carries in a day.
MAX_JOBS_PER_REQUEST = 500

ASSIGNABLE = (ProgrammingJobStatus.PENDING, ProgrammingJobStatus.ASSIGNED)
# Jobs a programming key carries: assigned to it, or already loaded onto it.
CARRIED = (ProgrammingJobStatus.ASSIGNED, ProgrammingJobStatus.ON_KEY)
# Main and submaster keys administer the whole locking system (R5).
ALL_DOMAIN_KINDS = (ProgrammingKeyKind.MAIN, ProgrammingKeyKind.SUBMASTER)
# FAQ: the firmware minimums hold for loading at a remote unit (wall or mobile device);
# at the desk the software writes the jobs onto the key itself.
REMOTE_LOADING_KINDS = (RemoteDeviceKind.WALL, RemoteDeviceKind.MOBILE)
OUTCOMES = (JobOutcome.DONE, JobOutcome.ABORTED, JobOutcome.FAILED)


@dataclass(frozen=True)
class JobWarning:
    """Advice the caller should see although the operation went through."""

    code: str
    message: str


@dataclass
class AssignResult:
    """Jobs now assigned to the programming key, how many it carries, and any advice (R17)."""

    programming_key: ProgrammingKey
    jobs: list[ProgrammingJob]
    carried: int
    warnings: list[JobWarning] = field(default_factory=list)


@dataclass
class LoadResult:
    """Every job on the programming key after loading, security-relevant cylinders first."""

    programming_key: ProgrammingKey
    jobs: list[LoadedJob]
    newly_loaded: int


@dataclass(frozen=True)
class ProgrammingResult:
    """What the programming key reports for one job: its outcome and the trail read before."""

    job_id: int
    outcome: str
    audit_events: Sequence[ReadEvent] = ()


@dataclass
class ReportResult:
    """What a programming key's report did (R15, R17).

    ``reported`` are the reported jobs (now DONE or FAILED), ``returned`` the
    jobs that were on the key but not reported (assigned to it again),
    ``created`` the new jobs the report caused (a full reprogramming after a
    broken-off job, the changes of a failed one), ``open_cylinders`` the
    cylinders still to be programmed by this round.
    """

    programming_key: ProgrammingKey
    reported: list[ProgrammingJob]
    returned: list[ProgrammingJob]
    created: list[ProgrammingJob]
    done: int
    failed: int
    aborted: int
    audit_events_stored: int
    open_cylinders: list[Cylinder]

    @property
    def all_completed(self) -> bool:
        return not self.open_cylinders


# --- assigning ---------------------------------------------------------------


async def assign_programming_jobs(
    session: AsyncSession, *, programming_key_id: int, job_ids: Sequence[int]
) -> AssignResult:
    """Assign open programming jobs to a programming key (R17).

    The key must be active; each job must be PENDING or ASSIGNED (assigning an
    assigned job moves it) and on a cylinder the caller sees, in a domain the key
    administers (main and submaster keys: every domain, R5, R8). Errors name
    ``programmingKeyId`` or ``jobIds.<i>``. Carrying more than 30 jobs is allowed
    with the warning TOO_MANY_JOBS (FAQ). The key's holder, if they have an
    e-mail address, is told that cylinder programming is available (R33).
    """
    _cap(job_ids, "jobIds")
    if not job_ids:
        raise DomainError(INVALID, "jobIds: give at least one programming job", "jobIds")
    key = await _programming_key(session, programming_key_id)
    if key.status != ProgrammingKeyStatus.ACTIVE:
        raise DomainError(
            INVALID,
            f"programming key {key.marking} is {key.status.value}: jobs cannot be assigned to it",
            "programmingKeyId",
        )
    domains = await _administered_domains(session, key)
    found = await jobs_with_cylinders(session, select_ids=set(job_ids))
    jobs: list[ProgrammingJob] = []
    cylinders: dict[int, Cylinder] = {}
    for i, job_id in enumerate(job_ids):
        at = f"jobIds.{i}"
        if job_id not in found:
            raise DomainError(NOT_FOUND, f"{at}: no such programming job", at)
        job, cylinder = found[job_id]
        if job.status not in ASSIGNABLE:
            raise DomainError(
                CONFLICT,
                f"the job on cylinder {cylinder.marking} is {job.status.value}; "
                "only pending or assigned jobs can be assigned",
                at,
            )
        if domains is not None and cylinder.domain_id not in domains:
            raise DomainError(
                INVALID,
                f"cylinder {cylinder.marking} is in a domain programming key {key.marking} "
                "does not administer",
                at,
            )
        if job.id not in cylinders:
            jobs.append(job)
            cylinders[job.id] = cylinder
    for job in jobs:
        job.status = ProgrammingJobStatus.ASSIGNED
        job.assignee_id = key.id
    await session.flush()

    carried = int(
        await session.scalar(
            select(func.count())
            .select_from(ProgrammingJob)
            .where(ProgrammingJob.assignee_id == key.id, ProgrammingJob.status.in_(CARRIED))
        )
        or 0
    )
    warnings = []
    if carried > RECOMMENDED_MAX_JOBS_PER_KEY:
        warnings.append(
            JobWarning(
                TOO_MANY_JOBS,
                f"programming key {key.marking} now carries {carried} jobs; at most "
                f"{RECOMMENDED_MAX_JOBS_PER_KEY} are recommended",
            )
        )
    if jobs:
        listed = cylinder_lines(list(cylinders.values()))
        await mail_holder(
            session,
            key,
            kind="programming_jobs_assigned",
            subject=f"Cylinder programming available for programming key {key.marking}",
            body=(
                f"{len(jobs)} cylinder programming job(s) have been assigned to your "
                f"programming key {key.marking}; it now carries {carried}.\n\n"
                "Load them onto the key in Keywarden at a desk programming device, or at a "
                f"wall or mobile programming device (key firmware {JOB_LOADING_MIN_KEY_FIRMWARE} "
                f"or newer, device firmware {JOB_LOADING_MIN_REMOTE_DEVICE_FIRMWARE} or newer).\n\n"
                f"Cylinders:\n{listed}\n"
            ),
        )
    return AssignResult(key, jobs, carried, warnings)


# --- loading onto the key -------------------------------------------------------


async def load_programming_jobs(
    session: AsyncSession,
    *,
    programming_key_id: int,
    device_id: int | None = None,
    key_firmware_version: str | None = None,
) -> LoadResult:
    """Load the jobs assigned to a programming key onto the key (R17).

    ASSIGNED jobs of the key (on cylinders the caller sees) become ON_KEY; jobs
    already on it stay. ``key_firmware_version``, when the device read it off the
    key, updates the key's firmware version. Through a wall or mobile device
    (``device_id``) the key needs firmware 12.3 or newer and the device firmware
    5 or newer, else FIRMWARE_TOO_OLD naming ``keyFirmwareVersion`` (or
    ``programmingKeyId``) or ``deviceId``. Loading again loads nothing new and
    answers the same jobs. When jobs were loaded, the holder gets an e-mail
    listing the cylinders to visit, security-relevant ones first (R19, R33).

    Returns every job on the key with what it writes: its changes, and for a
    full reprogramming the whole desired access list (keys by UID, in every
    domain: the cylinder needs them all).
    """
    key = await _programming_key(session, programming_key_id)
    if key.status != ProgrammingKeyStatus.ACTIVE:
        raise DomainError(
            INVALID,
            f"programming key {key.marking} is {key.status.value}: nothing can be loaded onto it",
            "programmingKeyId",
        )
    if key_firmware_version is not None:
        if not is_version(key_firmware_version):
            raise DomainError(INVALID, "not a firmware version (e.g. 12.3)", "keyFirmwareVersion")
        key.firmware_version = key_firmware_version
    if device_id is not None:
        device = await session.scalar(select(RemoteDevice).where(RemoteDevice.id == device_id))
        if device is None:
            raise DomainError(NOT_FOUND, "deviceId: no such remote device", "deviceId")
        if device.kind in REMOTE_LOADING_KINDS:
            _require_firmware(
                key.firmware_version,
                JOB_LOADING_MIN_KEY_FIRMWARE,
                f"programming key {key.marking}",
                "keyFirmwareVersion" if key_firmware_version is not None else "programmingKeyId",
            )
            _require_firmware(
                device.firmware_version,
                JOB_LOADING_MIN_REMOTE_DEVICE_FIRMWARE,
                f"remote device {device.name}",
                "deviceId",
            )

    load = await load_onto_key(session, key)
    loaded = await with_writes(session, load.on_key)
    return LoadResult(key, loaded, len(load.loaded))


# --- the report ------------------------------------------------------------------


async def report_programming_results(
    session: AsyncSession, *, programming_key_id: int, results: Sequence[ProgrammingResult]
) -> ReportResult:
    """Apply what a programming key reports after visiting its cylinders (R15, R17).

    Each reported job must be on this key (ON_KEY), once, on a cylinder the caller
    sees; errors name ``results.<i>.jobId``. For each, first the audit events read
    out of the cylinder before it was rewritten are stored (each at most once,
    R15, R28), then the outcome goes to the job engine: DONE programs the job's
    changes, ABORTED (key pulled too early) marks the cylinder for a full
    reprogramming job, FAILED brings the changes back in a new job. The jobs on
    the key that the report does not mention are cleared from the key: assigned
    to it again. The key's holder gets a final e-mail saying whether all jobs were
    completed (R33).
    """
    _cap(results, "results")
    key = await _programming_key(session, programming_key_id)
    on_key = await jobs_with_cylinders(
        session, assignee_id=key.id, statuses=(ProgrammingJobStatus.ON_KEY,)
    )
    seen: set[int] = set()
    for i, result in enumerate(results):
        at = f"results.{i}.jobId"
        if result.job_id in seen:
            raise DomainError(INVALID, f"{at}: the job is reported twice", at)
        seen.add(result.job_id)
        if result.outcome not in OUTCOMES:
            raise DomainError(
                INVALID, f"unknown outcome {result.outcome!r}", f"results.{i}.outcome"
            )
        if result.job_id not in on_key:
            other = await jobs_with_cylinders(session, select_ids={result.job_id})
            if not other:
                raise DomainError(NOT_FOUND, f"{at}: no such programming job", at)
            job, cylinder = other[result.job_id]
            raise DomainError(
                CONFLICT,
                f"the job on cylinder {cylinder.marking} is not on programming key "
                f"{key.marking} (it is {job.status.value})",
                at,
            )

    stored = 0
    created: dict[int, ProgrammingJob] = {}
    counts = {outcome: 0 for outcome in OUTCOMES}
    open_cylinders: list[Cylinder] = []
    reported: list[ProgrammingJob] = []
    for i, result in enumerate(results):
        job, cylinder = on_key[result.job_id]
        readout = await store_cylinder_trail(
            session,
            cylinder_id=job.cylinder_id,
            events=result.audit_events,
            field=f"results.{i}.auditEvents",
        )
        stored += len(readout.stored)
        outcome = await record_programming(session, job, result.outcome)
        created.update({j.id: j for j in outcome.created})
        counts[result.outcome] += 1
        reported.append(job)
        if result.outcome != JobOutcome.DONE:
            open_cylinders.append(cylinder)

    returned = [job for job_id, (job, _) in on_key.items() if job_id not in seen]
    for job in returned:
        job.status = ProgrammingJobStatus.ASSIGNED
    await session.flush()
    if returned:
        again = await reconcile(session, [job.cylinder_id for job in returned])
        created.update({j.id: j for j in again.created})
    open_cylinders.extend(on_key[job.id][1] for job in returned)

    summary = ReportResult(
        programming_key=key,
        reported=reported,
        returned=returned,
        created=[j for j in created.values() if j.status != ProgrammingJobStatus.CANCELLED],
        done=counts[JobOutcome.DONE],
        failed=counts[JobOutcome.FAILED],
        aborted=counts[JobOutcome.ABORTED],
        audit_events_stored=stored,
        open_cylinders=visiting_order_cylinders(open_cylinders),
    )
    await _mail_report(session, key, summary)
    return summary


# --- helpers --------------------------------------------------------------------


def _cap(items: Sequence[object], name: str) -> None:
    if len(items) > MAX_JOBS_PER_REQUEST:
        raise DomainError(INVALID, f"{name}: at most {MAX_JOBS_PER_REQUEST} per request", name)


async def _programming_key(session: AsyncSession, programming_key_id: int) -> ProgrammingKey:
    key = await session.scalar(
        select(ProgrammingKey).where(ProgrammingKey.id == programming_key_id)
    )
    if key is None:
        raise DomainError(
            NOT_FOUND, "programmingKeyId: no such programming key", "programmingKeyId"
        )
    return key


async def _administered_domains(session: AsyncSession, key: ProgrammingKey) -> set[int] | None:
    """The domains a programming key administers; None for every domain (R5, R8)."""
    if key.kind in ALL_DOMAIN_KINDS:
        return None
    return set(
        await session.scalars(
            select(ProgrammingKeyDomain.domain_id).where(
                ProgrammingKeyDomain.programming_key_id == key.id
            )
        )
    )


def _require_firmware(version: str, minimum: str, what: str, at: str) -> None:
    if not (is_version(version) and version_at_least(version, minimum)):
        raise DomainError(
            FIRMWARE_TOO_OLD,
            f"{what} has firmware {version}; loading programming jobs at a remote device "
            f"needs {minimum} or newer (R17)",
            at,
        )


async def _mail_report(session: AsyncSession, key: ProgrammingKey, summary: ReportResult) -> None:
    if summary.all_completed:
        subject = f"All programming jobs of programming key {key.marking} are completed"
        verdict = "All programming jobs were completed."
    else:
        subject = (
            f"Programming key {key.marking}: {len(summary.open_cylinders)} cylinder(s) "
            "still to program"
        )
        verdict = "Not all programming jobs were completed."
    lines = [
        f"Your programming key {key.marking} has reported back. {verdict}",
        "",
        f"Done: {summary.done}",
        f"Failed: {summary.failed}",
        f"Aborted (key pulled too early; the cylinder needs a full reprogramming): "
        f"{summary.aborted}",
        f"Not carried out (cleared from the key, still assigned to it): {len(summary.returned)}",
    ]
    if summary.open_cylinders:
        lines += ["", "Cylinders still to program:", cylinder_lines(summary.open_cylinders)]
    await mail_holder(
        session,
        key,
        kind="programming_jobs_report",
        subject=subject,
        body="\n".join(lines) + "\n",
    )
