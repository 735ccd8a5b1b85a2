"""Shared fixtures: a migrated database (SQLite, or PostgreSQL with KEYWARDEN_TEST_DB=postgres)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app.config import Settings
from app.db import Database
from app.migrate import upgrade
from app.models import new_tenant_id
from app.tenants.service import NewTenant, create_tenant

BACKEND = os.environ.get("KEYWARDEN_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("KEYWARDEN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_url(name: str, driver: str = "postgresql+asyncpg") -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].split("://", 1)[1]
    return f"{driver}://{base}/{name}"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    var_dir = tmp_path_factory.mktemp("var")
    if BACKEND != "postgres":
        s = Settings(var_dir=var_dir, KEYWARDEN_MAX_UPLOAD_BYTES=256 * 1024)
        upgrade(s)
        yield s
        return
    name = f"keywarden_test_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    s = Settings(
        database_url=_pg_url(name), var_dir=var_dir, KEYWARDEN_MAX_UPLOAD_BYTES=256 * 1024
    )
    upgrade(s)
    yield s
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_admin(sql: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings)
    yield db
    await db.dispose()


async def make_tenant(database: Database, name: str = "Acme", **kwargs: object) -> NewTenant:
    tenant_id = new_tenant_id()
    async with database.tenant_session(tenant_id) as session:
        created = await create_tenant(session, name=name, **kwargs)  # type: ignore[arg-type]
        await session.commit()
    return created


@pytest.fixture
async def tenant(database: Database) -> NewTenant:
    return await make_tenant(database, "Acme")


@pytest.fixture
async def other_tenant(database: Database) -> NewTenant:
    return await make_tenant(database, "Other Corp")


def pytest_report_header() -> str:
    return f"keywarden test database: {BACKEND}"


__all__ = ["Path", "make_tenant", "text"]
