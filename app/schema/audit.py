"""Audit trails over GraphQL (R28): events newest first, within the caller's domains (R8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import Select

from app.audit.trail import AuditFilter, aware, filtered
from app.schema.common import AccessResult
from app.schema.context import Info
from app.schema.relay import decode_id
from app.schema.types import AuditEventConnection
from app.schema.types.locking import audit_event_connection


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


def _filtered(f: AuditEventFilter) -> Select[Any]:
    return filtered(
        AuditFilter(
            key_id=decode_id(f.key_id, "Key", "filter.keyId")[1] if f.key_id is not None else None,
            cylinder_id=(
                decode_id(f.cylinder_id, "Cylinder", "filter.cylinderId")[1]
                if f.cylinder_id is not None
                else None
            ),
            results=frozenset(f.result or ()),
            since=aware(f.from_, "filter.from") if f.from_ is not None else None,
            until=aware(f.until, "filter.until") if f.until is not None else None,
        )
    )


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
