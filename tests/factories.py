"""Rows for tests, written straight into a tenant (the GraphQL tests then read them).

The builders (``new_cylinder``, ``new_key``, ``new_profile``, ``add_domain``) are what every
seeding function here and in the test modules makes its rows with."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.errors import DomainError
from app.models import (
    AccessProfile,
    AccessProfileCylinder,
    Cylinder,
    CylinderStatus,
    Domain,
    Employee,
    Key,
    KeyAccessProfile,
    KeyGeneration,
    KeyStatus,
    KeyType,
    Schedule,
)
from app.tenants.service import NewTenant


async def add_domain(database: Database, tenant: NewTenant, name: str) -> int:
    """A new, empty domain of the tenant (R8); its id."""
    async with database.tenant_session(tenant.tenant_id) as s:
        domain = Domain(name=name)
        s.add(domain)
        await s.commit()
        return domain.id


async def default_schedule(session: AsyncSession) -> int:
    """The id of the tenant's default schedule "Always" (R12)."""
    schedule_id = await session.scalar(select(Schedule.id).where(Schedule.is_default))
    assert schedule_id is not None
    return int(schedule_id)


def new_cylinder(domain_id: int, marking: str, **fields: Any) -> Cylinder:
    """An ACTIVE cylinder with a random UID (``fields`` set or override columns)."""
    values: dict[str, Any] = {"uid": secrets.token_hex(8), "status": CylinderStatus.ACTIVE}
    return Cylinder(domain_id=domain_id, marking=marking, **{**values, **fields})


def new_key(domain_id: int, marking: str, schedule_id: int, **fields: Any) -> Key:
    """A generation-2 E3 key in stock with firmware 16.3.7 and a random UID (``fields`` set or
    override columns: ``type``, ``status``, ``holder_id`` ...)."""
    values: dict[str, Any] = {
        "domain_id": domain_id,
        "marking": marking,
        "schedule_id": schedule_id,
        "uid": secrets.token_hex(8),
        "type": KeyType.E3,
        "generation": KeyGeneration.GEN2,
        "firmware_version": "16.3.7",
        "status": KeyStatus.IN_STOCK,
    }
    return Key(**{**values, **fields})


async def new_profile(
    session: AsyncSession, name: str, schedule_id: int, cylinders: Sequence[Cylinder]
) -> AccessProfile:
    """An access profile on ``cylinders`` (added to the session with it), flushed (R13)."""
    profile = AccessProfile(name=name, schedule_id=schedule_id)
    session.add_all([profile, *cylinders])
    await session.flush()
    session.add_all(
        AccessProfileCylinder(access_profile_id=profile.id, cylinder_id=c.id) for c in cylinders
    )
    await session.flush()
    return profile


@dataclass
class Seeded:
    key_ids: list[int]
    cylinder_ids: list[int]
    employee_ids: list[int]
    profile_ids: list[int]
    second_domain_id: int


async def seed_elements(
    database: Database,
    tenant: NewTenant,
    *,
    keys: int = 60,
    cylinders: int = 10,
    prefix: str = "K",
) -> Seeded:
    """Keys (each with a holder and two profiles), cylinders and a second domain."""
    second = await add_domain(database, tenant, f"Second {secrets.token_hex(3)}")
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule_id = await default_schedule(s)
        cyls = [new_cylinder(tenant.default_domain_id, f"C-{i:03d}") for i in range(cylinders)]
        employees = [
            Employee(
                domain_id=tenant.default_domain_id,
                employee_number=f"{i:05d}",
                first_name="Emma",
                last_name=f"Holder{i:03d}",
            )
            for i in range(keys)
        ]
        s.add_all(cyls + employees)
        profiles = [await new_profile(s, f"Profile {i}", schedule_id, cyls[:3]) for i in range(3)]
        key_rows = [
            new_key(
                tenant.default_domain_id if i % 10 else second,
                f"{prefix}-{i:04d}",
                schedule_id,
                type=[KeyType.E1, KeyType.E2, KeyType.E3][i % 3],
                firmware_version="12.3.0",
                status=KeyStatus.ISSUED,
                holder_id=employees[i].id,
            )
            for i in range(keys)
        ]
        s.add_all(key_rows)
        await s.flush()
        s.add_all(
            KeyAccessProfile(key_id=k.id, access_profile_id=p.id)
            for k in key_rows
            for p in profiles[:2]
        )
        await s.commit()
        return Seeded(
            [k.id for k in key_rows],
            [c.id for c in cyls],
            [e.id for e in employees],
            [p.id for p in profiles],
            second,
        )


async def refused_second_writer(
    database: Database, tenant: NewTenant, write: Callable[[AsyncSession], Awaitable[Any]]
) -> DomainError:
    """``write`` in a transaction that stays open while a second transaction does the same
    ``write``, then commits first; the DomainError the second one raised (it must raise one:
    e.g. CONFLICT for a unique name the first took meanwhile)."""
    async with database.tenant_session(tenant.tenant_id) as first:
        await write(first)

        async def write_too() -> None:
            async with database.tenant_session(tenant.tenant_id) as second:
                await write(second)
                await second.commit()

        second = asyncio.create_task(write_too())
        await asyncio.sleep(0.5)  # the second reaches its write and waits on the first
        await first.commit()
    try:
        await second
    except DomainError as refused:
        return refused
    raise AssertionError("the second transaction's write went through")
