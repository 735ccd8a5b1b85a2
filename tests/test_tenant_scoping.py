"""R1: every ORM statement is scoped to the session's tenant; on PostgreSQL RLS backs it up."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.db import Database
from app.models import Domain, Employee, Schedule
from app.tenants.scoping import TenantScopeError
from app.tenants.service import NewTenant
from tests.conftest import BACKEND


async def _add_employee(database: Database, t: NewTenant, number: str) -> None:
    async with database.tenant_session(t.tenant_id) as s:
        s.add(
            Employee(
                domain_id=t.default_domain_id,
                employee_number=number,
                first_name="Ada",
                last_name=f"L{number}",
            )
        )
        await s.commit()


async def test_a_query_that_forgets_the_tenant_filter_sees_only_its_own_tenant(
    database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given
    await _add_employee(database, tenant, "001")
    await _add_employee(database, other_tenant, "002")
    # when: no where clause on tenant_id at all
    async with database.tenant_session(tenant.tenant_id) as s:
        numbers = list(await s.scalars(select(Employee.employee_number)))
        domains = list(await s.scalars(select(Domain)))
    # then
    assert numbers == ["001"]
    assert {d.tenant_id for d in domains} == {tenant.tenant_id}


async def test_get_by_primary_key_of_another_tenant_finds_nothing(
    database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    async with database.tenant_session(tenant.tenant_id) as s:
        assert await s.get(Domain, other_tenant.default_domain_id) is None
        assert await s.get(Domain, tenant.default_domain_id) is not None


async def test_bulk_update_touches_only_the_own_tenant(
    database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    from sqlalchemy import update

    async with database.tenant_session(tenant.tenant_id) as s:
        await s.execute(update(Schedule).values(name="Renamed"))
        await s.commit()
    async with database.tenant_session(other_tenant.tenant_id) as s:
        assert list(await s.scalars(select(Schedule.name))) == ["Always"]


async def test_a_row_of_another_tenant_cannot_be_written(
    database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    async with database.tenant_session(tenant.tenant_id) as s:
        s.add(
            Employee(
                tenant_id=other_tenant.tenant_id,
                domain_id=other_tenant.default_domain_id,
                first_name="Eve",
                last_name="Intruder",
            )
        )
        with pytest.raises(TenantScopeError):
            await s.flush()


async def test_domain_scoped_session_sees_only_its_domains(
    database: Database, tenant: NewTenant
) -> None:
    # R8: elements of other domains do not exist for a principal limited to some domains
    async with database.tenant_session(tenant.tenant_id) as s:
        second = Domain(name="Second")
        s.add(second)
        await s.flush()
        s.add(Employee(domain_id=second.id, first_name="In", last_name="Second"))
        s.add(Employee(domain_id=tenant.default_domain_id, first_name="In", last_name="Default"))
        await s.commit()
    async with database.tenant_session(tenant.tenant_id, domain_ids=[second.id]) as s:
        assert list(await s.scalars(select(Employee.last_name))) == ["Second"]


@pytest.mark.skipif(BACKEND != "postgres", reason="row-level security exists on PostgreSQL only")
async def test_raw_sql_under_the_app_role_sees_only_its_own_tenant(
    database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    await _add_employee(database, tenant, "101")
    await _add_employee(database, other_tenant, "102")
    async with database.tenant_session(tenant.tenant_id) as s:
        who = await s.scalar(text("SELECT current_user"))
        rows = (await s.execute(text("SELECT employee_number FROM employees"))).scalars().all()
        tenants = (await s.execute(text("SELECT id FROM tenants"))).scalars().all()
    assert who == "keywarden_app"
    assert list(rows) == ["101"]
    assert list(tenants) == [tenant.tenant_id]


@pytest.mark.skipif(BACKEND != "postgres", reason="row-level security exists on PostgreSQL only")
async def test_raw_insert_into_another_tenant_is_refused_by_rls(
    database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    from sqlalchemy.exc import DBAPIError

    async with database.tenant_session(tenant.tenant_id) as s:
        with pytest.raises(DBAPIError, match="row-level security"):
            await s.execute(
                text("INSERT INTO domains (tenant_id, name, is_default) VALUES (:t, 'x', false)"),
                {"t": other_tenant.tenant_id},
            )


@pytest.mark.skipif(BACKEND != "postgres", reason="row-level security exists on PostgreSQL only")
async def test_without_a_tenant_setting_raw_sql_sees_nothing(
    database: Database, tenant: NewTenant
) -> None:
    async with database.app_engine.connect() as conn:
        count = await conn.scalar(text("SELECT count(*) FROM domains"))
    assert count == 0


async def test_an_orm_query_without_a_tenant_is_refused(database: Database) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    async with AsyncSession(database.app_engine) as s:
        with pytest.raises(TenantScopeError):
            await s.execute(select(Employee))


async def test_the_tenant_row_itself_is_scoped(
    database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    from app.models import Tenant

    async with database.tenant_session(other_tenant.tenant_id) as s:
        names = list(await s.scalars(select(Tenant.name)))
    assert names == ["Other Corp"]


@pytest.mark.skipif(BACKEND != "postgres", reason="row-level security exists on PostgreSQL only")
async def test_every_tenant_table_has_row_level_security(database: Database) -> None:
    from app.models import Base

    tenant_tables = {t.name for t in Base.metadata.tables.values() if "tenant_id" in t.columns}
    async with database.owner_engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT c.relname FROM pg_class c JOIN pg_policy p ON p.polrelid = c.oid "
                 "WHERE c.relrowsecurity AND p.polname = 'tenant_isolation'")
        )
        protected = {r[0] for r in rows}
    assert tenant_tables | {"tenants"} <= protected
