"""How a programming visit is planned: the jobs a programming key carries, in the order
its holder visits the cylinders, and what each writes (R15, R17, R19).

Used wherever jobs go onto a programming key: ``app.programming.service`` (loading
through the API or a remote device) and ``app.bridges.effects`` (at the desk,
through a site bridge), so both carry the same jobs in the same order and tell
the holder the same way.

The caller owns the transaction: these functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.mail import mail_holder
from app.models import (
    AccessChangeOp,
    AccessEntry,
    Cylinder,
    Key,
    ProgrammingJob,
    ProgrammingJobChange,
    ProgrammingJobStatus,
    ProgrammingKey,
)
from app.tenants.scoping import ALL_DOMAINS

JobsWithCylinders = dict[int, tuple[ProgrammingJob, Cylinder]]


@dataclass(frozen=True)
class AccessWrite:
    """One key (by its UID, as the cylinder knows it), key group, or cylinder group membership
    (R13: the cylinder learns which groups it belongs to) to write into a cylinder."""

    op: AccessChangeOp
    key_uid: str | None
    key_group_id: int | None
    cylinder_group_id: int | None = None


@dataclass
class LoadedJob:
    """A job on the programming key and what it writes into its cylinder.

    ``changes`` are the job's additions and removals. For a full reprogramming
    (clone R32, broken-off job R15) ``access_list`` is the whole desired access
    list the cylinder must hold afterwards; otherwise it is None.
    """

    job: ProgrammingJob
    cylinder: Cylinder
    changes: list[AccessWrite]
    access_list: list[AccessWrite] | None


async def jobs_with_cylinders(
    session: AsyncSession,
    *,
    select_ids: Collection[int] | None = None,
    assignee_id: int | None = None,
    statuses: Sequence[ProgrammingJobStatus] | None = None,
) -> JobsWithCylinders:
    """Jobs with their cylinders by job id, locked for the transaction; only jobs on
    cylinders the caller sees (R8). Each filter applies when given."""
    stmt = (
        select(ProgrammingJob, Cylinder)
        .join(Cylinder, Cylinder.id == ProgrammingJob.cylinder_id)
        .order_by(ProgrammingJob.id)
        .with_for_update(of=ProgrammingJob)
    )
    if select_ids is not None:
        stmt = stmt.where(ProgrammingJob.id.in_(select_ids))
    if assignee_id is not None:
        stmt = stmt.where(ProgrammingJob.assignee_id == assignee_id)
    if statuses is not None:
        stmt = stmt.where(ProgrammingJob.status.in_(statuses))
    return {job.id: (job, cylinder) for job, cylinder in (await session.execute(stmt)).all()}


def visiting_order(
    pairs: Iterable[tuple[ProgrammingJob, Cylinder]],
) -> list[tuple[ProgrammingJob, Cylinder]]:
    """Jobs in the order their cylinders are visited: security-relevant first (R19), then by
    marking."""
    return sorted(pairs, key=lambda p: (not p[1].security_relevant, p[1].marking, p[0].id))


def visiting_order_cylinders(cylinders: Iterable[Cylinder]) -> list[Cylinder]:
    """Cylinders in visiting order (R19), each once."""
    unique = {c.id: c for c in cylinders}
    return sorted(unique.values(), key=lambda c: (not c.security_relevant, c.marking))


def cylinder_lines(cylinders: Iterable[Cylinder]) -> str:
    """The cylinders to visit as an e-mail lists them, one line each, in visiting order."""
    return "\n".join(
        f"- {c.marking}" + (" (security-relevant)" if c.security_relevant else "")
        for c in visiting_order_cylinders(cylinders)
    )


async def job_writes(session: AsyncSession, job_ids: list[int]) -> dict[int, list[AccessWrite]]:
    """Each job's changes, keys by UID (keys of every domain: the cylinder holds them all)."""
    if not job_ids:
        return {}
    result = await session.execute(
        select(
            ProgrammingJobChange.job_id,
            ProgrammingJobChange.op,
            Key.uid,
            ProgrammingJobChange.key_group_id,
            ProgrammingJobChange.cylinder_group_id,
        )
        .outerjoin(Key, Key.id == ProgrammingJobChange.key_id)
        .where(ProgrammingJobChange.job_id.in_(job_ids))
        .order_by(ProgrammingJobChange.id)
        .execution_options(**{ALL_DOMAINS: True})
    )
    writes: dict[int, list[AccessWrite]] = {}
    for job_id, op, uid, group_id, cylinder_group_id in result.all():
        writes.setdefault(job_id, []).append(AccessWrite(op, uid, group_id, cylinder_group_id))
    return writes


async def desired_lists(
    session: AsyncSession, cylinder_ids: list[int]
) -> dict[int, list[AccessWrite]]:
    """The whole desired access list of each cylinder, for full reprogramming (R15, R32)."""
    if not cylinder_ids:
        return {}
    result = await session.execute(
        select(
            AccessEntry.cylinder_id,
            Key.uid,
            AccessEntry.key_group_id,
            AccessEntry.cylinder_group_id,
        )
        .outerjoin(Key, Key.id == AccessEntry.key_id)
        .where(AccessEntry.cylinder_id.in_(cylinder_ids), AccessEntry.desired.is_(True))
        .order_by(AccessEntry.id)
        .execution_options(**{ALL_DOMAINS: True})
    )
    lists: dict[int, list[AccessWrite]] = {c: [] for c in cylinder_ids}
    for cylinder_id, uid, group_id, cylinder_group_id in result.all():
        lists[cylinder_id].append(
            AccessWrite(AccessChangeOp.ADD, uid, group_id, cylinder_group_id)
        )
    return lists


async def with_writes(
    session: AsyncSession, pairs: Sequence[tuple[ProgrammingJob, Cylinder]]
) -> list[LoadedJob]:
    """The jobs (in the given order) with what each writes: its changes, and for a full
    reprogramming the cylinder's whole desired access list (R15, R17)."""
    writes = await job_writes(session, [job.id for job, _ in pairs])
    full = await desired_lists(
        session, [job.cylinder_id for job, _ in pairs if job.full_reprogram]
    )
    return [
        LoadedJob(
            job=job,
            cylinder=cylinder,
            changes=writes.get(job.id, []),
            access_list=full.get(job.cylinder_id, []) if job.full_reprogram else None,
        )
        for job, cylinder in pairs
    ]


async def planned_jobs(
    session: AsyncSession, programming_key_id: int, statuses: Sequence[ProgrammingJobStatus]
) -> list[LoadedJob]:
    """The programming key's jobs in ``statuses``, in visiting order, with what each writes."""
    pairs = await jobs_with_cylinders(session, assignee_id=programming_key_id, statuses=statuses)
    return await with_writes(session, visiting_order(pairs.values()))


@dataclass
class KeyLoad:
    """What loading did: the jobs that went onto the key now, and every job on it, in visiting
    order."""

    loaded: JobsWithCylinders
    on_key: list[tuple[ProgrammingJob, Cylinder]]


async def load_onto_key(
    session: AsyncSession, key: ProgrammingKey, *, job_ids: Collection[int] | None = None
) -> KeyLoad:
    """The key's ASSIGNED jobs (only ``job_ids``, when given) go onto it: ON_KEY (R17).

    Jobs on cylinders the caller does not see stay as they are (R8). When any job
    went onto the key, its holder gets an e-mail listing every cylinder now to
    visit, security-relevant ones first (R19, R33).
    """
    loaded = await jobs_with_cylinders(
        session,
        select_ids=job_ids,
        assignee_id=key.id,
        statuses=(ProgrammingJobStatus.ASSIGNED,),
    )
    for job, _ in loaded.values():
        job.status = ProgrammingJobStatus.ON_KEY
    await session.flush()
    on_key = visiting_order(
        (
            await jobs_with_cylinders(
                session, assignee_id=key.id, statuses=(ProgrammingJobStatus.ON_KEY,)
            )
        ).values()
    )
    if loaded:
        await mail_holder(
            session,
            key,
            kind="programming_jobs_loaded",
            subject=f"Cylinders to program with programming key {key.marking}",
            body=(
                f"{len(on_key)} programming job(s) are on your programming key {key.marking}. "
                "Visit these cylinders (security-relevant ones first), then insert the key "
                "again at a programming device to report back.\n\n"
                f"{cylinder_lines(c for _, c in on_key)}\n"
            ),
        )
    return KeyLoad(loaded, on_key)
