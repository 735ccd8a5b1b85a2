"""Validity extensions (R14): how long a key stays valid after it met a device.

Used where a key is revalidated: at a wall or mobile device's key insertion
(``app.devices.key_insertion``) and in a desk write through a bridge
(``app.bridges.commands``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.authorizations import authorizations_for_keys
from app.db import SerialSession
from app.devices.protocol import rfc3339
from app.models import Cylinder, Key, KeyRevalidation, RemoteDevice, Tenant
from app.tenants.scoping import ALL_DOMAINS

_EVERY_DOMAIN = {ALL_DOMAINS: True}


def _capped(key: Key, now: datetime, hours: int) -> datetime | None:
    """``now`` + ``hours``, never past the key's fixed validity end; None once that passed."""
    until = now + timedelta(hours=hours)
    if not key.always_valid and key.valid_until is not None:
        until = min(until, key.valid_until)
    return until if until > now else None


async def extend_validity(
    session: AsyncSession, device: RemoteDevice, tenant: Tenant, key: Key, now: datetime
) -> dict[str, Any] | None:
    """R14: an ISSUED key met ``device``: its validity is extended by its effective interval.

    The new end is ``now`` + the key's interval, never past a fixed end; with the
    tenant's flexible extensions, cylinders reached only through profiles with a
    shorter interval get their own end (:func:`cylinder_validity`). Recorded as a
    :class:`KeyRevalidation`; None when there is nothing to extend.
    """
    hours = key.extension_interval_hours
    until = _capped(key, now, hours) if hours is not None else None
    cylinders: list[dict[str, Any]] = []
    if tenant.flexible_extensions:
        cylinders = await cylinder_validity(session, key, now)
    if until is None and not cylinders:
        return None
    session.add(
        KeyRevalidation(
            key_id=key.id,
            key_uid=key.uid,
            device_id=device.id,
            at=now,
            valid_until=until,
            offline=False,
            reported_at=now,
        )
    )
    return {
        "validUntil": rfc3339(until) if until is not None else None,
        "extensionIntervalHours": hours,
        "cylinders": cylinders,
    }


async def cylinder_validity(
    session: AsyncSession, key: Key, now: datetime
) -> list[dict[str, Any]]:
    """Cylinders whose effective interval is shorter than the key's (R14, flexible extensions).

    A cylinder the key reaches several ways gets the longest of their intervals
    (any way without an interval: no limit of its own).
    """
    [authorizations] = await authorizations_for_keys(SerialSession(session), [key.id])
    longest: dict[int, int | None] = {}
    for a in authorizations:
        hours = a.effective_extension_interval_hours
        if a.cylinder_id in longest:
            before = longest[a.cylinder_id]
            longest[a.cylinder_id] = None if before is None or hours is None else max(before, hours)
        else:
            longest[a.cylinder_id] = hours
    own = key.extension_interval_hours
    shorter = {
        cylinder_id: hours
        for cylinder_id, hours in longest.items()
        if hours is not None and (own is None or hours < own)
    }
    if not shorter:
        return []
    uids = dict(
        (
            await session.execute(
                select(Cylinder.id, Cylinder.uid)
                .where(Cylinder.id.in_(shorter))
                .execution_options(**_EVERY_DOMAIN)
            )
        ).all()
    )
    entries = []
    for cylinder_id, hours in shorter.items():
        until = _capped(key, now, hours)
        if until is not None and cylinder_id in uids:
            entries.append({"cylinderUid": uids[cylinder_id], "validUntil": rfc3339(until)})
    return sorted(entries, key=lambda e: e["cylinderUid"])
