"""A key's effective authorizations and where each comes from (R13, R14).

A key gets a cylinder directly, through an access profile (its own or its
holder's), or through a key group authorised on the cylinder. The effective
extension interval of a profile's cylinders is the minimum of the profile's
and the key's interval when flexible extensions are on (R14), else the key's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from app.db import SerialSession
from app.models import (
    AccessEntry,
    AccessProfile,
    AccessProfileCylinder,
    CylinderGroup,
    CylinderGroupAuthorization,
    CylinderGroupMember,
    DirectAuthorization,
    EmployeeAccessProfile,
    Key,
    KeyAccessProfile,
    KeyGroup,
    KeyGroupMember,
    Tenant,
)


@dataclass(frozen=True)
class EffectiveAuthorization:
    """One right of a key on a cylinder: its origin, schedule and interval, and if programmed."""

    key_id: int
    cylinder_id: int
    via: str
    schedule_id: int
    effective_extension_interval_hours: int | None
    programmed: bool


def effective_interval(
    key_hours: int | None, profile_hours: int | None, flexible: bool
) -> int | None:
    """R14: a profile's interval applies only with flexible extensions, never beyond the key's."""
    if not flexible or profile_hours is None:
        return key_hours
    if key_hours is None:
        return profile_hours
    return min(key_hours, profile_hours)


async def authorizations_for_keys(
    db: SerialSession, key_ids: Sequence[int]
) -> list[list[EffectiveAuthorization]]:
    """Effective authorizations of each key, in a constant number of statements."""
    ids = set(key_ids)
    keys = {k.id: k for k in await db.scalars(select(Key).where(Key.id.in_(ids)))}
    flexible = bool(await db.scalar(select(Tenant.flexible_extensions)))  # scoped to the tenant

    direct = (
        await db.execute(
            select(DirectAuthorization.key_id, DirectAuthorization.cylinder_id).where(
                DirectAuthorization.key_id.in_(ids)
            )
        )
    ).all()
    grouped = (
        await db.execute(
            select(
                KeyGroupMember.key_id, KeyGroup.id, KeyGroup.name, DirectAuthorization.cylinder_id
            )
            .join(KeyGroup, KeyGroup.id == KeyGroupMember.key_group_id)
            .join(DirectAuthorization, DirectAuthorization.key_group_id == KeyGroup.id)
            .where(KeyGroupMember.key_id.in_(ids))
        )
    ).all()
    holder_of = {k.id: k.holder_id for k in keys.values() if k.holder_id is not None}
    profile_rows = (
        await db.execute(
            select(
                KeyAccessProfile.key_id,
                AccessProfile.name,
                AccessProfile.schedule_id,
                AccessProfile.extension_interval_hours,
                AccessProfileCylinder.cylinder_id,
            )
            .join(AccessProfile, AccessProfile.id == KeyAccessProfile.access_profile_id)
            .join(
                AccessProfileCylinder, AccessProfileCylinder.access_profile_id == AccessProfile.id
            )
            .where(KeyAccessProfile.key_id.in_(ids))
        )
    ).all()
    employee_profiles = []
    if holder_of:
        employee_profiles = (
            await db.execute(
                select(
                    EmployeeAccessProfile.employee_id,
                    AccessProfile.name,
                    AccessProfile.schedule_id,
                    AccessProfile.extension_interval_hours,
                    AccessProfileCylinder.cylinder_id,
                )
                .join(AccessProfile, AccessProfile.id == EmployeeAccessProfile.access_profile_id)
                .join(
                    AccessProfileCylinder,
                    AccessProfileCylinder.access_profile_id == AccessProfile.id,
                )
                .where(EmployeeAccessProfile.employee_id.in_(set(holder_of.values())))
            )
        ).all()
    cylinder_grouped = (
        await db.execute(
            select(
                CylinderGroupAuthorization.key_id,
                CylinderGroup.id,
                CylinderGroup.name,
                CylinderGroupMember.cylinder_id,
            )
            .join(CylinderGroup, CylinderGroup.id == CylinderGroupAuthorization.cylinder_group_id)
            .join(CylinderGroupMember, CylinderGroupMember.cylinder_group_id == CylinderGroup.id)
            .where(CylinderGroupAuthorization.key_id.in_(ids))
        )
    ).all()
    group_ids = {g for _, g, _, _ in grouped}
    cylinder_group_ids = {g for _, g, _, _ in cylinder_grouped}
    entries = (
        await db.execute(
            select(AccessEntry.cylinder_id, AccessEntry.key_id, AccessEntry.key_group_id).where(
                AccessEntry.programmed.is_(True),
                (AccessEntry.key_id.in_(ids)) | (AccessEntry.key_group_id.in_(group_ids)),
            )
        )
    ).all()
    programmed_memberships = set()
    if cylinder_group_ids:
        programmed_memberships = {
            (c, g)
            for c, g in (
                await db.execute(
                    select(AccessEntry.cylinder_id, AccessEntry.cylinder_group_id).where(
                        AccessEntry.programmed.is_(True),
                        AccessEntry.cylinder_group_id.in_(cylinder_group_ids),
                    )
                )
            ).all()
        }
    programmed_groups = {(c, g) for c, k, g in entries if g is not None}
    # A cylinder holding one of the key's groups admits the key as well (R20).
    programmed_keys = {(c, k) for c, k, g in entries if k is not None} | {
        (c, k) for k, g, _, c in grouped if (c, g) in programmed_groups
    }

    result: dict[int, list[EffectiveAuthorization]] = defaultdict(list)
    for key_id, cylinder_id in direct:
        key = keys[key_id]
        result[key_id].append(
            EffectiveAuthorization(
                key_id,
                cylinder_id,
                "direct",
                key.schedule_id,
                key.extension_interval_hours,
                (cylinder_id, key_id) in programmed_keys,
            )
        )
    for key_id, group_id, group_name, cylinder_id in grouped:
        key = keys[key_id]
        result[key_id].append(
            EffectiveAuthorization(
                key_id,
                cylinder_id,
                f"group:{group_name}",
                key.schedule_id,
                key.extension_interval_hours,
                (cylinder_id, group_id) in programmed_groups,
            )
        )
    for key_id, group_id, group_name, cylinder_id in cylinder_grouped:
        # R13: the key holds the group (one slot); the cylinder must hold its membership.
        key = keys[key_id]
        result[key_id].append(
            EffectiveAuthorization(
                key_id,
                cylinder_id,
                f"cylinderGroup:{group_name}",
                key.schedule_id,
                key.extension_interval_hours,
                (cylinder_id, group_id) in programmed_memberships,
            )
        )
    by_employee: dict[int, list[tuple[str, int, int | None, int]]] = defaultdict(list)
    for employee_id, *rest in employee_profiles:
        by_employee[employee_id].append(tuple(rest))  # type: ignore[arg-type]
    profile_by_key: dict[int, set[tuple[str, int, int | None, int]]] = defaultdict(set)
    for key_id, *rest in profile_rows:
        profile_by_key[key_id].add(tuple(rest))  # type: ignore[arg-type]
    for key_id, employee_id in holder_of.items():
        profile_by_key[key_id].update(by_employee.get(employee_id, []))
    for key_id, profiles in profile_by_key.items():
        key = keys[key_id]
        for name, schedule_id, hours, cylinder_id in sorted(profiles, key=lambda p: (p[0], p[3])):
            result[key_id].append(
                EffectiveAuthorization(
                    key_id,
                    cylinder_id,
                    f"profile:{name}",
                    schedule_id,
                    effective_interval(key.extension_interval_hours, hours, flexible),
                    (cylinder_id, key_id) in programmed_keys,
                )
            )
    return [result.get(k, []) for k in key_ids]
