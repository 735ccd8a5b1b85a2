"""Audit trails over GraphQL (R28): events newest first, within the caller's domains (R8)."""

from __future__ import annotations

import binascii
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Select, and_, func, or_, select

from app import models as m
from app.errors import DomainError
from app.schema.common import AccessResult
from app.schema.context import Info
from app.schema.relay import Page, decode_cursor, decode_id, encode_cursor, page_size
from app.schema.types import AuditEvent, AuditEventConnection


@strawberry.input(description="Which audit events to list; every condition given must hold.")
class AuditEventFilter:
    key_id: strawberry.ID | None = None
    cylinder_id: strawberry.ID | None = None
    result: list[AccessResult] | None = None
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Events at or after this time."
    )
    until: datetime | None = strawberry.field(
        default=None, description="Events at or before this time."
    )


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise DomainError("INVALID", f"{field}: the time must carry its UTC offset", field)
    return value


def _filtered(f: AuditEventFilter) -> Select[Any]:
    stmt = select(m.AuditEvent)
    if f.key_id is not None:
        _, key_id = decode_id(f.key_id, "Key", "filter.keyId")
        stmt = stmt.where(m.AuditEvent.key_id == key_id)
    if f.cylinder_id is not None:
        _, cylinder_id = decode_id(f.cylinder_id, "Cylinder", "filter.cylinderId")
        stmt = stmt.where(m.AuditEvent.cylinder_id == cylinder_id)
    if f.result:
        stmt = stmt.where(m.AuditEvent.result.in_(f.result))
    if f.from_ is not None:
        stmt = stmt.where(m.AuditEvent.at >= _aware(f.from_, "filter.from"))
    if f.until is not None:
        stmt = stmt.where(m.AuditEvent.at <= _aware(f.until, "filter.until"))
    return stmt


async def audit_event_connection(
    info: Info, stmt: Select[Any], *, first: int | None, after: str | None
) -> AuditEventConnection:
    """A page of audit events, newest first, keyset-paginated on (at desc, id desc) (R28).

    ``stmt`` selects AuditEvent rows with the caller's filters. Only events the
    caller may see are listed: for a principal limited to some domains (R8), those
    on a cylinder or of a key of its domains. Also meant for ``Key.auditTrail``
    and ``Cylinder.auditTrail`` (with ``key_id`` / ``cylinder_id`` conditions).
    """
    principal = info.context.require("audit.read")
    if principal.domain_ids is not None:
        domains = tuple(principal.domain_ids)
        stmt = stmt.where(
            or_(
                m.AuditEvent.cylinder_id.in_(
                    select(m.Cylinder.id).where(m.Cylinder.domain_id.in_(domains))
                ),
                m.AuditEvent.key_id.in_(select(m.Key.id).where(m.Key.domain_id.in_(domains))),
            )
        )
    limit = page_size(first)
    count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
    paged = stmt.order_by(m.AuditEvent.at.desc(), m.AuditEvent.id.desc())
    if after:
        at, ident = _decode_cursor(after)
        paged = paged.where(
            or_(m.AuditEvent.at < at, and_(m.AuditEvent.at == at, m.AuditEvent.id < ident))
        )
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
    may see, so every event of its trail is visible too (R8)."""
    info.context.require("audit.read")
    if after is not None:
        column = getattr(m.AuditEvent, fk_name)
        stmt = select(m.AuditEvent).where(column == parent_id)
        return await audit_event_connection(info, stmt, first=first, after=after)
    loaders = info.context.loaders
    limit = page_size(first)
    rows, has_next = await loaders.child_pages(
        m.AuditEvent, fk_name, limit, newest_first=True
    ).load(parent_id)
    cursors = [encode_cursor([row.at.isoformat(), row.id]) for row in rows]
    connection = AuditEventConnection.from_page(
        Page(rows, cursors, has_next, False, count_stmt=None), AuditEvent
    )
    connection.count_loader = lambda: loaders.child_counts(m.AuditEvent, fk_name).load(parent_id)
    return connection


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    at, ident = decode_cursor(cursor, 2)
    try:
        moment = datetime.fromisoformat(at)
    except (TypeError, ValueError, binascii.Error) as exc:
        raise DomainError("INVALID", "after: not a cursor of this list", "after") from exc
    if moment.tzinfo is None or not isinstance(ident, int) or isinstance(ident, bool):
        raise DomainError("INVALID", "after: not a cursor of this list", "after")
    return moment, ident


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="R28: audit events of cylinders and keys, newest first, in your domains."
    )
    async def audit_events(
        self,
        info: Info,
        filter: AuditEventFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> AuditEventConnection:
        info.context.require("audit.read")
        return await audit_event_connection(
            info, _filtered(filter or AuditEventFilter()), first=first, after=after
        )
