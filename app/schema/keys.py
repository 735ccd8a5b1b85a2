"""Key lifecycle mutations (R10–R14, R18–R20): issue, update, return, lost, defective, copy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import strawberry

from app.errors import DomainError
from app.events import queue_job_events
from app.keys import service
from app.schema.common import UserError, Warning
from app.schema.context import Info
from app.schema.relay import decode_id
from app.schema.types import Key, ProgrammingJob, RemoteJob


@strawberry.input
class ValidityInput:
    always_valid: bool
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def to_change(self) -> service.ValidityChange:
        for name, value in (("validFrom", self.valid_from), ("validUntil", self.valid_until)):
            if value is not None and value.tzinfo is None:
                raise DomainError("INVALID", f"validity.{name}: give a time zone (UTC offset)",
                                  f"validity.{name}")
        return service.ValidityChange(self.always_valid, self.valid_from, self.valid_until)


@strawberry.input
class IssueKeyInput:
    key_id: strawberry.ID
    employee_id: strawberry.ID
    validity: ValidityInput | None = None
    schedule_id: strawberry.ID | None = None
    access_profile_ids: list[strawberry.ID] | None = None
    extension_interval_hours: int | None = None
    cylinder_group_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="E3 keys: cylinder groups the key opens (R13)"
    )


@strawberry.input
class UpdateKeyInput:
    key_id: strawberry.ID
    validity: ValidityInput | None = None
    schedule_id: strawberry.ID | None = None
    access_profile_ids: list[strawberry.ID] | None = None
    extension_interval_hours: int | None = strawberry.field(
        default=strawberry.UNSET, description="null removes the key's own interval"
    )
    audit_readout_enabled: bool | None = None
    cylinder_group_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="E3 keys: exactly these cylinder groups (R13)"
    )


@strawberry.input
class KeyIdInput:
    key_id: strawberry.ID


@strawberry.input
class ReportKeyLostInput:
    key_id: strawberry.ID
    deprogram: bool


@strawberry.input
class CopyKeyConfigurationInput:
    source_key_id: strawberry.ID
    target_key_id: strawberry.ID
    dry_run: bool | None = None


@strawberry.type
class KeyPayload:
    key: Key | None = None
    programming_jobs: list[ProgrammingJob] = strawberry.field(default_factory=list)
    remote_jobs: list[RemoteJob] = strawberry.field(default_factory=list)
    warnings: list[Warning] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CopyItem:
    what: str
    detail: str


@strawberry.type
class CopyKeyConfigurationPayload:
    key: Key | None = None
    copied: list[CopyItem] = strawberry.field(default_factory=list)
    programming_jobs: list[ProgrammingJob] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


def _ids(values: list[strawberry.ID] | None, type_name: str, field: str) -> list[int] | None:
    if values is None:
        return None
    return [decode_id(v, type_name, f"{field}.{i}")[1] for i, v in enumerate(values)]


def _id(value: strawberry.ID | None, type_name: str, field: str) -> int | None:
    return None if value is None else decode_id(value, type_name, field)[1]


def _payload(change: service.KeyChange) -> KeyPayload:
    return KeyPayload(
        key=Key(row=change.key),
        programming_jobs=[ProgrammingJob(row=j) for j in change.programming_jobs],
        remote_jobs=[RemoteJob(row=j) for j in change.remote_jobs],
        warnings=[Warning(code=w.code, message=w.message) for w in change.warnings],
    )


async def _run(
    info: Info, right: str, action: Callable[[Any], Awaitable[service.KeyChange]]
) -> KeyPayload:
    info.context.require(right)
    try:
        async with info.context.write() as session:
            change = await action(session)
            queue_job_events(  # jobEvents subscribers (R23)
                session,
                job_ids=[j.id for j in change.programming_jobs],
                remote_job_ids=[j.id for j in change.remote_jobs],
            )
    except DomainError as exc:
        return KeyPayload(errors=[UserError.from_domain(exc)])
    return _payload(change)


@strawberry.type
class KeyMutations:
    @strawberry.mutation(description="Hand a key in stock to an employee (R10–R14).")
    async def issue_key(self, info: Info, input: IssueKeyInput) -> KeyPayload:
        try:
            key_id = _id(input.key_id, "Key", "keyId")
            employee_id = _id(input.employee_id, "Employee", "employeeId")
            schedule_id = _id(input.schedule_id, "Schedule", "scheduleId")
            profiles = _ids(input.access_profile_ids, "AccessProfile", "accessProfileIds")
            cgroups = _ids(input.cylinder_group_ids, "CylinderGroup", "cylinderGroupIds")
            validity = input.validity.to_change() if input.validity else None
        except DomainError as exc:
            return KeyPayload(errors=[UserError.from_domain(exc)])
        return await _run(info, "keys.issue", lambda s: service.issue_key(
            s, key_id=key_id, employee_id=employee_id, validity=validity,  # type: ignore[arg-type]
            schedule_id=schedule_id, profile_ids=profiles,
            extension_interval_hours=input.extension_interval_hours,
            cylinder_group_ids=cgroups,
        ))

    @strawberry.mutation(description="Change validity, schedule, profiles or interval (R12–R14).")
    async def update_key(self, info: Info, input: UpdateKeyInput) -> KeyPayload:
        try:
            key_id = _id(input.key_id, "Key", "keyId")
            schedule_id = _id(input.schedule_id, "Schedule", "scheduleId")
            profiles = _ids(input.access_profile_ids, "AccessProfile", "accessProfileIds")
            cgroups = _ids(input.cylinder_group_ids, "CylinderGroup", "cylinderGroupIds")
            validity = input.validity.to_change() if input.validity else None
        except DomainError as exc:
            return KeyPayload(errors=[UserError.from_domain(exc)])
        interval: Any = (
            service._UNSET if input.extension_interval_hours is strawberry.UNSET
            else input.extension_interval_hours
        )
        return await _run(info, "keys.write", lambda s: service.update_key(
            s, key_id=key_id, validity=validity, schedule_id=schedule_id,  # type: ignore[arg-type]
            profile_ids=profiles, extension_interval_hours=interval,
            audit_readout_enabled=input.audit_readout_enabled,
            cylinder_group_ids=cgroups,
        ))

    @strawberry.mutation(description="Take an issued key back into stock.")
    async def return_key(self, info: Info, input: KeyIdInput) -> KeyPayload:
        try:
            key_id = _id(input.key_id, "Key", "keyId")
        except DomainError as exc:
            return KeyPayload(errors=[UserError.from_domain(exc)])
        return await _run(info, "keys.issue",
                          lambda s: service.return_key(s, key_id=key_id))  # type: ignore[arg-type]

    @strawberry.mutation(description="R19: block a lost key and, if asked, deprogram it.")
    async def report_key_lost(self, info: Info, input: ReportKeyLostInput) -> KeyPayload:
        try:
            key_id = _id(input.key_id, "Key", "keyId")
        except DomainError as exc:
            return KeyPayload(errors=[UserError.from_domain(exc)])
        return await _run(info, "keys.write", lambda s: service.report_key_lost(
            s, key_id=key_id, deprogram=input.deprogram))  # type: ignore[arg-type]

    @strawberry.mutation(description="A broken key; a replacement is proposed (R20, R26).")
    async def report_key_defective(self, info: Info, input: KeyIdInput) -> KeyPayload:
        try:
            key_id = _id(input.key_id, "Key", "keyId")
        except DomainError as exc:
            return KeyPayload(errors=[UserError.from_domain(exc)])
        return await _run(info, "keys.write", lambda s: service.report_key_defective(
            s, key_id=key_id))  # type: ignore[arg-type]

    @strawberry.mutation(description="R20: copy a key's configuration; dryRun shows what.")
    async def copy_key_configuration(
        self, info: Info, input: CopyKeyConfigurationInput
    ) -> CopyKeyConfigurationPayload:
        info.context.require("keys.write")
        try:
            source_id = decode_id(input.source_key_id, "Key", "sourceKeyId")[1]
            target_id = decode_id(input.target_key_id, "Key", "targetKeyId")[1]
            async with info.context.write() as session:
                key, items, jobs = await service.copy_key_configuration(
                    session, source_id=source_id, target_id=target_id,
                    dry_run=bool(input.dry_run),
                )
        except DomainError as exc:
            return CopyKeyConfigurationPayload(errors=[UserError.from_domain(exc)])
        return CopyKeyConfigurationPayload(
            key=Key(row=key),
            copied=[CopyItem(what=i.what, detail=i.detail) for i in items],
            programming_jobs=[ProgrammingJob(row=j) for j in jobs],
        )
