"""Programming keys' credentials: a sub key's new PIN, authorised by the main key (R5, R6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.pins import check_pin, hash_pin, validate_new_pin
from app.errors import CONFLICT, INVALID, NOT_FOUND, DomainError
from app.models import ProgrammingKey, ProgrammingKeyKind, ProgrammingKeyStatus, utcnow

SUB_KINDS = (ProgrammingKeyKind.SUB, ProgrammingKeyKind.SUBMASTER)


async def change_sub_key_pin(
    session: AsyncSession,
    *,
    sub_key_id: int,
    main_key_pin: str,
    new_pin: str,
    now: datetime | None = None,
) -> ProgrammingKey:
    """Give a sub or submaster programming key a new PIN, authorised by the main key's PIN (R6).

    The target must be a SUB or SUBMASTER key of the tenant (NOT_FOUND, INVALID
    on ``subKeyId``); the new PIN must follow the PIN rules (INVALID on
    ``newPin``). ``main_key_pin`` is the PIN of the tenant's main key (PR) — a
    PUK is not accepted in its place — checked with ``check_pin``: a wrong one is
    counted against the main key, which is locked after three (WRONG_PIN on
    ``mainKeyPin``). After a :class:`PinRejected` the caller must commit the
    count, not roll it back; nothing else is written before the check. On
    success the sub key's failed attempts and lock are cleared. The caller
    commits. PINs are never logged.
    """
    now = now or utcnow()
    sub_key = await session.scalar(select(ProgrammingKey).where(ProgrammingKey.id == sub_key_id))
    if sub_key is None:
        raise DomainError(NOT_FOUND, "subKeyId: no such ProgrammingKey", "subKeyId")
    if sub_key.kind not in SUB_KINDS:
        raise DomainError(
            INVALID,
            "subKeyId: only a sub or submaster key's PIN is changed with the main key's PIN (R6)",
            "subKeyId",
        )
    validate_new_pin(new_pin, "newPin")
    main_key = await session.scalar(
        select(ProgrammingKey)
        .where(
            ProgrammingKey.kind == ProgrammingKeyKind.MAIN,
            ProgrammingKey.status == ProgrammingKeyStatus.ACTIVE,
        )
        .order_by(ProgrammingKey.id)
        .limit(1)
    )
    if main_key is None:
        raise DomainError(
            CONFLICT, "the tenant has no active main programming key to authorise this", None
        )
    await check_pin(session, main_key, main_key_pin, now=now, field="mainKeyPin")
    sub_key.pin_hash = hash_pin(new_pin)
    sub_key.failed_pin_attempts = 0
    sub_key.locked_until = None
    await session.flush()
    return sub_key
