"""Periodic leases in the database: periodic work once per deployment (issue 13 item 4).

On Redis, ``PeriodicSender`` takes a short ``SET NX`` lock per actor and
interval. A deployment whose queue is on RabbitMQ need not run Redis at all, so
there the lock is a row of ``periodic_leases`` in the database every worker
already shares: a worker sends the periodic message only when it moved the
row's ``until`` forward, which one statement does for one worker at a time
(an upsert whose update applies only to an expired lease).
"""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.config import Settings
from app.db import Database
from app.models import PeriodicLease
from app.models.base import utcnow


def holder_name() -> str:
    """This process, as a lease names its holder (for an operator reading the table)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


async def take_lease(
    database: Database,
    actor_name: str,
    seconds: float,
    *,
    holder: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Take ``actor_name``'s lease for ``seconds`` if nobody holds it; whether it was taken."""
    now = now or utcnow()
    insert = postgresql_insert if database.dialect == "postgresql" else sqlite_insert
    until = now + timedelta(seconds=seconds)
    statement = insert(PeriodicLease).values(
        actor_name=actor_name, until=until, holder=holder or holder_name()
    )
    statement = statement.on_conflict_do_update(
        index_elements=[PeriodicLease.actor_name],
        set_={"until": statement.excluded.until, "holder": statement.excluded.holder},
        where=PeriodicLease.until <= now,
    ).returning(PeriodicLease.actor_name)
    async with database.system_session() as session:
        taken = (await session.execute(statement)).scalar_one_or_none()
        await session.commit()
    return taken is not None


def take_periodic_lease(settings: Settings, actor_name: str, seconds: float) -> bool:
    """``take_lease`` from a worker's (synchronous) periodic sender thread."""

    async def take() -> bool:
        database = Database(settings)
        try:
            return await take_lease(database, actor_name, seconds)
        finally:
            await database.dispose()

    return asyncio.run(take())
