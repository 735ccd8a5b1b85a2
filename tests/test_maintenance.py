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
