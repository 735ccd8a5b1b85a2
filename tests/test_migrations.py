"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import Database
from app.models import (
    AccessEntry,
    Base,
    Cylinder,
    CylinderStatus,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    Schedule,
)
from app.tenants.service import NewTenant


async def test_migrated_database_matches_the_models(database: Database) -> None:
    async with database.owner_engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    assert diff == []


async def test_a_second_access_row_for_the_same_key_and_cylinder_is_refused(
    database: Database, tenant: NewTenant
) -> None:
    # R11: one access-list line per cylinder and key, even though the group column is NULL
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await s.scalar(select(Schedule.id))
        cylinder = Cylinder(domain_id=tenant.default_domain_id, marking="C",
                            uid=secrets.token_hex(4), status=CylinderStatus.ACTIVE)
        key = Key(domain_id=tenant.default_domain_id, marking="K", uid=secrets.token_hex(4),
                  type=KeyType.E3, generation=KeyGeneration.GEN2, firmware_version="12.3",
                  status=KeyStatus.ISSUED, schedule_id=schedule)
        s.add_all([cylinder, key])
        await s.flush()
        s.add(AccessEntry(cylinder_id=cylinder.id, key_id=key.id))
        await s.flush()
        s.add(AccessEntry(cylinder_id=cylinder.id, key_id=key.id))
        with pytest.raises(IntegrityError):
            await s.flush()
