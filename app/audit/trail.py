"""Reading audit trails (R28): which events a caller sees, newest first, listed or exported.

One filter serves the ``auditEvents`` query and the ``/export/audit-events.csv``
download: every condition given must hold. Whoever reads sees only events of
the session's tenant (R1, by the session's scoping), never withheld ones (R15,
R29), and, limited to some domains, only events on a cylinder or of a key of
those domains (R8). Both list newest first, keyset-paged on ``(at, id)``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.employees.csv_format import BOM, DELIMITER, QUOTECHAR, escape_formula
from app.errors import INVALID, DomainError
from app.ids import parse_global_id
from app.models import AccessResult, AuditEvent, Cylinder, Key

# Rows per statement of an export: the whole trail is never held in memory.
EXPORT_PAGE = 1000
EXPORT_COLUMNS = ("at", "key", "cylinder", "result")
NEWEST_FIRST = (AuditEvent.at.desc(), AuditEvent.id.desc())


@dataclass(frozen=True)
class AuditFilter:
    """Which events to read; every condition given must hold (R28).

    ``since``/``until`` are inclusive and carry their UTC offset (:func:`aware`).
    """

    key_id: int | None = None
    cylinder_id: int | None = None
    results: frozenset[AccessResult] = frozenset()
    since: datetime | None = None
    until: datetime | None = None


def aware(value: datetime, field: str) -> datetime:
    """``value`` when it carries its UTC offset; INVALID naming ``field`` otherwise."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise DomainError(INVALID, f"{field}: the time must carry its UTC offset", field)
    return value


def filtered(f: AuditFilter, stmt: Select[Any] | None = None) -> Select[Any]:
    """``stmt`` (all audit events by default) narrowed to the filter's conditions."""
    stmt = select(AuditEvent) if stmt is None else stmt
    if f.key_id is not None:
        stmt = stmt.where(AuditEvent.key_id == f.key_id)
    if f.cylinder_id is not None:
        stmt = stmt.where(AuditEvent.cylinder_id == f.cylinder_id)
    if f.results:
        stmt = stmt.where(AuditEvent.result.in_(sorted(f.results, key=lambda r: r.value)))
    if f.since is not None:
        stmt = stmt.where(AuditEvent.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditEvent.at <= f.until)
    return stmt


def visible(stmt: Select[Any], domain_ids: Collection[int] | None) -> Select[Any]:
    """Only events the reader may see: not withheld (R29), and for a reader limited to
    ``domain_ids``, those on a cylinder or of a key of those domains (R8)."""
    stmt = stmt.where(AuditEvent.withheld.is_(False))
    if domain_ids is None:
        return stmt
    domains = tuple(domain_ids)
    return stmt.where(
        or_(
            AuditEvent.cylinder_id.in_(select(Cylinder.id).where(Cylinder.domain_id.in_(domains))),
            AuditEvent.key_id.in_(select(Key.id).where(Key.domain_id.in_(domains))),
        )
    )


def older_than(stmt: Select[Any], at: datetime, ident: int) -> Select[Any]:
    """The events after ``(at, ident)`` in newest-first order: the keyset's next page."""
    return stmt.where(or_(AuditEvent.at < at, and_(AuditEvent.at == at, AuditEvent.id < ident)))


async def audit_events_csv(session: AsyncSession, f: AuditFilter) -> AsyncIterator[bytes]:
    """The events the session may see that match ``f``, newest first, as CSV (R28).

    Columns ``at;key;cylinder;result``: the time in UTC (ISO 8601), the key's and the
    cylinder's marking (empty for a foreign key, a deleted element or one outside the
    reader's domains), the result. UTF-8 with a byte order mark and ``;`` like the
    employee export (R30); cells a spreadsheet would run as a formula are neutralised
    the same way. Yields one chunk per page of :data:`EXPORT_PAGE` rows, each read by
    one keyset statement, so the trail is never held in memory whole.
    """
    stmt = visible(
        filtered(
            f,
            select(AuditEvent.id, AuditEvent.at, Key.marking, Cylinder.marking, AuditEvent.result)
            .outerjoin(Key, Key.id == AuditEvent.key_id)
            .outerjoin(Cylinder, Cylinder.id == AuditEvent.cylinder_id),
        ),
        session.info.get("domain_ids"),
    ).order_by(*NEWEST_FIRST)
    yield _csv_lines([EXPORT_COLUMNS], bom=True)
    page = stmt
    while True:
        rows = (await session.execute(page.limit(EXPORT_PAGE))).all()
        if not rows:
            return
        yield _csv_lines(
            (
                at.astimezone(UTC).isoformat(),
                escape_formula(key or ""),
                escape_formula(cylinder or ""),
                result.value,
            )
            for _, at, key, cylinder, result in rows
        )
        if len(rows) < EXPORT_PAGE:
            return
        last_id, last_at = rows[-1][0], rows[-1][1]
        page = older_than(stmt, last_at, last_id)


def _csv_lines(rows: Iterable[Iterable[str]], *, bom: bool = False) -> bytes:
    out = io.StringIO()
    if bom:
        out.write(BOM)
    writer = csv.writer(out, delimiter=DELIMITER, quotechar=QUOTECHAR, lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


# The export's query parameters: the names and values of the ``auditEvents`` filter.
QUERY_PARAMETERS = ("keyId", "cylinderId", "result", "from", "until")


def filter_from_query(params: Iterable[tuple[str, str]]) -> AuditFilter:
    """The filter a query string spells (``/export/audit-events.csv``): ``keyId`` and
    ``cylinderId`` global ids as the API spells them, ``result`` repeatable, ``from`` and
    ``until`` ISO 8601 times with their UTC offset. INVALID names the parameter at fault:
    an unknown or repeated one, a malformed id, result or time. A well-formed id of nothing
    the reader sees (another tenant's, R1) matches no event, like the query's filter."""
    given: dict[str, list[str]] = {}
    for name, value in params:
        if name not in QUERY_PARAMETERS:
            raise DomainError(
                INVALID, f"{name}: unknown parameter (use {', '.join(QUERY_PARAMETERS)})", name
            )
        given.setdefault(name, []).append(value)
    for name, values in given.items():
        if name != "result" and len(values) > 1:
            raise DomainError(INVALID, f"{name}: given more than once", name)
    one = {name: values[0] for name, values in given.items()}
    return AuditFilter(
        key_id=_id(one["keyId"], "Key", "keyId") if "keyId" in one else None,
        cylinder_id=_id(one["cylinderId"], "Cylinder", "cylinderId")
        if "cylinderId" in one
        else None,
        results=frozenset(_result(value) for value in given.get("result", ())),
        since=_time(one["from"], "from") if "from" in one else None,
        until=_time(one["until"], "until") if "until" in one else None,
    )


def _id(value: str, type_name: str, field: str) -> int:
    parsed = parse_global_id(value)
    if parsed is None or parsed[0] != type_name or not parsed[1].isdigit():
        raise DomainError(INVALID, f"{field}: {value!r} is not the id of a {type_name}", field)
    return int(parsed[1])


def _result(value: str) -> AccessResult:
    try:
        return AccessResult(value)
    except ValueError:
        allowed = ", ".join(r.value for r in AccessResult)
        raise DomainError(INVALID, f"result: {value!r} is not one of {allowed}", "result") from None


def _time(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise DomainError(INVALID, f"{field}: {value!r} is not an ISO 8601 time", field) from None
    return aware(moment, field)
