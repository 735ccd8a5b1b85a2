"""GraphQL object types of the contract: thin views over model rows, relations through loaders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import select

from app import models as m
from app.access.authorizations import EffectiveAuthorization
from app.schema.common import (
    AccessChangeOp,
    AccessResult,
    CylinderStatus,
    FirmwareSource,
    FirmwareTarget,
    HostingMode,
    KeyGeneration,
    KeyStatus,
    KeyType,
    Node,
    PageInfo,
    ProgrammingJobStatus,
    ProgrammingKeyKind,
    ReadoutStatus,
    RemoteDeviceKind,
    RemoteJobKind,
    RemoteJobStatus,
    Weekday,
)
from app.schema.context import Info
from app.schema.relay import Page, fetch_page, to_global_id


def gid(row: Any) -> strawberry.ID:
    return strawberry.ID(to_global_id(type(row).__name__, row.id))


@strawberry.type
class Tenant:
    row: strawberry.Private[m.Tenant]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("Tenant", self.row.id))

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def hosting_mode(self) -> HostingMode:
        return self.row.hosting_mode

    @strawberry.field
    def data_center_connected(self) -> bool:
        return self.row.data_center_connected

    @strawberry.field
    def approver_function(self) -> bool:
        return self.row.approver_function

    @strawberry.field
    def flexible_extensions(self) -> bool:
        return self.row.flexible_extensions


@strawberry.type
class Right:
    name: str
    description: str


@strawberry.type
class Role(Node):
    row: strawberry.Private[m.Role]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def builtin(self) -> bool:
        return self.row.builtin

    @strawberry.field
    def rights(self) -> list[str]:
        return list(self.row.rights)


@strawberry.type
class Domain(Node):
    row: strawberry.Private[m.Domain]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def description(self) -> str | None:
        return self.row.description


@strawberry.type
class Employee(Node):
    row: strawberry.Private[m.Employee]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    def employee_number(self) -> str | None:
        return self.row.employee_number

    @strawberry.field
    def first_name(self) -> str:
        return self.row.first_name

    @strawberry.field
    def last_name(self) -> str:
        return self.row.last_name

    @strawberry.field
    def email(self) -> str | None:
        return self.row.email

    @strawberry.field
    def department(self) -> str | None:
        return self.row.department

    @strawberry.field
    def phone(self) -> str | None:
        return self.row.phone

    @strawberry.field
    async def domain(self, info: Info) -> Domain:
        return Domain(row=await info.context.loaders.by_id(m.Domain).load(self.row.domain_id))

    @strawberry.field
    async def keys(self, info: Info) -> list[Key]:
        if not info.context.principal or not info.context.principal.has("keys.read"):
            return []
        rows = await info.context.loaders.keys_of_holder.load(self.row.id)
        return [Key(row=r) for r in rows]


@strawberry.type
class Validity:
    always_valid: bool
    valid_from: datetime | None
    valid_until: datetime | None


@strawberry.type
class TimeWindow:
    days: list[Weekday]
    start: str
    end: str


@strawberry.type
class Schedule(Node):
    row: strawberry.Private[m.Schedule]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def windows(self) -> list[TimeWindow]:
        return [
            TimeWindow(
                days=[m.Weekday[d] for d in w["days"]],  # type: ignore[union-attr]
                start=str(w["start"]),
                end=str(w["end"]),
            )
            for w in self.row.windows
        ]


async def load_schedule(info: Info, schedule_id: int) -> Schedule:
    return Schedule(row=await info.context.loaders.by_id(m.Schedule).load(schedule_id))


@strawberry.type
class AccessProfile(Node):
    row: strawberry.Private[m.AccessProfile]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    async def cylinders(self, info: Info) -> list[Cylinder]:
        rows = await info.context.loaders.cylinders_of_profile.load(self.row.id)
        return [Cylinder(row=r) for r in rows]

    @strawberry.field
    async def schedule(self, info: Info) -> Schedule:
        return await load_schedule(info, self.row.schedule_id)

    @strawberry.field
    def extension_interval_hours(self) -> int | None:
        return self.row.extension_interval_hours


@strawberry.type
class KeyGroup(Node):
    row: strawberry.Private[m.KeyGroup]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    async def keys(self, info: Info) -> list[Key]:
        rows = await info.context.loaders.keys_of_group.load(self.row.id)
        return [Key(row=r) for r in rows]


@strawberry.type
class CylinderGroup(Node):
    """Cylinders that take one slot in an E3 key's memory (R13)."""

    row: strawberry.Private[m.CylinderGroup]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    async def cylinders(self, info: Info) -> list[Cylinder]:
        rows = await info.context.loaders.cylinders_of_cylinder_group.load(self.row.id)
        return [Cylinder(row=r) for r in rows]


@strawberry.type
class Authorization:
    """One effective right of a key on a cylinder (R13, R14)."""

    value: strawberry.Private[EffectiveAuthorization]

    @strawberry.field
    async def cylinder(self, info: Info) -> Cylinder:
        return Cylinder(
            row=await info.context.loaders.by_id(m.Cylinder).load(self.value.cylinder_id)
        )

    @strawberry.field
    def via(self) -> str:
        return self.value.via

    @strawberry.field
    async def schedule(self, info: Info) -> Schedule:
        return await load_schedule(info, self.value.schedule_id)

    @strawberry.field
    def effective_extension_interval_hours(self) -> int | None:
        return self.value.effective_extension_interval_hours

    @strawberry.field
    def programmed(self) -> bool:
        return self.value.programmed


@strawberry.type
class Key(Node):
    row: strawberry.Private[m.Key]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    def marking(self) -> str:
        return self.row.marking

    @strawberry.field
    def uid(self) -> str:
        return self.row.uid

    @strawberry.field
    def type(self) -> KeyType:
        return self.row.type

    @strawberry.field
    def generation(self) -> KeyGeneration:
        return self.row.generation

    @strawberry.field
    def firmware_version(self) -> str:
        return self.row.firmware_version

    @strawberry.field
    def status(self) -> KeyStatus:
        return self.row.status

    @strawberry.field
    async def domain(self, info: Info) -> Domain:
        return Domain(row=await info.context.loaders.by_id(m.Domain).load(self.row.domain_id))

    @strawberry.field
    async def holder(self, info: Info) -> Employee | None:
        if self.row.holder_id is None:
            return None
        row = await info.context.loaders.by_id(m.Employee).load(self.row.holder_id)
        return Employee(row=row) if row is not None else None

    @strawberry.field
    def validity(self) -> Validity:
        return Validity(
            always_valid=self.row.always_valid,
            valid_from=self.row.valid_from,
            valid_until=self.row.valid_until,
        )

    @strawberry.field
    async def schedule(self, info: Info) -> Schedule:
        return await load_schedule(info, self.row.schedule_id)

    @strawberry.field
    def extension_interval_hours(self) -> int | None:
        return self.row.extension_interval_hours

    @strawberry.field
    async def access_profiles(self, info: Info) -> list[AccessProfile]:
        rows = await info.context.loaders.key_access_profiles.load(self.row.id)
        return [AccessProfile(row=r) for r in rows]

    @strawberry.field
    async def groups(self, info: Info) -> list[KeyGroup]:
        rows = await info.context.loaders.key_groups_of_key.load(self.row.id)
        return [KeyGroup(row=r) for r in rows]

    @strawberry.field
    async def authorizations(self, info: Info) -> list[Authorization]:
        values = await info.context.loaders.authorizations_of_key.load(self.row.id)
        return [Authorization(value=v) for v in values]

    @strawberry.field
    def audit_readout_enabled(self) -> bool:
        return self.row.audit_readout_enabled

    @strawberry.field(description="Events read out of this key (R28), newest first.")
    async def audit_trail(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AuditEvent]:
        from app.schema.audit import audit_event_connection

        info.context.require("audit.read")
        stmt = select(m.AuditEvent).where(m.AuditEvent.key_id == self.row.id)
        return await audit_event_connection(info, stmt, first=first, after=after)

    @strawberry.field
    async def remote_jobs(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[RemoteJob]:
        info.context.require("jobs.read")
        stmt = select(m.RemoteJob).where(m.RemoteJob.key_id == self.row.id)
        page = await fetch_page(
            info.context.db.execute, stmt, [m.RemoteJob.id], first=first, after=after
        )
        return Connection[RemoteJob].from_page(page, RemoteJob)


@strawberry.type
class AccessEntry:
    row: strawberry.Private[m.AccessEntry]

    @strawberry.field
    async def key(self, info: Info) -> Key | None:
        if self.row.key_id is None:
            return None
        row = await info.context.loaders.by_id(m.Key).load(self.row.key_id)
        return Key(row=row) if row is not None else None

    @strawberry.field
    async def group(self, info: Info) -> KeyGroup | None:
        if self.row.key_group_id is None:
            return None
        row = await info.context.loaders.by_id(m.KeyGroup).load(self.row.key_group_id)
        return KeyGroup(row=row)

    @strawberry.field(description="The cylinder's membership in a cylinder group (R13).")
    async def cylinder_group(self, info: Info) -> CylinderGroup | None:
        if self.row.cylinder_group_id is None:
            return None
        row = await info.context.loaders.by_id(m.CylinderGroup).load(self.row.cylinder_group_id)
        return CylinderGroup(row=row)

    @strawberry.field
    def desired(self) -> bool:
        return self.row.desired

    @strawberry.field
    def programmed(self) -> bool:
        return self.row.programmed


@strawberry.type
class Cylinder(Node):
    row: strawberry.Private[m.Cylinder]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    def marking(self) -> str:
        return self.row.marking

    @strawberry.field
    def uid(self) -> str:
        return self.row.uid

    @strawberry.field
    def status(self) -> CylinderStatus:
        return self.row.status

    @strawberry.field
    async def domain(self, info: Info) -> Domain:
        return Domain(row=await info.context.loaders.by_id(m.Domain).load(self.row.domain_id))

    @strawberry.field
    def security_relevant(self) -> bool:
        return self.row.security_relevant

    @strawberry.field
    def is_clone(self) -> bool:
        return self.row.is_clone

    @strawberry.field
    def needs_reprogramming(self) -> bool:
        return self.row.needs_reprogramming

    @strawberry.field
    async def access_list(self, info: Info) -> list[AccessEntry]:
        rows = await info.context.loaders.access_list_of_cylinder.load(self.row.id)
        return [AccessEntry(row=r) for r in rows]

    @strawberry.field
    async def programming_jobs(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ProgrammingJob]:
        info.context.require("jobs.read")
        stmt = select(m.ProgrammingJob).where(m.ProgrammingJob.cylinder_id == self.row.id)
        page = await fetch_page(
            info.context.db.execute, stmt, [m.ProgrammingJob.id], first=first, after=after
        )
        return Connection[ProgrammingJob].from_page(page, ProgrammingJob)

    @strawberry.field
    async def audit_trail(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AuditEvent]:
        from app.schema.audit import audit_event_connection

        info.context.require("audit.read")
        stmt = select(m.AuditEvent).where(m.AuditEvent.cylinder_id == self.row.id)
        return await audit_event_connection(info, stmt, first=first, after=after)


@strawberry.type
class ProgrammingKey(Node):
    row: strawberry.Private[m.ProgrammingKey]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    def marking(self) -> str:
        return self.row.marking

    @strawberry.field
    def uid(self) -> str:
        return self.row.uid

    @strawberry.field
    def kind(self) -> ProgrammingKeyKind:
        return self.row.kind

    @strawberry.field
    def firmware_version(self) -> str:
        return self.row.firmware_version

    @strawberry.field
    async def holder(self, info: Info) -> Employee | None:
        if self.row.holder_id is None:
            return None
        row = await info.context.loaders.by_id(m.Employee).load(self.row.holder_id)
        return Employee(row=row) if row is not None else None

    @strawberry.field
    async def roles(self, info: Info) -> list[Role]:
        rows = await info.context.loaders.roles_of_programming_key.load(self.row.id)
        return [Role(row=r) for r in rows]

    @strawberry.field
    async def domains(self, info: Info) -> list[Domain]:
        rows = await info.context.loaders.domains_of_programming_key.load(self.row.id)
        return [Domain(row=r) for r in rows]

    @strawberry.field
    async def assigned_jobs(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ProgrammingJob]:
        info.context.require("jobs.read")
        stmt = select(m.ProgrammingJob).where(m.ProgrammingJob.assignee_id == self.row.id)
        page = await fetch_page(
            info.context.db.execute, stmt, [m.ProgrammingJob.id], first=first, after=after
        )
        return Connection[ProgrammingJob].from_page(page, ProgrammingJob)


@strawberry.type
class AccessChange:
    row: strawberry.Private[m.ProgrammingJobChange]

    @strawberry.field
    def op(self) -> AccessChangeOp:
        return self.row.op

    @strawberry.field
    async def key(self, info: Info) -> Key | None:
        if self.row.key_id is None:
            return None
        row = await info.context.loaders.by_id(m.Key).load(self.row.key_id)
        return Key(row=row) if row is not None else None

    @strawberry.field
    async def group(self, info: Info) -> KeyGroup | None:
        if self.row.key_group_id is None:
            return None
        row = await info.context.loaders.by_id(m.KeyGroup).load(self.row.key_group_id)
        return KeyGroup(row=row)

    @strawberry.field
    async def cylinder_group(self, info: Info) -> CylinderGroup | None:
        if self.row.cylinder_group_id is None:
            return None
        row = await info.context.loaders.by_id(m.CylinderGroup).load(self.row.cylinder_group_id)
        return CylinderGroup(row=row)


@strawberry.type
class ProgrammingJob(Node):
    row: strawberry.Private[m.ProgrammingJob]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    async def cylinder(self, info: Info) -> Cylinder:
        return Cylinder(row=await info.context.loaders.by_id(m.Cylinder).load(self.row.cylinder_id))

    @strawberry.field
    async def changes(self, info: Info) -> list[AccessChange]:
        rows = await info.context.loaders.changes_of_job.load(self.row.id)
        return [AccessChange(row=r) for r in rows]

    @strawberry.field
    def status(self) -> ProgrammingJobStatus:
        return self.row.status

    @strawberry.field
    async def assignee(self, info: Info) -> ProgrammingKey | None:
        if self.row.assignee_id is None:
            return None
        row = await info.context.loaders.by_id(m.ProgrammingKey).load(self.row.assignee_id)
        return ProgrammingKey(row=row) if row is not None else None

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def completed_at(self) -> datetime | None:
        return self.row.completed_at


@strawberry.type
class OfflineUpdateSettings:
    max_offline_updates: int
    max_hours_since_online_update: int | None
    blocking_list_validity_hours: int | None
    offline_extension_hours: int


@strawberry.type
class CertificateBundle(Node):
    row: strawberry.Private[m.CertificateBundle]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at


@strawberry.type
class Firmware(Node):
    row: strawberry.Private[m.Firmware]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    def target(self) -> FirmwareTarget:
        return self.row.target

    @strawberry.field
    def version(self) -> str:
        return self.row.version

    @strawberry.field
    def source(self) -> FirmwareSource:
        return self.row.source

    @strawberry.field
    async def certificate_bundle(self, info: Info) -> CertificateBundle:
        loader = info.context.loaders.by_id(m.CertificateBundle)
        return CertificateBundle(row=await loader.load(self.row.certificate_bundle_id))

    @strawberry.field
    def imported_at(self) -> datetime:
        return self.row.imported_at

    @strawberry.field
    def applied(self) -> bool:
        return self.row.applied


@strawberry.type
class FirmwareProgress:
    deployment: strawberry.Private[m.FirmwareDeployment]
    firmware_row: strawberry.Private[m.Firmware]

    @strawberry.field
    def firmware(self) -> Firmware:
        return Firmware(row=self.firmware_row)

    @strawberry.field
    def stage(self) -> str:
        if self.firmware_row.target == m.FirmwareTarget.REMOTE_BOOTLOADER:
            return "bootloader"
        return "firmware"

    @strawberry.field
    def percent(self) -> int:
        size = max(len(self.firmware_row.image), 1)
        return min(100, self.deployment.offset * 100 // size)

    @strawberry.field
    def done(self) -> bool:
        return self.deployment.done


@strawberry.type
class RemoteDevice(Node):
    row: strawberry.Private[m.RemoteDevice]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def kind(self) -> RemoteDeviceKind:
        return self.row.kind

    @strawberry.field
    def serial(self) -> str:
        return self.row.serial

    @strawberry.field
    async def domain(self, info: Info) -> Domain:
        return Domain(row=await info.context.loaders.by_id(m.Domain).load(self.row.domain_id))

    @strawberry.field
    def firmware_version(self) -> str:
        return self.row.firmware_version

    @strawberry.field
    def bootloader_version(self) -> str:
        return self.row.bootloader_version

    @strawberry.field
    def heartbeat_interval_seconds(self) -> int:
        return self.row.heartbeat_interval_seconds

    @strawberry.field
    def last_heartbeat_at(self) -> datetime | None:
        return self.row.last_heartbeat_at

    @strawberry.field
    def online(self) -> bool:
        return self.row.online

    @strawberry.field
    def system_linked(self) -> bool:
        return self.row.system_linked

    @strawberry.field
    def potential_free_output(self) -> bool:
        return self.row.potential_free_output

    @strawberry.field
    def updater_gen1(self) -> bool:
        return self.row.updater_gen1

    @strawberry.field
    def updater_gen2(self) -> bool:
        return self.row.updater_gen2

    @strawberry.field
    def offline_updates(self) -> OfflineUpdateSettings | None:
        r = self.row
        if r.offline_max_updates is None or r.offline_extension_hours is None:
            return None
        return OfflineUpdateSettings(
            max_offline_updates=r.offline_max_updates,
            max_hours_since_online_update=r.offline_max_hours_since_online,
            blocking_list_validity_hours=r.offline_blocking_list_validity_hours,
            offline_extension_hours=r.offline_extension_hours,
        )

    @strawberry.field
    async def firmware_progress(self, info: Info) -> FirmwareProgress | None:
        progress = await info.context.loaders.firmware_progress_of_device.load(self.row.id)
        if progress is None:
            return None
        deployment, firmware = progress
        return FirmwareProgress(deployment=deployment, firmware_row=firmware)


@strawberry.type
class RemoteJob(Node):
    row: strawberry.Private[m.RemoteJob]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    async def key(self, info: Info) -> Key:
        return Key(row=await info.context.loaders.by_id(m.Key).load(self.row.key_id))

    @strawberry.field
    def kind(self) -> RemoteJobKind:
        return self.row.kind

    @strawberry.field
    def status(self) -> RemoteJobStatus:
        return self.row.status

    @strawberry.field
    async def delivered_via(self, info: Info) -> RemoteDevice | None:
        if self.row.delivered_via_id is None:
            return None
        row = await info.context.loaders.by_id(m.RemoteDevice).load(self.row.delivered_via_id)
        return RemoteDevice(row=row) if row is not None else None

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def completed_at(self) -> datetime | None:
        return self.row.completed_at


@strawberry.type
class AuditEvent:
    row: strawberry.Private[m.AuditEvent]

    @strawberry.field
    def at(self) -> datetime:
        return self.row.at

    @strawberry.field
    async def key(self, info: Info) -> Key | None:
        if self.row.key_id is None:
            return None
        row = await info.context.loaders.by_id(m.Key).load(self.row.key_id)
        return Key(row=row) if row is not None else None

    @strawberry.field
    async def cylinder(self, info: Info) -> Cylinder | None:
        if self.row.cylinder_id is None:
            return None
        row = await info.context.loaders.by_id(m.Cylinder).load(self.row.cylinder_id)
        return Cylinder(row=row) if row is not None else None

    @strawberry.field
    def result(self) -> AccessResult:
        return self.row.result


@strawberry.type
class ReadoutRequest(Node):
    row: strawberry.Private[m.ReadoutRequest]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    async def target(self, info: Info) -> Node:
        if self.row.key_id is not None:
            return Key(row=await info.context.loaders.by_id(m.Key).load(self.row.key_id))
        cylinder_id = self.row.cylinder_id
        return Cylinder(row=await info.context.loaders.by_id(m.Cylinder).load(cylinder_id))

    @strawberry.field
    def reason(self) -> str:
        return self.row.reason

    @strawberry.field
    def status(self) -> ReadoutStatus:
        return self.row.status

    @strawberry.field
    async def requested_by(self, info: Info) -> ProgrammingKey:
        loader = info.context.loaders.by_id(m.ProgrammingKey)
        return ProgrammingKey(row=await loader.load(self.row.requested_by_id))

    @strawberry.field
    def requested_at(self) -> datetime:
        return self.row.requested_at

    @strawberry.field
    async def decided_by(self, info: Info) -> ProgrammingKey | None:
        if self.row.decided_by_id is None:
            return None
        loader = info.context.loaders.by_id(m.ProgrammingKey)
        return ProgrammingKey(row=await loader.load(self.row.decided_by_id))

    @strawberry.field
    def decided_at(self) -> datetime | None:
        return self.row.decided_at

    @strawberry.field
    def decision_note(self) -> str | None:
        return self.row.decision_note


@strawberry.type
class BlockingList:
    version: int
    issued_at: datetime
    valid_until: datetime | None
    key_uids: list[str]
    signature: str


@strawberry.type
class Extension(Node):
    row: strawberry.Private[m.Extension]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    @strawberry.field
    def imported_at(self) -> datetime:
        return self.row.imported_at

    @strawberry.field
    def activated(self) -> bool:
        return self.row.activated

    @strawberry.field
    def new_keys(self) -> int:
        return self.row.new_keys

    @strawberry.field
    def new_cylinders(self) -> int:
        return self.row.new_cylinders

    @strawberry.field
    def clones(self) -> int:
        return self.row.clones


# --- connections -------------------------------------------------------------
# Strawberry names the specialisations after the node: Edge[Key] is KeyEdge,
# Connection[Key] is KeyConnection, as the contract spells them.

NodeT = TypeVar("NodeT")


@strawberry.type
class Edge(Generic[NodeT]):
    node: NodeT
    cursor: str


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    count_stmt: strawberry.Private[Any]

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        """Counted only when asked for: one statement, independent of the page."""
        return int(await info.context.db.scalar(self.count_stmt))

    @classmethod
    def from_page(cls, page: Page, node_type: Callable[..., NodeT]) -> Connection[NodeT]:
        return cls(
            edges=[
                Edge(node=node_type(row=row), cursor=cursor)
                for row, cursor in zip(page.rows, page.cursors, strict=True)
            ],
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            count_stmt=page.count_stmt,
        )


KeyConnection = Connection[Key]
CylinderConnection = Connection[Cylinder]
EmployeeConnection = Connection[Employee]
ProgrammingJobConnection = Connection[ProgrammingJob]
RemoteJobConnection = Connection[RemoteJob]
AuditEventConnection = Connection[AuditEvent]

NODE_TYPES: dict[str, Any] = {
    t.__name__: t
    for t in (
        Role,
        Domain,
        Employee,
        Schedule,
        AccessProfile,
        KeyGroup,
        Key,
        Cylinder,
        ProgrammingKey,
        ProgrammingJob,
        RemoteJob,
        RemoteDevice,
        CertificateBundle,
        Firmware,
        ReadoutRequest,
        Extension,
    )
}
