"""Rows for tests, written straight into a tenant (the GraphQL tests then read them)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from app.db import Database
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
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule_id = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        second = Domain(name=f"Second {secrets.token_hex(3)}")
        s.add(second)
        await s.flush()
        cyls = [
            Cylinder(
                domain_id=tenant.default_domain_id,
                marking=f"C-{i:03d}",
                uid=secrets.token_hex(8),
                status=CylinderStatus.ACTIVE,
            )
            for i in range(cylinders)
        ]
        profiles = [AccessProfile(name=f"Profile {i}", schedule_id=schedule_id) for i in range(3)]
        employees = [
            Employee(
                domain_id=tenant.default_domain_id,
                employee_number=f"{i:05d}",
                first_name="Emma",
                last_name=f"Holder{i:03d}",
            )
            for i in range(keys)
        ]
        s.add_all(cyls + profiles + employees)
        await s.flush()
        s.add_all(
            AccessProfileCylinder(access_profile_id=p.id, cylinder_id=c.id)
            for p in profiles
            for c in cyls[:3]
        )
        key_rows = [
            Key(
                domain_id=tenant.default_domain_id if i % 10 else second.id,
                marking=f"{prefix}-{i:04d}",
                uid=secrets.token_hex(8),
                type=[KeyType.E1, KeyType.E2, KeyType.E3][i % 3],
                generation=KeyGeneration.GEN2,
                firmware_version="12.3.0",
                status=KeyStatus.ISSUED,
                holder_id=employees[i].id,
                schedule_id=schedule_id,
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
            second.id,
        )
