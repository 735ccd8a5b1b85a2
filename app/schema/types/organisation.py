"""The tenant and how it is organised: roles and rights (R7), domains (R8), schedules and
validity (R12)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app import models as m
from app.schema.common import (
    HostingMode,
    Node,
    Weekday,
)
from app.schema.context import Info
from app.schema.relay import to_global_id
from app.schema.types.base import column, gid


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
