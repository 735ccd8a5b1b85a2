"""Storing audit trails read out of cylinders and keys (R15, R28).

A cylinder keeps its last 1,000 access attempts (plus the last 100 refused
foreign keys, R11); an E2/E3 key keeps its own. Whatever reads a trail out —
a programming key before it rewrites a cylinder (R15), a remote device reading
a key (R29) — hands the events to :func:`store_audit_events`. A cylinder's trail read by
a programming visit while the approver function is on and no readout of it is approved
is stored withheld: nothing is lost (R15), nobody reads it (R29) until a readout of the
cylinder is approved (``app.approval.service.store_cylinder_trail``).

A trail is read out again and again and its events overlap from one readout
to the next (a failed programming leaves the cylinder's trail as it was, and
the next visit reads the same events again), so storing is idempotent: an
event already stored from the same source is not stored twice.

The caller owns the transaction: these functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import INVALID, DomainError
from app.models import AccessResult, AuditEvent, AuditSource, Cylinder, Key
from app.tenants.scoping import ALL_DOMAINS

# R11: a cylinder's trail holds 1,000 events plus 100 refused foreign keys; one readout
# never carries more.
MAX_EVENTS_PER_READOUT = 1100
UID_LENGTH = 64
# UIDs per SELECT ... IN (...): far below every driver's bound-parameter limit.
LOOKUP_CHUNK = 1000

# What makes two read-out events the same event: cylinder, key UID, time and result.
Identity = tuple[int | None, str | None, datetime, AccessResult]


@dataclass(frozen=True)
class ReadEvent:
    """One access attempt as the hardware reports it (R28).

    In a cylinder's trail ``key_uid`` is the key that was inserted (one of the
    tenant's keys or a foreign one); in a key's trail ``cylinder_uid`` is the
    cylinder it was inserted into.
    """

    at: datetime
    result: AccessResult
    key_uid: str | None = None
    cylinder_uid: str | None = None


@dataclass
class StoredEvents:
    """What storing a readout did: the new rows, and how many events were already stored."""

    stored: list[AuditEvent]
    already_stored: int


async def store_audit_events(
    session: AsyncSession,
    *,
    source: AuditSource,
    cylinder_id: int | None = None,
    key_id: int | None = None,
    events: Sequence[ReadEvent],
    field: str = "auditEvents",
    withheld: bool = False,
) -> StoredEvents:
    """Store the events of one audit-trail readout, each at most once (R15, R28).

    ``source`` CYLINDER: the trail of cylinder ``cylinder_id``; each event's key is
    resolved by UID among all the tenant's keys (whatever domains the caller
    administers), and kept by its UID alone when it is a foreign key. ``source``
    KEY: the trail of key ``key_id``; each event's cylinder is resolved by UID.
    Every event keeps the key's UID, so that the event stays recognisable — and
    is not stored twice — even once the key row is gone.

    An event counts as already stored when one from the same source with the
    same cylinder, key UID, time and result exists, or appears earlier in
    ``events``. Times must carry their UTC offset. Errors name ``field.<i>.at``
    or ``field.<i>.keyUid``. ``withheld`` events are kept but shown to nobody until
    released (:func:`release_withheld_trail`; the approver function's rules, R29).
    """
    if source == AuditSource.CYLINDER and cylinder_id is None:
        raise ValueError("a cylinder's trail needs cylinder_id")
    if source == AuditSource.KEY and key_id is None:
        raise ValueError("a key's trail needs key_id")
    if len(events) > MAX_EVENTS_PER_READOUT:
        raise DomainError(
            INVALID,
            f"{field}: at most {MAX_EVENTS_PER_READOUT} events per readout (R11)",
            field,
        )
    for i, event in enumerate(events):
        if event.at.tzinfo is None or event.at.utcoffset() is None:
            raise DomainError(INVALID, "the time must carry its UTC offset", f"{field}.{i}.at")
        for name, uid in (("keyUid", event.key_uid), ("cylinderUid", event.cylinder_uid)):
            if uid is not None and not 0 < len(uid) <= UID_LENGTH:
                raise DomainError(
                    INVALID, f"a UID has 1 to {UID_LENGTH} characters", f"{field}.{i}.{name}"
                )
    if not events:
        return StoredEvents([], 0)

    rows: list[tuple[Identity, AuditEvent]] = []
    if source == AuditSource.CYLINDER:
        key_ids = await _ids_by_uid(session, Key, {e.key_uid for e in events if e.key_uid})
        for event in events:
            at = event.at.astimezone(UTC)
            row = AuditEvent(
                at=at,
                source=source,
                cylinder_id=cylinder_id,
                result=event.result,
                key_uid=event.key_uid,
                key_id=key_ids.get(event.key_uid) if event.key_uid else None,
                withheld=withheld,
            )
            rows.append(((cylinder_id, event.key_uid, at, event.result), row))
    else:
        key_uid = await session.scalar(
            select(Key.uid).where(Key.id == key_id).execution_options(**{ALL_DOMAINS: True})
        )
        cylinder_ids = await _ids_by_uid(
            session, Cylinder, {e.cylinder_uid for e in events if e.cylinder_uid}
        )
        for event in events:
            at = event.at.astimezone(UTC)
            found = cylinder_ids.get(event.cylinder_uid) if event.cylinder_uid else None
            row = AuditEvent(
                at=at,
                source=source,
                cylinder_id=found,
                key_id=key_id,
                key_uid=key_uid,
                result=event.result,
                withheld=withheld,
            )
            rows.append(((found, key_uid, at, event.result), row))

    seen = await _stored_identities(
        session, source, cylinder_id, key_id, [identity[2] for identity, _ in rows]
    )
    fresh: list[AuditEvent] = []
    for identity, row in rows:
        if identity in seen:
            continue
        seen.add(identity)
        fresh.append(row)
    session.add_all(fresh)
    await session.flush()
    return StoredEvents(fresh, len(rows) - len(fresh))


async def release_withheld_trail(session: AsyncSession, cylinder_id: int) -> int:
    """Show the withheld events of a cylinder's trail (a readout of it was approved, R29).

    Returns how many were released.
    """
    result = await session.execute(
        update(AuditEvent)
        .where(
            AuditEvent.source == AuditSource.CYLINDER,
            AuditEvent.cylinder_id == cylinder_id,
            AuditEvent.withheld.is_(True),
        )
        .values(withheld=False)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _ids_by_uid(
    session: AsyncSession, model: type[Key] | type[Cylinder], uids: set[str]
) -> dict[str, int]:
    """Ids of the tenant's keys or cylinders by UID, in every domain: a trail names what it met."""
    found: dict[str, int] = {}
    ordered = sorted(uids)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        chunk = ordered[start : start + LOOKUP_CHUNK]
        result = await session.execute(
            select(model.uid, model.id)
            .where(model.uid.in_(chunk))
            .execution_options(**{ALL_DOMAINS: True})
        )
        found.update({uid: ident for uid, ident in result.all()})
    return found


async def _stored_identities(
    session: AsyncSession,
    source: AuditSource,
    cylinder_id: int | None,
    key_id: int | None,
    times: list[datetime],
) -> set[Identity]:
    """What of this trail is stored already, between the readout's first and last time."""
    stmt = select(
        AuditEvent.cylinder_id, AuditEvent.key_uid, AuditEvent.at, AuditEvent.result
    ).where(AuditEvent.source == source, AuditEvent.at >= min(times), AuditEvent.at <= max(times))
    if source == AuditSource.CYLINDER:
        stmt = stmt.where(AuditEvent.cylinder_id == cylinder_id)
    else:
        stmt = stmt.where(AuditEvent.key_id == key_id)
    return {
        (cyl, uid, at.astimezone(UTC), result)
        for cyl, uid, at, result in (await session.execute(stmt)).all()
    }
