"""Live subscriptions over graphql-transport-ws: ``deviceStatus`` and ``jobEvents`` (R1, R8, R23).

A WebSocket connection authenticates once, at ``connection_init``, with the
payload ``{"Authorization": "Bearer <token>"}`` (or the same header on the HTTP
upgrade request); without a valid token the connection is closed (4403). Each
subscription then:

- listens to its own tenant's channel only (R1) and needs its right
  (``devices.read`` for ``deviceStatus``, ``jobs.read`` for ``jobEvents``, R7);
- loads every announced row through a short session scoped to the tenant and to
  the principal's domains, one session per batch of events: a device outside the
  principal's domains, or a job on a cylinder (programming job) or key (remote
  job) it cannot see, is never sent (R8);
- re-checks the token every ``REVALIDATE_SECONDS``: a revoked or expired token
  closes the connection (4401); a principal that lost the right ends the
  subscription.

Only subscriptions are served over the WebSocket; queries and mutations go over HTTP.
The one exception is a site bridge (``app.bridges``): it authenticates at
``connection_init`` with ``{"bridge": {...}}`` — its signed, single-use
credential (``app.bridges.auth``; stale, replayed, unknown or revoked: closed
with 4403) — subscribes to ``bridgeCommands`` and sends ``reportBridgeCommand``
mutations over the same WebSocket. A bridge principal holds no right: nothing
else is readable to it.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.exceptions import ConnectionRejectionError

from app import models as m
from app.auth.principal import Principal, parse_token
from app.auth.tokens import authenticate
from app.bridges import service as bridge_service
from app.bridges.auth import BridgeAuthError, authenticate_bridge, parse_credential
from app.bridges.events import bridge_topic, commands_from_message
from app.browser_session import session_cookie
from app.db import Database, SerialSession, id_in
from app.errors import FORBIDDEN, INVALID, DomainError
from app.events.publish import (
    DEVICE_STATUS,
    JOB_EVENTS,
    DeviceStatusChanged,
    Event,
    JobChanged,
    events_from_message,
)
from app.events.pubsub import get_pubsub
from app.schema.bridges import BridgeCommand
from app.schema.context import Context, Info
from app.schema.relay import decode_ids
from app.schema.types import ProgrammingJob, RemoteDevice, RemoteJob

if TYPE_CHECKING:
    from app.schema.loaders import Loaders

# How often a live subscription checks that its token still holds.
REVALIDATE_SECONDS = 60.0
# Events loaded and sent per database session.
EVENTS_PER_SESSION = 200
# Pub/sub messages taken from the mailbox at once.
MESSAGES_PER_BATCH = 100

CLOSE_UNAUTHORIZED = 4401


class _EventScope:
    """The database session the fields of one batch of events resolve through."""

    def __init__(self, session: AsyncSession) -> None:
        self.db = SerialSession(session)
        self._loaders: Loaders | None = None

    @property
    def loaders(self) -> Loaders:
        from app.schema.loaders import Loaders

        if self._loaders is None:
            self._loaders = Loaders(self.db)
        return self._loaders


# Set by a subscription's stream for the batch it is sending. Each operation runs
# in its own task, so two subscriptions on one connection never see each other's.
_event_scope: ContextVar[_EventScope | None] = ContextVar("keywarden_event_scope", default=None)


@dataclass
class SubscriptionContext(Context):
    """The context of one WebSocket connection: its principal, and no session of its own.

    Fields of an event resolve through the short session of the batch being sent
    (``db`` and ``loaders`` follow it); outside a batch there is no session, so
    queries and mutations over the WebSocket are refused.
    """

    connection_params: dict[str, Any] = field(default_factory=dict)
    token: str | None = None

    @property
    def db(self) -> SerialSession:
        return _current_scope().db

    @property
    def loaders(self) -> Loaders:
        return _current_scope().loaders


def _current_scope() -> _EventScope:
    scope = _event_scope.get()
    if scope is None:
        raise DomainError(
            INVALID,
            "only subscriptions are served over the WebSocket; send queries and mutations "
            "over HTTP POST",
        )
    return scope


# --- authentication at connection_init -------------------------------------------------


def _bearer(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def connection_token(params: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    """A WebSocket connection's bearer token: ``connection_init`` payload, else upgrade header."""
    for key, value in params.items():
        if isinstance(key, str) and key.lower() == "authorization":
            return _bearer(value)
    return _bearer(headers.get("authorization"))


async def principal_of(database: Database, token: str) -> Principal | None:
    """The principal behind ``token``, looked up under the tenant the token names (R1, R9)."""
    parsed = parse_token(token)
    if parsed is None:
        return None
    async with database.tenant_session(parsed.tenant_id) as session:
        principal = await authenticate(session, token)
        if principal is not None and session.dirty:  # last-used time, at most once a minute
            await session.commit()
        return principal


async def authenticate_connection(context: SubscriptionContext) -> None:
    """``on_ws_connect``: refuse the connection unless it carries a valid token.

    A ``bridge`` object in the ``connection_init`` payload is a site bridge's
    credential instead (``app.bridges.auth``): accepted once, for an enrolled,
    unrevoked bridge.
    """
    if "bridge" in context.connection_params:
        try:
            credential = parse_credential(context.connection_params["bridge"])
            context.principal = await authenticate_bridge(context.database, credential)
        except BridgeAuthError as exc:
            raise ConnectionRejectionError({"message": exc.message, "code": exc.code}) from exc
        context.token = None
        return
    headers = context.request.headers if context.request is not None else {}
    token = connection_token(context.connection_params, headers)
    if token is None and context.request is not None:
        token = session_cookie(context.request)  # the web manager's session (issue 11)
    principal = await principal_of(context.database, token) if token else None
    if principal is None:
        raise ConnectionRejectionError(
            {"message": "send a valid token: {\"Authorization\": \"Bearer <token>\"}"}
        )
    context.principal = principal
    context.token = token


# --- one subscription's feed -----------------------------------------------------------


class _Feed:
    """One subscription's events: its tenant's channel, the re-checked principal, short sessions."""

    def __init__(self, info: Info, topic: str, right: str) -> None:
        context = info.context
        if not isinstance(context, SubscriptionContext):
            raise DomainError(INVALID, "subscriptions are served over WebSocket only")
        self.context = context
        self.topic = topic
        self.right = right
        self.principal = context.require(right)
        self.checked_at = time.monotonic()

    async def batches(self) -> AsyncIterator[list[Event]]:
        """Announced events of the principal's tenant, in batches; ends when access ends."""
        tenant_id = self.principal.tenant_id
        pubsub = get_pubsub(self.context.settings)
        async with pubsub.subscribe(tenant_id, self.topic) as mailbox:
            while True:
                wait = max(0.0, self.checked_at + REVALIDATE_SECONDS - time.monotonic())
                messages = await mailbox.next_batch(limit=MESSAGES_PER_BATCH, wait_seconds=wait)
                if time.monotonic() - self.checked_at >= REVALIDATE_SECONDS:
                    if not await self._still_allowed():
                        return
                events = [
                    e for message in messages for e in events_from_message(message)
                    if e.tenant_id == tenant_id  # R1, even for a message on the wrong channel
                ]
                for start in range(0, len(events), EVENTS_PER_SESSION):
                    yield events[start : start + EVENTS_PER_SESSION]

    async def _still_allowed(self) -> bool:
        self.checked_at = time.monotonic()
        token = self.context.token
        principal = await principal_of(self.context.database, token) if token else None
        if principal is None:
            await self._close(CLOSE_UNAUTHORIZED, "the token was revoked or has expired")
            return False
        self.principal = principal
        return principal.has(self.right)

    async def _close(self, code: int, reason: str) -> None:
        websocket = self.context.request
        try:
            await websocket.close(code=code, reason=reason)
        except RuntimeError:  # already closing
            return
        # The connection's handler ends this operation when the client has gone.
        await asyncio.Event().wait()

    @asynccontextmanager
    async def scope(self) -> AsyncIterator[AsyncSession]:
        """A session for one batch, scoped to the tenant and the principal's domains (R1, R8);
        every field of the batch's events is read from one snapshot, so that an event never
        mixes a state with a later one."""
        session = await self.context.database.snapshot_session(
            self.principal.tenant_id, self.principal.domain_ids
        )
        _event_scope.set(_EventScope(session))
        try:
            yield session
        finally:
            _event_scope.set(None)
            # The client may leave while the batch is being closed: finish closing anyway.
            await asyncio.shield(session.close())


def _user_error(exc: DomainError) -> GraphQLError:
    return GraphQLError(exc.message, extensions={"code": exc.code, "field": exc.field})


# --- event types -----------------------------------------------------------------------


@strawberry.type(description="A remote device's state changed (R23).")
class DeviceStatusEvent:
    device: RemoteDevice
    online: bool
    at: datetime


@strawberry.type(description="A programming job or a remote job changed (R15, R18).")
class JobEvent:
    programming_job: ProgrammingJob | None
    remote_job: RemoteJob | None
    at: datetime


async def _device_status(
    feed: _Feed, wanted: set[int] | None
) -> AsyncGenerator[DeviceStatusEvent, None]:
    async for batch in feed.batches():
        events = [
            e for e in batch
            if isinstance(e, DeviceStatusChanged) and (wanted is None or e.device_id in wanted)
        ]
        if not events:
            continue
        async with feed.scope() as session:
            ids = {e.device_id for e in events}
            rows = {
                row.id: row
                for row in await session.scalars(
                    select(m.RemoteDevice).where(id_in(session, m.RemoteDevice.id, ids))
                )
            }
            for e in events:
                row = rows.get(e.device_id)
                if row is not None:  # another domain's device does not exist here (R8)
                    yield DeviceStatusEvent(device=RemoteDevice(row=row), online=e.online, at=e.at)


async def _visible_jobs(
    session: AsyncSession, model: Any, ids: set[int], parent: Any, parent_column: str
) -> dict[int, Any]:
    """Jobs by id whose cylinder (or key) the session's principal can see (R8)."""
    if not ids:
        return {}
    rows = list(await session.scalars(select(model).where(id_in(session, model.id, ids))))
    parents = {getattr(row, parent_column) for row in rows}
    visible = set(
        await session.scalars(select(parent.id).where(id_in(session, parent.id, parents)))
    ) if parents else set()
    return {row.id: row for row in rows if getattr(row, parent_column) in visible}


async def _job_events(feed: _Feed) -> AsyncGenerator[JobEvent, None]:
    async for batch in feed.batches():
        latest: dict[tuple[bool, int], JobChanged] = {}
        for e in batch:
            if isinstance(e, JobChanged):
                key = (
                    (True, e.programming_job_id) if e.programming_job_id is not None
                    else (False, e.remote_job_id)
                )
                latest.pop(key, None)  # type: ignore[arg-type]
                latest[key] = e  # type: ignore[index]
        if not latest:
            continue
        async with feed.scope() as session:
            programming = await _visible_jobs(
                session, m.ProgrammingJob, {i for p, i in latest if p}, m.Cylinder, "cylinder_id"
            )
            remote = await _visible_jobs(
                session, m.RemoteJob, {i for p, i in latest if not p}, m.Key, "key_id"
            )
            for (is_programming, ident), e in latest.items():
                if is_programming and ident in programming:
                    yield JobEvent(
                        programming_job=ProgrammingJob(row=programming[ident]),
                        remote_job=None, at=e.at,
                    )
                elif not is_programming and ident in remote:
                    yield JobEvent(
                        programming_job=None, remote_job=RemoteJob(row=remote[ident]), at=e.at
                    )


# --- a bridge's commands ----------------------------------------------------------------


class _BridgeFeed:
    """A bridge's command subscription: its backlog, then live commands; it holds the lease."""

    def __init__(self, info: Info) -> None:
        context = info.context
        principal = context.principal
        if not isinstance(context, SubscriptionContext):
            raise DomainError(INVALID, "subscriptions are served over WebSocket only")
        if principal is None or principal.kind != "bridge" or principal.bridge_id is None:
            raise DomainError(FORBIDDEN, "bridgeCommands is for site bridges only")
        self.context = context
        self.tenant_id = principal.tenant_id
        self.bridge_id = principal.bridge_id
        self.connection_id = secrets.token_hex(16)
        self.sent: set[int] = set()

    @asynccontextmanager
    async def scope(self) -> AsyncIterator[AsyncSession]:
        """A session of the bridge's tenant for one batch; command fields resolve through it."""
        session = self.context.database.session(self.tenant_id)
        _event_scope.set(_EventScope(session))
        try:
            yield session
        finally:
            _event_scope.set(None)
            await asyncio.shield(session.close())

    async def _lease(self, take: bool) -> bool:
        async with self.context.database.tenant_session(self.tenant_id) as session:
            renew = bridge_service.mark_connected if take else bridge_service.renew_lease
            held = await renew(session, self.bridge_id, self.connection_id)
            await session.commit()
            return held

    async def _release(self) -> None:
        async with self.context.database.tenant_session(self.tenant_id) as session:
            await bridge_service.mark_disconnected(session, self.bridge_id, self.connection_id)
            await session.commit()

    async def _deliver(
        self, session: AsyncSession, rows: list[m.BridgeCommand], live: dict[int, dict[str, Any]]
    ) -> list[BridgeCommand]:
        out = []
        for row in rows:
            if row.id in self.sent:
                continue
            extra = live.get(row.id)
            # A login's PIN lives in its announcement only: without it there is nothing to sign.
            if row.kind is m.BridgeCommandKind.SIGN_LOGIN and not extra:
                continue
            out.append((row, extra))
        bridge_service.mark_sent([row for row, _ in out])
        await session.commit()
        self.sent.update(row.id for row, _ in out)
        return [BridgeCommand(row=row, live=extra) for row, extra in out]

    async def commands(self) -> AsyncGenerator[BridgeCommand, None]:
        pubsub = get_pubsub(self.context.settings)
        async with pubsub.subscribe(self.tenant_id, bridge_topic(self.bridge_id)) as mailbox:
            if not await self._lease(take=True):
                await _close(self.context, 4403, "this bridge was revoked")
                return
            try:
                async with self.scope() as session:
                    backlog = await bridge_service.unfinished_commands(session, self.bridge_id)
                    for command in await self._deliver(session, backlog, {}):
                        yield command
                renew_at = time.monotonic() + bridge_service.LEASE_RENEW_SECONDS
                while True:
                    wait = max(0.0, renew_at - time.monotonic())
                    messages = await mailbox.next_batch(limit=MESSAGES_PER_BATCH, wait_seconds=wait)
                    if time.monotonic() >= renew_at:
                        if not await self._lease(take=False):
                            await _close(self.context, 4403, "this bridge was revoked")
                            return
                        renew_at = time.monotonic() + bridge_service.LEASE_RENEW_SECONDS
                    ids: list[int] = []
                    live: dict[int, dict[str, Any]] = {}
                    revoked = False
                    for message in messages:
                        announced = commands_from_message(message)
                        if (
                            announced is None
                            or announced.tenant_id != self.tenant_id  # R1
                            or announced.bridge_id != self.bridge_id
                        ):
                            continue
                        ids.extend(i for i in announced.command_ids if i not in self.sent)
                        live.update(announced.live)
                        revoked = revoked or announced.revoked
                    # The database decides: an announcement alone never closes a connection.
                    if revoked and not await self._lease(take=False):
                        await _close(self.context, 4403, "this bridge was revoked")
                        return
                    if not ids:
                        continue
                    async with self.scope() as session:
                        rows = await bridge_service.commands_to_deliver(
                            session, self.bridge_id, ids
                        )
                        for command in await self._deliver(session, rows, live):
                            yield command
            finally:
                # The client may be gone already: give the lease up anyway.
                await asyncio.shield(self._release())


async def _close(context: SubscriptionContext, code: int, reason: str) -> None:
    websocket = context.request
    try:
        await websocket.close(code=code, reason=reason)
    except RuntimeError:  # already closing
        return
    await asyncio.Event().wait()


@strawberry.type
class Subscription:
    """Live events over graphql-transport-ws (R23)."""

    @strawberry.subscription(
        description="A site bridge's commands: first every unfinished one, oldest first, then "
        "new ones as they are queued. For bridges only (their WebSocket credential)."
    )
    async def bridge_commands(self, info: Info) -> AsyncGenerator[BridgeCommand, None]:
        try:
            feed = _BridgeFeed(info)
        except DomainError as exc:
            raise _user_error(exc) from exc
        return feed.commands()  # type: ignore[return-value]

    @strawberry.subscription(
        description="Devices going online or offline, and changes shown with them (R23); "
        "all devices the caller can see when deviceIds is null (R8)."
    )
    async def device_status(
        self, info: Info, device_ids: list[strawberry.ID] | None = None
    ) -> AsyncGenerator[DeviceStatusEvent, None]:
        try:
            feed = _Feed(info, DEVICE_STATUS, "devices.read")
            wanted = None if device_ids is None else {
                ident for _, ident in decode_ids(device_ids, "RemoteDevice", "deviceIds")
            }
        except DomainError as exc:
            raise _user_error(exc) from exc
        return _device_status(feed, wanted)  # type: ignore[return-value]

    @strawberry.subscription(
        description="Programming jobs on cylinders and remote jobs of keys the caller can see, "
        "as they are created, assigned, done or cancelled (R8, R15, R18)."
    )
    async def job_events(self, info: Info) -> AsyncGenerator[JobEvent, None]:
        try:
            feed = _Feed(info, JOB_EVENTS, "jobs.read")
        except DomainError as exc:
            raise _user_error(exc) from exc
        return _job_events(feed)  # type: ignore[return-value]
