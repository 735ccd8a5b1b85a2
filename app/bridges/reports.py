"""What a bridge reports about its commands: progress, and the outcome with its effect (R8, R26).

:func:`report_command` is exactly once in effect: a finished command reported
again changes nothing. The effect of each command kind lives in
``app.bridges.effects`` (and, for a login's signature, ``app.bridges.login``).

The caller owns the transaction: these functions flush, never commit.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.bridges.effects import FAILURE_EFFECTS, SUCCESS_EFFECTS
from app.bridges.login import fail_login_of
from app.bridges.service import ERROR_CODE_MAX, ERROR_MESSAGE_MAX, FINISHED, UNFINISHED
from app.errors import FORBIDDEN, INVALID, NOT_FOUND, DomainError
from app.models import Bridge, BridgeCommand, BridgeCommandKind, BridgeCommandStatus, utcnow

log = logging.getLogger("keywarden.bridges")

def _clean_text(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    return value[:limit]


async def _own_command(
    session: AsyncSession, principal: Principal | None, command_id: int
) -> BridgeCommand:
    """A command of the reporting bridge, locked for its report; FORBIDDEN for anyone but a
    bridge, NOT_FOUND for another bridge's command (R1)."""
    if principal is None or principal.kind != "bridge" or principal.bridge_id is None:
        raise DomainError(FORBIDDEN, "only a bridge reports its commands")
    command = await session.scalar(
        select(BridgeCommand)
        .where(BridgeCommand.id == command_id, BridgeCommand.bridge_id == principal.bridge_id)
        .with_for_update()
    )
    if command is None:
        raise DomainError(NOT_FOUND, "commandId: no such command of this bridge", "commandId")
    return command


async def report_progress(
    session: AsyncSession, principal: Principal, *, command_id: int, done: int, total: int
) -> BridgeCommand:
    """How far the bridge has got with an unfinished command of its own (a key's firmware
    at the desk, R26): ``done`` of ``total`` (bytes). Progress never goes backwards (a
    late, older report changes nothing); a finished command keeps its final state."""
    if total < 1:
        raise DomainError(INVALID, "total: must be at least 1", "total")
    if not 0 <= done <= total:
        raise DomainError(INVALID, "done: must be between 0 and total", "done")
    command = await _own_command(session, principal, command_id)
    moved_on = command.progress_total != total or (command.progress_done or 0) <= done
    if command.status in UNFINISHED and moved_on:
        command.progress_done, command.progress_total = done, total
        await session.flush()
    return command


async def report_command(
    session: AsyncSession,
    principal: Principal,
    *,
    command_id: int,
    ok: bool,
    result: dict[str, Any] | None,
    error_code: str | None,
    error_message: str | None,
    now: datetime | None = None,
) -> tuple[BridgeCommand, bool]:
    """Record what the bridge did with one of its commands; (command, whether this report counted).

    Exactly-once effects: the command row is locked, and a command already
    finished (DONE, FAILED, CANCELLED) is answered as it is, nothing changes.
    Otherwise the command's effect runs (``app.bridges.effects``) in a
    savepoint with the domains of whoever queued it (R8): when the effect
    refuses the result (a DomainError), the command is FAILED with that error
    and nothing of the effect stays. A failed report runs the kind's failure
    effect (a login fails, an interrupted key firmware update, R26).
    """
    now = now or utcnow()
    command = await _own_command(session, principal, command_id)
    if command.status in FINISHED:
        return command, False
    await session.execute(
        update(Bridge)
        .where(Bridge.id == principal.bridge_id)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    command.result = result
    command.finished_at = now
    scope = session.info.get("domain_ids")
    if command.scope_domain_ids is not None:
        session.info["domain_ids"] = frozenset(command.scope_domain_ids)
    try:
        effect = (SUCCESS_EFFECTS if ok else FAILURE_EFFECTS).get(command.kind)
        if ok:
            command.status = BridgeCommandStatus.DONE
            command.error_code = None
            command.error_message = None
        else:
            command.status = BridgeCommandStatus.FAILED
            command.error_code = _clean_text(error_code or "FAILED", ERROR_CODE_MAX)
            command.error_message = _clean_text(error_message, ERROR_MESSAGE_MAX)
        if effect is not None:
            try:
                async with session.begin_nested():
                    await effect(session, command, result or {}, now)
            except DomainError as exc:
                log.info("bridge command %s (%s) refused: %s", command.id, command.kind.value,
                         exc.code)
                command.status = BridgeCommandStatus.FAILED
                command.error_code = exc.code
                command.error_message = exc.message
                if command.kind is BridgeCommandKind.SIGN_LOGIN:
                    await fail_login_of(session, command, exc.code, exc.message)
    finally:
        if scope is None:
            session.info.pop("domain_ids", None)
        else:
            session.info["domain_ids"] = scope
    await session.flush()
    return command, True
