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
from app.schema.relay import Page, encode_cursor, fetch_page, page_size, to_global_id


def column(attribute: str, graphql_type: Any, description: str | None = None) -> Any:
    """A field read straight off the wrapped model row (``self.row.<attribute>``)."""

    def resolve(root: Any) -> Any:
        return getattr(root.row, attribute)

    return strawberry.field(resolver=resolve, graphql_type=graphql_type, description=description)


T = TypeVar("T")


async def child_connection(
    info: Info,
    model: Any,
    fk_name: str,
    parent_id: int,
    node_type: Any,
    first: int | None,
    after: str | None,
) -> Any:
    """A parent's children as a connection; first pages of many parents load together."""
    if after is not None:  # a later page of one parent: keyset as everywhere
        stmt = select(model).where(getattr(model, fk_name) == parent_id)
        page = await fetch_page(info.context.db.execute, stmt, [model.id], first=first, after=after)
        return Connection[node_type].from_page(page, node_type)
    loaders = info.context.loaders
    rows, has_next = await loaders.child_pages(model, fk_name, page_size(first)).load(parent_id)
    page = Page(rows, [encode_cursor([r.id]) for r in rows], has_next, False, count_stmt=None)
    connection = Connection[node_type].from_page(page, node_type)
    connection.count_loader = lambda: loaders.child_counts(model, fk_name).load(parent_id)
    return connection


async def related(info: Info, model: type, ident: int | None, wrap: Callable[..., T]) -> T | None:
    """The row ``ident`` of ``model`` through the request's loader, wrapped; None when there is
    none or the caller may not see it (R1, R8)."""
    if ident is None:
        return None
    row = await info.context.loaders.by_id(model).load(ident)
    return wrap(row=row) if row is not None else None


def gid(row: Any) -> strawberry.ID:
    return strawberry.ID(to_global_id(type(row).__name__, row.id))


@strawberry.type
class Tenant:
    row: strawberry.Private[m.Tenant]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("Tenant", self.row.id))

    name = column("name", str)

    hosting_mode = column("hosting_mode", HostingMode)

    data_center_connected = column("data_center_connected", bool)

    approver_function = column("approver_function", bool)

    flexible_extensions = column("flexible_extensions", bool)


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

    name = column("name", str)

    builtin = column("builtin", bool)

    @strawberry.field
    def rights(self) -> list[str]:
        return list(self.row.rights)


@strawberry.type
class Domain(Node):
    row: strawberry.Private[m.Domain]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    name = column("name", str)

    description = column("description", str | None)


@strawberry.type
class Employee(Node):
    row: strawberry.Private[m.Employee]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    employee_number = column("employee_number", str | None)

    first_name = column("first_name", str)

    last_name = column("last_name", str)

    email = column("email", str | None)

    department = column("department", str | None)

    phone = column("phone", str | None)

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

    name = column("name", str)

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

    name = column("name", str)

    @strawberry.field
    async def cylinders(self, info: Info) -> list[Cylinder]:
        rows = await info.context.loaders.cylinders_of_profile.load(self.row.id)
        return [Cylinder(row=r) for r in rows]

    @strawberry.field
    async def schedule(self, info: Info) -> Schedule:
        return await load_schedule(info, self.row.schedule_id)

    extension_interval_hours = column("extension_interval_hours", int | None)


@strawberry.type
class KeyGroup(Node):
    row: strawberry.Private[m.KeyGroup]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    name = column("name", str)

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

    name = column("name", str)

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

    marking = column("marking", str)

    uid = column("uid", str)

    type = column("type", KeyType)

    generation = column("generation", KeyGeneration)

    firmware_version = column("firmware_version", str)

    status = column("status", KeyStatus)

    @strawberry.field
    async def domain(self, info: Info) -> Domain:
        return Domain(row=await info.context.loaders.by_id(m.Domain).load(self.row.domain_id))

    @strawberry.field
    async def holder(self, info: Info) -> Employee | None:
        return await related(info, m.Employee, self.row.holder_id, Employee)

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

    extension_interval_hours = column("extension_interval_hours", int | None)

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

    audit_readout_enabled = column("audit_readout_enabled", bool)

    @strawberry.field(description="Events read out of this key (R28), newest first.")
    async def audit_trail(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AuditEvent]:
        from app.schema.audit import nested_audit_trail

        return await nested_audit_trail(info, "key_id", self.row.id, first=first, after=after)

    @strawberry.field
    async def remote_jobs(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[RemoteJob]:
        info.context.require("jobs.read")
        return await child_connection(
            info, m.RemoteJob, "key_id", self.row.id, RemoteJob, first, after
        )


@strawberry.type
class AccessEntry:
    row: strawberry.Private[m.AccessEntry]

    @strawberry.field
    async def key(self, info: Info) -> Key | None:
        return await related(info, m.Key, self.row.key_id, Key)

    @strawberry.field
    async def group(self, info: Info) -> KeyGroup | None:
        return await related(info, m.KeyGroup, self.row.key_group_id, KeyGroup)

    @strawberry.field(description="The cylinder's membership in a cylinder group (R13).")
    async def cylinder_group(self, info: Info) -> CylinderGroup | None:
        return await related(info, m.CylinderGroup, self.row.cylinder_group_id, CylinderGroup)

    desired = column("desired", bool)

    programmed = column("programmed", bool)


@strawberry.type
class Cylinder(Node):
    row: strawberry.Private[m.Cylinder]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    marking = column("marking", str)

    uid = column("uid", str)

    status = column("status", CylinderStatus)

    @strawberry.field
    async def domain(self, info: Info) -> Domain:
        return Domain(row=await info.context.loaders.by_id(m.Domain).load(self.row.domain_id))

    security_relevant = column("security_relevant", bool)

    is_clone = column("is_clone", bool)

    needs_reprogramming = column("needs_reprogramming", bool)

    @strawberry.field
    async def access_list(self, info: Info) -> list[AccessEntry]:
        rows = await info.context.loaders.access_list_of_cylinder.load(self.row.id)
        return [AccessEntry(row=r) for r in rows]

    @strawberry.field
    async def programming_jobs(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ProgrammingJob]:
        info.context.require("jobs.read")
        return await child_connection(
            info, m.ProgrammingJob, "cylinder_id", self.row.id, ProgrammingJob, first, after
        )

    @strawberry.field
    async def audit_trail(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AuditEvent]:
        from app.schema.audit import nested_audit_trail

        return await nested_audit_trail(info, "cylinder_id", self.row.id, first=first, after=after)


@strawberry.type
class ProgrammingKey(Node):
    row: strawberry.Private[m.ProgrammingKey]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    marking = column("marking", str)

    uid = column("uid", str)

    kind = column("kind", ProgrammingKeyKind)

    firmware_version = column("firmware_version", str)

    @strawberry.field
    async def holder(self, info: Info) -> Employee | None:
        return await related(info, m.Employee, self.row.holder_id, Employee)

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
        return await child_connection(
            info, m.ProgrammingJob, "assignee_id", self.row.id, ProgrammingJob, first, after
        )


@strawberry.type
class AccessChange:
    row: strawberry.Private[m.ProgrammingJobChange]

    op = column("op", AccessChangeOp)

    @strawberry.field
    async def key(self, info: Info) -> Key | None:
        return await related(info, m.Key, self.row.key_id, Key)

    @strawberry.field
    async def group(self, info: Info) -> KeyGroup | None:
        return await related(info, m.KeyGroup, self.row.key_group_id, KeyGroup)

    @strawberry.field
    async def cylinder_group(self, info: Info) -> CylinderGroup | None:
        return await related(info, m.CylinderGroup, self.row.cylinder_group_id, CylinderGroup)


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

    status = column("status", ProgrammingJobStatus)

    @strawberry.field
    async def assignee(self, info: Info) -> ProgrammingKey | None:
        return await related(info, m.ProgrammingKey, self.row.assignee_id, ProgrammingKey)

    created_at = column("created_at", datetime)

    completed_at = column("completed_at", datetime | None)


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

    name = column("name", str)

    created_at = column("created_at", datetime)


@strawberry.type
class Firmware(Node):
    row: strawberry.Private[m.Firmware]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    target = column("target", FirmwareTarget)

    version = column("version", str)

    source = column("source", FirmwareSource)

    @strawberry.field
    async def certificate_bundle(self, info: Info) -> CertificateBundle:
        loader = info.context.loaders.by_id(m.CertificateBundle)
        return CertificateBundle(row=await loader.load(self.row.certificate_bundle_id))

    imported_at = column("imported_at", datetime)

    applied = column("applied", bool)


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
class DeviceTraceLog:
    """A trace log a device wrote for a request file, uploaded to be read (R27)."""

    row: strawberry.Private[m.DeviceTraceLog]
    written_at = column("written_at", datetime)
    uploaded_at = column("uploaded_at", datetime)
    log = column("log", str)
    sha256 = column("sha256", str)


@strawberry.type
class RemoteDevice(Node):
    row: strawberry.Private[m.RemoteDevice]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self.row)

    name = column("name", str)

    kind = column("kind", RemoteDeviceKind)

    serial = column("serial", str)

    @strawberry.field
    async def domain(self, info: Info) -> Domain:
        return Domain(row=await info.context.loaders.by_id(m.Domain).load(self.row.domain_id))

    firmware_version = column("firmware_version", str)

    bootloader_version = column("bootloader_version", str)

    heartbeat_interval_seconds = column("heartbeat_interval_seconds", int)

    last_heartbeat_at = column("last_heartbeat_at", datetime | None)

    online = column("online", bool)

    system_linked = column("system_linked", bool)

    potential_free_output = column("potential_free_output", bool)

    updater_gen1 = column("updater_gen1", bool)

    updater_gen2 = column("updater_gen2", bool)

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

    @strawberry.field(description="Uploaded trace logs, newest first (R27).")
    async def trace_logs(self, info: Info) -> list[DeviceTraceLog]:
        rows = await info.context.db.scalars(
            select(m.DeviceTraceLog)
            .where(m.DeviceTraceLog.device_id == self.row.id)
            .order_by(m.DeviceTraceLog.uploaded_at.desc(), m.DeviceTraceLog.id.desc())
        )
        return [DeviceTraceLog(row=r) for r in rows]

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

    kind = column("kind", RemoteJobKind)

    status = column("status", RemoteJobStatus)

    @strawberry.field
    async def delivered_via(self, info: Info) -> RemoteDevice | None:
        return await related(info, m.RemoteDevice, self.row.delivered_via_id, RemoteDevice)

    created_at = column("created_at", datetime)

    completed_at = column("completed_at", datetime | None)


@strawberry.type
class AuditEvent:
    row: strawberry.Private[m.AuditEvent]

    at = column("at", datetime)

    @strawberry.field
    async def key(self, info: Info) -> Key | None:
        return await related(info, m.Key, self.row.key_id, Key)

    @strawberry.field
    async def cylinder(self, info: Info) -> Cylinder | None:
        return await related(info, m.Cylinder, self.row.cylinder_id, Cylinder)

    result = column("result", AccessResult)


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

    reason = column("reason", str)

    status = column("status", ReadoutStatus)

    @strawberry.field
    async def requested_by(self, info: Info) -> ProgrammingKey:
        loader = info.context.loaders.by_id(m.ProgrammingKey)
        return ProgrammingKey(row=await loader.load(self.row.requested_by_id))

    requested_at = column("requested_at", datetime)

    @strawberry.field
    async def decided_by(self, info: Info) -> ProgrammingKey | None:
        return await related(info, m.ProgrammingKey, self.row.decided_by_id, ProgrammingKey)

    decided_at = column("decided_at", datetime | None)

    decision_note = column("decision_note", str | None)


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

    imported_at = column("imported_at", datetime)

    activated = column("activated", bool)

    new_keys = column("new_keys", int)

    new_cylinders = column("new_cylinders", int)

    clones = column("clones", int)


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
    # Nested connections count through a loader instead: one statement for all parents.
    count_loader: strawberry.Private[Any] = None

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        """Counted only when asked for: one statement, independent of the page."""
        if self.count_loader is not None:
            return int(await self.count_loader())
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
