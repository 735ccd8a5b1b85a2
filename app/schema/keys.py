"""Key lifecycle mutations (R10–R14, R18–R20): issue, update, return, lost, defective, copy.

The jobs a change causes are announced on ``jobEvents`` where they are made: by the job
engine and the remote-job functions (app.access), never again here (R23)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from app.errors import INVALID, DomainError
from app.keys import service
from app.schema.common import UserError, Warning
from app.schema.context import Info
from app.schema.runner import Run, mutation, run
from app.schema.types import Key, ProgrammingJob, RemoteJob


@strawberry.input
class ValidityInput:
    always_valid: bool
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def to_change(self) -> service.ValidityChange:
        for name, value in (("validFrom", self.valid_from), ("validUntil", self.valid_until)):
            if value is not None and value.tzinfo is None:
                raise DomainError(INVALID, f"validity.{name}: give a time zone (UTC offset)",
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
    cylinder_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="deprogram only these (FAQ: choose the areas); default all"
    )
    security_relevant_only: bool | None = strawberry.field(
        default=None, description="deprogram only security-relevant cylinders (R19)"
    )


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


def key_payload(change: service.KeyChange) -> KeyPayload:
    """A key change as the payload shows it: the key, its new jobs and warnings."""
    return KeyPayload(
        key=Key(row=change.key),
        programming_jobs=[ProgrammingJob(row=j) for j in change.programming_jobs],
        remote_jobs=[RemoteJob(row=j) for j in change.remote_jobs],
        warnings=[Warning(code=w.code, message=w.message) for w in change.warnings],
    )


def _settings(r: Run, input: IssueKeyInput | UpdateKeyInput) -> dict[str, Any]:
    """What issuing and updating a key both set: validity, schedule, profiles, groups."""
    return dict(
        key_id=r.id(input.key_id, "Key", "keyId"),
        validity=input.validity.to_change() if input.validity is not None else None,
        schedule_id=r.optional_id(input.schedule_id, "Schedule", "scheduleId"),
        profile_ids=r.optional_ids(input.access_profile_ids, "AccessProfile", "accessProfileIds"),
        cylinder_group_ids=r.optional_ids(
            input.cylinder_group_ids, "CylinderGroup", "cylinderGroupIds"
        ),
    )


@strawberry.type
class KeyMutations:
    @mutation(right="keys.issue", description="Hand a key in stock to an employee (R10–R14).")
    async def issue_key(self, info: Info, input: IssueKeyInput) -> KeyPayload:
        async def action(r: Run) -> service.KeyChange:
            settings = _settings(r, input)
            return await service.issue_key(
                r.session,
                employee_id=r.id(input.employee_id, "Employee", "employeeId"),
                extension_interval_hours=input.extension_interval_hours,
                **settings,
            )

        return await run(info, KeyPayload, action, key_payload)

    @mutation(
        right="keys.write",
        description="Change validity, schedule, profiles or interval (R12–R14).",
    )
    async def update_key(self, info: Info, input: UpdateKeyInput) -> KeyPayload:
        async def action(r: Run) -> service.KeyChange:
            interval: dict[str, Any] = (
                {} if input.extension_interval_hours is strawberry.UNSET
                else {"extension_interval_hours": input.extension_interval_hours}
            )
            settings = _settings(r, input)
            return await service.update_key(
                r.session, audit_readout_enabled=input.audit_readout_enabled,
                **settings, **interval,
            )

        return await run(info, KeyPayload, action, key_payload)

    @mutation(right="keys.issue", description="Take an issued key back into stock.")
    async def return_key(self, info: Info, input: KeyIdInput) -> KeyPayload:
        return await run(info, KeyPayload, lambda r: service.return_key(
            r.session, key_id=r.id(input.key_id, "Key", "keyId")
        ), key_payload)

    @mutation(right="keys.write", description="R19: block a lost key and, if asked, deprogram it.")
    async def report_key_lost(self, info: Info, input: ReportKeyLostInput) -> KeyPayload:
        return await run(info, KeyPayload, lambda r: service.report_key_lost(
            r.session, key_id=r.id(input.key_id, "Key", "keyId"), deprogram=input.deprogram,
            scope=service.Deprogramming(
                r.optional_ids(input.cylinder_ids, "Cylinder", "cylinderIds"),
                input.security_relevant_only,
            ),
        ), key_payload)

    @mutation(right="keys.write", description="A broken key; a replacement is proposed (R20, R26).")
    async def report_key_defective(self, info: Info, input: KeyIdInput) -> KeyPayload:
        return await run(info, KeyPayload, lambda r: service.report_key_defective(
            r.session, key_id=r.id(input.key_id, "Key", "keyId")
        ), key_payload)

    @mutation(right="keys.write", description="R20: copy a key's configuration; dryRun shows what.")
    async def copy_key_configuration(
        self, info: Info, input: CopyKeyConfigurationInput
    ) -> CopyKeyConfigurationPayload:
        async def action(r: Run) -> CopyKeyConfigurationPayload:
            key, items, jobs = await service.copy_key_configuration(
                r.session,
                source_id=r.id(input.source_key_id, "Key", "sourceKeyId"),
                target_id=r.id(input.target_key_id, "Key", "targetKeyId"),
                dry_run=bool(input.dry_run),
            )
            return CopyKeyConfigurationPayload(
                key=Key(row=key),
                copied=[CopyItem(what=i.what, detail=i.detail) for i in items],
                programming_jobs=[ProgrammingJob(row=j) for j in jobs],
            )

        return await run(info, CopyKeyConfigurationPayload, action)
