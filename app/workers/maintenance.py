"""Periodic upkeep across tenants: the hourly key blocking list (R21).

Runs from the periodic sender (once per interval per deployment on Redis, R3);
each tenant is handled in its own short transaction, so one failing tenant does
not hold up the others, and a redelivered message does no harm (the reissue is
skipped while the newest list is fresh).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

import dramatiq
from sqlalchemy import select

from app.access.blocking_list import reissue_if_due
from app.config import Settings
from app.db import Database
from app.models import Tenant, utcnow
from app.workers.broker import configure_broker, register_periodic, worker_settings

log = logging.getLogger("keywarden.maintenance")

CHECK_SECONDS = 300  # a list is reissued within 5 minutes of turning an hour old


@dataclass
class ReissueReport:
    reissued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


async def reissue_blocking_lists(
    database: Database, *, now: datetime | None = None
) -> ReissueReport:
    """Reissue every tenant's blocking list that is an hour old (R21: at least hourly)."""
    now = now or utcnow()
    async with database.system_session() as system:
        tenant_ids = list(await system.scalars(select(Tenant.id).order_by(Tenant.id)))
    report = ReissueReport()
    for tenant_id in tenant_ids:
        try:
            async with database.tenant_session(tenant_id) as session:
                if await reissue_if_due(session, now) is not None:
                    report.reissued.append(tenant_id)
                await session.commit()
        except Exception:
            log.exception("blocking list reissue failed for tenant %s", tenant_id)
            report.failed.append(tenant_id)
    return report


async def _run(settings: Settings) -> ReissueReport:
    database = Database(settings)
    try:
        return await reissue_blocking_lists(database)
    finally:
        await database.dispose()


@dramatiq.actor(actor_name="reissue_blocking_lists", broker=configure_broker(), max_retries=3)
def reissue_blocking_lists_actor() -> None:
    """Dramatiq entry point; carries no data, idempotent."""
    report = asyncio.run(_run(worker_settings()))
    if report.reissued:
        log.info("reissued blocking lists of %d tenant(s)", len(report.reissued))


register_periodic(reissue_blocking_lists_actor, seconds=CHECK_SECONDS)
