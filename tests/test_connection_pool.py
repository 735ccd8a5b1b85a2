"""The PostgreSQL connection pool hands out live connections without a ping per request
(issue 13 item 2): a connection the server closed is replaced, an idle one is pinged first,
a busy one never is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.config import Settings
from app.db import Database, app_database_url, check_when_idle
from app.models import Domain
from app.tenants.service import NewTenant
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="the pool of PostgreSQL")


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every ping of an asyncpg connection, counted; the ping itself still runs."""
    counted: list[int] = []
    real = AsyncAdapt_asyncpg_connection.ping

    def ping(self: AsyncAdapt_asyncpg_connection) -> None:
        counted.append(id(self))
        real(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", ping)
    return counted


@pytest.fixture
async def impatient(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine of the application role that counts every pause as idle."""
    engine = create_async_engine(app_database_url(settings), pool_size=2)
    check_when_idle(engine, idle_seconds=0.0)
    yield engine
    await engine.dispose()


async def _end_every_app_session(database: Database) -> None:
    async with database.owner_engine.connect() as owner:
        await owner.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE usename = 'keywarden_app' AND datname = current_database()"
            )
        )


async def _domains(database: Database, tenant: NewTenant) -> list[Any]:
    async with database.tenant_session(tenant.tenant_id) as session:
        return list(await session.scalars(select(Domain.name)))


async def test_connections_the_server_closed_are_replaced_without_failing_a_request(
    database: Database, tenant: NewTenant
) -> None:
    # given: several connections waiting in the pool
    await asyncio.gather(*(_domains(database, tenant) for _ in range(4)))

    # when: the server ends every session of the application role (a restart)
    await _end_every_app_session(database)
    await asyncio.sleep(0.2)  # the driver reads the server's goodbye

    # then: every following request is answered, on fresh connections
    for _ in range(4):
        assert await _domains(database, tenant) == ["Default"]


async def test_a_connection_in_steady_use_is_never_pinged(
    database: Database, tenant: NewTenant, pings: list[int]
) -> None:
    # when: requests follow each other, as under load
    for _ in range(10):
        await _domains(database, tenant)

    # then: no request paid for a ping
    assert pings == []


async def test_a_connection_that_waited_is_pinged_and_replaced_when_it_is_gone(
    impatient: AsyncEngine, database: Database, pings: list[int]
) -> None:
    # given: a connection that has been in the pool
    async with impatient.connect() as connection:
        await connection.execute(text("SELECT 1"))

    # when: it is used again, once alive and once after the server ended it unnoticed
    async with impatient.connect() as connection:
        assert await connection.scalar(text("SELECT 2")) == 2
    await _end_every_app_session(database)
    async with impatient.connect() as connection:
        assert await connection.scalar(text("SELECT 3")) == 3

    # then: the reuse of a connection that waited was checked with a ping
    assert len(pings) >= 1


async def test_a_snapshot_session_reads_every_statement_from_one_moment(
    database: Database, tenant: NewTenant
) -> None:
    # given: a snapshot session that has read once (an event batch of a subscription)
    reader = await database.snapshot_session(tenant.tenant_id)
    try:
        assert await reader.scalar(select(Domain.name)) == "Default"

        # when: another transaction renames the domain and commits meanwhile
        async with database.tenant_session(tenant.tenant_id) as writer:
            domain = (await writer.scalars(select(Domain))).one()
            domain.name = "Head office"
            await writer.commit()

        # then: the reader's later statements still see the moment of its first
        seen = await reader.scalar(select(Domain.name).where(Domain.id == domain.id))
        assert seen == "Default"
    finally:
        await reader.close()
    assert await _domains(database, tenant) == ["Head office"]
