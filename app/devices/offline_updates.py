"""Offline updates a wall device granted on its own, handed in with its heartbeat (R24).

While it cannot reach the server, a wall device may extend keys' validity within
its offline settings; each such update is accounted for here as a
``KeyRevalidation`` marked offline, once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.devices.protocol import insert_ignoring_conflicts
from app.models import Key, KeyRevalidation, KeyStatus, RemoteDevice
from app.tenants.scoping import ALL_DOMAINS

log = logging.getLogger("keywarden.devices")

_EVERY_DOMAIN = {ALL_DOMAINS: True}

@dataclass(frozen=True)
class OfflineUpdate:
    """A validity extension a wall device granted on its own while offline (R24)."""

    key_uid: str
    at: datetime
    valid_until: datetime | None = None


async def account_offline_updates(
    session: AsyncSession,
    device: RemoteDevice,
    updates: Sequence[OfflineUpdate],
    *,
    now: datetime,
) -> tuple[int, int]:
    """Account for offline updates a device granted on its own (R24); (recorded, known before).

    Nothing is refused — the device already extended those keys within its
    offline settings; each becomes a :class:`KeyRevalidation` marked offline,
    reported at ``now``. A heartbeat sent again (the device missed the answer)
    records nothing twice: an update is identified by device, key UID and time.
    An update of a key that is lost by now is logged as a warning.
    """
    if not updates:
        return 0, 0
    unique = {(u.key_uid, u.at): u for u in updates}
    uids = {uid for uid, _ in unique}
    known = {
        uid: (ident, status)
        for uid, ident, status in (
            await session.execute(
                select(Key.uid, Key.id, Key.status)
                .where(Key.uid.in_(uids))
                .execution_options(**_EVERY_DOMAIN)
            )
        ).all()
    }
    rows = [
        {
            "tenant_id": session.info["tenant_id"],
            "key_id": known[u.key_uid][0] if u.key_uid in known else None,
            "key_uid": u.key_uid,
            "device_id": device.id,
            "at": u.at,
            "valid_until": u.valid_until,
            "offline": True,
            "reported_at": now,
        }
        for u in unique.values()
    ]
    stmt = (
        insert_ignoring_conflicts(session, KeyRevalidation)
        .values(rows)
        .returning(KeyRevalidation.id)
    )
    recorded = len((await session.execute(stmt)).all())
    lost = sorted(uid for uid, (_, status) in known.items() if status is KeyStatus.LOST)
    if lost:
        log.warning(
            "device %s updated lost keys offline (its blocking list was older): %s",
            device.serial,
            ", ".join(lost),
        )
    return recorded, len(updates) - recorded
