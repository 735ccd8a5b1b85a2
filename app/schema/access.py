"""Access administration mutations: schedules, access profiles, key groups, the list function
(R12–R16)."""

from __future__ import annotations

import strawberry

from app.access import service
from app.errors import DomainError
from app.events import queue_job_events
from app.schema.common import UserError, Warning, Weekday
from app.schema.context import Info
from app.schema.relay import decode_id, parse_global_id
from app.schema.types import (
    AccessProfile,
    Cylinder,
    CylinderGroup,
    KeyGroup,
    ProgrammingJob,
    RemoteJob,
    Schedule,
)


@strawberry.input
class TimeWindowInput:
    days: list[Weekday]
    start: str
    end: str


@strawberry.input
class CreateScheduleInput:
    name: str
    windows: list[TimeWindowInput]


@strawberry.type
class SchedulePayload:
    schedule: Schedule | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateAccessProfileInput:
    name: str
    cylinder_ids: list[strawberry.ID]
    schedule_id: strawberry.ID | None = None
    extension_interval_hours: int | None = None


@strawberry.type
class AccessProfilePayload:
    access_profile: AccessProfile | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateKeyGroupInput:
    name: str
    key_ids: list[strawberry.ID]


@strawberry.input
class AddKeysToGroupInput:
    key_group_id: strawberry.ID
    key_ids: list[strawberry.ID]


@strawberry.type
class KeyGroupPayload:
    key_group: KeyGroup | None = None
    remote_jobs: list[RemoteJob] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateCylinderGroupInput:
    name: str
    cylinder_ids: list[strawberry.ID]


@strawberry.input
class ChangeCylinderGroupMembersInput:
    cylinder_group_id: strawberry.ID
    add: list[strawberry.ID] | None = None
    remove: list[strawberry.ID] | None = None


@strawberry.type
class CylinderGroupPayload:
    cylinder_group: CylinderGroup | None = None
    programming_jobs: list[ProgrammingJob] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ChangeAuthorizationsInput:
    cylinder_ids: list[strawberry.ID]
    add: list[strawberry.ID] | None = None
    remove: list[strawberry.ID] | None = None


@strawberry.type
class ChangeAuthorizationsPayload:
    programming_jobs: list[ProgrammingJob] = strawberry.field(default_factory=list)
    unchanged_cylinders: list[Cylinder] = strawberry.field(default_factory=list)
    warnings: list[Warning] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


def _ids(values: list[strawberry.ID], type_name: str, field: str) -> list[int]:
    return [decode_id(v, type_name, f"{field}.{i}")[1] for i, v in enumerate(values)]


def _subjects(values: list[strawberry.ID] | None, field: str) -> list[tuple[str, int]]:
    """Keys or key groups, as the list function takes them (R16)."""
    subjects = []
    for i, value in enumerate(values or []):
        parsed = parse_global_id(value)
        type_name = parsed[0] if parsed else ""
        _, ident = decode_id(value, ("Key", "KeyGroup"), f"{field}.{i}")
        subjects.append(("key" if type_name == "Key" else "group", ident))
    return subjects


@strawberry.type
class AccessMutations:
    @strawberry.mutation(description="A weekly schedule (R12).")
    async def create_schedule(self, info: Info, input: CreateScheduleInput) -> SchedulePayload:
        info.context.require("access.write")
        windows = [{"days": w.days, "start": w.start, "end": w.end} for w in input.windows]
        try:
            async with info.context.write() as session:
                row = await service.create_schedule(session, input.name, windows)
        except DomainError as exc:
            return SchedulePayload(errors=[UserError.from_domain(exc)])
        return SchedulePayload(schedule=Schedule(row=row))

    @strawberry.mutation(description="A named set of cylinders with schedule and interval (R13).")
    async def create_access_profile(
        self, info: Info, input: CreateAccessProfileInput
    ) -> AccessProfilePayload:
        info.context.require("access.write")
        try:
            cylinders = _ids(input.cylinder_ids, "Cylinder", "cylinderIds")
            schedule = (
                decode_id(input.schedule_id, "Schedule", "scheduleId")[1]
                if input.schedule_id else None
            )
            async with info.context.write() as session:
                row = await service.create_access_profile(
                    session, name=input.name, cylinder_ids=cylinders, schedule_id=schedule,
                    extension_interval_hours=input.extension_interval_hours,
                )
        except DomainError as exc:
            return AccessProfilePayload(errors=[UserError.from_domain(exc)])
        return AccessProfilePayload(access_profile=AccessProfile(row=row))

    @strawberry.mutation(description="A group of E3 keys that cylinders authorise as one (R13).")
    async def create_key_group(self, info: Info, input: CreateKeyGroupInput) -> KeyGroupPayload:
        info.context.require("access.write")
        try:
            keys = _ids(input.key_ids, "Key", "keyIds")
            async with info.context.write() as session:
                row, jobs = await service.create_key_group(session, name=input.name, key_ids=keys)
        except DomainError as exc:
            return KeyGroupPayload(errors=[UserError.from_domain(exc)])
        return KeyGroupPayload(key_group=KeyGroup(row=row),
                               remote_jobs=[RemoteJob(row=j) for j in jobs])

    @strawberry.mutation(description="Add E3 keys to a group; cylinders holding it need no job.")
    async def add_keys_to_group(self, info: Info, input: AddKeysToGroupInput) -> KeyGroupPayload:
        from app.models import KeyGroup as KeyGroupRow

        info.context.require("access.write")
        try:
            _, group_id = decode_id(input.key_group_id, "KeyGroup", "keyGroupId")
            keys = _ids(input.key_ids, "Key", "keyIds")
            async with info.context.write() as session:
                group = await session.get(KeyGroupRow, group_id)
                if group is None:
                    raise DomainError("NOT_FOUND", "keyGroupId: no such key group", "keyGroupId")
                key_rows = await service._e3_keys(session, keys, "keyIds")
                jobs = await service.add_keys_to_group(session, group, key_rows)
        except DomainError as exc:
            return KeyGroupPayload(errors=[UserError.from_domain(exc)])
        return KeyGroupPayload(key_group=KeyGroup(row=group),
                               remote_jobs=[RemoteJob(row=j) for j in jobs])

    @strawberry.mutation(
        description="R16 list function: add or remove keys and key groups on many cylinders."
    )
    async def change_authorizations(
        self, info: Info, input: ChangeAuthorizationsInput
    ) -> ChangeAuthorizationsPayload:
        info.context.require("access.write")
        try:
            cylinders = _ids(input.cylinder_ids, "Cylinder", "cylinderIds")
            add = _subjects(input.add, "add")
            remove = _subjects(input.remove, "remove")
            async with info.context.write() as session:
                result = await service.change_authorizations(
                    session, cylinder_ids=cylinders, add=add, remove=remove
                )
                queue_job_events(session, job_ids=[  # jobEvents subscribers (R23)
                    *(j.id for j in result.reconciled.touched), *result.reconciled.cancelled
                ])
                from sqlalchemy import select

                from app.models import Cylinder as CylinderRow

                unchanged = list(
                    await session.scalars(
                        select(CylinderRow)
                        .where(CylinderRow.id.in_(result.unchanged_cylinder_ids))
                        .order_by(CylinderRow.marking)
                    )
                ) if result.unchanged_cylinder_ids else []
        except DomainError as exc:
            return ChangeAuthorizationsPayload(errors=[UserError.from_domain(exc)])
        return ChangeAuthorizationsPayload(
            programming_jobs=[ProgrammingJob(row=j) for j in result.reconciled.touched],
            unchanged_cylinders=[Cylinder(row=c) for c in unchanged],
            warnings=[Warning(code=w.code, message=w.message) for w in result.warnings],
        )

    @strawberry.mutation(description="R13: cylinders that take one slot in an E3 key's memory.")
    async def create_cylinder_group(
        self, info: Info, input: CreateCylinderGroupInput
    ) -> CylinderGroupPayload:
        info.context.require("access.write")
        try:
            cylinders = _ids(input.cylinder_ids, "Cylinder", "cylinderIds")
            async with info.context.write() as session:
                row, result = await service.create_cylinder_group(
                    session, name=input.name, cylinder_ids=cylinders
                )
        except DomainError as exc:
            return CylinderGroupPayload(errors=[UserError.from_domain(exc)])
        return CylinderGroupPayload(
            cylinder_group=CylinderGroup(row=row),
            programming_jobs=[ProgrammingJob(row=j) for j in result.touched],
        )

    @strawberry.mutation(description="R13: a cylinder added or removed is reprogrammed, not keys.")
    async def change_cylinder_group_members(
        self, info: Info, input: ChangeCylinderGroupMembersInput
    ) -> CylinderGroupPayload:
        from app.models import CylinderGroup as CylinderGroupRow

        info.context.require("access.write")
        try:
            _, group_id = decode_id(input.cylinder_group_id, "CylinderGroup", "cylinderGroupId")
            add = _ids(input.add or [], "Cylinder", "add")
            remove = _ids(input.remove or [], "Cylinder", "remove")
            async with info.context.write() as session:
                group = await session.get(CylinderGroupRow, group_id)
                if group is None:
                    raise DomainError(
                        "NOT_FOUND", "cylinderGroupId: no such cylinder group", "cylinderGroupId"
                    )
                result = await service.change_cylinder_group_members(
                    session, group, add=add, remove=remove
                )
        except DomainError as exc:
            return CylinderGroupPayload(errors=[UserError.from_domain(exc)])
        return CylinderGroupPayload(
            cylinder_group=CylinderGroup(row=group),
            programming_jobs=[ProgrammingJob(row=j) for j in result.touched],
        )
