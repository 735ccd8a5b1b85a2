"""Site bridges: enrolment, revocation, presence and the command queue (R1, R8, R22).

1. :func:`create_enrolment` — an admin creates a bridge in a domain and gets a
   one-time enrolment code, valid 24 hours, shown once (stored as its SHA-256).
2. :func:`enrol` — the agent, once, trades the code and its Ed25519 public key
   for its bridge id; the code is spent.
3. The agent connects (``app.bridges.auth``) and subscribes to its commands;
   while the subscription lives it holds the bridge's online lease
   (:func:`mark_connected`, :func:`renew_lease`, :func:`mark_disconnected`),
   kept in the database so every API process knows it (R3).
4. Commands are queued with a payload the server computes
   (``app.bridges.commands``); the agent reports each one back
   (``app.bridges.reports``), exactly once in effect.

The caller owns the transaction: these functions flush, never commit.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.errors import CONFLICT, INVALID, NOT_FOUND, DomainError
from app.models import (
    Bridge,
    BridgeCommand,
    BridgeCommandKind,
    BridgeCommandStatus,
    BridgeLogin,
    BridgeLoginStatus,
    Domain,
    utcnow,
)

log = logging.getLogger("keywarden.bridges")

ENROLMENT_TTL = timedelta(hours=24)
# The subscription renews the online lease this often; a process that dies leaves the
# bridge online at most ONLINE_LEASE longer.
LEASE_RENEW_SECONDS = 15.0
ONLINE_LEASE = timedelta(seconds=45)
NAME_MAX = 200
AGENT_VERSION_MAX = 64
ERROR_CODE_MAX = 64
ERROR_MESSAGE_MAX = 2000
RESULT_MAX_BYTES = 1_000_000
UNFINISHED = (BridgeCommandStatus.QUEUED, BridgeCommandStatus.SENT)
FINISHED = (BridgeCommandStatus.DONE, BridgeCommandStatus.FAILED, BridgeCommandStatus.CANCELLED)
SLOTS = ("left", "right")


def code_hash(code: str) -> str:
    """The stored form of an enrolment code: SHA-256 of its normalised text (80 random bits)."""
    return hashlib.sha256(_normalise_code(code).encode()).hexdigest()


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_enrolment_code() -> str:
    """A one-time code an admin types into the agent: four groups of four base32 characters
    (80 bits), such as ``RDSS-AZD5-BMTQ-TKMQ``."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def is_online(bridge: Bridge, now: datetime | None = None) -> bool:
    """Whether the bridge has a live command subscription in some API process (its lease)."""
    now = now or utcnow()
    return (
        bridge.revoked_at is None and bridge.online_until is not None and bridge.online_until > now
    )


def check_slot(slot: str | None, field: str = "slot") -> str | None:
    """A desk slot: ``left``, ``right``, or None (the agent finds the key by its UID)."""
    if slot is None:
        return None
    if slot not in SLOTS:
        raise DomainError(INVALID, f"{field}: the desk's slots are 'left' and 'right'", field)
    return slot


# --- enrolment ----------------------------------------------------------------------


async def create_enrolment(
    session: AsyncSession,
    *,
    name: str,
    domain_id: int | None,
    principal: Principal,
    now: datetime | None = None,
) -> tuple[Bridge, str]:
    """A new bridge in a domain the caller administers (R8) and its one-time code, shown once.

    Without ``domain_id`` the tenant's default domain, which a caller limited to
    some domains must then administer.
    """
    now = now or utcnow()
    name = name.strip()
    if not name:
        raise DomainError(INVALID, "name: a bridge needs a name", "name")
    if len(name) > NAME_MAX:
        raise DomainError(INVALID, f"name: at most {NAME_MAX} characters", "name")
    if domain_id is None:
        domain = await session.scalar(select(Domain).where(Domain.is_default.is_(True)))
    else:
        domain = await session.get(Domain, domain_id)
    if domain is None or (
        principal.domain_ids is not None and domain.id not in principal.domain_ids
    ):
        field = "domainId"
        raise DomainError(
            NOT_FOUND if domain_id is not None else "INVALID",
            "domainId: no such domain" if domain_id is not None
            else "domainId: choose one of the domains you administer",
            field,
        )
    code = new_enrolment_code()
    bridge = Bridge(
        domain_id=domain.id,
        name=name,
        enrolment_code_hash=code_hash(code),
        enrolment_expires_at=now + ENROLMENT_TTL,
        created_at=now,
    )
    session.add(bridge)
    await session.flush()
    return bridge, code


def _public_key(value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
        Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise DomainError(
            INVALID, "publicKey: base64 of a raw 32-byte Ed25519 public key", "publicKey"
        ) from exc
    return raw


async def enrol(
    session: AsyncSession,
    *,
    code: str,
    public_key: str,
    agent_version: str | None,
    now: datetime | None = None,
) -> Bridge:
    """Enrol the agent holding ``code``: its public key is stored and the code spent.

    A wrong, expired or already used code is refused with INVALID naming ``code``.
    """
    now = now or utcnow()
    raw = _public_key(public_key)
    if agent_version is not None and len(agent_version) > AGENT_VERSION_MAX:
        raise DomainError(
            INVALID, f"agentVersion: at most {AGENT_VERSION_MAX} characters", "agentVersion"
        )
    digest = code_hash(code)
    # Spent in one statement: two agents racing with one code cannot both enrol.
    bridge_id = await session.scalar(
        update(Bridge)
        .where(
            Bridge.enrolment_code_hash == digest,
            Bridge.enrolled_at.is_(None),
            Bridge.revoked_at.is_(None),
            Bridge.enrolment_expires_at > now,
        )
        .values(enrolled_at=now, public_key=raw, agent_version=agent_version)
        .returning(Bridge.id)
        .execution_options(synchronize_session=False)
    )
    if bridge_id is None:
        found = await session.scalar(select(Bridge).where(Bridge.enrolment_code_hash == digest))
        if found is None or not hmac.compare_digest(found.enrolment_code_hash or "", digest):
            reason = "code: unknown enrolment code"
        elif found.enrolled_at is not None:
            reason = "code: this enrolment code was used already"
        elif found.revoked_at is not None:
            reason = "code: this bridge was revoked"
        else:
            reason = "code: this enrolment code has expired (codes are valid 24 hours)"
        raise DomainError(INVALID, reason, "code")
    bridge = await session.get(Bridge, bridge_id, populate_existing=True)
    assert bridge is not None
    return bridge


async def load_bridge(session: AsyncSession, bridge_id: int, field: str = "bridgeId") -> Bridge:
    """A bridge the caller can see (R1, R8), else NOT_FOUND naming ``field``."""
    bridge = await session.get(Bridge, bridge_id)
    if bridge is None:
        raise DomainError(NOT_FOUND, f"{field}: no such bridge", field)
    return bridge


async def revoke(session: AsyncSession, bridge_id: int, *, now: datetime | None = None) -> Bridge:
    """Revoke a bridge: it can no longer connect, its open commands and logins are cancelled.

    Revoking twice keeps the first time. A live connection of the bridge is
    closed when it next renews its lease.
    """
    now = now or utcnow()
    bridge = await load_bridge(session, bridge_id)
    if bridge.revoked_at is not None:
        return bridge
    bridge.revoked_at = now
    bridge.online_until = None
    bridge.connection_id = None
    await session.execute(
        update(BridgeCommand)
        .where(BridgeCommand.bridge_id == bridge.id, BridgeCommand.status.in_(UNFINISHED))
        .values(status=BridgeCommandStatus.CANCELLED, finished_at=now,
                error_code="REVOKED", error_message="the bridge was revoked")
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(BridgeLogin)
        .where(BridgeLogin.bridge_id == bridge.id,
               BridgeLogin.status == BridgeLoginStatus.PENDING)
        .values(status=BridgeLoginStatus.FAILED, error_code="REVOKED",
                error_message="the bridge was revoked")
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return bridge


# --- presence ------------------------------------------------------------------------


async def mark_connected(
    session: AsyncSession, bridge_id: int, connection_id: str, *, now: datetime | None = None
) -> bool:
    """Take the bridge's online lease for this subscription; False when it is revoked."""
    now = now or utcnow()
    result = await session.execute(
        update(Bridge)
        .where(Bridge.id == bridge_id, Bridge.revoked_at.is_(None))
        .values(online_until=now + ONLINE_LEASE, connection_id=connection_id, last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


# Renewing the lease while the subscription lives is taking it again (False once revoked).
renew_lease = mark_connected


async def mark_disconnected(
    session: AsyncSession, bridge_id: int, connection_id: str, *, now: datetime | None = None
) -> None:
    """Give the lease up, unless a newer subscription of the bridge holds it already."""
    now = now or utcnow()
    await session.execute(
        update(Bridge)
        .where(Bridge.id == bridge_id, Bridge.connection_id == connection_id)
        .values(online_until=None, connection_id=None, last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


# --- the queue -----------------------------------------------------------------------


async def queue_command(
    session: AsyncSession,
    bridge: Bridge,
    kind: BridgeCommandKind,
    payload: dict[str, Any],
    *,
    principal: Principal | None,
    now: datetime | None = None,
) -> BridgeCommand:
    """Queue a command for an enrolled, unrevoked bridge; it is delivered when the bridge listens.

    ``principal`` (None for a login through the bridge) is recorded as the
    command's creator, and its domains as the scope the report's effects run in.
    """
    if bridge.revoked_at is not None:
        raise DomainError(CONFLICT, "bridgeId: the bridge was revoked", "bridgeId")
    if bridge.public_key is None:
        raise DomainError(CONFLICT, "bridgeId: the bridge has not enrolled yet", "bridgeId")
    command = BridgeCommand(
        bridge_id=bridge.id,
        domain_id=bridge.domain_id,
        kind=kind,
        status=BridgeCommandStatus.QUEUED,
        payload=payload,
        created_by_key_id=principal.programming_key_id if principal else None,
        created_by_token_id=principal.token_id if principal else None,
        scope_domain_ids=(
            sorted(principal.domain_ids)
            if principal is not None and principal.domain_ids is not None
            else None
        ),
        created_at=now or utcnow(),
    )
    session.add(command)
    await session.flush()
    return command


async def unfinished_commands(session: AsyncSession, bridge_id: int) -> list[BridgeCommand]:
    """What a bridge still has to do, oldest first; SIGN_LOGIN is live-only and left out."""
    return list(
        await session.scalars(
            select(BridgeCommand)
            .where(
                BridgeCommand.bridge_id == bridge_id,
                BridgeCommand.status.in_(UNFINISHED),
                BridgeCommand.kind != BridgeCommandKind.SIGN_LOGIN,
            )
            .order_by(BridgeCommand.id)
        )
    )


async def commands_to_deliver(
    session: AsyncSession, bridge_id: int, ids: list[int]
) -> list[BridgeCommand]:
    """The announced commands of this bridge that are still to do, oldest first."""
    if not ids:
        return []
    return list(
        await session.scalars(
            select(BridgeCommand)
            .where(
                BridgeCommand.id.in_(ids),
                BridgeCommand.bridge_id == bridge_id,
                BridgeCommand.status.in_(UNFINISHED),
            )
            .order_by(BridgeCommand.id)
        )
    )


def mark_sent(commands: list[BridgeCommand], now: datetime | None = None) -> None:
    """Delivered to the bridge: QUEUED becomes SENT (a SENT one is delivered again on reconnect)."""
    now = now or utcnow()
    for command in commands:
        if command.status is BridgeCommandStatus.QUEUED:
            command.status = BridgeCommandStatus.SENT
            command.sent_at = now


async def expire_command(session: AsyncSession, command_id: int | None, now: datetime) -> None:
    """Cancel an unfinished command whose purpose has gone (an expired login's signature)."""
    if command_id is None:
        return
    await session.execute(
        update(BridgeCommand)
        .where(BridgeCommand.id == command_id, BridgeCommand.status.in_(UNFINISHED))
        .values(status=BridgeCommandStatus.CANCELLED, finished_at=now,
                error_code="EXPIRED", error_message="the login expired")
        .execution_options(synchronize_session=False)
    )
