"""The job engine: the one place that turns desired access into programming jobs (R11, R15, R16).

For every cylinder Keywarden keeps two access lists: **desired** (what the
administration decided) and **programmed** (what the hardware holds). The open
programming jobs of a cylinder are exactly their difference (R11, R15):

    jobs(C) = {ADD s | s in desired(C) - programmed(C)}
            + {REMOVE s | s in programmed(C) - desired(C)}

where jobs already loaded onto a programming key (ON_KEY) count as programmed:
they can no longer be changed, so the open job is planned on top of them.

``reconcile`` recomputes ``desired`` from its sources and brings the access-list
rows and the jobs in line: it creates a job, adds or drops changes on the open
one, or cancels it when a change was reverted before it was programmed. Changes
already loaded onto a programming key (ON_KEY) are left alone and not repeated.
A cylinder flagged ``needs_reprogramming`` (a clone, R32, or a job broken off,
R15) keeps one full reprogramming job until it is carried out. A DEFECTIVE
cylinder keeps its desired list but no open job that is not yet on a key (R11).

Everything is done in a constant number of statements per batch of cylinders,
whatever the number of cylinders or keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import bulk_insert, id_in
from app.events.publish import queue_job_events
from app.models import (
    AccessChangeOp,
    AccessEntry,
    AccessProfileCylinder,
    Cylinder,
    CylinderGroupMember,
    CylinderStatus,
    DirectAuthorization,
    EmployeeAccessProfile,
    Key,
    KeyAccessProfile,
    KeyGroupMember,
    KeyStatus,
    KeyWithdrawal,
    ProgrammingJob,
    ProgrammingJobChange,
    ProgrammingJobStatus,
    utcnow,
)
from app.tenants.scoping import ALL_DOMAINS

# A subject of a cylinder's access list: ("key", id), ("group", id) for a key group, or
# ("cgroup", id) for the cylinder's membership in a cylinder group (R13).
Subject = tuple[str, int]
Change = tuple[AccessChangeOp, Subject]

# Domains partition administration, not access (R8): a cylinder's desired list holds keys
# of every domain, whatever domains the administrator who triggered the change sees.
TENANT_WIDE = {ALL_DOMAINS: True}

EDITABLE = (ProgrammingJobStatus.PENDING, ProgrammingJobStatus.ASSIGNED)
OPEN = (*EDITABLE, ProgrammingJobStatus.ON_KEY)
BATCH = 5000  # cylinders per round of statements


@dataclass
class ReconcileResult:
    """What reconciling some cylinders did to their jobs."""

    created: list[ProgrammingJob] = field(default_factory=list)
    changed: list[ProgrammingJob] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    unchanged_cylinder_ids: list[int] = field(default_factory=list)
    # DEFECTIVE cylinders: no job is planned for them, whatever their desired list (R11).
    defective_cylinder_ids: list[int] = field(default_factory=list)

    @property
    def touched(self) -> list[ProgrammingJob]:
        return self.created + self.changed


def subject_of(
    key_id: int | None, group_id: int | None, cylinder_group_id: int | None = None
) -> Subject:
    if key_id is not None:
        return ("key", key_id)
    if group_id is not None:
        return ("group", group_id)
    return ("cgroup", cylinder_group_id)  # type: ignore[return-value]


def subject_columns(subject: Subject) -> dict[str, int | None]:
    """The access-list / job-change columns naming ``subject``."""
    kind, ident = subject
    return {
        "key_id": ident if kind == "key" else None,
        "key_group_id": ident if kind == "group" else None,
        "cylinder_group_id": ident if kind == "cgroup" else None,
    }


def _in_desired_lists() -> object:
    """Keys that count in cylinders' desired lists: usable and not withdrawn (R10, R19)."""
    return (Key.status != KeyStatus.NOT_ACTIVATED) & Key.withdrawn.is_(False)


async def desired_access(
    session: AsyncSession, cylinder_ids: Sequence[int]
) -> dict[int, set[Subject]]:
    """The desired access list of each cylinder, from its sources (R13).

    A key is in it through a direct authorization, an access profile of its own
    or of its holder; a key group through a direct authorization. A lost key
    deprogrammed from some cylinders only is not in theirs (R19).
    """
    desired: dict[int, set[Subject]] = {c: set() for c in cylinder_ids}
    ids = list(cylinder_ids)
    usable = _in_desired_lists()
    queries = [
        select(DirectAuthorization.cylinder_id, DirectAuthorization.key_id)
        .join(Key, Key.id == DirectAuthorization.key_id)
        .where(id_in(session, DirectAuthorization.cylinder_id, ids), usable),
        select(AccessProfileCylinder.cylinder_id, KeyAccessProfile.key_id)
        .join(
            KeyAccessProfile,
            KeyAccessProfile.access_profile_id == AccessProfileCylinder.access_profile_id,
        )
        .join(Key, Key.id == KeyAccessProfile.key_id)
        .where(id_in(session, AccessProfileCylinder.cylinder_id, ids), usable),
        select(AccessProfileCylinder.cylinder_id, Key.id)
        .join(
            EmployeeAccessProfile,
            EmployeeAccessProfile.access_profile_id == AccessProfileCylinder.access_profile_id,
        )
        .join(Key, Key.holder_id == EmployeeAccessProfile.employee_id)
        .where(id_in(session, AccessProfileCylinder.cylinder_id, ids), usable),
    ]
    for stmt in queries:
        for cylinder_id, key_id in (
            await session.execute(stmt, execution_options=TENANT_WIDE)
        ).all():
            desired[cylinder_id].add(("key", key_id))
    withdrawn = select(KeyWithdrawal.cylinder_id, KeyWithdrawal.key_id).where(
        id_in(session, KeyWithdrawal.cylinder_id, ids)
    )
    for cylinder_id, key_id in (await session.execute(withdrawn)).all():
        desired[cylinder_id].discard(("key", key_id))
    groups = select(DirectAuthorization.cylinder_id, DirectAuthorization.key_group_id).where(
        id_in(session, DirectAuthorization.cylinder_id, ids),
        DirectAuthorization.key_group_id.is_not(None),
    )
    memberships = select(
        CylinderGroupMember.cylinder_id, CylinderGroupMember.cylinder_group_id
    ).where(id_in(session, CylinderGroupMember.cylinder_id, ids))
    for cylinder_id, cylinder_group_id in (await session.execute(memberships)).all():
        desired[cylinder_id].add(("cgroup", cylinder_group_id))
    group_rows = (await session.execute(groups, execution_options=TENANT_WIDE)).all()
    for cylinder_id, group_id in group_rows:
        desired[cylinder_id].add(("group", group_id))
    if group_rows:
        # A cylinder that holds a key group opens for every key of the group: the key
        # needs no line of its own there (R20: no job for a key added to such a group).
        members: dict[int, set[int]] = defaultdict(set)
        member_rows = await session.execute(
            select(KeyGroupMember.key_group_id, KeyGroupMember.key_id).where(
                KeyGroupMember.key_group_id.in_({g for _, g in group_rows})
            )
        )
        for group_id, key_id in member_rows.all():
            members[group_id].add(key_id)
        for cylinder_id, group_id in group_rows:
            desired[cylinder_id] -= {("key", k) for k in members[group_id]}
    return desired


async def reconcile(session: AsyncSession, cylinder_ids: Iterable[int]) -> ReconcileResult:
    """Bring access lists and programming jobs of these cylinders in line with desired access.

    Idempotent: reconciling twice changes nothing the second time. The caller commits.
    """
    result = ReconcileResult()
    ordered = sorted(set(cylinder_ids))
    for start in range(0, len(ordered), BATCH):
        await _reconcile_batch(session, ordered[start : start + BATCH], result)
    # jobEvents subscribers hear of every job created, changed or cancelled, after commit.
    queue_job_events(session, job_ids=[*(j.id for j in result.touched), *result.cancelled])
    return result


async def _reconcile_batch(
    session: AsyncSession, cylinder_ids: list[int], result: ReconcileResult
) -> None:
    desired = await desired_access(session, cylinder_ids)
    flags: dict[int, bool] = {}
    defective: set[int] = set()
    for c, needs, status in (
        await session.execute(
            select(Cylinder.id, Cylinder.needs_reprogramming, Cylinder.status).where(
                id_in(session, Cylinder.id, cylinder_ids)
            ),
            execution_options=TENANT_WIDE,
        )
    ).all():
        flags[c] = needs
        if status is CylinderStatus.DEFECTIVE:
            defective.add(c)
    # Plain rows, not ORM objects: only ids and flags are needed, for thousands of lines.
    entries: dict[int, dict[Subject, Any]] = defaultdict(dict)
    rows = await session.execute(
        select(
            AccessEntry.id,
            AccessEntry.cylinder_id,
            AccessEntry.key_id,
            AccessEntry.key_group_id,
            AccessEntry.cylinder_group_id,
            AccessEntry.desired,
            AccessEntry.programmed,
        ).where(id_in(session, AccessEntry.cylinder_id, cylinder_ids))
    )
    for entry in rows.all():
        entries[entry.cylinder_id][
            subject_of(entry.key_id, entry.key_group_id, entry.cylinder_group_id)
        ] = entry

    jobs: dict[int, list[ProgrammingJob]] = defaultdict(list)
    job_by_id: dict[int, ProgrammingJob] = {}
    for job in await session.scalars(
        select(ProgrammingJob)
        .where(
            id_in(session, ProgrammingJob.cylinder_id, cylinder_ids),
            ProgrammingJob.status.in_(OPEN),
        )
        .order_by(ProgrammingJob.id)
    ):
        jobs[job.cylinder_id].append(job)
        job_by_id[job.id] = job
    changes: dict[int, dict[Change, ProgrammingJobChange]] = defaultdict(dict)
    if job_by_id:
        for change in await session.scalars(
            select(ProgrammingJobChange).where(
                id_in(session, ProgrammingJobChange.job_id, job_by_id)
            )
        ):
            subject = subject_of(change.key_id, change.key_group_id, change.cylinder_group_id)
            changes[change.job_id][(change.op, subject)] = change

    tenant_id = session.info["tenant_id"]
    new_entries: list[dict[str, object]] = []
    set_desired: list[int] = []
    unset_desired: list[int] = []
    drop_entries: list[int] = []
    drop_changes: list[int] = []
    cancel_jobs: list[int] = []
    pending_changes: list[tuple[ProgrammingJob, Change]] = []
    new_jobs: dict[int, set[Change]] = {}  # cylinder -> changes of its new job
    new_full: set[int] = set()

    for cylinder_id in cylinder_ids:
        wanted = desired[cylinder_id]
        have = entries[cylinder_id]
        programmed = {s for s, e in have.items() if e.programmed}
        for subject in wanted - have.keys():
            new_entries.append(
                {
                    "tenant_id": tenant_id,
                    "cylinder_id": cylinder_id,
                    **subject_columns(subject),
                    "desired": True,
                    "programmed": False,
                }
            )
        for subject, entry in have.items():
            if subject in wanted and not entry.desired:
                set_desired.append(entry.id)
            elif subject not in wanted:
                if entry.programmed:
                    if entry.desired:
                        unset_desired.append(entry.id)
                else:
                    drop_entries.append(entry.id)

        on_key = [j for j in jobs[cylinder_id] if j.status == ProgrammingJobStatus.ON_KEY]
        editable = [j for j in jobs[cylinder_id] if j.status in EDITABLE]
        if cylinder_id in defective:
            # A defective cylinder cannot be programmed: its desired list is kept, but no job
            # waits for it; the replacement (R32) is reprogrammed fully from that list.
            cancel_jobs.extend(j.id for j in editable)
            result.defective_cylinder_ids.append(cylinder_id)
            continue
        # Jobs already on a programming key cannot change any more: what the cylinder
        # will hold once they are carried out is the base the open job is planned on.
        projected = project(programmed, wanted, on_key, changes)
        needed: set[Change] = {(AccessChangeOp.ADD, s) for s in wanted - projected}
        needed |= {(AccessChangeOp.REMOVE, s) for s in projected - wanted}
        full = flags.get(cylinder_id, False) and not any(j.full_reprogram for j in on_key)

        # At most one editable job per cylinder; extra ones (should not exist) are folded in.
        job = editable[0] if editable else None
        for extra in editable[1:]:
            cancel_jobs.append(extra.id)
        if not needed and not full:
            if job is not None:
                cancel_jobs.append(job.id)
            elif not on_key:
                result.unchanged_cylinder_ids.append(cylinder_id)
            continue
        if job is None:
            new_jobs[cylinder_id] = needed
            if full:
                new_full.add(cylinder_id)
            continue
        current = changes[job.id]
        stale = [c.id for key, c in current.items() if key not in needed]
        fresh = [c for c in needed if c not in current]
        if stale or fresh or job.full_reprogram != full:
            drop_changes.extend(stale)
            pending_changes.extend((job, c) for c in fresh)
            job.full_reprogram = full
            result.changed.append(job)

    if drop_changes:
        await session.execute(
            delete(ProgrammingJobChange).where(
                id_in(session, ProgrammingJobChange.id, drop_changes)
            )
        )
    if cancel_jobs:
        await session.execute(
            update(ProgrammingJob)
            .where(id_in(session, ProgrammingJob.id, cancel_jobs))
            .values(status=ProgrammingJobStatus.CANCELLED, completed_at=utcnow())
            .execution_options(synchronize_session="fetch")
        )
        result.cancelled.extend(cancel_jobs)
    if drop_entries:
        await session.execute(
            delete(AccessEntry).where(id_in(session, AccessEntry.id, drop_entries))
        )
    for ids, value in ((set_desired, True), (unset_desired, False)):
        if ids:
            await session.execute(
                update(AccessEntry)
                .where(id_in(session, AccessEntry.id, ids))
                .values(desired=value)
                .execution_options(synchronize_session="fetch")
            )
    # Bulk statements, not one ORM object per row: thousands of cylinders at once (R16, R19).
    await bulk_insert(session, AccessEntry.__table__, new_entries)
    if new_jobs:
        now = utcnow()
        ids = await bulk_insert(
            session,
            ProgrammingJob.__table__,
            [
                {
                    "tenant_id": tenant_id,
                    "cylinder_id": c,
                    "status": ProgrammingJobStatus.PENDING,
                    "full_reprogram": c in new_full,
                    "created_at": now,
                }
                for c in new_jobs
            ],
            returning="id",
        )
        created = list(
            await session.scalars(
                select(ProgrammingJob).where(id_in(session, ProgrammingJob.id, ids))
            )
        )
        result.created.extend(created)
        pending_changes.extend((job, c) for job in created for c in new_jobs[job.cylinder_id])
    await bulk_insert(
        session,
        ProgrammingJobChange.__table__,
        [
            {"tenant_id": tenant_id, "job_id": job.id, "op": op, **subject_columns(subject)}
            for job, (op, subject) in pending_changes
        ],
    )
    await session.flush()


def project(
    programmed: set[Subject],
    wanted: set[Subject],
    on_key: Sequence[ProgrammingJob],
    changes: dict[int, dict[Change, ProgrammingJobChange]],
) -> set[Subject]:
    """What a cylinder will hold once the jobs already on programming keys are carried out.

    The jobs count in the order they were planned (their ids, R15): each one was planned
    on top of the ones before it, so a later job may take back what an earlier one adds
    (a key added, then withdrawn while the first job was already on a key). Applied in
    any other order, the same jobs would predict another access list.
    """
    projected = set(programmed)
    for job in sorted(on_key, key=lambda j: j.id):
        if job.full_reprogram:
            projected = set(wanted)
        for op, subject in changes[job.id]:
            if op == AccessChangeOp.ADD:
                projected.add(subject)
            else:
                projected.discard(subject)
    return projected


async def cylinders_of_key(session: AsyncSession, key_id: int) -> set[int]:
    """Every cylinder whose access list a change of this key can touch."""
    queries = [
        select(AccessEntry.cylinder_id).where(AccessEntry.key_id == key_id),
        select(DirectAuthorization.cylinder_id).where(DirectAuthorization.key_id == key_id),
        select(AccessProfileCylinder.cylinder_id)
        .join(
            KeyAccessProfile,
            KeyAccessProfile.access_profile_id == AccessProfileCylinder.access_profile_id,
        )
        .where(KeyAccessProfile.key_id == key_id),
        select(AccessProfileCylinder.cylinder_id)
        .join(
            EmployeeAccessProfile,
            EmployeeAccessProfile.access_profile_id == AccessProfileCylinder.access_profile_id,
        )
        .join(Key, Key.holder_id == EmployeeAccessProfile.employee_id)
        .where(Key.id == key_id),
    ]
    found: set[int] = set()
    for stmt in queries:
        found.update(await session.scalars(stmt, execution_options=TENANT_WIDE))
    return found


async def open_job_changes(
    session: AsyncSession, cylinder_ids: Sequence[int] | None = None
) -> dict[int, set[Change]]:
    """The changes of all open jobs, per cylinder (for checks and tests of R15)."""
    stmt = (
        select(ProgrammingJob.cylinder_id, ProgrammingJobChange)
        .join(ProgrammingJobChange, ProgrammingJobChange.job_id == ProgrammingJob.id)
        .where(ProgrammingJob.status.in_(OPEN))
    )
    if cylinder_ids is not None:
        stmt = stmt.where(ProgrammingJob.cylinder_id.in_(cylinder_ids))
    found: dict[int, set[Change]] = defaultdict(set)
    for cylinder_id, change in (await session.execute(stmt)).all():
        subject = subject_of(change.key_id, change.key_group_id, change.cylinder_group_id)
        found[cylinder_id].add((change.op, subject))
    return found


class JobOutcome:
    """How carrying out a programming job at the cylinder ended (R15, R17)."""

    DONE = "DONE"  # the cylinder now holds the job's changes
    ABORTED = "ABORTED"  # the key was pulled too early: the cylinder's state is unknown
    FAILED = "FAILED"  # nothing was written (cylinder not reached, refused)


async def record_programming(
    session: AsyncSession, job: ProgrammingJob, outcome: str
) -> ReconcileResult:
    """Apply what a programming key reports for one job, then reconcile its cylinder (R15).

    DONE moves the job's changes into the programmed list (all of the desired list
    for a full reprogramming, which also clears ``needs_reprogramming``). ABORTED
    marks the cylinder for a full reprogramming, created automatically. FAILED
    leaves the lists as they were; the changes come back in a new job.
    """
    now = utcnow()
    cylinder = await session.get(Cylinder, job.cylinder_id, execution_options=TENANT_WIDE)
    assert cylinder is not None
    entries = {
        subject_of(e.key_id, e.key_group_id, e.cylinder_group_id): e
        for e in await session.scalars(
            select(AccessEntry).where(AccessEntry.cylinder_id == job.cylinder_id)
        )
    }
    if outcome == JobOutcome.DONE:
        if job.full_reprogram:
            for entry in entries.values():
                if entry.desired:
                    entry.programmed = True
                else:
                    await session.delete(entry)
            cylinder.needs_reprogramming = False
        else:
            job_changes = await session.scalars(
                select(ProgrammingJobChange).where(ProgrammingJobChange.job_id == job.id)
            )
            for change in job_changes:
                subject = subject_of(change.key_id, change.key_group_id, change.cylinder_group_id)
                entry = entries.get(subject)
                if change.op == AccessChangeOp.ADD:
                    if entry is None:
                        entry = AccessEntry(
                            cylinder_id=job.cylinder_id,
                            key_id=change.key_id,
                            key_group_id=change.key_group_id,
                            cylinder_group_id=change.cylinder_group_id,
                            desired=False,
                        )
                        session.add(entry)
                        entries[subject] = entry
                    entry.programmed = True
                elif entry is not None:
                    if entry.desired:
                        entry.programmed = False
                    else:
                        await session.delete(entry)
                        del entries[subject]
        job.status = ProgrammingJobStatus.DONE
    elif outcome == JobOutcome.ABORTED:
        cylinder.needs_reprogramming = True
        job.status = ProgrammingJobStatus.FAILED
    elif outcome == JobOutcome.FAILED:
        job.status = ProgrammingJobStatus.FAILED
    else:
        raise ValueError(f"unknown outcome {outcome!r}")
    job.completed_at = now
    await session.flush()
    queue_job_events(session, job_ids=[job.id])
    return await reconcile(session, [job.cylinder_id])
