"""Logging in with a programming key: a challenge the key signs, plus its PIN (R5).

1. :func:`create_challenge` hands out a one-time nonce for a key's marking.
2. The key (through the bridge agent or the simulator) signs
   :func:`login_message` with its Ed25519 private key.
3. :func:`complete_login` checks the challenge, the signature and the PIN and
   opens a session whose token (kind ``s``) is shown once.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.pins import check_pin
from app.auth.principal import SESSION_KIND, parse_token
from app.auth.tokens import new_token, token_hash
from app.errors import BAD_SIGNATURE, INVALID, NOT_FOUND, DomainError
from app.models import (
    LoginChallenge,
    LoginSession,
    ProgrammingKey,
    ProgrammingKeyStatus,
    utcnow,
)
from hardware.wire import login_message as login_message  # the signed bytes: wire format

CHALLENGE_TTL = timedelta(minutes=2)
_NONCE = re.compile(r"[0-9a-f]{64}")


def refuse_unless_active(key: ProgrammingKey, field: str) -> None:
    """Refuse a login with a programming key that is not active (R5): INVALID on ``field``.

    Keys not yet activated, lost or defective cannot log in, directly or through a bridge.
    """
    if key.status != ProgrammingKeyStatus.ACTIVE:
        raise DomainError(
            INVALID,
            f"programming key {key.marking} is {key.status.value} and cannot log in",
            field,
        )


async def create_challenge(
    session: AsyncSession, marking: str, *, now: datetime | None = None
) -> LoginChallenge:
    """Start a login for the programming key with ``marking`` (R5): a nonce valid two minutes.

    Keys not yet activated and keys reported lost cannot log in. The key's spent
    (used or expired) challenges are cleared on the way.
    """
    now = now or utcnow()
    key = await session.scalar(select(ProgrammingKey).where(ProgrammingKey.marking == marking))
    if key is None:
        raise DomainError(NOT_FOUND, "no programming key with this marking", "marking")
    refuse_unless_active(key, "marking")
    await session.execute(
        delete(LoginChallenge).where(
            LoginChallenge.programming_key_id == key.id,
            or_(LoginChallenge.used_at.is_not(None), LoginChallenge.expires_at <= now),
        )
    )
    challenge = LoginChallenge(
        programming_key_id=key.id,
        nonce=secrets.token_hex(32),
        created_at=now,
        expires_at=now + CHALLENGE_TTL,
    )
    session.add(challenge)
    await session.flush()
    return challenge


async def complete_login(
    session: AsyncSession,
    *,
    challenge_nonce: str,
    signature: bytes,
    pin: str,
    now: datetime | None = None,
    session_hours: int = 8,
) -> tuple[LoginSession, str]:
    """Finish a login (R5): returns the new session and its token, shown once.

    The challenge must be unused and unexpired (INVALID on ``challenge``), the
    signature over :func:`login_message` must verify against the key's public key
    (BAD_SIGNATURE), and the PIN must be right (WRONG_PIN through ``check_pin``,
    which locks the key after repeated failures). A challenge is spent by a
    well-signed attempt even when the PIN is wrong; after a ``PinRejected`` the
    caller must commit (see ``app.auth.pins``).
    """
    now = now or utcnow()
    key = await signed_by_key(
        session, challenge_nonce=challenge_nonce, signature=signature, now=now
    )
    await check_pin(session, key, pin, now=now, field="pin")
    return await open_session(session, key, now=now, session_hours=session_hours)


async def signed_by_key(
    session: AsyncSession, *, challenge_nonce: str, signature: bytes, now: datetime
) -> ProgrammingKey:
    """The active programming key that signed the challenge ``challenge_nonce`` (R5).

    Spends the challenge, which must be unused and unexpired (INVALID on
    ``challenge``), and checks the Ed25519 signature over :func:`login_message`
    against the key's public key (BAD_SIGNATURE on ``signature``): whoever passes
    holds the key. Used by the login and by a factory key's first PIN.
    """
    if not _NONCE.fullmatch(challenge_nonce):
        raise DomainError(INVALID, "unknown, used or expired challenge", "challenge")
    # Spent in one statement, so that two logins racing on one challenge cannot both pass.
    key_id = await session.scalar(
        update(LoginChallenge)
        .where(
            LoginChallenge.nonce == challenge_nonce,
            LoginChallenge.used_at.is_(None),
            LoginChallenge.expires_at > now,
        )
        .values(used_at=now)
        .returning(LoginChallenge.programming_key_id)
    )
    if key_id is None:
        raise DomainError(INVALID, "unknown, used or expired challenge", "challenge")
    key = await session.get(ProgrammingKey, key_id)
    if key is None:
        raise DomainError(INVALID, "unknown, used or expired challenge", "challenge")
    refuse_unless_active(key, "challenge")

    message = login_message(session.info["tenant_id"], challenge_nonce)
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature, message)
    except (InvalidSignature, ValueError) as exc:
        raise DomainError(
            BAD_SIGNATURE, "the challenge was not signed by this programming key", "signature"
        ) from exc
    return key


async def open_session(
    session: AsyncSession, key: ProgrammingKey, *, now: datetime, session_hours: int
) -> tuple[LoginSession, str]:
    """A login session of ``key`` for ``session_hours``, and its token (kind ``s``), shown once.

    Every way of logging in ends here once it has proven the key (R5): a signed
    challenge and PIN, a bridge's desk, or a one-time sign-in link.
    """
    token = new_token(SESSION_KIND, session.info["tenant_id"])
    login = LoginSession(
        programming_key_id=key.id,
        secret_hash=token_hash(token),
        created_at=now,
        expires_at=now + timedelta(hours=session_hours),
    )
    session.add(login)
    await session.flush()
    return login, token


async def logout(session: AsyncSession, token: str, *, now: datetime | None = None) -> bool:
    """End the login session ``token`` opened (R5); False when it is no open session.

    API tokens are not touched: they are revoked with ``revoke_api_token`` (R9).
    """
    parsed = parse_token(token)
    if parsed is None or parsed.kind != SESSION_KIND:
        return False
    if parsed.tenant_id != session.info.get("tenant_id"):
        return False
    result = await session.execute(
        update(LoginSession)
        .where(LoginSession.secret_hash == token_hash(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .returning(LoginSession.id)
    )
    return result.scalar_one_or_none() is not None
