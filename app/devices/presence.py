"""Whether a remote device is online (R23): one that misses two heartbeat intervals is offline.

A heartbeat brings a device online (``app.devices.heartbeat``); the periodic
upkeep (``app.workers.maintenance``) takes the silent ones offline here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import RemoteDevice
from app.models.base import UTCDateTime
from app.tenants.scoping import ALL_DOMAINS

_EVERY_DOMAIN = {ALL_DOMAINS: True}

# R23: a device that misses two heartbeat intervals is offline.
MISSED_INTERVALS = 2
# The shortest heartbeat interval a device may have (R22); used to pre-select candidates.
MIN_HEARTBEAT_INTERVAL_SECONDS = 10


async def mark_offline_devices(session: AsyncSession, now: datetime) -> list[int]:
    """Devices of the session's tenant that missed two heartbeat intervals go offline (R23).

    Returns the ids of the devices that went offline now (for the status
    subscription). A device whose heartbeat arrives while this runs stays
    online: each row is only changed if its last heartbeat is still the one read.
    """
    earliest_due = now - timedelta(seconds=MISSED_INTERVALS * MIN_HEARTBEAT_INTERVAL_SECONDS)
    candidates = (
        await session.execute(
            select(
                RemoteDevice.id,
                RemoteDevice.last_heartbeat_at,
                RemoteDevice.heartbeat_interval_seconds,
            )
            .where(RemoteDevice.online.is_(True))
            .where(
                RemoteDevice.last_heartbeat_at.is_(None)
                | (RemoteDevice.last_heartbeat_at < earliest_due)
            )
            .execution_options(**_EVERY_DOMAIN)
        )
    ).all()
    silent = [
        (ident, last)
        for ident, last, interval in candidates
        if last is None or last + timedelta(seconds=MISSED_INTERVALS * interval) < now
    ]
    if not silent:
        return []
    table = RemoteDevice.__table__
    tenant_id = session.info["tenant_id"]
    never = [ident for ident, last in silent if last is None]
    seen = [{"device_id": ident, "seen": last} for ident, last in silent if last is not None]
    if never:
        await session.execute(
            table.update()
            .where(table.c.tenant_id == tenant_id, table.c.id.in_(never))
            .where(table.c.online.is_(True), table.c.last_heartbeat_at.is_(None))
            .values(online=False)
        )
    if seen:
        await session.execute(
            table.update()
            .where(table.c.tenant_id == tenant_id, table.c.id == bindparam("device_id"))
            .where(
                table.c.online.is_(True),
                table.c.last_heartbeat_at == bindparam("seen", type_=UTCDateTime),
            )
            .values(online=False),
            seen,
        )
    ids = [ident for ident, _ in silent]
    went = list(
        await session.scalars(
            select(RemoteDevice.id)
            .where(RemoteDevice.id.in_(ids), RemoteDevice.online.is_(False))
            .order_by(RemoteDevice.id)
            .execution_options(**_EVERY_DOMAIN)
        )
    )
    # Rows loaded in this session before the Core update must not keep a stale 'online'.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, RemoteDevice) and obj.id in went:
            session.expire(obj, ["online"])
    return went
