"""Readout requests of audit trails and their decisions (R29, R38)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app import models as m
from app.schema.common import (
    Node,
    ReadoutStatus,
)
from app.schema.context import Info
from app.schema.types.base import column, gid, related
from app.schema.types.locking import Cylinder, Key, ProgrammingKey


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
