"""Live events of the domain and how they are announced: after the commit, never before (R23).

Two kinds of event feed the GraphQL subscriptions:

- :class:`DeviceStatusChanged` — a remote device went online or offline, or
  something shown with it changed (e.g. firmware progress) (``deviceStatus``);
- :class:`JobChanged` — a programming job or remote job was created, changed,
  assigned, done or cancelled (``jobEvents``).

Inside a transaction, queue them on the session (:func:`queue_event`,
:func:`queue_device_status`, :func:`queue_job_events`); once the transaction has
committed, :func:`publish_queued` announces them. Events of a transaction that
rolls back are dropped with it: nothing is announced that did not happen. Code
with no transaction of its own (a worker after its commit) calls
:func:`publish_now`.

The messages carry the tenant, ids and small facts only; subscribers load the
rows through their own tenant- and domain-scoped session (R1, R8). Events of one
transaction travel together: one message per tenant, topic and fact, with the ids.

Typical use at the device endpoint::

    queue_device_status(session, [device.id], online=True)
    await session.commit()
    await publish_queued(session, get_pubsub(settings))
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from app.config import Settings
from app.events.pubsub import Message, PubSub, existing_pubsub, publish_once
from app.models import utcnow

log = logging.getLogger("keywarden.events")

DEVICE_STATUS = "device-status"
JOB_EVENTS = "job-events"
TOPICS = (DEVICE_STATUS, JOB_EVENTS)

# Ids per message: a list-function change on thousands of cylinders (R16) is a few messages.
IDS_PER_MESSAGE = 5000

_T = TypeVar("_T")

_PENDING = "events"  # session.info key: queued in the open transaction
_COMMITTED = "events_committed"  # session.info key: committed, not yet published


@dataclass(frozen=True)
class DeviceStatusChanged:
    """A remote device's state as subscribers see it changed: ``online`` is its state now (R23)."""

    tenant_id: str
    device_id: int
    online: bool
    at: datetime


@dataclass(frozen=True)
class JobChanged:
    """A programming job or a remote job changed (created, assigned, done, failed, cancelled).

    Exactly one of ``programming_job_id`` and ``remote_job_id`` is set.
    """

    tenant_id: str
    programming_job_id: int | None
    remote_job_id: int | None
    at: datetime

    def __post_init__(self) -> None:
        if (self.programming_job_id is None) == (self.remote_job_id is None):
            raise ValueError("a JobChanged names exactly one programming job or remote job")


Event = DeviceStatusChanged | JobChanged


def topic_of(event: Event) -> str:
    """The topic an event is published on."""
    return DEVICE_STATUS if isinstance(event, DeviceStatusChanged) else JOB_EVENTS


# --- queueing inside a transaction ---------------------------------------------------


def queue_event(session: AsyncSession | Session, event: Event) -> None:
    """Announce ``event`` once the session's current transaction commits (dropped on rollback)."""
    info = session.info
    tenant_id = info.get("tenant_id")
    if tenant_id is not None and event.tenant_id != tenant_id:
        raise ValueError("an event of another tenant cannot be queued on this session (R1)")
    info.setdefault(_PENDING, []).append(event)


def queue_device_status(
    session: AsyncSession, device_ids: Iterable[int], *, online: bool, at: datetime | None = None
) -> None:
    """Announce, after commit, that these devices of the session's tenant are now (off)line (R23).

    Also the way to push any other change subscribers see on a device (e.g.
    firmware progress, R25): queue it with the device's current ``online``.
    """
    tenant_id = session.info["tenant_id"]
    at = at or utcnow()
    for device_id in device_ids:
        queue_event(session, DeviceStatusChanged(tenant_id, device_id, online, at))


def queue_job_events(
    session: AsyncSession,
    *,
    job_ids: Iterable[int] = (),
    remote_job_ids: Iterable[int] = (),
    at: datetime | None = None,
) -> None:
    """Announce, after commit, that these programming jobs and remote jobs changed (R15, R18).

    Queuing the same job twice in one transaction announces it once.
    """
    tenant_id = session.info["tenant_id"]
    at = at or utcnow()
    for job_id in job_ids:
        queue_event(session, JobChanged(tenant_id, job_id, None, at))
    for remote_job_id in remote_job_ids:
        queue_event(session, JobChanged(tenant_id, None, remote_job_id, at))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_COMMITTED, []).extend(pending)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    # After a commit the pending events were moved already; after a rollback (or a
    # close without commit) they go: nothing is announced that was rolled back.
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_PENDING, None)


# --- publishing ----------------------------------------------------------------------


def _messages(events: Sequence[Event]) -> list[tuple[str, str, Message]]:
    """Group events into messages: one per tenant and topic (and online state), with the ids.

    What counts is the state after the commit: a job or a device named twice is
    announced once, with its last event's facts; a message's ``at`` is the
    latest of its events.
    """
    latest: dict[tuple[str, str, int], Event] = {}
    for item in events:
        if isinstance(item, DeviceStatusChanged):
            key = (item.tenant_id, "device", item.device_id)
        elif item.programming_job_id is not None:
            key = (item.tenant_id, "programming", item.programming_job_id)
        else:
            key = (item.tenant_id, "remote", item.remote_job_id)  # type: ignore[assignment]
        latest.pop(key, None)  # re-inserted: the last occurrence's place and facts
        latest[key] = item

    devices: dict[tuple[str, bool], list[DeviceStatusChanged]] = {}
    jobs: dict[str, list[JobChanged]] = {}
    for item in latest.values():
        if isinstance(item, DeviceStatusChanged):
            devices.setdefault((item.tenant_id, item.online), []).append(item)
        else:
            jobs.setdefault(item.tenant_id, []).append(item)

    out: list[tuple[str, str, Message]] = []
    for (tenant_id, online), changes in devices.items():
        for chunk in _chunks(changes):
            out.append((tenant_id, DEVICE_STATUS, {
                "tenant_id": tenant_id, "kind": DEVICE_STATUS,
                "device_ids": [c.device_id for c in chunk], "online": online,
                "at": max(c.at for c in chunk).isoformat(),
            }))
    for tenant_id, changed in jobs.items():
        for chunk in _chunks(changed):
            out.append((tenant_id, JOB_EVENTS, {
                "tenant_id": tenant_id, "kind": JOB_EVENTS,
                "programming_job_ids": [
                    j.programming_job_id for j in chunk if j.programming_job_id is not None
                ],
                "remote_job_ids": [j.remote_job_id for j in chunk if j.remote_job_id is not None],
                "at": max(j.at for j in chunk).isoformat(),
            }))
    return out


def _chunks(items: list[_T]) -> list[list[_T]]:
    return [items[i : i + IDS_PER_MESSAGE] for i in range(0, len(items), IDS_PER_MESSAGE)]


def events_from_message(message: Mapping[str, Any]) -> list[Event]:
    """The events a pub/sub message carries; empty when it is malformed."""
    try:
        tenant_id = str(message["tenant_id"])
        at = datetime.fromisoformat(str(message["at"]))
        kind = message["kind"]
        if kind == DEVICE_STATUS:
            online = message["online"]
            if not isinstance(online, bool):
                return []
            return [
                DeviceStatusChanged(tenant_id, int(i), online, at) for i in message["device_ids"]
            ]
        if kind == JOB_EVENTS:
            return [
                *(JobChanged(tenant_id, int(i), None, at) for i in message["programming_job_ids"]),
                *(JobChanged(tenant_id, None, int(i), at) for i in message["remote_job_ids"]),
            ]
    except (KeyError, TypeError, ValueError):
        pass
    return []


async def publish_now(target: Settings | PubSub, *events: Event) -> None:
    """Announce events right away, for code outside a request's transaction (workers, endpoint).

    ``target`` is the process's pub/sub, or the settings: then the pub/sub already
    open in this event loop is used, or (Redis, e.g. in a Dramatiq actor's own
    ``asyncio.run``) a connection opened for this call. Publish only what has
    been committed. Errors are raised: the caller decides whether they matter.
    """
    items = _messages(events)
    if not items:
        return
    if isinstance(target, PubSub):
        await target.publish_many(items)
        return
    pubsub = existing_pubsub(target)
    if pubsub is not None:
        await pubsub.publish_many(items)
    else:
        await publish_once(target, items)


async def publish_queued(session: AsyncSession | Session, target: Settings | PubSub) -> int:
    """Announce the events of the session's committed transactions; how many were published.

    Call it after ``commit()``. Never raises: the transaction has committed, and
    a pub/sub outage only means live subscribers miss these events (logged).
    """
    return await publish_committed(target, *session.info.pop(_COMMITTED, []))


async def publish_committed(target: Settings | PubSub, *events: Event) -> int:
    """Announce events of a committed transaction; how many were published. Never raises
    (a pub/sub outage only means live subscribers miss these events, logged)."""
    if not events:
        return 0
    try:
        await publish_now(target, *events)
    except Exception:
        log.exception("could not publish %d live events", len(events))
        return 0
    return len(events)
