"""Audit-trail readout requests and the approver function (R29, R38)."""

from __future__ import annotations

import strawberry

from app.approval.service import decide_readout, request_readout
from app.errors import DomainError
from app.schema.common import UserError
from app.schema.context import Info
from app.schema.relay import decode_id
from app.schema.types import ReadoutRequest
from app.workers.outbox import notify_outbox


@strawberry.input
class RequestReadoutInput:
    target_id: strawberry.ID = strawberry.field(description="A Key (E2/E3) or a Cylinder.")
    reason: str = strawberry.field(description="The purpose, mandatory (R38); at most 2000.")


@strawberry.input
class DecideReadoutInput:
    request_id: strawberry.ID
    approve: bool
    note: str | None = None


@strawberry.type
class ReadoutRequestPayload:
    readout_request: ReadoutRequest | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApprovalMutations:
    @strawberry.mutation(
        description="R29: ask to read an audit trail through a remote device; an Approver "
        "decides when the tenant has the approver function."
    )
    async def request_readout(
        self, info: Info, input: RequestReadoutInput
    ) -> ReadoutRequestPayload:
        principal = info.context.require("readout.request")
        try:
            kind, target_id = decode_id(input.target_id, ("Key", "Cylinder"), "targetId")
            async with info.context.write() as session:
                row = await request_readout(
                    session,
                    requested_by_id=principal.programming_key_id,
                    key_id=target_id if kind == "Key" else None,
                    cylinder_id=target_id if kind == "Cylinder" else None,
                    reason=input.reason,
                )
        except DomainError as exc:
            return ReadoutRequestPayload(errors=[UserError.from_domain(exc)])
        notify_outbox()  # the Approvers' e-mails (R33)
        return ReadoutRequestPayload(readout_request=ReadoutRequest(row=row))

    @strawberry.mutation(description="R29: an Approver approves or rejects a readout request.")
    async def decide_readout(self, info: Info, input: DecideReadoutInput) -> ReadoutRequestPayload:
        principal = info.context.require("readout.approve")
        try:
            _, request_id = decode_id(input.request_id, "ReadoutRequest", "requestId")
            async with info.context.write() as session:
                row = await decide_readout(
                    session,
                    request_id=request_id,
                    decided_by_id=principal.programming_key_id,
                    approve=input.approve,
                    note=input.note,
                )
        except DomainError as exc:
            return ReadoutRequestPayload(errors=[UserError.from_domain(exc)])
        notify_outbox()  # the requester's e-mail (R33)
        return ReadoutRequestPayload(readout_request=ReadoutRequest(row=row))
