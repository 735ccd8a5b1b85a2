"""Periodic upkeep across tenants: the hourly key blocking list (R21), devices that
stopped calling (R23), spent request nonces (R22) and the generation-1 updater
follow-up (R26: the admin is told when the updater wall device may leave updater
mode, also when the last waiting key stopped waiting without a device report).

Runs from the periodic sender (once per interval per deployment, R3);
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
from app.events.publish import DeviceStatusChanged, publish_now
from app.firmware.gen1_followup import release_gen1_updater
from app.models import Tenant, utcnow
from app.workers.broker import configure_broker, register_periodic, worker_settings
from app.workers.outbox import notify_outbox

log = logging.getLogger("keywarden.maintenance")

CHECK_SECONDS = 300  # a list is reissued within 5 minutes of turning an hour old
DEVICE_CHECK_SECONDS = 30  # "offline" shows within half a minute of the second missed beat


@dataclass
class ReissueReport:
    reissued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


async def reissue_blocking_lists(
    database: Database, *, now: datetime | None = None
) -> ReissueReport:
    """Reissue every tenant's blocking list that is an hour old (R21: at least hourly)."""
    now = now or utcnow()
    report = ReissueReport()
    for tenant_id in await _tenant_ids(database):
        try:
            async with database.tenant_session(tenant_id) as session:
                if await reissue_if_due(session, now) is not None:
                    report.reissued.append(tenant_id)
                await session.commit()
        except Exception:
            log.exception("blocking list reissue failed for tenant %s", tenant_id)
            report.failed.append(tenant_id)
    return report


async def _tenant_ids(database: Database) -> list[str]:
    async with database.system_session() as system:
        return list(await system.scalars(select(Tenant.id).order_by(Tenant.id)))


async def mark_devices_offline(database: Database, *, now: datetime | None = None) -> list[int]:
    """Devices of every tenant that missed two heartbeat intervals go offline (R23); on the
    way, spent device nonces are forgotten and bridge logins left unsigned expire (R5)."""
    from app.bridges.login import expire_unfinished_logins
    from app.devices.presence import mark_offline_devices
    from app.devices.protocol import prune_nonces

    now = now or utcnow()
    offline: list[int] = []
    for tenant_id in await _tenant_ids(database):
        try:
            async with database.tenant_session(tenant_id) as session:
                went = await mark_offline_devices(session, now)
                await prune_nonces(session, now)
                await expire_unfinished_logins(session, now)
                await session.commit()
        except Exception:
            log.exception("device upkeep failed for tenant %s", tenant_id)
            continue
        offline += went
        if went:
            await _announce_offline(tenant_id, went, now)
    return offline


async def _announce_offline(tenant_id: str, device_ids: list[int], now: datetime) -> None:
    """Tell deviceStatus subscribers (R23); a lost announcement loses no state."""
    events = [DeviceStatusChanged(tenant_id, d, False, now) for d in device_ids]
    try:
        await publish_now(worker_settings(), *events)
    except Exception:
        log.warning("could not announce %d offline device(s)", len(events), exc_info=True)


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


async def release_gen1_updaters(database: Database, *, now: datetime | None = None) -> list[str]:
    """Every tenant whose generation-1 keys all had their firmware: its administrators are told,
    once, that the updater wall device may go back to normal mode (R26, R33); those tenants."""
    now = now or utcnow()
    told: list[str] = []
    for tenant_id in await _tenant_ids(database):
        try:
            async with database.tenant_session(tenant_id) as session:
                if await release_gen1_updater(session, now) is not None:
                    told.append(tenant_id)
                await session.commit()
        except Exception:
            log.exception("generation-1 updater follow-up failed for tenant %s", tenant_id)
    if told:
        notify_outbox()
    return told


async def _run_releases(settings: Settings) -> list[str]:
    database = Database(settings)
    try:
        return await release_gen1_updaters(database)
    finally:
        await database.dispose()


@dramatiq.actor(actor_name="release_gen1_updaters", broker=configure_broker(), max_retries=3)
def release_gen1_updaters_actor() -> None:
    """Dramatiq entry point; carries no data, idempotent (each image's notice is sent once)."""
    told = asyncio.run(_run_releases(worker_settings()))
    if told:
        log.info("told %d tenant(s) their generation-1 updater may leave updater mode", len(told))


register_periodic(release_gen1_updaters_actor, seconds=CHECK_SECONDS)


async def _run_devices(settings: Settings) -> list[int]:
    database = Database(settings)
    try:
        return await mark_devices_offline(database)
    finally:
        await database.dispose()


@dramatiq.actor(actor_name="mark_devices_offline", broker=configure_broker(), max_retries=1)
def mark_devices_offline_actor() -> None:
    """Dramatiq entry point; carries no data, idempotent."""
    went = asyncio.run(_run_devices(worker_settings()))
    if went:
        log.info("%d device(s) went offline", len(went))


register_periodic(mark_devices_offline_actor, seconds=DEVICE_CHECK_SECONDS)
