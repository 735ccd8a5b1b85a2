"""The dashboard's figures (issue 12 item 1), each an aggregate computed in SQL.

Every function takes a tenant session: its ORM scoping adds the tenant (R1) and,
for a principal limited to some domains, the domain criteria (R8) of keys,
cylinders, employees and remote devices (``app.tenants.scoping``). Each sends
one or two statements, however many rows the tenant has.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, Select, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.access.blocking_list import MAX_BLOCKED_KEYS, WARN_BLOCKED_KEYS
from app.access.engine import OPEN
from app.audit.trail import visible
from app.models import (
    AuditEvent,
    BlockingList,
    Cylinder,
    CylinderStatus,
    Domain,
    Employee,
    Key,
    KeyStatus,
    ProgrammingJob,
    RemoteDevice,
)

# R10: lost and defective elements are left out of normal search, and so out of the counts.
HIDDEN_KEYS = (KeyStatus.LOST, KeyStatus.DEFECTIVE)
EXPIRY_WINDOW = timedelta(hours=24)
EXPIRING_SHOWN = 5
AUDIT_DAYS = 30


@dataclass(frozen=True)
class ExpiringKeys:
    """Keys whose validity ends within the window (R12): how many, and the first few by end."""

    count: int
    first: list[Key]


@dataclass(frozen=True)
class BlockingListFill:
    """The newest blocking list's entries against what a cylinder holds (R11, R21)."""

    keys: int
    limit: int = MAX_BLOCKED_KEYS
    warn_at: int = WARN_BLOCKED_KEYS


async def count_keys(session: AsyncSession) -> int:
    """Keys as normal search lists them: every status but LOST and DEFECTIVE (R10)."""
    return await _count(session, select(func.count(Key.id)).where(Key.status.not_in(HIDDEN_KEYS)))


async def count_cylinders(session: AsyncSession) -> int:
    """Cylinders as normal search lists them: every status but DEFECTIVE (R10)."""
    stmt = select(func.count(Cylinder.id)).where(Cylinder.status != CylinderStatus.DEFECTIVE)
    return await _count(session, stmt)


async def count_employees(session: AsyncSession) -> int:
    """Employees of the tenant (in the caller's domains, R8)."""
    return await _count(session, select(func.count(Employee.id)))


async def count_offline_devices(session: AsyncSession) -> int:
    """Remote devices offline: the flag heartbeats set and two missed intervals clear (R23)."""
    stmt = select(func.count(RemoteDevice.id)).where(RemoteDevice.online.is_(False))
    return await _count(session, stmt)


async def waiting_jobs_by_domain(session: AsyncSession) -> list[tuple[Domain, int]]:
    """Open programming jobs (R15) per domain of their cylinder, by domain name.

    A job belongs to its cylinder's domain (R8); domains without a waiting job are left out.
    """
    rows = await session.execute(
        select(Domain, func.count(ProgrammingJob.id))
        .join(Cylinder, Cylinder.domain_id == Domain.id)
        .join(ProgrammingJob, ProgrammingJob.cylinder_id == Cylinder.id)
        .where(ProgrammingJob.status.in_(OPEN))
        .group_by(Domain.id)
        .order_by(Domain.name, Domain.id)
    )
    return [(domain, int(count)) for domain, count in rows.all()]


async def expiring_keys(
    session: AsyncSession,
    now: datetime,
    *,
    within: timedelta = EXPIRY_WINDOW,
    shown: int = EXPIRING_SHOWN,
) -> ExpiringKeys:
    """Keys still valid now whose validity ends within ``within`` (R12), soonest first.

    Keys that are always valid, lost or defective (R10) never run out here.
    """
    running_out = (
        Key.always_valid.is_(False),
        Key.valid_until.is_not(None),
        Key.valid_until > now,
        Key.valid_until <= now + within,
        Key.status.not_in(HIDDEN_KEYS),
    )
    count = await _count(session, select(func.count(Key.id)).where(*running_out))
    if count == 0:
        return ExpiringKeys(0, [])
    first = await session.scalars(
        select(Key).where(*running_out).order_by(Key.valid_until, Key.marking, Key.id).limit(shown)
    )
    return ExpiringKeys(count, list(first))


async def blocking_list_fill(session: AsyncSession) -> BlockingListFill:
    """How many keys the newest blocking list holds, against the limit of 3,000 (R11, R21).

    The list is the tenant's, whatever domains the reader administers: walls refuse lost
    keys of every domain (R8). Before the first list is issued it holds none.
    """
    keys = await session.scalar(
        select(func.json_array_length(BlockingList.key_uids))
        .order_by(BlockingList.version.desc())
        .limit(1)
    )
    return BlockingListFill(int(keys or 0))


async def audit_events_per_day(
    session: AsyncSession,
    now: datetime,
    domain_ids: Collection[int] | None,
    *,
    days: int = AUDIT_DAYS,
) -> list[tuple[date, int]]:
    """Audit events (R28) per UTC day over the last ``days`` days up to today, oldest first.

    Every day is listed, days without events with 0. Only events the reader may see
    count: never withheld ones (R15, R29), and within ``domain_ids`` when given (R8).
    """
    today = now.astimezone(UTC).date()
    first_day = today - timedelta(days=days - 1)
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    end = start + timedelta(days=days)
    day = _utc_day(session)
    stmt = visible(
        select(day, func.count(AuditEvent.id))
        .where(AuditEvent.at >= start, AuditEvent.at < end)
        .group_by(day),
        domain_ids,
    )
    counted = {_as_date(value): int(count) for value, count in (await session.execute(stmt)).all()}
    return [(d, counted.get(d, 0)) for d in (first_day + timedelta(days=i) for i in range(days))]


def _utc_day(session: AsyncSession) -> ColumnElement[date]:
    """The UTC calendar day of an audit event's time, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", AuditEvent.at), Date)
    # SQLite stores UTCDateTime as UTC text ("2026-12-08 02:38:19.000000"): its day is its date.
    return func.date(AuditEvent.at)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


async def _count(session: AsyncSession, stmt: Select[tuple[int]]) -> int:
    return int(await session.scalar(stmt) or 0)
