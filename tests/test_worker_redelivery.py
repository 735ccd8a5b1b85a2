"""R3: a worker killed with SIGKILL in the middle of a message leaves no duplicate behind.

Every actor is idempotent, so the message can run again: the Redis broker hands
a dead worker's unacknowledged messages to another worker once the dead one's
heartbeat is older than ``KEYWARDEN_QUEUE_HEARTBEAT_TIMEOUT_MS``
(``app.workers.broker.redelivery_options``); RabbitMQ as soon as the dead
worker's connection drops. Each test runs on both (issue 13 item 5). On Redis
the second workers here run with a two-second timeout and maintenance on every
queue command, so the redelivery takes seconds, not the production minute. All
workers run ``--no-periodic``: the second worker does the work only because the
message came back.

Each test stops the first worker at a known point of its message: the
simulated data center holds a file download (R2, R25, R31), or the test holds a
PostgreSQL row lock the actor needs (R21, R23). The mailer's own test is in
test_workers.py. PostgreSQL only: separate processes share the database.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.blocking_list import issue_blocking_list, tenant_public_key, verify_blocking_list
from app.config import Settings
from app.datacenter.server import OfferStore, create_app
from app.db import Database
from app.events.publish import DEVICE_STATUS
from app.factory.vendor import load_or_create_dev_vendor_key
from app.models import (
    BlockingList,
    Extension,
    Firmware,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    OutboxMessage,
    RemoteDevice,
    RemoteDeviceKind,
    Schedule,
    Tenant,
    utcnow,
)
from app.tenants.service import NewTenant, lock_tenant
from app.workers.datacenter import poll_data_center_tenant
from app.workers.maintenance import mark_devices_offline_actor, reissue_blocking_lists_actor
from tests.brokers import broker_queue, queue_idle
from tests.conftest import BACKEND, make_tenant
from tests.harness import TIMEOUT, eventually, patience
from tests.processes import (
    FAST_REDELIVERY,
    SmtpServer,
    ThreadedServer,
    WorkerProcess,
    reachable_redis,
)
from tests.test_datacenter import connected_tenant, extension, firmware

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        BACKEND != "postgres",
        reason="worker processes share the database with the test: PostgreSQL only",
    ),
]


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def queue(settings: Settings, broker_url: str) -> Iterator[tuple[Settings, str]]:
    """This test enqueues through the broker in a namespace (or virtual host) of its own.

    Live events (R23) go through Redis on RabbitMQ too: a test listens for them there.
    """
    with broker_queue(settings, broker_url, pubsub_redis=reachable_redis()) as configured:
        yield configured


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
async def spawn(
    queue: tuple[Settings, str], smtp: SmtpServer, tmp_path: Path
) -> AsyncIterator[Callable[..., WorkerProcess]]:
    """Start a worker process of this test's queue (``--no-periodic``); all stopped at the end."""
    started: list[WorkerProcess] = []
    settings, namespace = queue

    def start(**env: str) -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess(settings, namespace, smtp, log, "--no-periodic", env=env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()


async def drained(queue: tuple[Settings, str], worker: WorkerProcess) -> None:
    """Wait until no message of the test's queue waits or runs (the redelivered one is done)."""
    settings, namespace = queue

    async def idle() -> bool:
        return worker.alive() and await asyncio.to_thread(queue_idle, settings, namespace)

    await eventually(idle, "the queue to drain", details=worker.output)


# --- holding a row lock the actor needs ---------------------------------------------------


async def backend_pid(session: AsyncSession) -> int:
    return int(await session.scalar(text("select pg_backend_pid()")) or 0)


async def blocked_by(database: Database, pid: int) -> bool:
    """Whether some database session waits for a lock the session ``pid`` holds."""
    async with database.system_session() as s:
        waiting = await s.scalar(
            text("select count(*) from pg_stat_activity where :pid = any(pg_blocking_pids(pid))"),
            {"pid": pid},
        )
    return bool(waiting)


async def two_tenants(database: Database, name: str) -> tuple[NewTenant, NewTenant]:
    """Two tenants in the order the cross-tenant actors take them (by id)."""
    made = [await make_tenant(database, f"{name} {n}") for n in (1, 2)]
    first, second = sorted(made, key=lambda t: t.tenant_id)
    return first, second


# --- the data-center poll (R2, R25, R31) ------------------------------------------------


class StallingDataCenter(ThreadedServer):
    """``keywarden datacenter``'s app on a loopback port, holding one file's first download.

    ``stall(path)`` makes the first request for ``path`` wait (``arrived`` is set)
    until ``release`` is set; later requests for it are served at once.
    """

    def __init__(self, var_dir: Path) -> None:
        self.store = OfferStore(var_dir)
        self.app = create_app(var_dir)
        self.stalled: str | None = None
        self.arrived = threading.Event()
        self.release = threading.Event()
        super().__init__(self._serve, lifespan="off", ws="none", interface="asgi3")

    async def _serve(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == self.stalled and not self.arrived.is_set():
            self.arrived.set()
            await asyncio.to_thread(self.release.wait, patience(TIMEOUT))
        await self.app(scope, receive, send)

    def stop(self) -> None:
        self.release.set()
        super().stop()


@pytest.fixture
def data_center(tmp_path: Path) -> Iterator[StallingDataCenter]:
    center = StallingDataCenter(tmp_path / "datacenter").start()
    yield center
    center.stop()


async def count(database: Database, t: NewTenant, model: type) -> int:
    async with database.tenant_session(t.tenant_id) as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_poll_killed_mid_download_imports_each_file_once_and_mails_once_after_redelivery(
    settings: Settings,
    database: Database,
    queue: tuple[Settings, str],
    smtp: SmtpServer,
    spawn: Callable[..., WorkerProcess],
    data_center: StallingDataCenter,
) -> None:
    # given: a connected tenant offered an extension (3 days ago) and firmware (2 days ago,
    # so due, R25); the data center will hold the firmware's first download
    vendor: Ed25519PrivateKey = load_or_create_dev_vendor_key(settings.var_dir)
    t = await connected_tenant(database, vendor, f"Redelivered {secrets.token_hex(3)}")
    now = utcnow()
    ext = data_center.store.put(
        extension(vendor, f"RD-{secrets.token_hex(3)}"), tenant=t.tenant_id,
        offered_at=now - timedelta(days=3),
    )
    fw = data_center.store.put(
        firmware(vendor), tenant=t.tenant_id, offered_at=now - timedelta(days=2)
    )
    assert (ext.kind, fw.kind) == ("EXTENSION", "FIRMWARE")
    data_center.stalled = f"/v1/files/{fw.id}"
    first = spawn(KEYWARDEN_DATACENTER_URL=data_center.url)
    await first.ready()

    # when: the tenant's poll runs; the extension is imported, the firmware download hangs
    poll_data_center_tenant.send(t.tenant_id)
    arrived = await asyncio.to_thread(data_center.arrived.wait, patience(TIMEOUT))
    assert arrived, first.output()
    assert await count(database, t, Extension) == 1
    assert await count(database, t, Firmware) == 0
    # ... and the worker is killed right there
    first.signal(signal.SIGKILL)
    data_center.release.set()

    # when: another worker takes the message the broker gives back
    second = spawn(KEYWARDEN_DATACENTER_URL=data_center.url, **FAST_REDELIVERY)

    # then: the firmware is imported by the redelivered message
    async def imported() -> bool:
        return second.alive() and await count(database, t, Firmware) == 1

    await eventually(imported, "the redelivered poll to import the firmware", details=second.output)
    await drained(queue, second)

    # then: one extension, one firmware, one e-mail of each kind, each delivered once (R33)
    assert await count(database, t, Extension) == 1
    assert await count(database, t, Firmware) == 1
    async with database.tenant_session(t.tenant_id) as s:
        mails = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.kind)))
    assert [m.kind for m in mails] == ["extension_imported", "firmware_imported"]

    async def delivered() -> bool:
        return all(len(smtp.sink.copies(m.id)) == 1 for m in mails)

    await eventually(delivered, "both e-mails to be sent", details=second.output)
    assert all(len(smtp.sink.copies(m.id)) == 1 for m in mails)


# --- the blocking-list reissue (R21) --------------------------------------------------------


async def add_lost_key(database: Database, t: NewTenant) -> str:
    async with database.tenant_session(t.tenant_id) as s:
        schedule_id = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        key = Key(
            domain_id=t.default_domain_id, marking=f"LOST-{secrets.token_hex(3)}",
            uid=secrets.token_hex(7).upper(), type=KeyType.E3, generation=KeyGeneration.GEN2,
            firmware_version="16.3.7", status=KeyStatus.LOST, schedule_id=schedule_id,
        )
        s.add(key)
        await s.commit()
        return key.uid


async def lists_of(database: Database, t: NewTenant) -> list[BlockingList]:
    async with database.tenant_session(t.tenant_id) as s:
        return list(await s.scalars(select(BlockingList).order_by(BlockingList.id)))


async def test_a_reissue_killed_mid_way_leaves_one_new_signed_version_per_tenant(
    database: Database,
    queue: tuple[Settings, str],
    spawn: Callable[..., WorkerProcess],
) -> None:
    # given: two tenants with a lost key each, whose lists are two hours old (due, R21)
    first, second = await two_tenants(database, "Reissue")
    uids = {t.tenant_id: await add_lost_key(database, t) for t in (first, second)}
    for t in (first, second):
        async with database.tenant_session(t.tenant_id) as s:
            await issue_blocking_list(s, now=utcnow() - timedelta(hours=2))
            await s.commit()
    worker = spawn()
    await worker.ready()

    # when: the reissue runs while the test holds the second tenant's row (its list lock)
    async with database.tenant_session(second.tenant_id) as holder:
        await lock_tenant(holder)
        pid = await backend_pid(holder)
        reissue_blocking_lists_actor.send()

        async def stuck() -> bool:
            return worker.alive() and await blocked_by(database, pid)

        await eventually(stuck, "the reissue to wait for the second tenant", details=worker.output)
        # then: the first tenant's new list is committed, the second's not yet
        assert [r.version for r in await lists_of(database, first)] == [1, 2]
        assert [r.version for r in await lists_of(database, second)] == [1]
        # when: the worker is killed there, and the test lets go of the row
        worker.signal(signal.SIGKILL)
        await holder.rollback()

    # when: another worker takes the message the broker gives back
    again = spawn(**FAST_REDELIVERY)

    async def reissued() -> bool:
        return again.alive() and len(await lists_of(database, second)) == 2

    await eventually(reissued, "the redelivered reissue", details=again.output)
    await drained(queue, again)

    # then: each tenant has exactly one new version, signed, with its lost key, in order
    for t in (first, second):
        async with database.tenant_session(t.tenant_id) as s:
            tenant_row = await s.scalar(select(Tenant))
            assert tenant_row is not None
            public_key = tenant_public_key(tenant_row)
        rows = await lists_of(database, t)
        assert [r.version for r in rows] == [1, 2]
        assert rows[0].issued_at < rows[1].issued_at
        assert rows[1].key_uids == [uids[t.tenant_id]]
        assert all(
            verify_blocking_list(
                tenant_id=t.tenant_id, version=r.version, issued_at=r.issued_at,
                valid_until=r.valid_until, key_uids=r.key_uids, signature=r.signature,
                public_key=public_key,
            )
            for r in rows
        )


# --- marking devices offline (R23) -----------------------------------------------------------


async def silent_device(database: Database, t: NewTenant) -> int:
    """A wall device online until now whose last heartbeat was 10 minutes ago (60 s interval)."""
    async with database.tenant_session(t.tenant_id) as s:
        device = RemoteDevice(
            domain_id=t.default_domain_id, name="Silent", kind=RemoteDeviceKind.WALL,
            serial=f"SIL-{secrets.token_hex(4)}", firmware_version="5.2.0",
            bootloader_version="2.1.0", heartbeat_interval_seconds=60, online=True,
            last_heartbeat_at=utcnow() - timedelta(minutes=10),
        )
        s.add(device)
        await s.commit()
        return device.id


async def is_online(database: Database, t: NewTenant, device_id: int) -> bool:
    async with database.tenant_session(t.tenant_id) as s:
        return bool(await s.scalar(select(RemoteDevice.online).where(RemoteDevice.id == device_id)))


class Listener:
    """The deviceStatus messages of some tenants' channels on Redis, as they are published."""

    def __init__(self, url: str, channels: list[str]) -> None:
        self.client = aioredis.from_url(url)
        self.pubsub = self.client.pubsub()
        self.channels = channels
        self.heard: dict[str, list[dict[str, Any]]] = {c: [] for c in channels}

    async def __aenter__(self) -> Listener:
        await self.pubsub.subscribe(*self.channels)
        return self

    async def collect(self, seconds: float = 0.2) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if message is not None:
                self.heard[message["channel"].decode()].append(json.loads(message["data"]))

    async def __aexit__(self, *exc: object) -> None:
        await self.pubsub.aclose()
        await self.client.aclose()


async def test_marking_offline_killed_mid_way_announces_each_device_once(
    database: Database,
    queue: tuple[Settings, str],
    spawn: Callable[..., WorkerProcess],
) -> None:
    # given: a silent device in each of two tenants, and a listener on their deviceStatus
    settings, namespace = queue
    first, second = await two_tenants(database, "Offline")
    devices = {t.tenant_id: await silent_device(database, t) for t in (first, second)}
    channel = {t.tenant_id: f"{namespace}:{t.tenant_id}:{DEVICE_STATUS}" for t in (first, second)}
    worker = spawn()
    await worker.ready()

    async with Listener(settings.redis_url.get_secret_value(), list(channel.values())) as listener:
        # when: the offline check runs while the test holds the second tenant's device row
        async with database.tenant_session(second.tenant_id) as holder:
            await holder.execute(
                select(RemoteDevice.id)
                .where(RemoteDevice.id == devices[second.tenant_id])
                .with_for_update()
            )
            pid = await backend_pid(holder)
            mark_devices_offline_actor.send()

            async def stuck() -> bool:
                return worker.alive() and await blocked_by(database, pid)

            await eventually(stuck, "the check to wait for the device", details=worker.output)
            # then: the first tenant's device went offline and was announced
            assert not await is_online(database, first, devices[first.tenant_id])

            async def announced() -> bool:
                await listener.collect(0.1)
                return bool(listener.heard[channel[first.tenant_id]])

            await eventually(announced, "the first device's offline event")
            # when: the worker is killed there, and the test lets go of the row
            worker.signal(signal.SIGKILL)
            await holder.rollback()

        # when: another worker takes the message the broker gives back
        again = spawn(**FAST_REDELIVERY)

        async def offline() -> bool:
            return again.alive() and not await is_online(
                database, second, devices[second.tenant_id]
            )

        await eventually(offline, "the redelivered check", details=again.output)
        await drained(queue, again)
        await listener.collect(0.5)

    # then: each device was announced offline exactly once (R23)
    for t in (first, second):
        [message] = listener.heard[channel[t.tenant_id]]
        assert (message["device_ids"], message["online"]) == ([devices[t.tenant_id]], False)
