"""Audit-trail readout requests and the approver function (R29, R38)."""

from __future__ import annotations

import strawberry

from app.approval.service import decide_readout, request_readout
from app.models import ReadoutRequest as ReadoutRequestRow
from app.schema.common import UserError
from app.schema.context import Info
from app.schema.runner import Run, mutation, run
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


def _readout_payload(row: ReadoutRequestRow) -> ReadoutRequestPayload:
    return ReadoutRequestPayload(readout_request=ReadoutRequest(row=row))


@strawberry.type
class ApprovalMutations:
    @mutation(
        right="readout.request",
        description="R29: ask to read an audit trail through a remote device; an Approver "
        "decides when the tenant has the approver function.",
    )
    async def request_readout(
        self, info: Info, input: RequestReadoutInput
    ) -> ReadoutRequestPayload:
        async def action(r: Run) -> ReadoutRequestRow:
            kind, target_id = r.typed_id(input.target_id, ("Key", "Cylinder"), "targetId")
            r.after_commit(notify_outbox)  # the Approvers' e-mails (R33)
            return await request_readout(
                r.session,
                requested_by_id=r.caller.programming_key_id,
                key_id=target_id if kind == "Key" else None,
                cylinder_id=target_id if kind == "Cylinder" else None,
                reason=input.reason,
            )

        return await run(info, ReadoutRequestPayload, action, _readout_payload)

    @mutation(
        right="readout.approve",
        description="R29: an Approver approves or rejects a readout request.",
    )
    async def decide_readout(self, info: Info, input: DecideReadoutInput) -> ReadoutRequestPayload:
        async def action(r: Run) -> ReadoutRequestRow:
            r.after_commit(notify_outbox)  # the requester's e-mail (R33)
            return await decide_readout(
                r.session,
                request_id=r.id(input.request_id, "ReadoutRequest", "requestId"),
                decided_by_id=r.caller.programming_key_id,
                approve=input.approve,
                note=input.note,
            )

        return await run(info, ReadoutRequestPayload, action, _readout_payload)
