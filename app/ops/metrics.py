"""``/metrics``: the Prometheus text exposition of a Keywarden API process (issue 13 item 6).

What happens in the process is counted where it happens (``app.ops.instruments``:
GraphQL latency, open subscriptions, heartbeats; ``app.workers.metrics``:
Dramatiq's own middleware for the in-process queue). What lives in the database
or the broker is read at scrape time, in a few cheap statements: the outbox
backlog, bridges online (whole-installation counts, the same from every API
process) and the job queue's depth. Nothing carries a tenant, a device or a
secret: counts only (R1, R37).

Who may scrape (``may_scrape``): with ``KEYWARDEN_METRICS_TOKEN`` set, whoever
sends it as a bearer token; without it, only a client on this host that no
proxy forwarded.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterator

import redis.asyncio as aioredis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.requests import Request

from app.config import Settings
from app.db import Database
from app.models import Bridge, OutboxMessage
from app.models.base import utcnow
from app.ops.instruments import REGISTRY
from app.workers.broker import current_broker
from app.workers.metrics import DRAMATIQ_METRICS
from app.workers.outbox import MAX_ATTEMPTS

log = logging.getLogger("keywarden.metrics")

# A scrape-time reading that has not answered within this many seconds is left out.
READ_TIMEOUT_SECONDS = 3.0
_FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")

REGISTRY.register(DRAMATIQ_METRICS)


def may_scrape(request: Request, settings: Settings) -> bool:
    """Whether ``request`` may read ``/metrics`` (see the module docstring)."""
    if settings.metrics_token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        expected = settings.metrics_token.get_secret_value().encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)
    # A reverse proxy on this host would make every outside request look local.
    if any(header in request.headers for header in _FORWARDING_HEADERS):
        return False
    try:
        return request.client is not None and ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


class _Readings(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


async def exposition(database: Database, settings: Settings) -> bytes:
    """The process's metrics and this moment's readings, in the Prometheus text format."""
    readings = await asyncio.gather(
        _bounded("database", lambda: database_readings(database)),
        _bounded("queue", lambda: queue_readings(settings)),
    )
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(REGISTRY)
    scrape.register(_Readings([family for families in readings for family in families]))
    return generate_latest(scrape)


async def database_readings(database: Database) -> list[Metric]:
    """Bridges online and the outbox backlog, over every tenant (counts only)."""
    now = utcnow()
    unsent = OutboxMessage.sent_at.is_(None)
    async with database.system_session() as session:
        bridges = await session.scalar(
            select(func.count()).where(Bridge.revoked_at.is_(None), Bridge.online_until > now)
        )
        backlog, given_up = (
            await session.execute(
                select(
                    func.count().filter(OutboxMessage.attempts < MAX_ATTEMPTS),
                    func.count().filter(OutboxMessage.attempts >= MAX_ATTEMPTS),
                ).where(unsent)
            )
        ).one()
    return [
        GaugeMetricFamily(
            "keywarden_bridges_online",
            "Site bridges holding a live command subscription (their online lease).",
            value=bridges or 0,
        ),
        GaugeMetricFamily(
            "keywarden_outbox_backlog",
            "E-mails in the outbox not sent yet and still being tried (R33).",
            value=backlog,
        ),
        GaugeMetricFamily(
            "keywarden_outbox_given_up",
            "E-mails in the outbox given up after their last attempt (R33).",
            value=given_up,
        ),
    ]


async def queue_readings(settings: Settings) -> list[Metric]:
    """Messages of each job queue not done yet: waiting, delayed or running (R3)."""
    family = GaugeMetricFamily(
        "keywarden_queue_messages",
        "Job queue messages enqueued and not done yet (waiting, delayed or running).",
        labels=["queue"],
    )
    broker = current_broker()
    url = settings.queue_url
    if url:
        # On RabbitMQ its management (or `rabbitmqctl list_queues`) tells the depths.
        if settings.queue_on_rabbitmq or not isinstance(broker, RedisBroker):
            return [family]
        queues = sorted(broker.get_declared_queues())
        depths = await _redis_depths(url, broker.namespace, queues) if queues else []
        for queue, depth in zip(queues, depths, strict=True):
            family.add_metric([queue], depth)
    elif isinstance(broker, StubBroker):
        for queue in sorted(broker.queues):
            if queue in broker.delay_queues:
                continue
            waiting = broker.queues[queue].unfinished_tasks
            delayed = broker.queues[dq_name(queue)].unfinished_tasks
            family.add_metric([queue], waiting + delayed)
    return [family]


async def _redis_depths(url: str, namespace: str, queues: list[str]) -> list[int]:
    # Dramatiq's Redis broker keeps each message in the hash "<namespace>:<queue>.msgs"
    # (and "<queue>.DQ.msgs" while delayed) until it is acknowledged: one HLEN each.
    client = aioredis.from_url(
        url, socket_connect_timeout=READ_TIMEOUT_SECONDS, socket_timeout=READ_TIMEOUT_SECONDS
    )
    try:
        async with client.pipeline(transaction=False) as pipe:
            for queue in queues:
                pipe.hlen(f"{namespace}:{queue}.msgs")
                pipe.hlen(f"{namespace}:{dq_name(queue)}.msgs")
            counts = await pipe.execute()
    finally:
        await client.aclose()
    return [int(counts[i]) + int(counts[i + 1]) for i in range(0, len(counts), 2)]


async def _bounded(what: str, read: Callable[[], Awaitable[list[Metric]]]) -> list[Metric]:
    """A reading, or none when it fails or is slow: the rest of the scrape still answers."""
    try:
        return await asyncio.wait_for(read(), READ_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("metrics: the %s readings failed: %r", what, exc)
        return []
