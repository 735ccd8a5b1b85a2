"""Keyset-paginated Relay connections over SQLAlchemy; global ids come from ``app.ids``."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Select, func, select, tuple_

from app.errors import INVALID, DomainError

# The API modules read global ids through here; the owner is app.ids.
from app.ids import decode_id as decode_id
from app.ids import decode_ids as decode_ids
from app.ids import parse_global_id as parse_global_id
from app.ids import to_global_id as to_global_id

MAX_PAGE = 100
DEFAULT_PAGE = 50


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise DomainError(INVALID, "after: not a cursor of this list", "after") from exc
    if not isinstance(values, list) or len(values) != width:
        raise DomainError(INVALID, "after: not a cursor of this list", "after")
    return values


@dataclass
class Page:
    """One page of rows, with the cursor of each row and whether more follow."""

    rows: list[Any]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    count_stmt: Select[Any]


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if first < 0 or first > MAX_PAGE:
        raise DomainError(INVALID, f"first: must be between 0 and {MAX_PAGE}", "first")
    return first


async def fetch_page(
    execute: Callable[[Any], Any],
    stmt: Select[Any],
    order: Sequence[Any],
    *,
    first: int | None,
    after: str | None,
) -> Page:
    """Keyset pagination on ``order`` (its last column must be unique, e.g. the id).

    ``stmt`` selects one entity and carries the filters; ``execute`` runs a statement
    and returns the result (the request's serialised session).
    """
    limit = page_size(first)
    count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
    paged = stmt.order_by(*order)
    if after:
        values = [
            _from_cursor(col, value)
            for col, value in zip(order, decode_cursor(after, len(order)), strict=True)
        ]
        paged = paged.where(tuple_(*order) > tuple_(*values))
    result = await execute(paged.limit(limit + 1))
    rows = list(result.scalars().all())
    has_next = len(rows) > limit
    rows = rows[:limit]
    keys = [col.key for col in order]
    cursors = [encode_cursor([_jsonable(getattr(row, k)) for k in keys]) for row in rows]
    return Page(rows, cursors, has_next, bool(after), count_stmt)


def _from_cursor(column: Any, value: Any) -> Any:
    """A cursor value back in the column's Python type (timestamps travel as ISO strings)."""
    if isinstance(value, str) and isinstance(getattr(column.type, "impl", column.type), DateTime):
        try:
            return datetime.fromisoformat(value)
        except ValueError as exc:
            raise DomainError(INVALID, "after: not a cursor of this list", "after") from exc
    return value


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, int | str):
        return value.value
    return value
