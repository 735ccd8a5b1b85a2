"""Benchmark: live-event latency, publish → receive, in-process and through Redis (R23).

Two measurements per pub/sub, each over N events sent one at a time (the next
is published once the previous has arrived, so the figure is latency, not
queueing):

- pubsub: ``PubSub.publish`` → the subscriber's mailbox, in one process. With
  Redis the publisher's connection is not the listener's, so every event makes
  the round trip PUBLISH → Redis → listener → local fan-out.
- graphql: ``publish_now(DeviceStatusChanged)`` → a ``deviceStatus`` subscriber
  over a real WebSocket (graphql-transport-ws) to the app under uvicorn in a
  thread: adds the subscription's tenant/domain-scoped load of the device, the
  GraphQL execution and the WebSocket frame.

Prints p50/p99/max in milliseconds.

    .venv/bin/python -m bench.pubsub_latency [--events 200] [--redis redis://127.0.0.1:6379/0]
    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/bench \
        .venv/bin/python -m bench.pubsub_latency     # an existing, empty database
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import SecretStr
from websockets.asyncio.client import connect

from app.auth.rights import BUILTIN_ROLES
from app.auth.tokens import create_api_token
from app.config import Settings
from app.db import Database
from app.events import DEVICE_STATUS, DeviceStatusChanged, PubSub, get_pubsub, publish_now
from app.migrate import upgrade
from app.models import RemoteDevice, RemoteDeviceKind, new_tenant_id, utcnow
from app.tenants.service import create_tenant

SUBSCRIPTION = (
    "subscription { deviceStatus { device { name domain { name } } online at } }"
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(label: str, samples: list[float]) -> None:
    ms = [s * 1000 for s in samples]
    print(f"{label:<34} n={len(ms):<4} p50={percentile(ms, 0.5):7.3f} ms  "
          f"p99={percentile(ms, 0.99):7.3f} ms  max={max(ms):7.3f} ms")


async def bench_pubsub(pubsub: PubSub, events: int) -> list[float]:
    tenant_id = str(uuid.uuid4())
    samples = []
    async with pubsub.subscribe(tenant_id, DEVICE_STATUS) as mailbox:
        for n in range(events + 10):  # the first ten warm up
            started = time.perf_counter()
            await pubsub.publish(tenant_id, DEVICE_STATUS, {"n": n})
            batch = await mailbox.next_batch(wait_seconds=5)
            elapsed = time.perf_counter() - started
            assert batch and batch[0]["n"] == n, batch
            if n >= 10:
                samples.append(elapsed)
    return samples


class Server:
    """The app under uvicorn on 127.0.0.1, in a thread with its own event loop."""

    def __init__(self, settings: Settings) -> None:
        from app.web import create_app

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(
            create_app(settings), log_level="warning", ws="websockets-sansio", http="h11",
            loop="asyncio",
        ))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    async def __aenter__(self) -> Server:
        self.thread.start()
        await _until(lambda: self.server.started)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        await asyncio.to_thread(self.thread.join, 20)


async def bench_graphql(settings: Settings, events: int) -> list[float]:
    database = Database(settings)
    tenant_id = new_tenant_id()
    async with database.tenant_session(tenant_id) as s:
        tenant = await create_tenant(s, name="Bench")
        _, token = await create_api_token(
            s, name="bench", rights=BUILTIN_ROLES["Superadmin"], domain_ids=None
        )
        device = RemoteDevice(domain_id=tenant.default_domain_id, name="Bench WPD",
                              kind=RemoteDeviceKind.WALL, serial=uuid.uuid4().hex[:12],
                              firmware_version="1", bootloader_version="1")
        s.add(device)
        await s.commit()
        device_id = device.id
    await database.dispose()
    samples = []
    async with Server(settings) as server:
        pubsub = get_pubsub(settings)
        async with connect(f"ws://127.0.0.1:{server.port}/graphql",
                           subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init",
                                      "payload": {"Authorization": f"Bearer {token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": SUBSCRIPTION}}))
            await _until_subscribed(settings, tenant_id)
            for n in range(events + 10):
                started = time.perf_counter()
                await publish_now(pubsub, DeviceStatusChanged(tenant_id, device_id, n % 2 == 0,
                                                              utcnow()))
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                elapsed = time.perf_counter() - started
                assert message["type"] == "next", message
                assert message["payload"]["data"]["deviceStatus"]["online"] == (n % 2 == 0)
                if n >= 10:
                    samples.append(elapsed)
        await pubsub.close()
    return samples


async def _until(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.01)


async def _until_subscribed(settings: Settings, tenant_id: str) -> None:
    if not settings.redis_url:
        await _until(lambda: get_pubsub(settings).subscriber_count(tenant_id, DEVICE_STATUS))
        return
    import redis.asyncio as aioredis

    client = aioredis.from_url(settings.redis_url.get_secret_value())
    channel = f"{settings.pubsub_prefix}:{tenant_id}:{DEVICE_STATUS}"

    async def subscribed() -> bool:
        return bool((await client.pubsub_numsub(channel))[0][1])

    try:
        await _until(subscribed)
    finally:
        await client.aclose()


async def main(events: int, redis_url: str) -> None:
    os.environ.setdefault("KEYWARDEN_PUBSUB_PREFIX", f"kwbench-{uuid.uuid4().hex[:8]}")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(var_dir=Path(tmp), database_url=os.environ.get("DATABASE_URL", ""))
        await asyncio.to_thread(upgrade, settings)
        print(f"database: {'SQLite' if settings.is_sqlite else 'PostgreSQL'}; events: {events}")

        memory = get_pubsub(settings)
        report("in-process pubsub", await bench_pubsub(memory, events))
        redis_settings = (
            settings.model_copy(update={"redis_url": SecretStr(redis_url)}) if redis_url else None
        )
        if redis_settings is not None:
            redis_pubsub = get_pubsub(redis_settings)
            report("redis pubsub (other connection)", await bench_pubsub(redis_pubsub, events))
            await redis_pubsub.close()
        report("in-process → graphql websocket", await bench_graphql(settings, events))
        if redis_settings is not None:
            report("redis → graphql websocket", await bench_graphql(redis_settings, events))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                        help="Redis URL; empty to skip the Redis runs")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.redis))
