"""Access administration: schedules, profiles, key groups and the list function (R12–R16).

Every operation changes the *sources* of desired access and then lets the job
engine (``app.access.engine.reconcile``) bring the programming jobs in line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.engine import ReconcileResult, reconcile
from app.access.remote_jobs import ensure_remote_job
from app.db import bulk_insert, id_in
from app.errors import CONFLICT, INVALID, NOT_FOUND, UNSUPPORTED_KEY_TYPE, DomainError
from app.models import (
    AccessEntry,
    AccessProfile,
    AccessProfileCylinder,
    Cylinder,
    CylinderGroup,
    CylinderGroupAuthorization,
    CylinderGroupMember,
    DirectAuthorization,
    Key,
    KeyGroup,
    KeyGroupMember,
    KeyType,
    RemoteJob,
    RemoteJobKind,
    Schedule,
    Weekday,
)
from app.names import flush_named, free_name

MAX_GROUPS_PER_CYLINDER = 200  # R11: hardware limit
GROUP_WARNING_AT = 180
MAX_EXTENSION_HOURS = 730 * 24
MAX_LIST_CYLINDERS = 10_000
# [0-9], not \d: \d takes other scripts' digits ("0٩:00"), which no key's clock reads (R12).
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


@dataclass
class Notice:
    """A warning for the caller (contract type Warning)."""

    code: str
    message: str


@dataclass(frozen=True)
class SkippedCylinder:
    """A cylinder the list function plans no job for although it was named, and why (R16)."""

    cylinder_id: int
    code: str
    message: str


@dataclass
class AccessChangeResult:
    """What the list function did (R16)."""

    reconciled: ReconcileResult
    unchanged_cylinder_ids: list[int]
    warnings: list[Notice] = field(default_factory=list)
    skipped: list[SkippedCylinder] = field(default_factory=list)


# Schedules, profiles and groups: the length of their name column.
NAME_MAX = 200


def check_windows(windows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate schedule windows: days given, "HH:MM" times, start before end (R12)."""
    if not windows:
        raise DomainError(INVALID, "windows: a schedule needs at least one window", "windows")
    cleaned = []
    for i, window in enumerate(windows):
        days = list(window["days"])
        if not days:
            raise DomainError(
                INVALID, "windows: a window needs at least one day", f"windows.{i}.days"
            )
        names = [d.name if isinstance(d, Weekday) else str(d) for d in days]
        if len(set(names)) != len(names):
            raise DomainError(INVALID, "windows: a day is listed twice", f"windows.{i}.days")
        for part in ("start", "end"):
            if not _TIME.fullmatch(str(window[part])):
                raise DomainError(
                    INVALID,
                    f"windows: {part} must be HH:MM (00:00 to 23:59)",
                    f"windows.{i}.{part}",
                )
        if window["start"] >= window["end"]:
            raise DomainError(INVALID, "windows: start must be before end", f"windows.{i}.end")
        cleaned.append({"days": names, "start": window["start"], "end": window["end"]})
    return cleaned


def check_interval(hours: int | None, field_name: str = "extensionIntervalHours") -> int | None:
    """R14: an extension interval is 1 hour to 730 days (or none)."""
    if hours is not None and not 1 <= hours <= MAX_EXTENSION_HOURS:
        raise DomainError(
            INVALID, f"{field_name}: between 1 and {MAX_EXTENSION_HOURS} hours", field_name
        )
    return hours


async def create_schedule(
    session: AsyncSession, name: str, windows: Sequence[dict[str, Any]]
) -> Schedule:
    """A named weekly schedule (R12)."""
    name = await free_name(session, Schedule, name, own_id=None, what="schedule", limit=NAME_MAX)
    schedule = Schedule(name=name, windows=check_windows(windows))
    session.add(schedule)
    await flush_named(session, name, what="schedule")
    return schedule


async def visible_ids(
    session: AsyncSession, model: Any, ids: Sequence[int], field_name: str
) -> list[int]:
    """The ids, checked to exist for this principal (tenant and domains); NOT_FOUND names the first
    missing one by its position."""
    wanted = list(dict.fromkeys(ids))
    found = set(await session.scalars(select(model.id).where(id_in(session, model.id, wanted))))
    for i, ident in enumerate(ids):
        if ident not in found:
            raise DomainError(
                NOT_FOUND, f"{field_name}: no {model.__name__} with that id", f"{field_name}.{i}"
            )
    return wanted


async def visible_id(session: AsyncSession, model: Any, ident: int, field_name: str) -> int:
    """The id, checked to exist for this principal (tenant and domains); NOT_FOUND names
    ``field_name`` itself (a single id, not a list entry)."""
    if await session.scalar(select(model.id).where(model.id == ident)) is None:
        raise DomainError(NOT_FOUND, f"{field_name}: no {model.__name__} with that id", field_name)
    return ident


async def default_schedule_id(session: AsyncSession) -> int:
    schedule_id = await session.scalar(select(Schedule.id).where(Schedule.is_default))
    if schedule_id is None:  # pragma: no cover - every tenant is created with one
        raise DomainError(NOT_FOUND, "the tenant has no default schedule")
    return int(schedule_id)


async def create_access_profile(
    session: AsyncSession,
    *,
    name: str,
    cylinder_ids: Sequence[int],
    schedule_id: int | None,
    extension_interval_hours: int | None,
) -> AccessProfile:
    """A named set of cylinders with a schedule and optional interval (R13, R14)."""
    name = await free_name(
        session, AccessProfile, name, own_id=None, what="access profile", limit=NAME_MAX
    )
    check_interval(extension_interval_hours)
    cylinders = await visible_ids(session, Cylinder, cylinder_ids, "cylinderIds")
    if schedule_id is None:
        schedule_id = await default_schedule_id(session)
    else:
        await visible_id(session, Schedule, schedule_id, "scheduleId")
    profile = AccessProfile(
        name=name, schedule_id=schedule_id, extension_interval_hours=extension_interval_hours
    )
    session.add(profile)
    await flush_named(session, name, what="access profile")
    session.add_all(
        AccessProfileCylinder(access_profile_id=profile.id, cylinder_id=c) for c in cylinders
    )
    await session.flush()
    return profile


async def create_key_group(
    session: AsyncSession, *, name: str, key_ids: Sequence[int]
) -> tuple[KeyGroup, list[RemoteJob]]:
    """A group of E3 keys that cylinders can authorise as a whole (R10, R13)."""
    name = await free_name(session, KeyGroup, name, own_id=None, what="key group", limit=NAME_MAX)
    keys = await e3_keys(session, key_ids, "keyIds")
    group = KeyGroup(name=name)
    session.add(group)
    await flush_named(session, name, what="key group")
    jobs = await add_keys_to_group(session, group, keys)
    return group, jobs


async def e3_keys(session: AsyncSession, key_ids: Sequence[int], field_name: str) -> list[Key]:
    """The keys of ``key_ids`` in their order, each once, if all are visible E3 keys: only
    E3 keys form key groups (R10, R13); otherwise NOT_FOUND or UNSUPPORTED_KEY_TYPE naming
    the entry of ``field_name``."""
    await visible_ids(session, Key, key_ids, field_name)
    keys = {k.id: k for k in await session.scalars(select(Key).where(Key.id.in_(key_ids)))}
    for i, key_id in enumerate(key_ids):
        if keys[key_id].type != KeyType.E3:
            raise DomainError(
                UNSUPPORTED_KEY_TYPE,
                f"{field_name}: key {keys[key_id].marking} is {keys[key_id].type.name}; "
                "only E3 keys form key groups",
                f"{field_name}.{i}",
            )
    return [keys[k] for k in dict.fromkeys(key_ids)]


@dataclass
class GroupChange:
    """What changing a key group's members did: key memories (remote jobs) and cylinders."""

    remote_jobs: list[RemoteJob]
    reconciled: ReconcileResult


async def add_keys_to_group(
    session: AsyncSession, group: KeyGroup, keys: Sequence[Key]
) -> list[RemoteJob]:
    """Put E3 keys into a group: their key memory learns it (remote job); cylinders that
    already hold the group need no programming for them (R20)."""
    return (await change_group_members(session, group, add=keys, remove=())).remote_jobs


async def change_group_members(
    session: AsyncSession, group: KeyGroup, *, add: Sequence[Key], remove: Sequence[Key]
) -> GroupChange:
    """Keys join and leave a key group (R13, R18, R20).

    Each key's memory learns its groups through a remote job. A cylinder that holds
    the group opens for every member without a line of its own: a key that joins no
    longer needs its own line there, a key that leaves needs it back wherever it is
    still authorised another way. The job engine plans both.
    """
    present = set(
        await session.scalars(
            select(KeyGroupMember.key_id).where(KeyGroupMember.key_group_id == group.id)
        )
    )
    joining = [k for k in add if k.id not in present]
    leaving = [k for k in remove if k.id in present]
    session.add_all(KeyGroupMember(key_group_id=group.id, key_id=k.id) for k in joining)
    if leaving:
        await session.execute(
            delete(KeyGroupMember).where(
                KeyGroupMember.key_group_id == group.id,
                KeyGroupMember.key_id.in_([k.id for k in leaving]),
            )
        )
    await session.flush()
    jobs = []
    for key in [*joining, *leaving]:
        job = await ensure_remote_job(
            session, key, RemoteJobKind.AUTHORIZATIONS, await key_memory(session, key)
        )
        if job is not None:
            jobs.append(job)
    cylinders: set[int] = set()
    if joining:
        # Individual lines of these keys on cylinders that hold the group become redundant.
        cylinders.update(
            await session.scalars(
                select(AccessEntry.cylinder_id).where(
                    AccessEntry.key_id.in_([k.id for k in joining])
                )
            )
        )
    if leaving:
        cylinders.update(
            await session.scalars(
                select(DirectAuthorization.cylinder_id).where(
                    DirectAuthorization.key_group_id == group.id
                )
            )
        )
    reconciled = await reconcile(session, cylinders) if cylinders else ReconcileResult()
    return GroupChange(jobs, reconciled)


async def key_memory(session: AsyncSession, key: Key) -> dict[str, Any]:
    """What an E3 key's memory holds besides validity and schedule: its key groups and the
    cylinder groups it is authorised on, one slot each (R13, R18)."""
    groups = await session.scalars(
        select(KeyGroup.id)
        .join(KeyGroupMember, KeyGroupMember.key_group_id == KeyGroup.id)
        .where(KeyGroupMember.key_id == key.id)
        .order_by(KeyGroup.id)
    )
    cylinder_groups = await session.scalars(
        select(CylinderGroupAuthorization.cylinder_group_id)
        .where(CylinderGroupAuthorization.key_id == key.id)
        .order_by(CylinderGroupAuthorization.cylinder_group_id)
    )
    return {"keyGroups": list(groups), "cylinderGroups": list(cylinder_groups)}


async def create_cylinder_group(
    session: AsyncSession, *, name: str, cylinder_ids: Sequence[int]
) -> tuple[CylinderGroup, ReconcileResult]:
    """Cylinders that take one slot in an E3 key's memory (R13); each learns its membership
    through a programming job."""
    name = await free_name(
        session, CylinderGroup, name, own_id=None, what="cylinder group", limit=NAME_MAX
    )
    cylinders = await visible_ids(session, Cylinder, cylinder_ids, "cylinderIds")
    group = CylinderGroup(name=name)
    session.add(group)
    await flush_named(session, name, what="cylinder group")
    session.add_all(
        CylinderGroupMember(cylinder_group_id=group.id, cylinder_id=c) for c in cylinders
    )
    await session.flush()
    return group, await reconcile(session, cylinders)


async def change_cylinder_group_members(
    session: AsyncSession, group: CylinderGroup, *, add: Sequence[int], remove: Sequence[int]
) -> ReconcileResult:
    """R13: adding a cylinder to a group reprograms that cylinder, not the keys."""
    added = await visible_ids(session, Cylinder, add, "add") if add else []
    removed = await visible_ids(session, Cylinder, remove, "remove") if remove else []
    if set(added) & set(removed):
        raise DomainError(INVALID, "the same cylinder is both added and removed", "remove")
    present = set(
        await session.scalars(
            select(CylinderGroupMember.cylinder_id).where(
                CylinderGroupMember.cylinder_group_id == group.id
            )
        )
    )
    session.add_all(
        CylinderGroupMember(cylinder_group_id=group.id, cylinder_id=c)
        for c in added
        if c not in present
    )
    if removed:
        await session.execute(
            delete(CylinderGroupMember).where(
                CylinderGroupMember.cylinder_group_id == group.id,
                CylinderGroupMember.cylinder_id.in_(removed),
            )
        )
    await session.flush()
    return await reconcile(session, set(added) | set(removed))


async def set_cylinder_group_authorizations(
    session: AsyncSession, key: Key, cylinder_group_ids: Sequence[int]
) -> bool:
    """Authorise an E3 key on exactly these cylinder groups (R13); whether anything changed.

    The key's memory changes (a remote job), the cylinders do not.
    """
    if cylinder_group_ids and key.type != KeyType.E3:
        raise DomainError(
            UNSUPPORTED_KEY_TYPE,
            "cylinderGroupIds: only E3 keys hold cylinder groups",
            "cylinderGroupIds",
        )
    wanted = set(await visible_ids(session, CylinderGroup, cylinder_group_ids, "cylinderGroupIds"))
    present = set(
        await session.scalars(
            select(CylinderGroupAuthorization.cylinder_group_id).where(
                CylinderGroupAuthorization.key_id == key.id
            )
        )
    )
    if wanted == present:
        return False
    await session.execute(
        delete(CylinderGroupAuthorization).where(CylinderGroupAuthorization.key_id == key.id)
    )
    session.add_all(CylinderGroupAuthorization(key_id=key.id, cylinder_group_id=g) for g in wanted)
    await session.flush()
    return True


async def change_authorizations(
    session: AsyncSession,
    *,
    cylinder_ids: Sequence[int],
    add: Sequence[tuple[str, int]],
    remove: Sequence[tuple[str, int]],
) -> AccessChangeResult:
    """The list function (R16): add or remove keys and key groups on many cylinders at once.

    Cylinders that already hold the wanted state get no job and are reported as
    unchanged. Defective cylinders get no job either (they cannot be programmed) and
    are reported as skipped, with the reason; their desired list takes the change, for
    their replacement (R11, R32). A key still authorised through an access profile
    stays in the cylinder after its direct authorization is removed (warned).
    """
    if not cylinder_ids:
        raise DomainError(INVALID, "cylinderIds: name at least one cylinder", "cylinderIds")
    if len(cylinder_ids) > MAX_LIST_CYLINDERS:
        raise DomainError(
            INVALID, f"cylinderIds: at most {MAX_LIST_CYLINDERS} per call", "cylinderIds"
        )
    if not add and not remove:
        raise DomainError(INVALID, "add or remove at least one key or key group", "add")
    both = set(add) & set(remove)
    if both:
        raise DomainError(INVALID, "the same key or group is both added and removed", "remove")
    cylinders = await visible_ids(session, Cylinder, cylinder_ids, "cylinderIds")
    for name, subjects in (("add", add), ("remove", remove)):
        for kind, model in (("key", Key), ("group", KeyGroup)):
            ids = [ident for k, ident in subjects if k == kind]
            if ids:
                found = set(await session.scalars(select(model.id).where(model.id.in_(ids))))
                for i, (k, ident) in enumerate(subjects):
                    if k == kind and ident not in found:
                        raise DomainError(NOT_FOUND, f"{name}: no such {kind}", f"{name}.{i}")

    existing = {
        (c, ("key", k) if k is not None else ("group", g))
        for c, k, g in (
            await session.execute(
                select(
                    DirectAuthorization.cylinder_id,
                    DirectAuthorization.key_id,
                    DirectAuthorization.key_group_id,
                ).where(id_in(session, DirectAuthorization.cylinder_id, cylinders))
            )
        ).all()
    }
    new_rows = [
        {
            "tenant_id": session.info["tenant_id"],
            "cylinder_id": c,
            "key_id": ident if kind == "key" else None,
            "key_group_id": ident if kind == "group" else None,
        }
        for c in cylinders
        for kind, ident in add
        if (c, (kind, ident)) not in existing
    ]
    await bulk_insert(session, DirectAuthorization.__table__, new_rows)
    for kind, ident in remove:
        column = DirectAuthorization.key_id if kind == "key" else DirectAuthorization.key_group_id
        await session.execute(
            delete(DirectAuthorization).where(
                id_in(session, DirectAuthorization.cylinder_id, cylinders), column == ident
            )
        )
    await session.flush()
    warnings = await _group_limit(session, cylinders)
    reconciled = await reconcile(session, cylinders)
    touched = {j.cylinder_id for j in reconciled.touched}
    cancelled = set()
    if reconciled.cancelled:
        from app.models import ProgrammingJob

        cancelled = set(
            await session.scalars(
                select(ProgrammingJob.cylinder_id).where(
                    ProgrammingJob.id.in_(reconciled.cancelled)
                )
            )
        )
    changed = touched | cancelled
    defective = set(reconciled.defective_cylinder_ids)
    unchanged = [c for c in cylinders if c not in changed and c not in defective]
    skipped = await _skipped_defective(session, [c for c in cylinders if c in defective])
    removed_keys = [ident for kind, ident in remove if kind == "key"]
    if removed_keys:
        still = await session.scalar(
            select(func.count())
            .select_from(AccessEntry)
            .where(
                id_in(session, AccessEntry.cylinder_id, cylinders),
                AccessEntry.key_id.in_(removed_keys),
                AccessEntry.desired.is_(True),
            )
        )
        if still:
            warnings.append(
                Notice(
                    "STILL_AUTHORIZED",
                    f"{still} of the removed authorizations remain through access profiles",
                )
            )
    return AccessChangeResult(reconciled, unchanged, warnings, skipped)


async def _skipped_defective(
    session: AsyncSession, cylinder_ids: Sequence[int]
) -> list[SkippedCylinder]:
    """Defective cylinders named to the list function: they cannot be programmed, so they get
    no job, yet they do not hold the change either; their desired list keeps it for the
    replacement, which is reprogrammed fully (R11, R32)."""
    if not cylinder_ids:
        return []
    markings = dict(
        (
            await session.execute(
                select(Cylinder.id, Cylinder.marking).where(
                    id_in(session, Cylinder.id, cylinder_ids)
                )
            )
        ).all()
    )
    return [
        SkippedCylinder(
            c,
            "DEFECTIVE",
            f"cylinder {markings[c]} is defective and cannot be programmed: the change is kept "
            "in its desired access list and reaches its replacement (R11, R32)",
        )
        for c in cylinder_ids
    ]


async def _group_limit(session: AsyncSession, cylinders: Sequence[int]) -> list[Notice]:
    """R11: at most 200 key groups per cylinder; warn from 180."""
    counts = (
        await session.execute(
            select(DirectAuthorization.cylinder_id, func.count())
            .where(
                id_in(session, DirectAuthorization.cylinder_id, cylinders),
                DirectAuthorization.key_group_id.is_not(None),
            )
            .group_by(DirectAuthorization.cylinder_id)
            .having(func.count() >= GROUP_WARNING_AT)
        )
    ).all()
    over = [c for c, n in counts if n > MAX_GROUPS_PER_CYLINDER]
    if over:
        raise DomainError(
            CONFLICT,
            f"{len(over)} cylinder(s) would hold more than {MAX_GROUPS_PER_CYLINDER} key groups",
            "add",
        )
    if counts:
        return [
            Notice(
                "CYLINDER_GROUP_LIMIT",
                f"{len(counts)} cylinder(s) hold {GROUP_WARNING_AT} or more key groups "
                f"(the hardware takes at most {MAX_GROUPS_PER_CYLINDER})",
            )
        ]
    return []
