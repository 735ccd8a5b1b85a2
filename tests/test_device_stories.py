"""Whole wall-device stories with every component a separate process (R14, R19, R21–R25, R33).

The API runs as ``keywarden serve`` and the job queue as ``python -m
app.workers.main``, both on the test's PostgreSQL database and on Redis under a
queue namespace and pub/sub prefix of this module. The simulated wall device
(``hardware.sim.wall_device``) talks HTTP to the API process, signing every
request; administrators act through GraphQL over HTTP, and a ``deviceStatus``
subscriber listens over a real WebSocket (graphql-transport-ws), its events
travelling from the API or worker process through Redis pub/sub.

What runs where: heartbeats, key insertions, results, the on-demand blocking
list of a key reported lost and the manual firmware import are answered inline
by the API process (the device waits for its answer); going offline, the hourly
blocking-list reissue, the data-center poll and the e-mails are worker actors.

The processes start once for the module. Each story has a tenant of its own, so
its subscriber hears only its own devices. PostgreSQL only: the processes share
the database with the test.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.events.publish import DEVICE_STATUS
from app.factory.vendor import load_or_create_dev_vendor_key, public_key_hex
from app.models import KeyRevalidation, RemoteDevice, RemoteJobStatus, utcnow
from app.schema.relay import parse_global_id, to_global_id
from app.tenants.service import NewTenant
from app.workers.maintenance import mark_devices_offline_actor
from hardware.sim.wall_device import SimulatedWallDevice
from tests.conftest import BACKEND, GraphQLClient, make_tenant, superadmin_token
from tests.harness import eventually, patience
from tests.processes import ApiProcess, WorkerProcess, shared_services
from tests.test_devices import REPORT_LOST, Clock, add_device, add_key, change_interval, close_to
from tests.test_firmware import add_bundle, apply, firmware_file, upload
from tests.test_subscriptions import GraphQLSocket, numsub

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        BACKEND != "postgres",
        reason="the API and worker processes share the database with the test: PostgreSQL only",
    ),
]

STATUS = """
subscription($ids: [ID!]) { deviceStatus(deviceIds: $ids) {
  online at device { id online firmwareVersion bootloaderVersion
    firmwareProgress { stage percent done } } } }
"""
REMOTE_JOBS = """
query($id: ID!) { node(id: $id) { ... on Key {
  remoteJobs(first: 10) { edges { node { kind status } } } } } }
"""


# --- the processes ------------------------------------------------------------------------


@dataclass
class Stack:
    """The API and worker processes of this module and where to reach them."""

    api: ApiProcess
    worker: WorkerProcess
    namespace: str
    redis_url: str


@pytest.fixture(scope="module")
async def stack(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """``keywarden serve`` and one worker process with Redis, started once for the module."""
    logs = tmp_path_factory.mktemp("stories")
    with shared_services(settings) as shared:
        api = ApiProcess(shared.settings, shared.namespace, logs / "api.log",
                         **shared.smtp.env, **shared.nowhere)
        worker = WorkerProcess(shared.settings, shared.namespace, shared.smtp,
                               logs / "worker.log", env=shared.nowhere)
        try:
            await asyncio.gather(api.ready(), worker.ready())
            yield Stack(api, worker, shared.namespace, shared.redis_url)
        finally:
            api.close()
            worker.close()


@dataclass
class Site:
    """A tenant of one story and a Superadmin's GraphQL client for it over HTTP."""

    tenant: NewTenant
    token: str
    gql: GraphQLClient
    stack: Stack
    vendor: Ed25519PrivateKey  # the development vendor key the tenant trusts (R25)

    async def wall(self, database: Database, **fields: Any) -> tuple[int, SimulatedWallDevice]:
        """A registered wall device (R22) and its simulator, talking HTTP to the API process."""
        key = Ed25519PrivateKey.generate()
        serial = f"WPD-{secrets.token_hex(4)}"
        device_id = await add_device(database, self.tenant, key, serial, **fields)
        device = SimulatedWallDevice(self.stack.api.url, self.tenant.tenant_id, serial, key)
        return device_id, device

    @asynccontextmanager
    async def subscriber(self, device_id: int) -> AsyncIterator[GraphQLSocket]:
        """A ``deviceStatus`` subscriber of one device over a WebSocket to the API process."""
        ws = await (await GraphQLSocket.open(self.stack.api.ws_url, self.token)).acknowledged()
        await ws.subscribe("1", STATUS, {"ids": [to_global_id("RemoteDevice", device_id)]})
        channel = f"{self.stack.namespace}:{self.tenant.tenant_id}:{DEVICE_STATUS}"

        async def subscribed() -> bool:
            return await numsub(self.stack.redis_url, channel) >= 1

        await eventually(subscribed, "the API process to subscribe on Redis")
        try:
            yield ws
        finally:
            await ws.close()


@pytest.fixture
async def site(stack: Stack, settings: Settings, database: Database) -> AsyncIterator[Site]:
    vendor = load_or_create_dev_vendor_key(settings.var_dir)
    tenant = await make_tenant(
        database, f"Story {secrets.token_hex(3)}", vendor_public_keys=[public_key_hex(vendor)]
    )
    token = await superadmin_token(database, tenant)
    async with httpx.AsyncClient(base_url=stack.api.url, timeout=patience(10)) as http:
        yield Site(tenant, token, GraphQLClient(http, token), stack, vendor)


async def device_row(database: Database, site: Site, device_id: int) -> RemoteDevice:
    async with database.tenant_session(site.tenant.tenant_id) as s:
        row = await s.get(RemoteDevice, device_id)
        assert row is not None
        return row


# --- the stories ----------------------------------------------------------------------------


async def test_a_heartbeat_brings_the_device_online_and_its_subscriber_hears_it(
    site: Site, database: Database
) -> None:
    # given: a registered wall device that never called in, and a subscriber of it (R23)
    device_id, device = await site.wall(database)
    async with device, site.subscriber(device_id) as ws:
        # when: the device calls in over HTTP
        answer = await device.heartbeat()
        # then: the subscriber hears it online
        event = (await ws.next("1"))["deviceStatus"]
    assert event["online"] is True
    assert event["device"]["id"] == to_global_id("RemoteDevice", device_id)
    assert event["device"]["online"] is True
    # then: the device has its configuration and a blocking list signed by its tenant (R21);
    # the simulator checked both signatures against the key it pinned
    assert answer["configuration"]["heartbeatIntervalSeconds"] == 60
    assert device.blocking_list is not None and device.blocking_list == answer["blockingList"]
    row = await device_row(database, site, device_id)
    assert row.online is True and row.last_heartbeat_at is not None


async def test_an_inserted_key_is_extended_by_its_effective_interval_and_its_job_closed(
    site: Site, database: Database
) -> None:
    # given: an issued E3 key whose interval an administrator raises from 24 to 72 hours
    # over GraphQL: a VALIDITY remote job waits for it (R14, R18)
    device_id, device = await site.wall(database)
    key_id, uid = await add_key(database, site.tenant, interval=24)
    created = await change_interval(site.gql, key_id, 72)
    assert [job["kind"] for job in created] == ["VALIDITY"]
    async with device:
        await device.heartbeat()
        # when: the key is inserted at the wall device, which carries out what it is told
        answer = await device.insert_key(uid, "16.3.7")
        results = await device.complete(answer)
    # then: the key is valid 72 hours from now, the job delivered, done and closed
    assert answer["status"] == "ok"
    assert close_to(answer["validity"]["validUntil"], utcnow() + timedelta(hours=72))
    assert answer["validity"]["extensionIntervalHours"] == 72
    assert [(j["kind"], j["payload"]["extensionIntervalHours"]) for j in answer["jobs"]] == [
        ("VALIDITY", 72)
    ]
    assert [(j["accepted"], j["status"]) for j in results["jobs"]] == [(True, "DONE")]
    shown = await site.gql(REMOTE_JOBS, {"id": to_global_id("Key", key_id)})
    assert shown["node"]["remoteJobs"]["edges"] == [
        {"node": {"kind": "VALIDITY", "status": RemoteJobStatus.DONE.value}}
    ]
    async with database.tenant_session(site.tenant.tenant_id) as s:
        [revalidation] = list(await s.scalars(select(KeyRevalidation)))
    assert (revalidation.key_id, revalidation.device_id) == (key_id, device_id)
    assert revalidation.offline is False


async def test_a_key_reported_lost_is_on_the_next_signed_list_and_blocked_at_insertion(
    site: Site, database: Database
) -> None:
    # given: the device holds a list without the key, and the key had an online update there
    _, device = await site.wall(database)
    key_id, uid = await add_key(database, site.tenant, interval=24)
    async with device:
        first = await device.heartbeat()
        assert uid not in first["blockingList"]["keyUids"]
        assert (await device.insert_key(uid, "16.3.7"))["status"] == "ok"
        # when: an administrator reports it lost over GraphQL (R19)
        lost = await site.gql(
            REPORT_LOST, {"i": {"keyId": to_global_id("Key", key_id), "deprogram": False}}
        )
        assert lost["reportKeyLost"]["errors"] == []
        # ... and the device calls in, then the key is inserted online and offline
        answer = await device.heartbeat()
        online = await device.insert_key(uid, "16.3.7")
        offline = await device.insert_key(uid, "16.3.7", online=False)
    # then: the next heartbeat brought a newer list, signed by the tenant, naming the key (R21)
    assert answer["blockingList"]["version"] > first["blockingList"]["version"]
    assert uid in answer["blockingList"]["keyUids"]
    # then: the key is blocked online (nothing delivered, nothing extended) and offline
    assert (online["status"], online["code"]) == ("blocked", "KEY_LOST")
    assert online["jobs"] == [] and online["validity"] is None
    assert (offline["status"], offline["code"]) == ("blocked", "KEY_BLOCKED")


async def imported(site: Site, target: str, version: str, size: int, bundle_id: int) -> int:
    """``importFirmware`` with a vendor-signed image, over HTTP to the API process (R25)."""
    data = firmware_file(site.vendor, target=target, version=version, size=size)
    result = await upload(site.gql, data, bundle_id)
    assert result["errors"] == [], result["errors"]
    parsed = parse_global_id(result["firmware"]["id"])
    assert parsed is not None
    return int(parsed[1])


async def progress_until(ws: GraphQLSocket, stage: str) -> list[dict[str, Any]]:
    """The deviceStatus events up to the one showing ``stage`` done at 100 %."""
    done = {"stage": stage, "percent": 100, "done": True}
    events: list[dict[str, Any]] = []
    while not events or events[-1]["device"]["firmwareProgress"] != done:
        events.append((await ws.next("1"))["deviceStatus"])
    return events


async def test_a_firmware_roll_out_runs_to_the_end_with_progress_on_device_status(
    site: Site, database: Database
) -> None:
    # given: a device on bootloader 2.1.0 / firmware 5.2.0, bootloader 2.2.0 and firmware
    # 5.3.0 imported by hand into the tenant's certificate bundle, and a subscriber
    device_id, device = await site.wall(database)
    bundle_id = await add_bundle(database, site.tenant)
    bootloader = await imported(site, "REMOTE_BOOTLOADER", "2.2.0", 10_000, bundle_id)
    firmware = await imported(site, "REMOTE_DEVICE", "5.3.0", 20_000, bundle_id)
    async with device, site.subscriber(device_id) as ws:
        # when: the bootloader is applied and the device takes it with its heartbeats (R25)
        assert (await apply(site.gql, bootloader, [device_id]))["errors"] == []
        await device.receive_firmware()
        # then: the subscriber hears the progress up to the bootloader done
        bootloader_events = await progress_until(ws, "bootloader")
        # when: then the firmware
        assert (await apply(site.gql, firmware, [device_id]))["errors"] == []
        await device.receive_firmware()
        # then: the subscriber hears the progress up to the firmware done
        firmware_events = await progress_until(ws, "firmware")
    # then: progress was pushed on the way, not only at the end: 10,000 bytes of bootloader
    # in 4 KiB chunks are three reports; each event is read when it is delivered, so a late
    # one may show a later state, never an earlier one
    assert len(bootloader_events) >= 2 and len(firmware_events) >= 2
    assert bootloader_events[0]["online"] is True
    assert all(e["online"] is True for e in bootloader_events + firmware_events)
    # then: the device runs both, as it and the server say
    assert (device.bootloader_version, device.firmware_version) == ("2.2.0", "5.3.0")
    assert bootloader_events[-1]["device"]["bootloaderVersion"] == "2.2.0"
    assert firmware_events[-1]["device"]["firmwareVersion"] == "5.3.0"
    row = await device_row(database, site, device_id)
    assert (row.bootloader_version, row.firmware_version) == ("2.2.0", "5.3.0")


async def test_offline_updates_within_the_limits_are_granted_and_accounted_beyond_refused(
    site: Site, database: Database
) -> None:
    # given: a device allowing 2 offline updates of 24 h within 48 h of a key's online update,
    # with a blocking list valid 240 h (R24); the key had an online update there
    clock = Clock()
    _, device = await site.wall(database)
    device.clock = clock
    key_id, uid = await add_key(database, site.tenant, interval=24)
    async with device:
        await device.heartbeat()
        assert (await device.insert_key(uid, "16.3.7"))["status"] == "ok"
        # when: the server is out of reach; the key comes after 30 and 40 hours, three times
        clock.offset = timedelta(hours=30)
        first = await device.insert_key(uid, "16.3.7", online=False)
        clock.offset = timedelta(hours=40)
        second = await device.insert_key(uid, "16.3.7", online=False)
        third = await device.insert_key(uid, "16.3.7", online=False)
        # ... and after 49 hours, and after 241 hours (the list too old)
        clock.offset = timedelta(hours=49)
        too_late = await device.insert_key(uid, "16.3.7", online=False)
        clock.offset = timedelta(hours=241)
        expired = await device.insert_key(uid, "16.3.7", online=False)
        # when: the device reaches the server again
        clock.offset = timedelta()
        answer = await device.heartbeat()
    # then: two were granted, each for the offline extension time; the rest refused
    assert (first["status"], second["status"]) == ("ok", "ok")
    assert close_to(first["validity"]["validUntil"], utcnow() + timedelta(hours=30 + 24))
    assert (third["status"], third["code"]) == ("refused", "MAX_OFFLINE_UPDATES")
    assert (too_late["status"], too_late["code"]) == ("refused", "TOO_LONG_SINCE_ONLINE_UPDATE")
    assert (expired["status"], expired["code"]) == ("refused", "BLOCKING_LIST_EXPIRED")
    # then: the server accounted for the two at the next online contact
    assert answer["offlineUpdates"] == {"recorded": 2, "alreadyRecorded": 0}
    assert device.pending_offline_updates == []
    async with database.tenant_session(site.tenant.tenant_id) as s:
        rows = list(await s.scalars(select(KeyRevalidation).where(KeyRevalidation.offline)))
    assert [(r.key_id, r.key_uid) for r in rows] == [(key_id, uid)] * 2


async def test_a_device_that_stops_calling_is_marked_offline_by_the_worker_and_heard(
    site: Site, database: Database
) -> None:
    # given: a device online, heart-beating every 60 s, and a subscriber of it
    device_id, device = await site.wall(database)
    async with device, site.subscriber(device_id) as ws:
        await device.heartbeat()
        assert (await ws.next("1"))["deviceStatus"]["online"] is True
        # when: it stops calling: its last heartbeat is 10 minutes old (two intervals missed,
        # R23), and the worker's periodic offline check runs (sent as the periodic sender
        # does every 30 s)
        async with database.tenant_session(site.tenant.tenant_id) as s:
            row = await s.get(RemoteDevice, device_id)
            assert row is not None
            row.last_heartbeat_at = utcnow() - timedelta(minutes=10)
            await s.commit()
        mark_devices_offline_actor.send()
        # then: the subscriber hears it offline, published by the worker process
        event = (await ws.next("1", seconds=15))["deviceStatus"]
    assert event["online"] is False
    assert event["device"]["online"] is False
    assert (await device_row(database, site, device_id)).online is False
    worker = site.stack.worker

    await worker.logged("device(s) went offline")

