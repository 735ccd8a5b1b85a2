"""The locking system: employees, keys, cylinders, their groups and access lists, programming
keys and jobs, remote jobs and audit events (R10–R20, R28).

These types refer to one another both ways (a key lists its remote jobs, a remote job
names its key), so they live in one module.
"""

from __future__ import annotations

import binascii
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Select, func, select

from app import models as m
from app.access.authorizations import EffectiveAuthorization
from app.audit.trail import NEWEST_FIRST, older_than, visible
from app.errors import INVALID, DomainError
from app.schema.common import (
    AccessChangeOp,
    AccessResult,
    CylinderStatus,
    KeyGeneration,
    KeyStatus,
    KeyType,
    Node,
    ProgrammingJobStatus,
    ProgrammingKeyKind,
    RemoteJobKind,
    RemoteJobStatus,
)
from app.schema.context import Info
from app.schema.relay import Page, decode_cursor, encode_cursor, page_size
from app.schema.types.base import Connection, child_connection, column, gid, related
from app.schema.types.devices import RemoteDevice
from app.schema.types.organisation import Domain, Role, Schedule, Validity, load_schedule


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

    @strawberry.field(description="Profiles that apply to every key the employee holds (R13).")
    async def access_profiles(self, info: Info) -> list[AccessProfile]:
        rows = await info.context.loaders.employee_access_profiles.load(self.row.id)
        return [AccessProfile(row=r) for r in rows]


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
        return await nested_audit_trail(info, "cylinder_id", self.row.id, first=first, after=after)


@strawberry.type(
    description="R17: why a wall or mobile device last refused to load or take back a "
    "programming key's jobs (its firmware or the device's is too old)."
)
class RemoteLoadingRefusal:
    code: str = strawberry.field(description="KEY_FIRMWARE_TOO_OLD or DEVICE_FIRMWARE_TOO_OLD")
    message: str
    at: datetime
    device_name: str
    device_serial: str


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

    @strawberry.field(
        description="R17: the last refusal at a wall or mobile device, until the key next "
        "loads or reports its jobs at one; null when none."
    )
    def remote_refusal(self) -> RemoteLoadingRefusal | None:
        kept = self.row.remote_refusal
        if not kept:
            return None
        return RemoteLoadingRefusal(
            code=kept["code"], message=kept["message"], at=datetime.fromisoformat(kept["at"]),
            device_name=kept["deviceName"], device_serial=kept["deviceSerial"],
        )

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


AuditEventConnection = Connection[AuditEvent]


async def audit_event_connection(
    info: Info, stmt: Select[Any], *, first: int | None, after: str | None
) -> AuditEventConnection:
    """A page of audit events, newest first, keyset-paginated on (at desc, id desc) (R28).

    ``stmt`` selects AuditEvent rows with the caller's filters. Only events the
    caller may see are listed: never withheld ones (a programming visit's readout
    without an approved request, R15, R29), and for a principal limited to some
    domains (R8), those on a cylinder or of a key of its domains. Also meant for ``Key.auditTrail``
    and ``Cylinder.auditTrail`` (with ``key_id`` / ``cylinder_id`` conditions).
    """
    principal = info.context.require("audit.read")
    stmt = visible(stmt, principal.domain_ids)
    limit = page_size(first)
    count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
    paged = stmt.order_by(*NEWEST_FIRST)
    if after:
        paged = older_than(paged, *_decode_cursor(after))
    rows = await info.context.db.scalars(paged.limit(limit + 1))
    has_next = len(rows) > limit
    rows = rows[:limit]
    cursors = [encode_cursor([row.at.isoformat(), row.id]) for row in rows]
    page = Page(rows, cursors, has_next, bool(after), count_stmt)
    return AuditEventConnection.from_page(page, AuditEvent)


async def nested_audit_trail(
    info: Info, fk_name: str, parent_id: int, *, first: int | None, after: str | None
) -> AuditEventConnection:
    """``Key.auditTrail`` / ``Cylinder.auditTrail`` (R28): the first pages of every key or
    cylinder of a list load in one windowed statement, their counts in one more; a later
    page of one parent is a keyset query as in ``auditEvents``. The parent is one the caller
    may see, so every event of its trail is visible too (R8), but for withheld ones (R29)."""
    info.context.require("audit.read")
    if after is not None:
        column = getattr(m.AuditEvent, fk_name)
        stmt = select(m.AuditEvent).where(column == parent_id)
        return await audit_event_connection(info, stmt, first=first, after=after)
    loaders = info.context.loaders
    limit = page_size(first)
    rows, has_next = await loaders.child_pages(
        m.AuditEvent, fk_name, limit, newest_first=True, hidden="withheld"
    ).load(parent_id)
    cursors = [encode_cursor([row.at.isoformat(), row.id]) for row in rows]
    connection = AuditEventConnection.from_page(
        Page(rows, cursors, has_next, False, count_stmt=None), AuditEvent
    )
    connection.count_loader = lambda: loaders.child_counts(
        m.AuditEvent, fk_name, hidden="withheld"
    ).load(parent_id)
    return connection


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    at, ident = decode_cursor(cursor, 2)
    try:
        moment = datetime.fromisoformat(at)
    except (TypeError, ValueError, binascii.Error) as exc:
        raise DomainError(INVALID, "after: not a cursor of this list", "after") from exc
    if moment.tzinfo is None or not isinstance(ident, int) or isinstance(ident, bool):
        raise DomainError(INVALID, "after: not a cursor of this list", "after")
    return moment, ident
