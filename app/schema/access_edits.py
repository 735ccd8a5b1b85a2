"""Mutations that edit and remove access objects: schedules, access profiles, key groups and
cylinder groups (R12–R15).

Each edit answers the jobs its change caused (R15), announced on ``jobEvents``; a
removal of something still in use is CONFLICT naming its users.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.access import edits
from app.access.edits import AccessObjectChange
from app.models import AccessProfile as AccessProfileRow
from app.models import CylinderGroup as CylinderGroupRow
from app.models import KeyGroup as KeyGroupRow
from app.models import Schedule as ScheduleRow
from app.schema.access import (
    AccessProfilePayload,
    CylinderGroupPayload,
    KeyGroupPayload,
    SchedulePayload,
    TimeWindowInput,
)
from app.schema.common import DeletePayload
from app.schema.context import Info
from app.schema.relay import to_global_id
from app.schema.runner import Run, mutation, run
from app.schema.types import (
    AccessProfile,
    CylinderGroup,
    KeyGroup,
    ProgrammingJob,
    RemoteJob,
    Schedule,
)


@strawberry.input
class UpdateScheduleInput:
    schedule_id: strawberry.ID
    name: str | None = None
    windows: list[TimeWindowInput] | None = None


@strawberry.input
class UpdateAccessProfileInput:
    access_profile_id: strawberry.ID
    name: str | None = None
    cylinder_ids: list[strawberry.ID] | None = None
    schedule_id: strawberry.ID | None = None
    extension_interval_hours: int | None = strawberry.field(
        default=strawberry.UNSET, description="null: the key's own interval applies (R14)"
    )


@strawberry.input
class UpdateKeyGroupInput:
    key_group_id: strawberry.ID
    name: str | None = None
    key_ids: list[strawberry.ID] | None = None


@strawberry.input
class UpdateCylinderGroupInput:
    cylinder_group_id: strawberry.ID
    name: str | None = None
    cylinder_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="replaces the group's cylinders in the caller's domains"
    )


@strawberry.input
class DeleteInput:
    id: strawberry.ID = strawberry.field(
        description="a Schedule, AccessProfile, KeyGroup or CylinderGroup"
    )


def _programming_jobs(change: AccessObjectChange[Any]) -> list[ProgrammingJob]:
    return [ProgrammingJob(row=j) for j in change.programming_jobs]


def _remote_jobs(change: AccessObjectChange[Any]) -> list[RemoteJob]:
    return [RemoteJob(row=j) for j in change.remote_jobs]


async def _remove(
    info: Info, input: DeleteInput, model: type[Any], type_name: str,
    remove: Callable[[AsyncSession, Any], Awaitable[int]],
) -> DeletePayload:
    """Remove the ``type_name`` named by ``input.id`` with the service's ``remove``."""

    async def action(r: Run) -> int:
        return await remove(r.session, await r.row(model, input.id, type_name, "id"))

    return await run(
        info, DeletePayload, action,
        lambda ident: DeletePayload(deleted_id=strawberry.ID(to_global_id(type_name, ident))),
    )


@strawberry.type
class AccessEditMutations:
    @mutation(right="access.write", description="R12: keys carrying it get the new windows.")
    async def update_schedule(self, info: Info, input: UpdateScheduleInput) -> SchedulePayload:
        async def action(r: Run) -> AccessObjectChange[ScheduleRow]:
            schedule = await r.row(ScheduleRow, input.schedule_id, "Schedule", "scheduleId")
            windows = None if input.windows is None else [
                {"days": w.days, "start": w.start, "end": w.end} for w in input.windows
            ]
            return await edits.update_schedule(r.session, schedule, name=input.name,
                                               windows=windows)

        return await run(
            info, SchedulePayload, action,
            lambda done: SchedulePayload(
                schedule=Schedule(row=done.row), remote_jobs=_remote_jobs(done)
            ),
        )

    @mutation(right="access.write", description="R13, R15: cylinder changes create the jobs.")
    async def update_access_profile(
        self, info: Info, input: UpdateAccessProfileInput
    ) -> AccessProfilePayload:
        async def action(r: Run) -> AccessObjectChange[AccessProfileRow]:
            profile = await r.row(
                AccessProfileRow, input.access_profile_id, "AccessProfile", "accessProfileId"
            )
            interval = input.extension_interval_hours
            return await edits.update_access_profile(
                r.session, profile, name=input.name,
                cylinder_ids=r.optional_ids(input.cylinder_ids, "Cylinder", "cylinderIds"),
                schedule_id=r.optional_id(input.schedule_id, "Schedule", "scheduleId"),
                extension_interval_hours=(
                    edits.UNCHANGED if interval is strawberry.UNSET else interval
                ),
            )

        return await run(
            info, AccessProfilePayload, action,
            lambda done: AccessProfilePayload(
                access_profile=AccessProfile(row=done.row),
                programming_jobs=_programming_jobs(done),
            ),
        )

    @mutation(right="access.write", description="R13: members join and leave; R15 jobs follow.")
    async def update_key_group(self, info: Info, input: UpdateKeyGroupInput) -> KeyGroupPayload:
        async def action(r: Run) -> AccessObjectChange[KeyGroupRow]:
            group = await r.row(KeyGroupRow, input.key_group_id, "KeyGroup", "keyGroupId")
            return await edits.update_key_group(
                r.session, group, name=input.name,
                key_ids=r.optional_ids(input.key_ids, "Key", "keyIds"),
            )

        return await run(
            info, KeyGroupPayload, action,
            lambda done: KeyGroupPayload(
                key_group=KeyGroup(row=done.row),
                programming_jobs=_programming_jobs(done),
                remote_jobs=_remote_jobs(done),
            ),
        )

    @mutation(right="access.write", description="R13: a cylinder joining or leaving is "
              "reprogrammed, the keys holding the group are not.")
    async def update_cylinder_group(
        self, info: Info, input: UpdateCylinderGroupInput
    ) -> CylinderGroupPayload:
        async def action(r: Run) -> AccessObjectChange[CylinderGroupRow]:
            group = await r.row(
                CylinderGroupRow, input.cylinder_group_id, "CylinderGroup", "cylinderGroupId"
            )
            return await edits.update_cylinder_group(
                r.session, group, name=input.name,
                cylinder_ids=r.optional_ids(input.cylinder_ids, "Cylinder", "cylinderIds"),
            )

        return await run(
            info, CylinderGroupPayload, action,
            lambda done: CylinderGroupPayload(
                cylinder_group=CylinderGroup(row=done.row),
                programming_jobs=_programming_jobs(done),
            ),
        )

    @mutation(right="access.write", description="R12: CONFLICT while keys or profiles use it.")
    async def delete_schedule(self, info: Info, input: DeleteInput) -> DeletePayload:
        return await _remove(info, input, ScheduleRow, "Schedule", edits.delete_schedule)

    @mutation(right="access.write", description="R13: CONFLICT while keys or employees hold it.")
    async def delete_access_profile(self, info: Info, input: DeleteInput) -> DeletePayload:
        return await _remove(
            info, input, AccessProfileRow, "AccessProfile", edits.delete_access_profile
        )

    @mutation(right="access.write", description="R13: CONFLICT while cylinders hold it.")
    async def delete_key_group(self, info: Info, input: DeleteInput) -> DeletePayload:
        return await _remove(info, input, KeyGroupRow, "KeyGroup", edits.delete_key_group)

    @mutation(
        right="access.write",
        description="R13: CONFLICT while keys hold it or cylinders belong to it or still know it.",
    )
    async def delete_cylinder_group(self, info: Info, input: DeleteInput) -> DeletePayload:
        return await _remove(
            info, input, CylinderGroupRow, "CylinderGroup", edits.delete_cylinder_group
        )
