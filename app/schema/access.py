"""Access administration mutations: schedules, access profiles, key groups, the list function
(R12–R16)."""

from __future__ import annotations

import strawberry
from sqlalchemy import select

from app.access import service
from app.access.engine import ReconcileResult
from app.db import id_in
from app.models import Cylinder as CylinderRow
from app.models import CylinderGroup as CylinderGroupRow
from app.models import KeyGroup as KeyGroupRow
from app.models import RemoteJob as RemoteJobRow
from app.schema.common import UserError, Warning, Weekday
from app.schema.context import Info
from app.schema.runner import Run, mutation, run
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
    remote_jobs: list[RemoteJob] = strawberry.field(
        default_factory=list, description="Keys that carry the schedule get its windows (R18)."
    )
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
    programming_jobs: list[ProgrammingJob] = strawberry.field(
        default_factory=list, description="The jobs the change caused (R15)."
    )
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
    programming_jobs: list[ProgrammingJob] = strawberry.field(
        default_factory=list, description="The jobs the change caused (R15, R20)."
    )
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


@strawberry.type(description="A cylinder named to the list function that gets no job, and why.")
class SkippedCylinder:
    cylinder: Cylinder
    code: str = strawberry.field(description='Why: "DEFECTIVE" (it cannot be programmed, R11).')
    message: str


@strawberry.type
class ChangeAuthorizationsPayload:
    programming_jobs: list[ProgrammingJob] = strawberry.field(default_factory=list)
    unchanged_cylinders: list[Cylinder] = strawberry.field(default_factory=list)
    warnings: list[Warning] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)
    skipped_cylinders: list[SkippedCylinder] = strawberry.field(
        default_factory=list,
        description="Cylinders that cannot take the change now (a defective one: its "
        "replacement will), neither given a job nor unchanged (R11, R16).",
    )


def _subjects(r: Run, values: list[strawberry.ID] | None, field: str) -> list[tuple[str, int]]:
    """Keys or key groups, as the list function takes them (R16)."""
    return [
        ("key" if type_name == "Key" else "group", ident)
        for type_name, ident in r.typed_ids(values or [], ("Key", "KeyGroup"), field)
    ]


def _cylinder_group_payload(
    done: tuple[CylinderGroupRow, ReconcileResult],
) -> CylinderGroupPayload:
    group, result = done
    return CylinderGroupPayload(
        cylinder_group=CylinderGroup(row=group),
        programming_jobs=[ProgrammingJob(row=j) for j in result.touched],
    )


def _key_group_payload(done: tuple[KeyGroupRow, list[RemoteJobRow]]) -> KeyGroupPayload:
    group, jobs = done
    return KeyGroupPayload(key_group=KeyGroup(row=group),
                           remote_jobs=[RemoteJob(row=j) for j in jobs])


@strawberry.type
class AccessMutations:
    @mutation(right="access.write", description="A weekly schedule (R12).")
    async def create_schedule(self, info: Info, input: CreateScheduleInput) -> SchedulePayload:
        windows = [{"days": w.days, "start": w.start, "end": w.end} for w in input.windows]
        return await run(
            info, SchedulePayload,
            lambda r: service.create_schedule(r.session, input.name, windows),
            lambda row: SchedulePayload(schedule=Schedule(row=row)),
        )

    @mutation(
        right="access.write",
        description="A named set of cylinders with schedule and interval (R13).",
    )
    async def create_access_profile(
        self, info: Info, input: CreateAccessProfileInput
    ) -> AccessProfilePayload:
        return await run(
            info, AccessProfilePayload,
            lambda r: service.create_access_profile(
                r.session, name=input.name,
                cylinder_ids=r.ids(input.cylinder_ids, "Cylinder", "cylinderIds"),
                schedule_id=r.optional_id(input.schedule_id, "Schedule", "scheduleId"),
                extension_interval_hours=input.extension_interval_hours,
            ),
            lambda row: AccessProfilePayload(access_profile=AccessProfile(row=row)),
        )

    @mutation(
        right="access.write",
        description="A group of E3 keys that cylinders authorise as one (R13).",
    )
    async def create_key_group(self, info: Info, input: CreateKeyGroupInput) -> KeyGroupPayload:
        return await run(
            info, KeyGroupPayload,
            lambda r: service.create_key_group(
                r.session, name=input.name, key_ids=r.ids(input.key_ids, "Key", "keyIds")
            ),
            _key_group_payload,
        )

    @mutation(
        right="access.write",
        description="Add E3 keys to a group; cylinders holding it need no job.",
    )
    async def add_keys_to_group(self, info: Info, input: AddKeysToGroupInput) -> KeyGroupPayload:
        async def action(r: Run) -> tuple[KeyGroupRow, list[RemoteJobRow]]:
            group = await r.row(KeyGroupRow, input.key_group_id, "KeyGroup", "keyGroupId")
            keys = r.ids(input.key_ids, "Key", "keyIds")
            key_rows = await service.e3_keys(r.session, keys, "keyIds")
            return group, await service.add_keys_to_group(r.session, group, key_rows)

        return await run(info, KeyGroupPayload, action, _key_group_payload)

    @mutation(
        right="access.write",
        description="R16 list function: add or remove keys and key groups on many cylinders.",
    )
    async def change_authorizations(
        self, info: Info, input: ChangeAuthorizationsInput
    ) -> ChangeAuthorizationsPayload:
        async def action(r: Run) -> ChangeAuthorizationsPayload:
            result = await service.change_authorizations(
                r.session,
                cylinder_ids=r.ids(input.cylinder_ids, "Cylinder", "cylinderIds"),
                add=_subjects(r, input.add, "add"),
                remove=_subjects(r, input.remove, "remove"),
            )
            named = [*result.unchanged_cylinder_ids, *(c.cylinder_id for c in result.skipped)]
            rows: list[CylinderRow] = []
            if named:
                rows = list(
                    await r.session.scalars(
                        select(CylinderRow)
                        .where(id_in(r.session, CylinderRow.id, named))
                        .order_by(CylinderRow.marking)
                    )
                )
            unchanged = set(result.unchanged_cylinder_ids)
            skipped = {c.cylinder_id: c for c in result.skipped}
            return ChangeAuthorizationsPayload(
                programming_jobs=[ProgrammingJob(row=j) for j in result.reconciled.touched],
                unchanged_cylinders=[Cylinder(row=c) for c in rows if c.id in unchanged],
                warnings=[Warning(code=w.code, message=w.message) for w in result.warnings],
                skipped_cylinders=[
                    SkippedCylinder(
                        cylinder=Cylinder(row=c),
                        code=skipped[c.id].code,
                        message=skipped[c.id].message,
                    )
                    for c in rows
                    if c.id in skipped
                ],
            )

        return await run(info, ChangeAuthorizationsPayload, action)

    @mutation(
        right="access.write",
        description="R13: cylinders that take one slot in an E3 key's memory.",
    )
    async def create_cylinder_group(
        self, info: Info, input: CreateCylinderGroupInput
    ) -> CylinderGroupPayload:
        return await run(
            info, CylinderGroupPayload,
            lambda r: service.create_cylinder_group(
                r.session, name=input.name,
                cylinder_ids=r.ids(input.cylinder_ids, "Cylinder", "cylinderIds"),
            ),
            _cylinder_group_payload,
        )

    @mutation(
        right="access.write",
        description="R13: a cylinder added or removed is reprogrammed, not keys.",
    )
    async def change_cylinder_group_members(
        self, info: Info, input: ChangeCylinderGroupMembersInput
    ) -> CylinderGroupPayload:
        async def action(r: Run) -> tuple[CylinderGroupRow, ReconcileResult]:
            group = await r.row(
                CylinderGroupRow, input.cylinder_group_id, "CylinderGroup", "cylinderGroupId"
            )
            return group, await service.change_cylinder_group_members(
                r.session, group,
                add=r.ids(input.add or [], "Cylinder", "add"),
                remove=r.ids(input.remove or [], "Cylinder", "remove"),
            )

        return await run(info, CylinderGroupPayload, action, _cylinder_group_payload)
