"""Logging in from a browser with the programming key in a bridge's desk device (R5).

1. :func:`start_bridge_login` — the web page names the tenant and the bridge and
   gives the PIN. The bridge must be online (BRIDGE_OFFLINE otherwise). A
   SIGN_LOGIN command is queued for it whose stored payload holds the login
   challenge (:func:`app.auth.login.login_message`) but never the PIN: the PIN
   travels only in the live message to the bridge (``app.bridges.events``), and
   the caller publishes it after the commit. The page gets a login id and a
   secret to poll with (the secret is stored as its SHA-256).
2. The key in the desk checks the PIN itself (with its own lock-out) and signs
   the challenge; the bridge reports it (``report_command``), and
   :func:`complete_signed_login` finds the programming key by its UID (or
   marking), checks it is active and the login unexpired and unused, and
   verifies the signature against the key's registered public key.
3. :func:`finish_bridge_login` — the page polls; once signed, the login session
   is created and its token handed out, once. A login not signed within two
   minutes is FAILED with EXPIRED.

The login id names its tenant (``finishBridgeLogin`` is unauthenticated and the
lookup must run under the tenant, R1). The caller owns the transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.login import CHALLENGE_TTL, login_message, open_session, refuse_unless_active
from app.bridges.service import expire_command, is_online, load_bridge, queue_command
from app.errors import BAD_SIGNATURE, BRIDGE_OFFLINE, INVALID, NOT_FOUND, DomainError
from app.ids import parse_global_id, to_global_id
from app.models import (
    BridgeCommand,
    BridgeCommandKind,
    BridgeLogin,
    BridgeLoginStatus,
    ProgrammingKey,
    utcnow,
)

LOGIN_TTL = CHALLENGE_TTL
_PIN = re.compile(r"[0-9]{4,8}")
EXPIRED = "EXPIRED"


def login_gid(tenant_id: str, login_id: int) -> str:
    """The login's id as the browser holds it: it names the tenant and the login."""
    return to_global_id("BridgeLogin", f"{uuid.UUID(tenant_id).hex}-{login_id}")


def parse_login_gid(value: str) -> tuple[str, int] | None:
    """(tenant id, login id) of a login id; None when it is not one."""
    parsed = parse_global_id(value)
    if parsed is None or parsed[0] != "BridgeLogin":
        return None
    tenant_hex, _, login_id = parsed[1].partition("-")
    if not login_id.isdigit():
        return None
    try:
        return str(uuid.UUID(hex=tenant_hex)), int(login_id)
    except ValueError:
        return None


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class StartedLogin:
    """A login waiting for the key: its row, the poll secret (shown once) and the live command."""

    login: BridgeLogin
    secret: str
    command: BridgeCommand
    live: dict[str, Any]


async def start_bridge_login(
    session: AsyncSession,
    *,
    bridge_id: int,
    pin: str,
    slot: str | None,
    now: datetime | None = None,
) -> StartedLogin:
    """Ask an online bridge to have its programming key sign a fresh login challenge (R5).

    ``live`` is what only the live message carries (the PIN): publish it to
    the bridge after the commit, never store or log it.
    """
    now = now or utcnow()
    if not _PIN.fullmatch(pin):
        raise DomainError(INVALID, "pin: 4 to 8 digits", "pin")
    bridge = await load_bridge(session, bridge_id)
    if bridge.revoked_at is not None or bridge.public_key is None:
        raise DomainError(NOT_FOUND, "bridgeId: no such bridge", "bridgeId")
    if not is_online(bridge, now):
        raise DomainError(
            BRIDGE_OFFLINE,
            f"bridge {bridge.name} is not connected: start its agent and try again",
            "bridgeId",
        )
    nonce = secrets.token_hex(32)
    secret = secrets.token_urlsafe(32)
    login = BridgeLogin(
        bridge_id=bridge.id,
        nonce=nonce,
        secret_hash=_secret_hash(secret),
        status=BridgeLoginStatus.PENDING,
        created_at=now,
        expires_at=now + LOGIN_TTL,
    )
    session.add(login)
    await session.flush()
    tenant_id = session.info["tenant_id"]
    message = base64.b64encode(login_message(tenant_id, nonce)).decode()
    command = await queue_command(
        session,
        bridge,
        BridgeCommandKind.SIGN_LOGIN,
        {"loginId": login_gid(tenant_id, login.id), "message": message, "slot": slot},
        principal=None,
        now=now,
    )
    login.command_id = command.id
    await session.flush()
    return StartedLogin(login, secret, command, {"pin": pin})


async def _login_of(session: AsyncSession, command: BridgeCommand) -> BridgeLogin | None:
    return await session.scalar(select(BridgeLogin).where(BridgeLogin.command_id == command.id))


async def complete_signed_login(
    session: AsyncSession, command: BridgeCommand, result: dict[str, Any], now: datetime
) -> BridgeLogin:
    """The bridge's key signed the challenge: verify it and mark the login DONE (R5).

    The programming key is found by ``uid`` (else ``marking``) and must be
    ACTIVE; the login must be PENDING and unexpired; the signature must verify
    over ``login_message(tenant, nonce)`` with the key's registered public key
    (BAD_SIGNATURE otherwise).
    """
    login = await _login_of(session, command)
    if login is None or login.status is not BridgeLoginStatus.PENDING or login.expires_at <= now:
        raise DomainError(INVALID, "unknown, used or expired challenge", "challenge")
    uid, marking = result.get("uid"), result.get("marking")
    conditions = []
    if isinstance(uid, str) and uid:
        conditions.append(ProgrammingKey.uid == uid)
    if isinstance(marking, str) and marking:
        conditions.append(ProgrammingKey.marking == marking)
    keys = list(await session.scalars(select(ProgrammingKey).where(or_(*conditions)))) \
        if conditions else []
    # The UID is the key's hardware identity: it wins over a marking that names another key.
    key = next((k for k in keys if k.uid == uid), keys[0] if keys else None)
    if key is None:
        raise DomainError(NOT_FOUND, "no programming key with this UID or marking", "uid")
    refuse_unless_active(key, "uid")
    try:
        signature = base64.b64decode(str(result.get("signature", "")), validate=True)
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(
            signature, login_message(session.info["tenant_id"], login.nonce)
        )
    except (InvalidSignature, ValueError) as exc:
        raise DomainError(
            BAD_SIGNATURE, "the challenge was not signed by this programming key", "signature"
        ) from exc
    login.status = BridgeLoginStatus.DONE
    login.programming_key_id = key.id
    await session.flush()
    return login


async def fail_login_of(
    session: AsyncSession, command: BridgeCommand, code: str, message: str
) -> None:
    """The bridge could not sign (wrong PIN, key locked, no key, bad signature): FAILED."""
    login = await _login_of(session, command)
    if login is not None and login.status is BridgeLoginStatus.PENDING:
        login.status = BridgeLoginStatus.FAILED
        login.error_code = code[:64]
        login.error_message = message[:2000]
        await session.flush()


@dataclass(frozen=True)
class LoginOutcome:
    """What the polling page gets: the status, and the token the one time it is handed out."""

    status: BridgeLoginStatus
    token: str | None = None
    error_code: str | None = None
    error_message: str | None = None


async def _expire(session: AsyncSession, login: BridgeLogin, now: datetime) -> None:
    login.status = BridgeLoginStatus.FAILED
    login.error_code = EXPIRED
    login.error_message = "the programming key did not sign within two minutes"
    await expire_command(session, login.command_id, now)
    await session.flush()


async def expire_unfinished_logins(session: AsyncSession, now: datetime | None = None) -> int:
    """Logins of the session's tenant left unsigned past their two minutes become FAILED
    (EXPIRED) and their SIGN_LOGIN commands CANCELLED, whether or not a browser still polls
    (the periodic upkeep, ``app.workers.maintenance``); how many."""
    now = now or utcnow()
    stale = list(
        await session.scalars(
            select(BridgeLogin)
            .where(
                BridgeLogin.status == BridgeLoginStatus.PENDING, BridgeLogin.expires_at <= now
            )
            .with_for_update(skip_locked=True)
        )
    )
    for login in stale:
        await _expire(session, login, now)
    return len(stale)


async def finish_bridge_login(
    session: AsyncSession,
    *,
    login_id: int,
    secret: str,
    session_hours: int = 8,
    now: datetime | None = None,
) -> LoginOutcome:
    """Poll a login (R5): PENDING, FAILED with its reason, or DONE with the token, once."""
    now = now or utcnow()
    login = await session.scalar(
        select(BridgeLogin).where(BridgeLogin.id == login_id).with_for_update()
    )
    if login is None or not hmac.compare_digest(login.secret_hash, _secret_hash(secret)):
        return LoginOutcome(
            BridgeLoginStatus.FAILED, error_code="NOT_FOUND", error_message="no such login"
        )
    if login.status is BridgeLoginStatus.PENDING:
        if login.expires_at > now:
            return LoginOutcome(BridgeLoginStatus.PENDING)
        await _expire(session, login, now)
    if login.status is BridgeLoginStatus.FAILED:
        return LoginOutcome(
            BridgeLoginStatus.FAILED, error_code=login.error_code,
            error_message=login.error_message,
        )
    if login.token_issued_at is not None:
        return LoginOutcome(
            BridgeLoginStatus.DONE, error_code="TOKEN_ISSUED",
            error_message="the session token of this login was handed out already",
        )
    key = await session.get(ProgrammingKey, login.programming_key_id)
    assert key is not None
    refuse_unless_active(key, "loginId")
    _, token = await open_session(session, key, now=now, session_hours=session_hours)
    login.token_issued_at = now
    await session.flush()
    return LoginOutcome(BridgeLoginStatus.DONE, token=token)
