"""The job queue's brokers under test: Redis and RabbitMQ (R3, issue 13 item 5).

A test's queue is its own: on Redis a key namespace, on RabbitMQ a virtual
host made with ``rabbitmqctl`` (as root, which CI and this machine are) and
deleted afterwards. Its name also serves as the pub/sub prefix of the
processes the test starts. Without a reachable RabbitMQ the RabbitMQ runs are
skipped, except in CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import redis
from pydantic import SecretStr

from app.config import Settings
from app.workers.broker import configure_broker
from tests.processes import queue_idle as redis_queue_idle
from tests.processes import reachable_redis, redis_queue

RABBITMQ_URL = os.environ.get("KEYWARDEN_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672")


def reachable_broker(broker: str) -> str:
    """The URL of the test's ``broker`` ("redis" or "rabbitmq"); skipped when unreachable."""
    return reachable_rabbitmq() if broker == "rabbitmq" else reachable_redis()


def reachable_rabbitmq() -> str:
    """The test RabbitMQ URL (no virtual host); skips the test when it is not reachable."""
    parts = urlsplit(RABBITMQ_URL)
    address = (parts.hostname or "127.0.0.1", parts.port or 5672)
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"RabbitMQ is not reachable at {address[0]}:{address[1]}: {exc}")
    return RABBITMQ_URL


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "--quiet", *args], capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


@contextmanager
def rabbitmq_queue(
    settings: Settings, rabbitmq_url: str, *, pubsub_redis: str = ""
) -> Iterator[tuple[Settings, str]]:
    """This process enqueues through RabbitMQ in a virtual host of its own, deleted afterwards.

    Redis is left as ``settings`` has it (none by default: a deployment on
    RabbitMQ need not run Redis) unless ``pubsub_redis`` names one for the live
    events (R23) of the processes the test starts.
    """
    vhost = f"keywarden-test-{uuid.uuid4().hex[:12]}"
    user = urlsplit(rabbitmq_url).username or "guest"
    rabbitmqctl("add_vhost", vhost)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        with_rabbitmq = settings.model_copy(
            update={
                "broker_url": SecretStr(f"{rabbitmq_url.rstrip('/')}/{vhost}"),
                "redis_url": SecretStr(pubsub_redis) if pubsub_redis else settings.redis_url,
                "queue_namespace": vhost,
                "pubsub_prefix": vhost,
            }
        )
        configure_broker(with_rabbitmq)
        try:
            yield with_rabbitmq, vhost
        finally:
            configure_broker(settings)
    finally:
        rabbitmqctl("delete_vhost", vhost)


@contextmanager
def broker_queue(
    settings: Settings, broker_url: str, *, pubsub_redis: str = ""
) -> Iterator[tuple[Settings, str]]:
    """A queue of this test's own on the broker at ``broker_url``: its settings and namespace.

    On Redis the pub/sub is on the same Redis; on RabbitMQ on ``pubsub_redis``, if given.
    """
    if broker_url.startswith(("amqp://", "amqps://")):
        with rabbitmq_queue(settings, broker_url, pubsub_redis=pubsub_redis) as queue:
            yield queue
    else:
        with redis_queue(settings, broker_url) as queue:
            yield queue


def queue_idle(settings: Settings, namespace: str) -> bool:
    """Whether no message of the test's queue waits, is delayed or runs unacknowledged.

    Dead-lettered messages (the ``.XQ`` queues) are done with, as on Redis.
    """
    if settings.queue_on_rabbitmq:
        listed = rabbitmqctl(
            "list_queues", "-p", namespace, "--no-table-headers", "name", "messages"
        )
        rows = (line.split() for line in listed.splitlines() if line.strip())
        return all(int(count) == 0 for name, count in rows if not name.endswith(".XQ"))
    return redis_queue_idle(settings.queue_url, namespace)


def queued(settings: Settings, namespace: str, queue_name: str) -> int:
    """How many messages of ``queue_name`` the test's queue holds (waiting or running)."""
    if settings.queue_on_rabbitmq:
        listed = rabbitmqctl(
            "list_queues", "-p", namespace, "--no-table-headers", "name", "messages"
        )
        counts = dict(line.split() for line in listed.splitlines() if line.strip())
        return int(counts.get(queue_name, 0))
    client = redis.Redis.from_url(settings.queue_url)
    try:
        return int(client.hlen(f"{namespace}:{queue_name}.msgs"))
    finally:
        client.close()
