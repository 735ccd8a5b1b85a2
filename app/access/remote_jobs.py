"""Remote jobs: changes carried to a key when it meets a programming device (R18).

E3 keys take them at wall and mobile devices; E2 keys only at a desk device (the
job waits there); E1 keys have no memory for them (no clock), so none is made.
At most one open job of a kind per key: a newer change replaces the payload of
the job still waiting, so a key never receives an outdated change after a newer one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import id_in
from app.events.publish import queue_job_events
from app.models import Key, KeyType, RemoteJob, RemoteJobKind, RemoteJobStatus, utcnow

WAITING = (RemoteJobStatus.PENDING,)


async def ensure_remote_job(
    session: AsyncSession, key: Key, kind: RemoteJobKind, payload: dict[str, Any]
) -> RemoteJob | None:
    """The key's open job of this kind, created or brought up to date; None for E1 keys."""
    jobs = await ensure_remote_jobs(session, [key], kind, payload)
    return jobs[0] if jobs else None


async def ensure_remote_jobs(
    session: AsyncSession, keys: Sequence[Key], kind: RemoteJobKind, payload: dict[str, Any]
) -> list[RemoteJob]:
    """Each key's open job of this kind carrying ``payload``, created or brought up to date,
    in the order of ``keys`` (each key once); E1 keys get none.

    A constant number of statements whatever the number of keys (a schedule carried by
    hundreds of keys, R12): the open jobs are read at once, the new ones inserted together.
    """
    keys = list({key.id: key for key in keys if key.type != KeyType.E1}.values())
    if not keys:
        return []
    bodies = {
        key.id: {**payload, "deliverAt": "remote" if key.type == KeyType.E3 else "desk"}
        for key in keys
    }
    jobs = await _open_jobs(session, list(bodies), kind)
    for key_id, job in jobs.items():
        if job.payload != bodies[key_id]:
            job.payload = bodies[key_id]
    missing = [key_id for key_id in bodies if key_id not in jobs]
    if missing:
        # One executemany: the ORM would insert row by row to learn each new id.
        tenant_id = session.info["tenant_id"]
        await session.execute(
            insert(RemoteJob),
            [
                {
                    "tenant_id": tenant_id,
                    "key_id": key_id,
                    "kind": kind,
                    "status": RemoteJobStatus.PENDING,
                    "payload": bodies[key_id],
                }
                for key_id in missing
            ],
        )
        jobs.update(await _open_jobs(session, missing, kind))
    await session.flush()
    ordered = [jobs[key.id] for key in keys]
    queue_job_events(session, remote_job_ids=[job.id for job in ordered])
    return ordered


async def _open_jobs(
    session: AsyncSession, key_ids: list[int], kind: RemoteJobKind
) -> dict[int, RemoteJob]:
    """The keys' open job of ``kind`` (the oldest, should a key have two), by key."""
    jobs: dict[int, RemoteJob] = {}
    for job in await session.scalars(
        select(RemoteJob)
        .where(
            id_in(session, RemoteJob.key_id, key_ids),
            RemoteJob.kind == kind,
            RemoteJob.status.in_(WAITING),
        )
        .order_by(RemoteJob.id)
    ):
        jobs.setdefault(job.key_id, job)
    return jobs


async def cancel_remote_jobs(
    session: AsyncSession, key_id: int, kinds: tuple[RemoteJobKind, ...] | None = None
) -> list[int]:
    """Cancel the key's waiting jobs (all, or of some kinds); their ids."""
    stmt = select(RemoteJob.id).where(RemoteJob.key_id == key_id, RemoteJob.status.in_(WAITING))
    if kinds:
        stmt = stmt.where(RemoteJob.kind.in_(kinds))
    ids = list(await session.scalars(stmt))
    if ids:
        await session.execute(
            update(RemoteJob)
            .where(RemoteJob.id.in_(ids))
            .values(status=RemoteJobStatus.CANCELLED, completed_at=utcnow())
            .execution_options(synchronize_session="fetch")
        )
        queue_job_events(session, remote_job_ids=ids)
    return ids
