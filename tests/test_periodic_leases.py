"""Periodic work once per deployment (issue 13 items 4, 5), on Redis and on RabbitMQ.

Every worker process runs a ``PeriodicSender``; after its first round a sender
sends a periodic actor's message only when it takes that actor's lock for the
interval: a Redis key on Redis, a lease row in the database on RabbitMQ (a
deployment on RabbitMQ need not run Redis).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import dramatiq
import pytest

from app.config import Settings
from app.db import Database
from app.models.base import utcnow
from app.workers.broker import Periodic, PeriodicSender, configure_broker
from app.workers.leases import take_lease
from tests.brokers import broker_queue, queued

INTERVAL = 3.0
QUEUE = "test_periodic"


@dramatiq.actor(actor_name="test_periodic_tick", queue_name=QUEUE, broker=configure_broker())
def _tick() -> None:
    """Never consumed here: the test counts how often it was sent."""


@pytest.fixture
def queue(settings: Settings, broker_url: str) -> Iterator[tuple[Settings, str]]:
    with broker_queue(settings, broker_url) as configured:
        yield configured


async def test_of_two_workers_taking_one_lease_at_once_only_one_gets_it_until_it_expires(
    database: Database,
) -> None:
    # given
    actor = f"test-{uuid.uuid4().hex[:8]}"
    now = utcnow()

    # when: two workers try at the same moment
    taken = await asyncio.gather(
        take_lease(database, actor, 10, holder="worker-a", now=now),
        take_lease(database, actor, 10, holder="worker-b", now=now),
    )

    # then
    assert sorted(taken) == [False, True]

    # when: later in the same interval
    early = await take_lease(database, actor, 10, holder="worker-a", now=now + timedelta(seconds=9))

    # then
    assert early is False

    # when: the interval has passed
    after = now + timedelta(seconds=10)
    later = await take_lease(database, actor, 10, holder="worker-b", now=after)

    # then
    assert later is True


async def test_two_workers_send_each_round_of_a_periodic_actor_once(
    queue: tuple[Settings, str],
) -> None:
    # given: two workers' senders of one periodic actor, on the test's own queue
    settings, namespace = queue
    periodic = [Periodic(_tick, INTERVAL)]
    senders = [PeriodicSender(configure_broker(settings), periodic) for _ in range(2)]

    # when: both start just after an interval's boundary (rounds fall on the wall clock's
    # boundaries), each sends its first round, and two boundaries pass
    await asyncio.sleep(INTERVAL - time.time() % INTERVAL + 0.2)
    for sender in senders:
        sender.start()
    try:
        await asyncio.sleep(INTERVAL * 2.5)
    finally:
        for sender in senders:
            sender.stop()

    # then: two first rounds, then one message per interval, not one per worker
    assert await asyncio.to_thread(queued, settings, namespace, QUEUE) == 2 + 2
