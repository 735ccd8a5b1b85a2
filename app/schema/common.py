"""Types every area shares: Node, PageInfo, UserError, Warning and the domain enums."""

from __future__ import annotations

import strawberry

from app import errors
from app.errors import DomainError
from app.models import enums
from app.rate_limits import RateLimited

HostingMode = strawberry.enum(enums.HostingMode)
KeyType = strawberry.enum(enums.KeyType)
KeyGeneration = strawberry.enum(enums.KeyGeneration)
KeyStatus = strawberry.enum(enums.KeyStatus)
CylinderStatus = strawberry.enum(enums.CylinderStatus)
ProgrammingKeyKind = strawberry.enum(enums.ProgrammingKeyKind)
Weekday = strawberry.enum(enums.Weekday)
ProgrammingJobStatus = strawberry.enum(enums.ProgrammingJobStatus)
AccessChangeOp = strawberry.enum(enums.AccessChangeOp)
RemoteJobKind = strawberry.enum(enums.RemoteJobKind)
RemoteJobStatus = strawberry.enum(enums.RemoteJobStatus)
RemoteDeviceKind = strawberry.enum(enums.RemoteDeviceKind)
FirmwareTarget = strawberry.enum(enums.FirmwareTarget)
FirmwareSource = strawberry.enum(enums.FirmwareSource)
ReadoutStatus = strawberry.enum(enums.ReadoutStatus)
AccessResult = strawberry.enum(enums.AccessResult)


# The contract's ErrorCode, generated from the one list the domain raises with (app.errors).
ErrorCode = strawberry.enum(errors.ErrorCode, name="ErrorCode")


@strawberry.type
class UserError:
    field: str | None
    code: ErrorCode
    message: str
    retry_after_seconds: int | None = strawberry.field(
        default=None, description="RATE_LIMITED: the seconds until the next try is counted."
    )

    @classmethod
    def from_domain(cls, exc: DomainError) -> UserError:
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        return cls(
            field=exc.field, code=exc.code, message=exc.message, retry_after_seconds=retry_after
        )


@strawberry.type
class DeletePayload:
    """What every delete answers: the global id of what was removed, or why not."""

    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class Warning:
    code: str
    message: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.interface
class Node:
    id: strawberry.ID
