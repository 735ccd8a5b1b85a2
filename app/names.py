"""Names of the tenant's own objects: how they are stored and kept unique (R7, R8, R12, R13).

- :func:`check_name` — the stored form: trimmed, not empty, bounded (INVALID).
- :func:`free_name` — a name no other row of the tenant holds, whatever its case (CONFLICT).
- :func:`flush_named` — flush a new or renamed row; a name another transaction took
  meanwhile (the table's unique constraint) is CONFLICT too, never a server error.

The caller owns the transaction: nothing here commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CONFLICT, INVALID, DomainError


def check_name(value: str, field_name: str, limit: int = 200) -> str:
    """A name as stored: trimmed, not empty, at most ``limit`` characters (else INVALID)."""
    cleaned = value.strip()
    if not cleaned:
        raise DomainError(INVALID, f"{field_name}: must not be empty", field_name)
    if len(cleaned) > limit:
        raise DomainError(INVALID, f"{field_name}: at most {limit} characters", field_name)
    return cleaned


async def free_name(
    session: AsyncSession,
    model: Any,
    name: str,
    *,
    own_id: int | None,
    what: str,
    limit: int,
    field_name: str = "name",
) -> str:
    """``name`` as stored (:func:`check_name`), once no other ``model`` row of the tenant
    (``own_id`` being the row renamed, if any) holds it, case aside: CONFLICT names the
    one that does, as "a ``what`` named ...". ``model`` has ``id`` and ``name``."""
    cleaned = check_name(name, field_name, limit)
    taken = select(model.name).where(func.lower(model.name) == cleaned.lower())
    if own_id is not None:
        taken = taken.where(model.id != own_id)
    other = await session.scalar(taken.limit(1))
    if other is not None:
        raise DomainError(
            CONFLICT, f"{field_name}: there is already a {what} named {other!r}", field_name
        )
    return cleaned


async def flush_named(
    session: AsyncSession, name: str, *, what: str, field_name: str = "name"
) -> None:
    """Flush the session in a savepoint; a unique name taken meanwhile by a transaction that
    committed first is CONFLICT on ``field_name`` (the check of :func:`free_name` could not
    see it), and the session stays usable."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise DomainError(
            CONFLICT, f"{field_name}: there is already a {what} named {name!r}", field_name
        ) from exc
