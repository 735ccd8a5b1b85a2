"""Editing and removing access objects: schedules, access profiles, key groups and cylinder
groups (R12–R15).

An edit that changes desired access changes its sources and lets the job engine
plan the programming jobs (R15): exactly the difference, nothing for what stays.
What a key holds itself (its schedule, its key groups) travels as remote jobs (R18).
Both are announced on ``jobEvents`` by the engine and the remote-job functions.

Schedules, profiles and key groups belong to the whole tenant; the keys and
cylinders they name belong to domains (R8). A caller limited to some domains
names only elements it sees, and a list it replaces keeps the elements it does
not see. Removing an object still in use is CONFLICT naming its users.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.engine import OPEN, ReconcileResult, reconcile
from app.access.remote_jobs import ensure_remote_jobs
from app.access.service import (
    NAME_MAX,
    change_cylinder_group_members,
    change_group_members,
    check_interval,
    check_windows,
    e3_keys,
    visible_id,
    visible_ids,
)
from app.errors import CONFLICT, IMMUTABLE, DomainError
from app.keys.service import schedule_payload
from app.models import (
    AccessEntry,
    AccessProfile,
    AccessProfileCylinder,
    Cylinder,
    CylinderGroup,
    CylinderGroupAuthorization,
    CylinderGroupMember,
    DirectAuthorization,
    Employee,
    EmployeeAccessProfile,
    Key,
    KeyAccessProfile,
    KeyGroup,
    KeyGroupMember,
    KeyStatus,
    KeyType,
    ProgrammingJob,
    ProgrammingJobChange,
    RemoteJob,
    RemoteJobKind,
    Schedule,
)
from app.names import flush_named, free_name
from app.tenants.scoping import ALL_DOMAINS

# An unset optional input ("leave as it is"), told apart from None ("clear it").
UNCHANGED: Any = object()
# Users named in a CONFLICT message; the rest are counted.
NAMED_USERS = 10

RowT = TypeVar("RowT", Schedule, AccessProfile, KeyGroup, CylinderGroup)


@dataclass
class AccessObjectChange(Generic[RowT]):
    """An edited schedule, profile, key group or cylinder group and the jobs the edit caused
    (R15, R18)."""

    row: RowT
    programming_jobs: list[ProgrammingJob] = field(default_factory=list)
    remote_jobs: list[RemoteJob] = field(default_factory=list)


async def update_schedule(
    session: AsyncSession,
    schedule: Schedule,
    *,
    name: str | None,
    windows: Sequence[dict[str, Any]] | None,
) -> AccessObjectChange[Schedule]:
    """Rename a schedule or change its windows (R12).

    Cylinders hold no time windows, so no programming job; every issued key that
    carries the schedule gets its new windows through a SCHEDULE remote job (R18).
    The default "Always" is fixed: E1 keys, which have no clock, hold it (R12).
    """
    if schedule.is_default:
        raise DomainError(
            IMMUTABLE, f"scheduleId: the default schedule {schedule.name!r} is fixed (R12)",
            "scheduleId",
        )
    if name is not None:
        await _rename(session, schedule, name, "schedule")
    cleaned = None if windows is None else check_windows(windows)
    if cleaned is None or cleaned == schedule.windows:
        await session.flush()
        return AccessObjectChange(schedule)
    schedule.windows = cleaned
    await session.flush()
    carriers = list(
        await session.scalars(
            select(Key)
            .where(
                Key.schedule_id == schedule.id,
                Key.status == KeyStatus.ISSUED,
                Key.type != KeyType.E1,
            )
            .order_by(Key.id),
            # A schedule is the tenant's: keys of every domain carry its new windows.
            execution_options={ALL_DOMAINS: True},
        )
    )
    domains = session.info.get("domain_ids")
    seen = {k.id for k in carriers if domains is None or k.domain_id in domains}
    jobs = await ensure_remote_jobs(
        session, carriers, RemoteJobKind.SCHEDULE, schedule_payload(schedule)
    )
    # The payload shows the jobs of keys the caller sees (R8); jobEvents filters the same way.
    return AccessObjectChange(schedule, remote_jobs=[j for j in jobs if j.key_id in seen])


async def update_access_profile(
    session: AsyncSession,
    profile: AccessProfile,
    *,
    name: str | None,
    cylinder_ids: Sequence[int] | None,
    schedule_id: int | None,
    extension_interval_hours: Any = UNCHANGED,
) -> AccessObjectChange[AccessProfile]:
    """Change a profile's name, cylinders, schedule or interval (R13, R14).

    ``cylinder_ids`` replaces the profile's cylinders in the caller's domains
    (others stay). Cylinders added or removed are reconciled: ADD or REMOVE jobs
    for the keys holding the profile, directly or through their holder, and no
    job where nothing changed (R15). Schedule and interval change no cylinder: the
    key carries one schedule (R12), and a profile's interval is applied at each
    revalidation (R14).
    """
    if name is not None:
        await _rename(session, profile, name, "access profile")
    if extension_interval_hours is not UNCHANGED:
        profile.extension_interval_hours = check_interval(extension_interval_hours)
    if schedule_id is not None:
        await visible_id(session, Schedule, schedule_id, "scheduleId")
        profile.schedule_id = schedule_id
    await session.flush()
    if cylinder_ids is None:
        return AccessObjectChange(profile)
    wanted = set(await visible_ids(session, Cylinder, cylinder_ids, "cylinderIds"))
    present = set(
        await session.scalars(
            select(AccessProfileCylinder.cylinder_id)
            .join(Cylinder, Cylinder.id == AccessProfileCylinder.cylinder_id)  # caller's domains
            .where(AccessProfileCylinder.access_profile_id == profile.id)
        )
    )
    added, removed = wanted - present, present - wanted
    session.add_all(
        AccessProfileCylinder(access_profile_id=profile.id, cylinder_id=c) for c in added
    )
    if removed:
        await session.execute(
            delete(AccessProfileCylinder).where(
                AccessProfileCylinder.access_profile_id == profile.id,
                AccessProfileCylinder.cylinder_id.in_(removed),
            )
        )
    await session.flush()
    reconciled = await reconcile(session, added | removed) if added | removed else None
    return AccessObjectChange(profile, programming_jobs=await _visible_jobs(session, reconciled))


async def update_key_group(
    session: AsyncSession, group: KeyGroup, *, name: str | None, key_ids: Sequence[int] | None
) -> AccessObjectChange[KeyGroup]:
    """Rename a key group or set its members (R13).

    ``key_ids`` replaces the members in the caller's domains (others stay); only
    E3 keys form groups. Joining and leaving keys get a remote job for their key
    memory (R18); a key that leaves gets its own line back on the group's
    cylinders where it is still authorised another way, one that joins no longer
    needs one there (R15, R20).
    """
    if name is not None:
        await _rename(session, group, name, "key group")
    if key_ids is None:
        return AccessObjectChange(group)
    wanted = await e3_keys(session, key_ids, "keyIds")
    members = list(
        await session.scalars(
            select(Key)
            .join(KeyGroupMember, KeyGroupMember.key_id == Key.id)  # caller's domains
            .where(KeyGroupMember.key_group_id == group.id)
        )
    )
    keep = {k.id for k in wanted}
    change = await change_group_members(
        session, group, add=wanted, remove=[k for k in members if k.id not in keep]
    )
    return AccessObjectChange(
        group,
        programming_jobs=await _visible_jobs(session, change.reconciled),
        remote_jobs=change.remote_jobs,
    )


async def update_cylinder_group(
    session: AsyncSession,
    group: CylinderGroup,
    *,
    name: str | None,
    cylinder_ids: Sequence[int] | None,
) -> AccessObjectChange[CylinderGroup]:
    """Rename a cylinder group or set its cylinders (R13).

    ``cylinder_ids`` replaces the members in the caller's domains (others stay). A
    cylinder that joins or leaves is reprogrammed; the keys authorised on the group
    are not: they hold the group, one slot, whatever it contains (R13, R15).
    """
    if name is not None:
        await _rename(session, group, name, "cylinder group")
    if cylinder_ids is None:
        return AccessObjectChange(group)
    wanted = set(await visible_ids(session, Cylinder, cylinder_ids, "cylinderIds"))
    present = set(
        await session.scalars(
            select(CylinderGroupMember.cylinder_id)
            .join(Cylinder, Cylinder.id == CylinderGroupMember.cylinder_id)  # caller's domains
            .where(CylinderGroupMember.cylinder_group_id == group.id)
        )
    )
    if wanted == present:
        return AccessObjectChange(group)
    reconciled = await change_cylinder_group_members(
        session, group, add=sorted(wanted - present), remove=sorted(present - wanted)
    )
    return AccessObjectChange(group, programming_jobs=await _visible_jobs(session, reconciled))


# --- removing ------------------------------------------------------------------------


async def delete_schedule(session: AsyncSession, schedule: Schedule) -> int:
    """Remove a schedule no key and no access profile uses (R12); its id.

    Every key must keep a schedule (R12), so a schedule in use is CONFLICT naming
    the profiles and keys that use it; the default "Always" is never removed.
    """
    if schedule.is_default:
        raise DomainError(
            IMMUTABLE, f"id: the default schedule {schedule.name!r} is fixed (R12)", "id"
        )
    await _refuse_in_use(
        session,
        f"the schedule {schedule.name!r}",
        [
            ("access profiles", select(AccessProfile.name).where(
                AccessProfile.schedule_id == schedule.id)),
            ("keys", select(Key.marking).where(Key.schedule_id == schedule.id)),
        ],
    )
    return await _delete(session, schedule)


async def delete_access_profile(session: AsyncSession, profile: AccessProfile) -> int:
    """Remove an access profile that no key and no employee holds (R13); its id.

    A profile nobody holds grants nothing, so removing it changes no cylinder.
    """
    await _refuse_in_use(
        session,
        f"the access profile {profile.name!r}",
        [
            ("keys", select(Key.marking)
             .join(KeyAccessProfile, KeyAccessProfile.key_id == Key.id)
             .where(KeyAccessProfile.access_profile_id == profile.id)),
            ("employees", select(Employee.last_name + ", " + Employee.first_name)
             .join(EmployeeAccessProfile, EmployeeAccessProfile.employee_id == Employee.id)
             .where(EmployeeAccessProfile.access_profile_id == profile.id)),
        ],
    )
    return await _delete(session, profile)


async def delete_key_group(session: AsyncSession, group: KeyGroup) -> int:
    """Remove a key group that no cylinder authorises or still holds (R13); its id.

    A group authorised on a cylinder, still programmed in one, or named by an open
    programming job is CONFLICT naming those cylinders: remove its authorizations
    and let the jobs be carried out first. Its members' key memories forget it
    through remote jobs (R18), announced on jobEvents.
    """
    await _refuse_in_use(
        session,
        f"the key group {group.name!r}",
        [
            ("cylinders authorising it", select(Cylinder.marking)
             .join(DirectAuthorization, DirectAuthorization.cylinder_id == Cylinder.id)
             .where(DirectAuthorization.key_group_id == group.id)),
            ("cylinders still holding it", select(Cylinder.marking)
             .join(AccessEntry, AccessEntry.cylinder_id == Cylinder.id)
             .where(AccessEntry.key_group_id == group.id, AccessEntry.programmed.is_(True))),
            ("cylinders with open jobs for it", select(Cylinder.marking)
             .join(ProgrammingJob, ProgrammingJob.cylinder_id == Cylinder.id)
             .join(ProgrammingJobChange, ProgrammingJobChange.job_id == ProgrammingJob.id)
             .where(ProgrammingJobChange.key_group_id == group.id,
                    ProgrammingJob.status.in_(OPEN))),
        ],
    )
    members = list(
        await session.scalars(
            select(Key)
            .join(KeyGroupMember, KeyGroupMember.key_id == Key.id)
            .where(KeyGroupMember.key_group_id == group.id),
            execution_options={ALL_DOMAINS: True},  # every member forgets the group
        )
    )
    await change_group_members(session, group, add=(), remove=members)
    return await _delete(session, group)


async def delete_cylinder_group(session: AsyncSession, group: CylinderGroup) -> int:
    """Remove a cylinder group that no key holds and no cylinder knows (R13); its id.

    Keys authorised on it, its member cylinders, cylinders still holding it and
    cylinders with open jobs for it make CONFLICT naming them: take the keys off
    it and its cylinders out, and let the cylinders' jobs be carried out first.
    """
    await _refuse_in_use(
        session,
        f"the cylinder group {group.name!r}",
        [
            ("keys authorised on it", select(Key.marking)
             .join(CylinderGroupAuthorization, CylinderGroupAuthorization.key_id == Key.id)
             .where(CylinderGroupAuthorization.cylinder_group_id == group.id)),
            ("its cylinders", select(Cylinder.marking)
             .join(CylinderGroupMember, CylinderGroupMember.cylinder_id == Cylinder.id)
             .where(CylinderGroupMember.cylinder_group_id == group.id)),
            ("cylinders still holding it", select(Cylinder.marking)
             .join(AccessEntry, AccessEntry.cylinder_id == Cylinder.id)
             .where(AccessEntry.cylinder_group_id == group.id,
                    AccessEntry.programmed.is_(True))),
            ("cylinders with open jobs for it", select(Cylinder.marking)
             .join(ProgrammingJob, ProgrammingJob.cylinder_id == Cylinder.id)
             .join(ProgrammingJobChange, ProgrammingJobChange.job_id == ProgrammingJob.id)
             .where(ProgrammingJobChange.cylinder_group_id == group.id,
                    ProgrammingJob.status.in_(OPEN))),
        ],
    )
    return await _delete(session, group)


# --- helpers -------------------------------------------------------------------------


async def _rename(session: AsyncSession, row: Any, name: str, what: str) -> None:
    """Rename ``row`` (a schedule, profile or group) to ``name``: no other of the tenant's may
    hold it, case aside, nor take it meanwhile (CONFLICT on ``name``)."""
    row.name = await free_name(
        session, type(row), name, own_id=row.id, what=what, limit=NAME_MAX
    )
    await flush_named(session, row.name, what=what)


async def _refuse_in_use(
    session: AsyncSession, what: str, users: Sequence[tuple[str, Select[tuple[str]]]]
) -> None:
    """CONFLICT on ``id`` naming who uses ``what``: those the caller sees by name (R8: no
    element of another domain is named), the others counted."""
    parts = []
    for label, stmt in users:
        stmt = stmt.distinct().order_by(stmt.selected_columns[0])
        seen = list(await session.scalars(stmt))
        every = list(await session.scalars(stmt, execution_options={ALL_DOMAINS: True}))
        if not every:
            continue
        named = seen[:NAMED_USERS]
        if len(seen) > len(named):
            named.append(f"{len(seen) - len(named)} more")
        if len(every) > len(seen):
            named.append(f"{len(every) - len(seen)} outside your domains")
        parts.append(f"{label}: {', '.join(named)}")
    if parts:
        raise DomainError(CONFLICT, f"id: {what} is in use by " + "; ".join(parts), "id")


async def _delete(
    session: AsyncSession, row: Schedule | AccessProfile | KeyGroup | CylinderGroup
) -> int:
    ident = row.id
    await session.delete(row)
    await session.flush()
    return ident


async def _visible_jobs(
    session: AsyncSession, reconciled: ReconcileResult | None
) -> list[ProgrammingJob]:
    """The jobs created or changed, on cylinders the caller sees (R8)."""
    if reconciled is None or not reconciled.touched:
        return []
    seen = set(
        await session.scalars(
            select(Cylinder.id).where(Cylinder.id.in_({j.cylinder_id for j in reconciled.touched}))
        )
    )
    return [j for j in reconciled.touched if j.cylinder_id in seen]

