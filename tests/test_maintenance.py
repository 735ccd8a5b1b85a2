"""Periodic upkeep: every tenant's key blocking list is reissued at least hourly (R21)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.access.blocking_list import issue_blocking_list
from app.db import Database
from app.models import BlockingList, utcnow
from app.workers.maintenance import reissue_blocking_lists
from tests.conftest import make_tenant


async def _versions(database: Database, tenant_id: str) -> list[int]:
    async with database.tenant_session(tenant_id) as s:
        return list(await s.scalars(select(BlockingList.version).order_by(BlockingList.version)))


async def test_lists_an_hour_old_are_reissued_and_fresh_ones_left_alone(
    database: Database,
) -> None:
    # given: one tenant whose list is two hours old, one with a fresh list, one with none
    now = utcnow()
    stale = await make_tenant(database, "Stale")
    fresh = await make_tenant(database, "Fresh")
    empty = await make_tenant(database, "Empty")
    async with database.tenant_session(stale.tenant_id) as s:
        await issue_blocking_list(s, now=now - timedelta(hours=2))
        await s.commit()
    async with database.tenant_session(fresh.tenant_id) as s:
        await issue_blocking_list(s, now=now - timedelta(minutes=10))
        await s.commit()
    # when
    report = await reissue_blocking_lists(database, now=now)
    # then
    assert {stale.tenant_id, empty.tenant_id} <= set(report.reissued)
    assert fresh.tenant_id not in report.reissued
    assert await _versions(database, stale.tenant_id) == [1, 2]
    assert await _versions(database, fresh.tenant_id) == [1]
    assert await _versions(database, empty.tenant_id) == [1]
    # and: running again at once (a redelivered message) changes nothing
    again = await reissue_blocking_lists(database, now=now)
    assert stale.tenant_id not in again.reissued and again.failed == []


async def test_devices_that_missed_two_heartbeats_go_offline(database: Database) -> None:
    # R23: a device missing two intervals is offline
    from app.models import RemoteDevice, RemoteDeviceKind
    from app.workers.maintenance import mark_devices_offline

    tenant = await make_tenant(database, "Beats")
    now = utcnow()
    async with database.tenant_session(tenant.tenant_id) as s:
        quiet = RemoteDevice(
            domain_id=tenant.default_domain_id,
            name="Quiet",
            serial="Q-1",
            kind=RemoteDeviceKind.WALL,
            firmware_version="5.2.0",
            bootloader_version="2.1.0",
            heartbeat_interval_seconds=60,
            online=True,
            last_heartbeat_at=now - timedelta(seconds=130),
        )
        lively = RemoteDevice(
            domain_id=tenant.default_domain_id,
            name="Lively",
            serial="L-1",
            kind=RemoteDeviceKind.WALL,
            firmware_version="5.2.0",
            bootloader_version="2.1.0",
            heartbeat_interval_seconds=60,
            online=True,
            last_heartbeat_at=now - timedelta(seconds=70),
        )
        s.add_all([quiet, lively])
        await s.commit()
    went = await mark_devices_offline(database, now=now)
    assert quiet.id in went and lively.id not in went
    async with database.tenant_session(tenant.tenant_id) as s:
        states = dict((await s.execute(select(RemoteDevice.serial, RemoteDevice.online))).all())
    assert states == {"Q-1": False, "L-1": True}
    assert quiet.id not in await mark_devices_offline(database, now=now)
