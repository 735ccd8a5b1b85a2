"""The dashboard (issue 12 item 1) over GraphQL: aggregates counted by the server.

Each part is null when the caller lacks the right that reads its data (R7), so one
query serves every role; the figures come from ``app.dashboard.figures``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.dashboard import figures
from app.models import utcnow
from app.schema.context import Info
from app.schema.types import Domain, Key

T = TypeVar("T")


async def _if_allowed(
    info: Info, right: str, figure: Callable[[AsyncSession], Awaitable[T]]
) -> T | None:
    """``figure`` of the request's session when the caller holds ``right``; else None."""
    principal = info.context.require_any()
    if not principal.has(right):
        return None
    db = info.context.db
    # Sibling parts resolve concurrently; the request's one session runs one at a time.
    async with db.lock:
        return await figure(db.session)


@strawberry.type(description="Open programming jobs on the cylinders of one domain (R8, R15).")
class DomainWaitingJobs:
    domain: Domain
    waiting: int


@strawberry.type(description="Keys whose validity ends within the next 24 hours (R12).")
class ExpiringKeys:
    count: int
    first: list[Key] = strawberry.field(description="The first few, soonest end first.")


@strawberry.type(description="The newest key blocking list against what a cylinder holds (R11).")
class BlockingListFill:
    keys: int
    limit: int = strawberry.field(description="At most this many keys (R11).")
    warn_at: int = strawberry.field(description="From this many the administrator is warned.")


@strawberry.type(description="Audit events of one UTC day (R28).")
class AuditDay:
    day: date
    events: int


@strawberry.type(
    description="Figures at a glance (issue 12): each null without the right that reads it."
)
class Dashboard:
    @strawberry.field(description="Keys but LOST and DEFECTIVE ones (R10); needs keys.read.")
    async def key_count(self, info: Info) -> int | None:
        return await _if_allowed(info, "keys.read", figures.count_keys)

    @strawberry.field(description="Cylinders but DEFECTIVE ones (R10); needs cylinders.read.")
    async def cylinder_count(self, info: Info) -> int | None:
        return await _if_allowed(info, "cylinders.read", figures.count_cylinders)

    @strawberry.field(description="Employees; needs employees.read.")
    async def employee_count(self, info: Info) -> int | None:
        return await _if_allowed(info, "employees.read", figures.count_employees)

    @strawberry.field(
        description="Open programming jobs per domain, domains without any left out; needs "
        "jobs.read."
    )
    async def waiting_jobs(self, info: Info) -> list[DomainWaitingJobs] | None:
        rows = await _if_allowed(info, "jobs.read", figures.waiting_jobs_by_domain)
        if rows is None:
            return None
        return [DomainWaitingJobs(domain=Domain(row=d), waiting=n) for d, n in rows]

    @strawberry.field(description="Remote devices offline (R23); needs devices.read.")
    async def offline_devices(self, info: Info) -> int | None:
        return await _if_allowed(info, "devices.read", figures.count_offline_devices)

    @strawberry.field(description="Keys running out within 24 hours (R12); needs keys.read.")
    async def expiring_keys(self, info: Info) -> ExpiringKeys | None:
        now = utcnow()
        found = await _if_allowed(info, "keys.read", lambda s: figures.expiring_keys(s, now))
        if found is None:
            return None
        return ExpiringKeys(count=found.count, first=[Key(row=k) for k in found.first])

    @strawberry.field(
        description="The blocking list's keys against its limit of 3,000 (R11, R21); needs "
        "blocking_list.read."
    )
    async def blocking_list(self, info: Info) -> BlockingListFill | None:
        fill = await _if_allowed(info, "blocking_list.read", figures.blocking_list_fill)
        if fill is None:
            return None
        return BlockingListFill(keys=fill.keys, limit=fill.limit, warn_at=fill.warn_at)

    @strawberry.field(
        description="Audit events per UTC day over the last 30 days, oldest first, days "
        "without events as 0 (R28); needs audit.read."
    )
    async def audit_events_per_day(self, info: Info) -> list[AuditDay] | None:
        now = utcnow()
        domain_ids = info.context.require_any().domain_ids
        days = await _if_allowed(
            info, "audit.read", lambda s: figures.audit_events_per_day(s, now, domain_ids)
        )
        if days is None:
            return None
        return [AuditDay(day=d, events=n) for d, n in days]


@strawberry.type
class DashboardQuery:
    @strawberry.field(description="The web manager's dashboard (issue 12): server-side counts.")
    def dashboard(self, info: Info) -> Dashboard:
        info.context.require_any()
        return Dashboard()
