"""Site bridges in the API (R5, R8, R22): enrolment, commands, reports and login through a bridge.

The domain operations are in ``app.bridges``; this module translates. Admins
need ``devices.read`` to see bridges and ``devices.write`` to enrol or revoke
them; each command needs the right of what it does (R7). A bridge itself
reports over its WebSocket (``reportBridgeCommand``), and the live
``bridgeCommands`` subscription is in ``app.schema.subscriptions``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

import strawberry
from sqlalchemy import select

from app import models as m
from app.bridges import commands as c
from app.bridges.events import announce, announce_revoked
from app.bridges.login import finish_bridge_login, login_gid, parse_login_gid, start_bridge_login
from app.bridges.reports import report_command, report_progress
from app.bridges.service import (
    RESULT_MAX_BYTES,
    create_enrolment,
    enrol,
    is_online,
    load_bridge,
    queue_command,
    revoke,
)
from app.errors import INVALID, NOT_FOUND, DomainError
from app.rate_limits import CODE_PER_ADDRESS, PIN_PER_ADDRESS, PIN_PER_KEY, Hit
from app.schema import types as t
from app.schema.auth import hand_session_to_browser, tenant_uuid
from app.schema.common import Node, UserError
from app.schema.context import Info
from app.schema.relay import fetch_page, to_global_id
from app.schema.runner import BRIDGE_ITSELF, NO_CREDENTIAL, Run, mutation, run
from app.workers.outbox import notify_outbox

# Reports whose effect may write to the outbox (app.bridges.effects).
MAILING_KINDS = frozenset({
    m.BridgeCommandKind.READ_KEY,
    m.BridgeCommandKind.LOAD_PROGRAMMING_JOBS,
    m.BridgeCommandKind.READ_PROGRAMMING_RESULTS,
    m.BridgeCommandKind.UPDATE_KEY_FIRMWARE,
})

BridgeCommandKind = strawberry.enum(m.BridgeCommandKind)
BridgeCommandStatus = strawberry.enum(m.BridgeCommandStatus)
BridgeLoginStatus = strawberry.enum(m.BridgeLoginStatus, name="BridgeLoginStatus")


@strawberry.type(description="A site bridge: the agent at a PC with a desk programming device.")
class Bridge(Node):
    row: strawberry.Private[m.Bridge]
    # Preloaded where no loader serves (a report over the bridge's own WebSocket).
    domain_row: strawberry.Private[m.Domain | None] = None

    @strawberry.field
    def id(self) -> strawberry.ID:
        return t.gid(self.row)

    name = t.column("name", str)

    @strawberry.field
    async def domain(self, info: Info) -> t.Domain:
        if self.domain_row is not None:
            return t.Domain(row=self.domain_row)
        return t.Domain(row=await info.context.loaders.by_id(m.Domain).load(self.row.domain_id))

    enrolled_at = t.column("enrolled_at", datetime | None)

    last_seen_at = t.column("last_seen_at", datetime | None)

    @strawberry.field(description="Whether its agent is connected and listening for commands.")
    def online(self) -> bool:
        return is_online(self.row)

    agent_version = t.column("agent_version", str | None)

    @strawberry.field
    def revoked(self) -> bool:
        return self.row.revoked_at is not None


@strawberry.type(description="Units (bytes of a firmware image) done of the total.")
class BridgeCommandProgress:
    done: int
    total: int
    percent: float


@strawberry.type(description="One thing a bridge was asked to do, and what came of it.")
class BridgeCommand(Node):
    row: strawberry.Private[m.BridgeCommand]
    bridge_row: strawberry.Private[m.Bridge | None] = None
    domain_row: strawberry.Private[m.Domain | None] = None
    # Fields only the live message to the bridge carries (a login's PIN, R5): never stored.
    live: strawberry.Private[dict[str, Any] | None] = None

    @strawberry.field
    def id(self) -> strawberry.ID:
        return t.gid(self.row)

    kind = t.column("kind", BridgeCommandKind)

    status = t.column("status", BridgeCommandStatus)

    @strawberry.field(description="JSON computed by the server when the command was queued.")
    def payload(self) -> str:
        return json.dumps({**self.row.payload, **(self.live or {})})

    @strawberry.field(description="JSON the bridge reported.")
    def result(self) -> str | None:
        return json.dumps(self.row.result) if self.row.result is not None else None

    error_code = t.column("error_code", str | None)

    error_message = t.column("error_message", str | None)

    created_at = t.column("created_at", datetime)

    finished_at = t.column("finished_at", datetime | None)

    @strawberry.field(
        description="How far the bridge has got with a long command (a key's firmware at the "
        "desk): reported by the bridge while it runs; null when it reported none."
    )
    def progress(self) -> BridgeCommandProgress | None:
        done, total = self.row.progress_done, self.row.progress_total
        if done is None or not total:
            return None
        return BridgeCommandProgress(done=done, total=total, percent=round(100 * done / total, 1))

    @strawberry.field
    async def bridge(self, info: Info) -> Bridge:
        if self.bridge_row is not None:
            return Bridge(row=self.bridge_row, domain_row=self.domain_row)
        return Bridge(row=await info.context.loaders.by_id(m.Bridge).load(self.row.bridge_id))


BridgeConnection = t.Connection[Bridge]


# --- inputs and payloads ------------------------------------------------------------------


@strawberry.input
class CreateBridgeEnrolmentInput:
    name: str
    domain_id: strawberry.ID | None = None


@strawberry.type
class BridgeEnrolmentPayload:
    code: str | None = strawberry.field(
        default=None, description="The one-time enrolment code, valid 24 hours; shown once."
    )
    expires_at: datetime | None = None
    bridge: Bridge | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class EnrolBridgeInput:
    tenant_id: str
    code: str
    public_key: str = strawberry.field(description="base64 of the raw Ed25519 public key")
    agent_version: str | None = None


@strawberry.type
class EnrolBridgePayload:
    bridge_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeBridgeInput:
    bridge_id: strawberry.ID


@strawberry.type
class BridgePayload:
    bridge: Bridge | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ReportBridgeCommandInput:
    command_id: strawberry.ID
    ok: bool
    result: str | None = strawberry.field(default=None, description="JSON")
    error_code: str | None = None
    error_message: str | None = None


@strawberry.input
class ReportBridgeCommandProgressInput:
    command_id: strawberry.ID
    done: int
    total: int


@strawberry.type
class BridgeCommandPayload:
    command: BridgeCommand | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ReadKeyAtBridgeInput:
    bridge_id: strawberry.ID
    slot: str | None = None


@strawberry.input
class WriteKeyAtBridgeInput:
    bridge_id: strawberry.ID
    key_id: strawberry.ID
    slot: str | None = None


@strawberry.input
class LoadProgrammingJobsAtBridgeInput:
    bridge_id: strawberry.ID
    programming_key_id: strawberry.ID
    slot: str | None = None


@strawberry.input
class ReadProgrammingResultsAtBridgeInput:
    bridge_id: strawberry.ID
    programming_key_id: strawberry.ID
    slot: str | None = None


@strawberry.input
class ReadKeyAuditTrailAtBridgeInput:
    bridge_id: strawberry.ID
    key_id: strawberry.ID
    slot: str | None = None


@strawberry.input
class UpdateKeyFirmwareAtBridgeInput:
    bridge_id: strawberry.ID
    key_id: strawberry.ID
    firmware_id: strawberry.ID
    slot: str | None = None


@strawberry.input
class StartBridgeLoginInput:
    tenant_id: str
    bridge_id: strawberry.ID
    pin: str
    slot: str | None = None


@strawberry.type
class StartBridgeLoginPayload:
    login_id: strawberry.ID | None = None
    secret: str | None = strawberry.field(
        default=None, description="Poll finishBridgeLogin with it; shown once."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class FinishBridgeLoginInput:
    login_id: strawberry.ID
    secret: str
    use_cookie: bool = strawberry.field(
        default=False,
        description="For the web manager: the session goes into an HttpOnly cookie instead "
        "of the payload's token.",
    )


@strawberry.type
class FinishBridgeLoginPayload:
    status: BridgeLoginStatus
    token: str | None = strawberry.field(
        default=None, description="The session token; handed out once."
    )
    error_code: str | None = None
    error_message: str | None = None


# --- queries ------------------------------------------------------------------------------


@strawberry.type
class BridgeQuery:
    @strawberry.field(description="Site bridges in the caller's domains (R8).")
    async def bridges(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> BridgeConnection:
        info.context.require("devices.read")
        order = [m.Bridge.name, m.Bridge.id]
        page = await fetch_page(
            info.context.db.execute, select(m.Bridge), order, first=first, after=after
        )
        return BridgeConnection.from_page(page, Bridge)


# --- mutations ----------------------------------------------------------------------------


def _queue(
    info: Info,
    bridge_gid: str,
    kind: m.BridgeCommandKind,
    make_payload: Callable[[Run], Awaitable[dict[str, Any]]],
) -> Awaitable[BridgeCommandPayload]:
    """Queue one command for a bridge the caller sees; the bridge is told after the commit."""

    async def action(r: Run) -> m.BridgeCommand:
        bridge = await load_bridge(r.session, r.id(bridge_gid, "Bridge", "bridgeId"))
        payload = await make_payload(r)
        command = await queue_command(r.session, bridge, kind, payload, principal=r.caller)
        if kind is m.BridgeCommandKind.UPDATE_KEY_FIRMWARE:
            command.payload = {**payload, "imageUrl": c.image_path(command.id)}
            await r.session.flush()
        r.after_commit(lambda: announce(r.settings, r.tenant_id, bridge.id, [command.id]))
        return command

    return run(
        info, BridgeCommandPayload, action,
        lambda command: BridgeCommandPayload(command=BridgeCommand(row=command)),
    )


def _parse_result(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    if len(text) > RESULT_MAX_BYTES:
        raise DomainError(INVALID, f"result: at most {RESULT_MAX_BYTES} bytes", "result")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise DomainError(INVALID, "result: not JSON", "result") from exc
    if not isinstance(value, dict):
        raise DomainError(INVALID, "result: a JSON object", "result")
    return value


def _login_tenant(login_gid: str) -> str:
    parsed = parse_login_gid(login_gid)
    if parsed is None:
        raise DomainError(NOT_FOUND, "no such login")
    return parsed[0]


@strawberry.type
class BridgeMutations:
    @mutation(
        right="devices.write",
        description="A new bridge in a domain and its one-time enrolment code (valid 24 h).",
    )
    async def create_bridge_enrolment(
        self, info: Info, input: CreateBridgeEnrolmentInput
    ) -> BridgeEnrolmentPayload:
        return await run(
            info, BridgeEnrolmentPayload,
            lambda r: create_enrolment(
                r.session, name=input.name,
                domain_id=r.optional_id(input.domain_id, "Domain", "domainId"),
                principal=r.caller,
            ),
            lambda made: BridgeEnrolmentPayload(
                code=made[1], expires_at=made[0].enrolment_expires_at, bridge=Bridge(row=made[0])
            ),
        )

    @mutation(
        right=NO_CREDENTIAL, description="The agent enrols once with its code and public key."
    )
    async def enrol_bridge(self, info: Info, input: EnrolBridgeInput) -> EnrolBridgePayload:
        return await run(
            info, EnrolBridgePayload,
            lambda r: enrol(
                r.session, code=input.code, public_key=input.public_key,
                agent_version=input.agent_version,
            ),
            lambda bridge: EnrolBridgePayload(
                bridge_id=strawberry.ID(to_global_id("Bridge", bridge.id))
            ),
            tenant=lambda: tenant_uuid(input.tenant_id),
            limits=(Hit(CODE_PER_ADDRESS),),
        )

    @mutation(right="devices.write", description="Revoke a bridge: it cannot connect any more.")
    async def revoke_bridge(self, info: Info, input: RevokeBridgeInput) -> BridgePayload:
        async def action(r: Run) -> m.Bridge:
            bridge = await revoke(r.session, r.id(input.bridge_id, "Bridge", "bridgeId"))
            r.after_commit(lambda: announce_revoked(r.settings, bridge.tenant_id, bridge.id))
            return bridge

        return await run(
            info, BridgePayload, action, lambda bridge: BridgePayload(bridge=Bridge(row=bridge))
        )

    @mutation(
        right=BRIDGE_ITSELF,
        description="The bridge reports a command (over its WebSocket); reporting a finished "
        "command again changes nothing and answers it as it is.",
    )
    async def report_bridge_command(
        self, info: Info, input: ReportBridgeCommandInput
    ) -> BridgeCommandPayload:
        async def action(r: Run) -> BridgeCommand:
            command, counted = await report_command(
                r.session, r.caller,
                command_id=r.id(input.command_id, "BridgeCommand", "commandId"),
                ok=input.ok, result=_parse_result(input.result),
                error_code=input.error_code, error_message=input.error_message,
            )
            if counted and command.kind in MAILING_KINDS:
                # The holder's e-mails (jobs loaded, the final report R17; a key broken by an
                # interrupted firmware update R26) go now, not at the next outbox sweep (R33).
                r.after_commit(notify_outbox)
            return BridgeCommand(
                row=command,
                bridge_row=await r.session.get(m.Bridge, command.bridge_id),
                domain_row=await r.session.get(m.Domain, command.domain_id),
            )

        return await run(
            info, BridgeCommandPayload, action,
            lambda command: BridgeCommandPayload(command=command),
        )

    @mutation(
        right=BRIDGE_ITSELF,
        description="The bridge tells how far it has got with an unfinished command of its own "
        "(over its WebSocket, best effort): admins see it on BridgeCommand.progress (R26).",
    )
    async def report_bridge_command_progress(
        self, info: Info, input: ReportBridgeCommandProgressInput
    ) -> BridgeCommandPayload:
        return await run(
            info, BridgeCommandPayload,
            lambda r: report_progress(
                r.session, r.caller,
                command_id=r.id(input.command_id, "BridgeCommand", "commandId"),
                done=input.done, total=input.total,
            ),
            lambda command: BridgeCommandPayload(command=BridgeCommand(row=command)),
        )

    @mutation(right="keys.read", description="Read the key in the desk (keys.read).")
    async def read_key_at_bridge(
        self, info: Info, input: ReadKeyAtBridgeInput
    ) -> BridgeCommandPayload:
        async def payload(r: Run) -> dict[str, Any]:
            return c.read_key_payload(input.slot)

        return await _queue(info, input.bridge_id, m.BridgeCommandKind.READ_KEY, payload)

    @mutation(
        right="keys.write",
        description="Write a key's validity, schedule and key memory at the desk (keys.write, "
        "R18: E2 changes wait for the desk).",
    )
    async def write_key_at_bridge(
        self, info: Info, input: WriteKeyAtBridgeInput
    ) -> BridgeCommandPayload:
        async def payload(r: Run) -> dict[str, Any]:
            key_id = r.id(input.key_id, "Key", "keyId")
            return await c.write_key_payload(r.session, key_id, input.slot, m.utcnow())

        return await _queue(info, input.bridge_id, m.BridgeCommandKind.WRITE_KEY, payload)

    @mutation(
        right="cylinders.program",
        description="Load the jobs assigned to a programming key onto it (cylinders.program, R17).",
    )
    async def load_programming_jobs_at_bridge(
        self, info: Info, input: LoadProgrammingJobsAtBridgeInput
    ) -> BridgeCommandPayload:
        async def payload(r: Run) -> dict[str, Any]:
            key_id = r.id(input.programming_key_id, "ProgrammingKey", "programmingKeyId")
            return await c.load_jobs_payload(r.session, key_id, input.slot)

        return await _queue(
            info, input.bridge_id, m.BridgeCommandKind.LOAD_PROGRAMMING_JOBS, payload
        )

    @mutation(
        right="cylinders.program",
        description="Read a programming key's results back (cylinders.program, R15, R17).",
    )
    async def read_programming_results_at_bridge(
        self, info: Info, input: ReadProgrammingResultsAtBridgeInput
    ) -> BridgeCommandPayload:
        async def payload(r: Run) -> dict[str, Any]:
            key_id = r.id(input.programming_key_id, "ProgrammingKey", "programmingKeyId")
            return await c.read_results_payload(r.session, key_id, input.slot)

        return await _queue(
            info, input.bridge_id, m.BridgeCommandKind.READ_PROGRAMMING_RESULTS, payload
        )

    @mutation(
        right="audit.read",
        description="Read an E2/E3 key's audit trail at the desk (audit.read; R29: always "
        "allowed).",
    )
    async def read_key_audit_trail_at_bridge(
        self, info: Info, input: ReadKeyAuditTrailAtBridgeInput
    ) -> BridgeCommandPayload:
        async def payload(r: Run) -> dict[str, Any]:
            key_id = r.id(input.key_id, "Key", "keyId")
            return await c.audit_trail_payload(r.session, key_id, input.slot)

        return await _queue(info, input.bridge_id, m.BridgeCommandKind.READ_AUDIT_TRAIL, payload)

    @mutation(
        right="firmware.write",
        description="Update a key's firmware at the desk (firmware.write, R26).",
    )
    async def update_key_firmware_at_bridge(
        self, info: Info, input: UpdateKeyFirmwareAtBridgeInput
    ) -> BridgeCommandPayload:
        async def payload(r: Run) -> dict[str, Any]:
            key_id = r.id(input.key_id, "Key", "keyId")
            firmware_id = r.id(input.firmware_id, "Firmware", "firmwareId")
            body, _ = await c.firmware_payload(r.session, key_id, firmware_id, input.slot)
            return body

        return await _queue(
            info, input.bridge_id, m.BridgeCommandKind.UPDATE_KEY_FIRMWARE, payload
        )

    @mutation(
        right=NO_CREDENTIAL,
        description="R5: log in with the programming key in a bridge's desk and its PIN; poll "
        "finishBridgeLogin for the outcome.",
    )
    async def start_bridge_login(
        self, info: Info, input: StartBridgeLoginInput
    ) -> StartBridgeLoginPayload:
        async def action(r: Run) -> StartBridgeLoginPayload:
            bridge_id = r.id(input.bridge_id, "Bridge", "bridgeId")
            started = await start_bridge_login(
                r.session, bridge_id=bridge_id, pin=input.pin, slot=c.check_slot(input.slot)
            )
            # The PIN goes to the bridge in the live message only (R5, R37).
            r.after_commit(lambda: announce(
                r.settings, r.tenant_id, bridge_id, [started.command.id],
                live={started.command.id: started.live},
            ))
            return StartBridgeLoginPayload(
                login_id=strawberry.ID(login_gid(r.tenant_id, started.login.id)),
                secret=started.secret,
            )

        return await run(
            info, StartBridgeLoginPayload, action, tenant=lambda: tenant_uuid(input.tenant_id),
            limits=(Hit(PIN_PER_ADDRESS), Hit(PIN_PER_KEY, f"bridge {input.bridge_id}")),
        )

    @mutation(
        right=NO_CREDENTIAL,
        description="R5: poll a login through a bridge; DONE hands out the session token once.",
    )
    async def finish_bridge_login(
        self, info: Info, input: FinishBridgeLoginInput
    ) -> FinishBridgeLoginPayload:
        async def action(r: Run) -> FinishBridgeLoginPayload:
            parsed = parse_login_gid(input.login_id)
            assert parsed is not None  # the tenant came from it
            outcome = await finish_bridge_login(
                r.session, login_id=parsed[1], secret=input.secret,
                session_hours=r.settings.session_hours,
            )
            token = outcome.token
            if token is not None and input.use_cookie:
                r.after_commit(partial(hand_session_to_browser, info, token))
                token = None  # the browser's scripts never see it
            return FinishBridgeLoginPayload(
                status=outcome.status, token=token,
                error_code=outcome.error_code, error_message=outcome.error_message,
            )

        return await run(
            info, FinishBridgeLoginPayload, action,
            tenant=lambda: _login_tenant(input.login_id),
            # This payload carries the failure in its own fields (status, errorCode).
            failed=lambda exc: FinishBridgeLoginPayload(
                status=m.BridgeLoginStatus.FAILED, error_code=exc.code, error_message=exc.message
            ),
        )
