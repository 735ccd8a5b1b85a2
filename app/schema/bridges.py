"""Site bridges in the API (R5, R8, R22): enrolment, commands, reports and login through a bridge.

The domain operations are in ``app.bridges``; this module translates. Admins
need ``devices.read`` to see bridges and ``devices.write`` to enrol or revoke
them; each command needs the right of what it does (R7). A bridge itself
reports over its WebSocket (``reportBridgeCommand``), and the live
``bridgeCommands`` subscription is in ``app.schema.subscriptions``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import select

from app import models as m
from app.auth.principal import Principal
from app.bridges import commands as c
from app.bridges.events import announce, announce_revoked
from app.bridges.login import finish_bridge_login, login_gid, parse_login_gid, start_bridge_login
from app.bridges.service import (
    RESULT_MAX_BYTES,
    create_enrolment,
    enrol,
    is_online,
    load_bridge,
    queue_command,
    report_command,
    report_progress,
    revoke,
)
from app.errors import DomainError
from app.events.publish import publish_queued
from app.schema import types as t
from app.schema.auth import tenant_uuid
from app.schema.common import Node, UserError
from app.schema.context import Info
from app.schema.queries import NODE_RIGHTS
from app.schema.relay import decode_id, fetch_page, to_global_id
from app.workers.outbox import notify_outbox

# Reports whose effect may write to the outbox (app.bridges.commands).
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

# node()/nodes(): bridges and their commands are seen with devices.read, in the caller's
# domains (R8, through the automatic domain scope of both tables).
t.NODE_TYPES.update(Bridge=Bridge, BridgeCommand=BridgeCommand)
NODE_RIGHTS.update(Bridge="devices.read", BridgeCommand="devices.read")


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


async def _queue(
    info: Info,
    right: str,
    bridge_gid: str,
    kind: m.BridgeCommandKind,
    make_payload: Any,
) -> BridgeCommandPayload:
    """Queue one command for a bridge the caller sees, then announce it after the commit."""
    try:
        principal = info.context.require(right)
        _, bridge_id = decode_id(bridge_gid, "Bridge", "bridgeId")
        async with info.context.write() as session:
            bridge = await load_bridge(session, bridge_id)
            payload = await make_payload(session)
            command = await queue_command(session, bridge, kind, payload, principal=principal)
            if kind is m.BridgeCommandKind.UPDATE_KEY_FIRMWARE:
                command.payload = {**payload, "imageUrl": c.image_path(command.id)}
                await session.flush()
    except DomainError as exc:
        return BridgeCommandPayload(errors=[UserError.from_domain(exc)])
    await announce(info.context.settings, principal.tenant_id, bridge_id, [command.id])
    return BridgeCommandPayload(command=BridgeCommand(row=command))


def _parse_result(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    if len(text) > RESULT_MAX_BYTES:
        raise DomainError("INVALID", f"result: at most {RESULT_MAX_BYTES} bytes", "result")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise DomainError("INVALID", "result: not JSON", "result") from exc
    if not isinstance(value, dict):
        raise DomainError("INVALID", "result: a JSON object", "result")
    return value


def _reporting_bridge(info: Info) -> Principal:
    """The bridge principal of the connection; FORBIDDEN for anyone else."""
    principal = info.context.principal
    if principal is None or principal.kind != "bridge":
        raise DomainError("FORBIDDEN", "only a bridge reports its commands")
    return principal


@strawberry.type
class BridgeMutations:
    @strawberry.mutation(
        description="A new bridge in a domain and its one-time enrolment code (valid 24 h)."
    )
    async def create_bridge_enrolment(
        self, info: Info, input: CreateBridgeEnrolmentInput
    ) -> BridgeEnrolmentPayload:
        try:
            principal = info.context.require("devices.write")
            domain_id = (
                decode_id(input.domain_id, "Domain", "domainId")[1]
                if input.domain_id is not None else None
            )
            async with info.context.write() as session:
                bridge, code = await create_enrolment(
                    session, name=input.name, domain_id=domain_id, principal=principal
                )
        except DomainError as exc:
            return BridgeEnrolmentPayload(errors=[UserError.from_domain(exc)])
        return BridgeEnrolmentPayload(
            code=code, expires_at=bridge.enrolment_expires_at, bridge=Bridge(row=bridge)
        )

    @strawberry.mutation(description="The agent enrols once with its code and public key.")
    async def enrol_bridge(self, info: Info, input: EnrolBridgeInput) -> EnrolBridgePayload:
        try:
            tenant_id = tenant_uuid(input.tenant_id)
            async with info.context.database.tenant_session(tenant_id) as session:
                bridge = await enrol(
                    session, code=input.code, public_key=input.public_key,
                    agent_version=input.agent_version,
                )
                await session.commit()
        except DomainError as exc:
            return EnrolBridgePayload(errors=[UserError.from_domain(exc)])
        return EnrolBridgePayload(bridge_id=strawberry.ID(to_global_id("Bridge", bridge.id)))

    @strawberry.mutation(description="Revoke a bridge: it cannot connect any more.")
    async def revoke_bridge(self, info: Info, input: RevokeBridgeInput) -> BridgePayload:
        try:
            info.context.require("devices.write")
            _, bridge_id = decode_id(input.bridge_id, "Bridge", "bridgeId")
            async with info.context.write() as session:
                bridge = await revoke(session, bridge_id)
        except DomainError as exc:
            return BridgePayload(errors=[UserError.from_domain(exc)])
        await announce_revoked(info.context.settings, bridge.tenant_id, bridge.id)
        return BridgePayload(bridge=Bridge(row=bridge))

    @strawberry.mutation(
        description="The bridge reports a command (over its WebSocket); reporting a finished "
        "command again changes nothing and answers it as it is."
    )
    async def report_bridge_command(
        self, info: Info, input: ReportBridgeCommandInput
    ) -> BridgeCommandPayload:
        try:
            principal = _reporting_bridge(info)
            _, command_id = decode_id(input.command_id, "BridgeCommand", "commandId")
            result = _parse_result(input.result)
            database = info.context.database
            async with database.tenant_session(principal.tenant_id) as session:
                command, counted = await report_command(
                    session, principal, command_id=command_id, ok=input.ok, result=result,
                    error_code=input.error_code, error_message=input.error_message,
                )
                bridge = await session.get(m.Bridge, command.bridge_id)
                domain = await session.get(m.Domain, command.domain_id)
                await session.commit()
            await publish_queued(session, info.context.settings)  # jobEvents (R15, R18)
            if counted and command.kind in MAILING_KINDS:
                # The holder's e-mails (jobs loaded, the final report R17; a key broken by an
                # interrupted firmware update R26) go now, not at the next outbox sweep (R33).
                notify_outbox()
        except DomainError as exc:
            return BridgeCommandPayload(errors=[UserError.from_domain(exc)])
        return BridgeCommandPayload(
            command=BridgeCommand(row=command, bridge_row=bridge, domain_row=domain)
        )

    @strawberry.mutation(
        description="The bridge tells how far it has got with an unfinished command of its own "
        "(over its WebSocket, best effort): admins see it on BridgeCommand.progress (R26)."
    )
    async def report_bridge_command_progress(
        self, info: Info, input: ReportBridgeCommandProgressInput
    ) -> BridgeCommandPayload:
        try:
            principal = _reporting_bridge(info)
            _, command_id = decode_id(input.command_id, "BridgeCommand", "commandId")
            async with info.context.database.tenant_session(principal.tenant_id) as session:
                command = await report_progress(
                    session, principal, command_id=command_id, done=input.done, total=input.total
                )
                await session.commit()
        except DomainError as exc:
            return BridgeCommandPayload(errors=[UserError.from_domain(exc)])
        return BridgeCommandPayload(command=BridgeCommand(row=command))

    @strawberry.mutation(description="Read the key in the desk (keys.read).")
    async def read_key_at_bridge(
        self, info: Info, input: ReadKeyAtBridgeInput
    ) -> BridgeCommandPayload:
        async def payload(session: Any) -> dict[str, Any]:
            return c.read_key_payload(input.slot)

        return await _queue(
            info, "keys.read", input.bridge_id, m.BridgeCommandKind.READ_KEY, payload
        )

    @strawberry.mutation(
        description="Write a key's validity, schedule and key memory at the desk (keys.write, "
        "R18: E2 changes wait for the desk)."
    )
    async def write_key_at_bridge(
        self, info: Info, input: WriteKeyAtBridgeInput
    ) -> BridgeCommandPayload:
        async def payload(session: Any) -> dict[str, Any]:
            _, key_id = decode_id(input.key_id, "Key", "keyId")
            return await c.write_key_payload(session, key_id, input.slot, m.utcnow())

        return await _queue(
            info, "keys.write", input.bridge_id, m.BridgeCommandKind.WRITE_KEY, payload
        )

    @strawberry.mutation(
        description="Load the jobs assigned to a programming key onto it (cylinders.program, R17)."
    )
    async def load_programming_jobs_at_bridge(
        self, info: Info, input: LoadProgrammingJobsAtBridgeInput
    ) -> BridgeCommandPayload:
        async def payload(session: Any) -> dict[str, Any]:
            _, key_id = decode_id(input.programming_key_id, "ProgrammingKey", "programmingKeyId")
            return await c.load_jobs_payload(session, key_id, input.slot)

        return await _queue(
            info, "cylinders.program", input.bridge_id,
            m.BridgeCommandKind.LOAD_PROGRAMMING_JOBS, payload,
        )

    @strawberry.mutation(
        description="Read a programming key's results back (cylinders.program, R15, R17)."
    )
    async def read_programming_results_at_bridge(
        self, info: Info, input: ReadProgrammingResultsAtBridgeInput
    ) -> BridgeCommandPayload:
        async def payload(session: Any) -> dict[str, Any]:
            _, key_id = decode_id(input.programming_key_id, "ProgrammingKey", "programmingKeyId")
            return await c.read_results_payload(session, key_id, input.slot)

        return await _queue(
            info, "cylinders.program", input.bridge_id,
            m.BridgeCommandKind.READ_PROGRAMMING_RESULTS, payload,
        )

    @strawberry.mutation(
        description="Read an E2/E3 key's audit trail at the desk (audit.read; R29: always allowed)."
    )
    async def read_key_audit_trail_at_bridge(
        self, info: Info, input: ReadKeyAuditTrailAtBridgeInput
    ) -> BridgeCommandPayload:
        async def payload(session: Any) -> dict[str, Any]:
            _, key_id = decode_id(input.key_id, "Key", "keyId")
            return await c.audit_trail_payload(session, key_id, input.slot)

        return await _queue(
            info, "audit.read", input.bridge_id, m.BridgeCommandKind.READ_AUDIT_TRAIL, payload
        )

    @strawberry.mutation(description="Update a key's firmware at the desk (firmware.write, R26).")
    async def update_key_firmware_at_bridge(
        self, info: Info, input: UpdateKeyFirmwareAtBridgeInput
    ) -> BridgeCommandPayload:
        async def payload(session: Any) -> dict[str, Any]:
            _, key_id = decode_id(input.key_id, "Key", "keyId")
            _, firmware_id = decode_id(input.firmware_id, "Firmware", "firmwareId")
            body, _ = await c.firmware_payload(session, key_id, firmware_id, input.slot)
            return body

        return await _queue(
            info, "firmware.write", input.bridge_id,
            m.BridgeCommandKind.UPDATE_KEY_FIRMWARE, payload,
        )

    @strawberry.mutation(
        description="R5: log in with the programming key in a bridge's desk and its PIN; poll "
        "finishBridgeLogin for the outcome."
    )
    async def start_bridge_login(
        self, info: Info, input: StartBridgeLoginInput
    ) -> StartBridgeLoginPayload:
        try:
            tenant_id = tenant_uuid(input.tenant_id)
            _, bridge_id = decode_id(input.bridge_id, "Bridge", "bridgeId")
            async with info.context.database.tenant_session(tenant_id) as session:
                started = await start_bridge_login(
                    session, bridge_id=bridge_id, pin=input.pin,
                    slot=c.check_slot(input.slot),
                )
                await session.commit()
        except DomainError as exc:
            return StartBridgeLoginPayload(errors=[UserError.from_domain(exc)])
        # The PIN goes to the bridge in the live message only (R5, R37).
        await announce(
            info.context.settings, tenant_id, bridge_id, [started.command.id],
            live={started.command.id: started.live},
        )
        return StartBridgeLoginPayload(
            login_id=strawberry.ID(login_gid(tenant_id, started.login.id)),
            secret=started.secret,
        )

    @strawberry.mutation(
        description="R5: poll a login through a bridge; DONE hands out the session token once."
    )
    async def finish_bridge_login(
        self, info: Info, input: FinishBridgeLoginInput
    ) -> FinishBridgeLoginPayload:
        parsed = parse_login_gid(input.login_id)
        if parsed is None:
            return FinishBridgeLoginPayload(
                status=m.BridgeLoginStatus.FAILED, error_code="NOT_FOUND",
                error_message="no such login",
            )
        tenant_id, login_id = parsed
        try:
            async with info.context.database.tenant_session(tenant_id) as session:
                outcome = await finish_bridge_login(
                    session, login_id=login_id, secret=input.secret,
                    session_hours=info.context.settings.session_hours,
                )
                await session.commit()
        except DomainError as exc:
            return FinishBridgeLoginPayload(
                status=m.BridgeLoginStatus.FAILED, error_code=exc.code, error_message=exc.message
            )
        return FinishBridgeLoginPayload(
            status=outcome.status, token=outcome.token,
            error_code=outcome.error_code, error_message=outcome.error_message,
        )
