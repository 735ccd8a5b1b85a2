"""Remote jobs: changes carried to a key when it meets a programming device (R18).

E3 keys take them at wall and mobile devices; E2 keys only at a desk device (the
job waits there); E1 keys have no memory for them (no clock), so none is made.
At most one open job of a kind per key: a newer change replaces the payload of
the job still waiting, so a key never receives an outdated change after a newer one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.publish import queue_job_events
from app.models import Key, KeyType, RemoteJob, RemoteJobKind, RemoteJobStatus, utcnow

WAITING = (RemoteJobStatus.PENDING,)


async def ensure_remote_job(
    session: AsyncSession, key: Key, kind: RemoteJobKind, payload: dict[str, Any]
) -> RemoteJob | None:
    """The key's open job of this kind, created or brought up to date; None for E1 keys."""
    if key.type == KeyType.E1:
        return None
    job = await session.scalar(
        select(RemoteJob).where(
            RemoteJob.key_id == key.id, RemoteJob.kind == kind, RemoteJob.status.in_(WAITING)
        )
    )
    via = "remote" if key.type == KeyType.E3 else "desk"
    body = {**payload, "deliverAt": via}
    if job is None:
        job = RemoteJob(key_id=key.id, kind=kind, status=RemoteJobStatus.PENDING, payload=body)
        session.add(job)
    elif job.payload != body:
        job.payload = body
    await session.flush()
    queue_job_events(session, remote_job_ids=[job.id])
    return job


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
