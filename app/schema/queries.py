"""Every Query field of the contract (R1: tenant-scoped session; R8: principal's domains)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Select, or_, select

from app import models as m
from app.auth.rights import RIGHTS
from app.errors import INVALID, DomainError
from app.schema import types as t
from app.schema.common import (
    CylinderStatus,
    KeyStatus,
    KeyType,
    Node,
    ProgrammingJobStatus,
    ReadoutStatus,
)
from app.schema.context import Info
from app.schema.nodes import NODES
from app.schema.relay import decode_id, fetch_page, parse_global_id

MAX_NODES = 100


@strawberry.input
class KeyFilter:
    search: str | None = None
    status: list[KeyStatus] | None = None
    advanced: bool | None = None
    type: list[KeyType] | None = None
    domain_id: strawberry.ID | None = None


@strawberry.input
class CylinderFilter:
    search: str | None = None
    status: list[CylinderStatus] | None = None
    advanced: bool | None = strawberry.field(
        default=None, description="Advanced search: DEFECTIVE cylinders too (R10)."
    )
    domain_id: strawberry.ID | None = None
    needs_reprogramming: bool | None = None


@strawberry.input
class ProgrammingJobFilter:
    status: list[ProgrammingJobStatus] | None = None
    cylinder_id: strawberry.ID | None = None
    assignee_id: strawberry.ID | None = None
    key_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Jobs that add this key to a cylinder or remove it (R15, R19): the key "
        "card's open jobs.",
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


async def _load_nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    principal = info.context.principal
    decoded: list[tuple[str, int] | None] = []
    for gid in ids:
        parsed = parse_global_id(gid)
        if (
            parsed is None
            or parsed[0] not in NODES
            or not parsed[1].isdigit()
            or principal is None
            or not principal.has(NODES[parsed[0]].right)
        ):
            decoded.append(None)
        else:
            decoded.append((parsed[0], int(parsed[1])))
    loaders = info.context.loaders
    rows = []
    for item in decoded:
        if item is None:
            rows.append(None)
            continue
        rows.append(loaders.by_id(NODES[item[0]].model).load(item[1]))
    out: list[Node | None] = []
    for item, pending in zip(decoded, rows, strict=True):
        if item is None or pending is None:
            out.append(None)
            continue
        row = await pending
        out.append(NODES[item[0]].graphql_type(row=row) if row is not None else None)
    return out


def _domain_filter(stmt: Select[Any], model: Any, domain_gid: str | None) -> Select[Any]:
    if domain_gid is None:
        return stmt
    _, domain_id = decode_id(domain_gid, "Domain", "filter.domainId")
    return stmt.where(model.domain_id == domain_id)


@strawberry.type
class CoreQuery:
    @strawberry.field(
        description="Any object by its global id; null when the caller may not see it."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        info.context.db  # noqa: B018  (authentication required)
        return (await _load_nodes(info, [id]))[0]

    @strawberry.field
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        info.context.db  # noqa: B018
        if len(ids) > MAX_NODES:
            raise DomainError(INVALID, f"ids: at most {MAX_NODES} per request", "ids")
        return await _load_nodes(info, ids)

    @strawberry.field
    async def tenant(self, info: Info) -> t.Tenant:
        info.context.require_any()
        return t.Tenant(row=await info.context.db.scalar(select(m.Tenant)))

    @strawberry.field(description="The programming key logged in; null for an API token.")
    async def me(self, info: Info) -> t.ProgrammingKey | None:
        principal = info.context.require_any()
        if principal.programming_key_id is None:
            return None
        row = await info.context.loaders.by_id(m.ProgrammingKey).load(principal.programming_key_id)
        return t.ProgrammingKey(row=row) if row is not None else None

    @strawberry.field
    def rights(self, info: Info) -> list[t.Right]:
        info.context.require("roles.read")
        return [t.Right(name=k, description=v) for k, v in RIGHTS.items()]

    @strawberry.field
    async def roles(self, info: Info) -> list[t.Role]:
        info.context.require("roles.read")
        rows = await info.context.db.scalars(select(m.Role).order_by(m.Role.name))
        return [t.Role(row=r) for r in rows]

    @strawberry.field
    async def domains(self, info: Info) -> list[t.Domain]:
        principal = info.context.require("domains.read")
        stmt = select(m.Domain).order_by(m.Domain.name)
        if principal.domain_ids is not None:
            stmt = stmt.where(m.Domain.id.in_(principal.domain_ids))
        return [t.Domain(row=r) for r in await info.context.db.scalars(stmt)]

    @strawberry.field
    async def employees(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> t.EmployeeConnection:
        info.context.require("employees.read")
        stmt = select(m.Employee)
        if search:
            pattern = _like(search)
            stmt = stmt.where(
                or_(
                    m.Employee.last_name.ilike(pattern, escape="\\"),
                    m.Employee.first_name.ilike(pattern, escape="\\"),
                    m.Employee.employee_number.ilike(pattern, escape="\\"),
                    m.Employee.email.ilike(pattern, escape="\\"),
                )
            )
        order = [m.Employee.last_name, m.Employee.first_name, m.Employee.id]
        page = await fetch_page(info.context.db.execute, stmt, order, first=first, after=after)
        return t.EmployeeConnection.from_page(page, t.Employee)

    @strawberry.field(description="Keys; LOST and DEFECTIVE only with advanced search (R10).")
    async def keys(
        self,
        info: Info,
        filter: KeyFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> t.KeyConnection:
        info.context.require("keys.read")
        f = filter or KeyFilter()
        stmt = select(m.Key)
        if f.status:
            stmt = stmt.where(m.Key.status.in_(f.status))
        elif not f.advanced:
            stmt = stmt.where(m.Key.status.not_in([m.KeyStatus.LOST, m.KeyStatus.DEFECTIVE]))
        if f.type:
            stmt = stmt.where(m.Key.type.in_(f.type))
        stmt = _domain_filter(stmt, m.Key, f.domain_id)
        if f.search:
            pattern = _like(f.search)
            holders = select(m.Employee.id).where(
                or_(
                    m.Employee.last_name.ilike(pattern, escape="\\"),
                    m.Employee.first_name.ilike(pattern, escape="\\"),
                )
            )
            stmt = stmt.where(
                or_(
                    m.Key.marking.ilike(pattern, escape="\\"),
                    m.Key.uid.ilike(pattern, escape="\\"),
                    m.Key.holder_id.in_(holders),
                )
            )
        page = await fetch_page(
            info.context.db.execute, stmt, [m.Key.marking, m.Key.id], first=first, after=after
        )
        return t.KeyConnection.from_page(page, t.Key)

    @strawberry.field(description="Cylinders; DEFECTIVE only with advanced search (R10).")
    async def cylinders(
        self,
        info: Info,
        filter: CylinderFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> t.CylinderConnection:
        info.context.require("cylinders.read")
        f = filter or CylinderFilter()
        stmt = select(m.Cylinder)
        if f.status:
            stmt = stmt.where(m.Cylinder.status.in_(f.status))
        elif not f.advanced:
            stmt = stmt.where(m.Cylinder.status != m.CylinderStatus.DEFECTIVE)
        if f.needs_reprogramming is not None:
            stmt = stmt.where(m.Cylinder.needs_reprogramming.is_(f.needs_reprogramming))
        stmt = _domain_filter(stmt, m.Cylinder, f.domain_id)
        if f.search:
            pattern = _like(f.search)
            stmt = stmt.where(
                or_(
                    m.Cylinder.marking.ilike(pattern, escape="\\"),
                    m.Cylinder.uid.ilike(pattern, escape="\\"),
                )
            )
        order = [m.Cylinder.marking, m.Cylinder.id]
        page = await fetch_page(info.context.db.execute, stmt, order, first=first, after=after)
        return t.CylinderConnection.from_page(page, t.Cylinder)

    @strawberry.field
    async def key_groups(self, info: Info) -> list[t.KeyGroup]:
        info.context.require("keys.read")
        rows = await info.context.db.scalars(select(m.KeyGroup).order_by(m.KeyGroup.name))
        return [t.KeyGroup(row=r) for r in rows]

    @strawberry.field
    async def cylinder_groups(self, info: Info) -> list[t.CylinderGroup]:
        info.context.require("cylinders.read")
        rows = await info.context.db.scalars(select(m.CylinderGroup).order_by(m.CylinderGroup.name))
        return [t.CylinderGroup(row=r) for r in rows]

    @strawberry.field
    async def schedules(self, info: Info) -> list[t.Schedule]:
        info.context.require("keys.read")
        rows = await info.context.db.scalars(select(m.Schedule).order_by(m.Schedule.name))
        return [t.Schedule(row=r) for r in rows]

    @strawberry.field
    async def access_profiles(self, info: Info) -> list[t.AccessProfile]:
        info.context.require("keys.read")
        stmt = select(m.AccessProfile).order_by(m.AccessProfile.name)
        return [t.AccessProfile(row=r) for r in await info.context.db.scalars(stmt)]

    @strawberry.field
    async def programming_keys(self, info: Info) -> list[t.ProgrammingKey]:
        info.context.require("programming_keys.read")
        stmt = select(m.ProgrammingKey).order_by(m.ProgrammingKey.marking)
        return [t.ProgrammingKey(row=r) for r in await info.context.db.scalars(stmt)]

    @strawberry.field
    async def programming_jobs(
        self,
        info: Info,
        filter: ProgrammingJobFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> t.ProgrammingJobConnection:
        info.context.require("jobs.read")
        f = filter or ProgrammingJobFilter()
        # Jobs follow their cylinder's domain (R8): only jobs on visible cylinders.
        stmt = select(m.ProgrammingJob).where(
            m.ProgrammingJob.cylinder_id.in_(select(m.Cylinder.id))
        )
        if f.status:
            stmt = stmt.where(m.ProgrammingJob.status.in_(f.status))
        if f.cylinder_id:
            _, cylinder_id = decode_id(f.cylinder_id, "Cylinder", "filter.cylinderId")
            stmt = stmt.where(m.ProgrammingJob.cylinder_id == cylinder_id)
        if f.assignee_id:
            _, assignee_id = decode_id(f.assignee_id, "ProgrammingKey", "filter.assigneeId")
            stmt = stmt.where(m.ProgrammingJob.assignee_id == assignee_id)
        if f.key_id:
            _, key_id = decode_id(f.key_id, "Key", "filter.keyId")
            # A key the caller cannot see (R1, R8) names no job.
            stmt = stmt.where(
                m.ProgrammingJob.id.in_(
                    select(m.ProgrammingJobChange.job_id).where(
                        m.ProgrammingJobChange.key_id.in_(
                            select(m.Key.id).where(m.Key.id == key_id)
                        )
                    )
                )
            )
        page = await fetch_page(
            info.context.db.execute, stmt, [m.ProgrammingJob.id], first=first, after=after
        )
        return t.ProgrammingJobConnection.from_page(page, t.ProgrammingJob)

    @strawberry.field
    async def remote_devices(self, info: Info) -> list[t.RemoteDevice]:
        info.context.require("devices.read")
        stmt = select(m.RemoteDevice).order_by(m.RemoteDevice.name, m.RemoteDevice.id)
        return [t.RemoteDevice(row=r) for r in await info.context.db.scalars(stmt)]

    @strawberry.field
    async def certificate_bundles(self, info: Info) -> list[t.CertificateBundle]:
        info.context.require("firmware.read")
        stmt = select(m.CertificateBundle).order_by(m.CertificateBundle.created_at)
        return [t.CertificateBundle(row=r) for r in await info.context.db.scalars(stmt)]

    @strawberry.field
    async def firmware(self, info: Info) -> list[t.Firmware]:
        info.context.require("firmware.read")
        stmt = select(m.Firmware).order_by(m.Firmware.imported_at.desc(), m.Firmware.id.desc())
        return [t.Firmware(row=r) for r in await info.context.db.scalars(stmt)]

    @strawberry.field
    async def readout_requests(
        self, info: Info, status: list[ReadoutStatus] | None = None
    ) -> list[t.ReadoutRequest]:
        info.context.require("readout.read")
        # R8: only requests whose key or cylinder the caller can see.
        stmt = (
            select(m.ReadoutRequest)
            .where(
                or_(
                    m.ReadoutRequest.key_id.in_(select(m.Key.id)),
                    m.ReadoutRequest.cylinder_id.in_(select(m.Cylinder.id)),
                )
            )
            .order_by(m.ReadoutRequest.requested_at.desc())
        )
        if status:
            stmt = stmt.where(m.ReadoutRequest.status.in_(status))
        return [t.ReadoutRequest(row=r) for r in await info.context.db.scalars(stmt)]

    @strawberry.field
    async def extensions(self, info: Info) -> list[t.Extension]:
        info.context.require("extensions.read")
        stmt = select(m.Extension).order_by(m.Extension.imported_at.desc(), m.Extension.id.desc())
        return [t.Extension(row=r) for r in await info.context.db.scalars(stmt)]


__all__ = ["CoreQuery", "datetime"]
