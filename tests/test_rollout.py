"""Firmware roll-out over the real device endpoint (R23, R25, R26): a simulated wall device takes
bootloader and firmware in chunks with its heartbeats, resumes after a power loss, and reports
key firmware updates, finished or broken off; deviceStatus and jobEvents subscribers hear of it."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.events import DEVICE_STATUS, JOB_EVENTS, events_from_message, get_pubsub
from app.events.publish import DeviceStatusChanged, Event, JobChanged
from app.events.pubsub import Mailbox
from app.models import (
    FirmwareDeployment,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    RemoteDevice,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
    Schedule,
)
from app.schema.relay import parse_global_id
from app.tenants.service import NewTenant
from hardware.sim.wall_device import DeviceRefused, SimulatedWallDevice
from tests.conftest import GraphQLClient
from tests.test_devices import add_device
from tests.test_firmware import add_bundle, apply, firmware_file, upload

DEVICES = """
{
  remoteDevices {
    id name online firmwareVersion bootloaderVersion
    firmwareProgress { percent done stage firmware { version } }
  }
}
"""


# --- fixtures and helpers ---------------------------------------------------------------


@pytest.fixture
async def bundle_id(database: Database, trusting: NewTenant) -> int:
    return await add_bundle(database, trusting)


async def wall(
    http: Any, database: Database, tenant: NewTenant, serial: str, **fields: Any
) -> tuple[int, SimulatedWallDevice]:
    """A registered wall device (bootloader 2.1.0, firmware 5.2.0) and its simulator."""
    key = Ed25519PrivateKey.generate()
    device_id = await add_device(database, tenant, key, serial, **fields)
    return device_id, SimulatedWallDevice("http://test", tenant.tenant_id, serial, key, client=http)


async def imported(
    client: GraphQLClient,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
    target: str,
    version: str,
    size: int = 5000,
) -> int:
    """Upload a vendor-signed image with ``importFirmware``; its id."""
    result = await upload(
        client, firmware_file(vendor, target=target, version=version, size=size), bundle_id
    )
    assert result["errors"] == [], result["errors"]
    parsed = parse_global_id(result["firmware"]["id"])
    assert parsed is not None
    return int(parsed[1])


async def add_key(
    database: Database, tenant: NewTenant, generation: KeyGeneration, firmware: str
) -> tuple[int, str]:
    """An issued E3 user key of ``generation`` running ``firmware``; its id and UID."""
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule_id = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        key = Key(
            domain_id=tenant.default_domain_id,
            marking=f"K-{secrets.token_hex(3)}",
            uid=secrets.token_hex(7).upper(),
            type=KeyType.E3,
            generation=generation,
            firmware_version=firmware,
            status=KeyStatus.ISSUED,
            schedule_id=schedule_id,
        )
        s.add(key)
        await s.commit()
        return key.id, key.uid


async def devices(client: GraphQLClient) -> dict[str, dict[str, Any]]:
    """``remoteDevices`` over GraphQL, by name."""
    return {d["name"]: d for d in (await client(DEVICES))["remoteDevices"]}


async def key_row(database: Database, tenant: NewTenant, key_id: int) -> Key:
    async with database.tenant_session(tenant.tenant_id) as s:
        key = await s.get(Key, key_id)
        assert key is not None
        return key


async def open_jobs(database: Database, tenant: NewTenant, key_id: int) -> list[RemoteJob]:
    async with database.tenant_session(tenant.tenant_id) as s:
        return list(
            await s.scalars(
                select(RemoteJob)
                .where(RemoteJob.key_id == key_id, RemoteJob.status == RemoteJobStatus.PENDING)
                .order_by(RemoteJob.id)
            )
        )


@asynccontextmanager
async def listening(settings: Settings, tenant: NewTenant, topic: str) -> AsyncIterator[Mailbox]:
    """A live subscriber of the tenant's topic on the process's real pub/sub (R23)."""
    async with get_pubsub(settings).subscribe(tenant.tenant_id, topic) as mailbox:
        yield mailbox


async def heard(mailbox: Mailbox) -> list[Event]:
    """The events that arrived since the last look, oldest first."""
    events: list[Event] = []
    while batch := await mailbox.next_batch(wait_seconds=0.05):
        for message in batch:
            events += events_from_message(message)
    return events


# --- remote device firmware (R25) -------------------------------------------------------


async def test_bootloader_then_firmware_roll_out_to_two_devices_and_a_power_loss_resumes(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: two wall devices on bootloader 2.1.0 / firmware 5.2.0, and bootloader 2.2.0 and
    # firmware 5.3.0 imported by hand into the tenant's certificate bundle
    a_id, a = await wall(http, database, trusting, "WPD-A")
    b_id, b = await wall(http, database, trusting, "WPD-B")
    bootloader = await imported(client, vendor, bundle_id, "REMOTE_BOOTLOADER", "2.2.0", 10_000)
    firmware = await imported(client, vendor, bundle_id, "REMOTE_DEVICE", "5.3.0", 20_000)

    # when: the bootloader is applied to both; the firmware cannot go first
    applied = await apply(client, bootloader, [a_id, b_id])
    too_early = await apply(client, firmware, [a_id, b_id])
    # ... A takes two chunks; B takes two, then loses power while the third is on its way
    await a.heartbeat()
    await a.heartbeat()
    halfway = await devices(client)
    await b.heartbeat()
    await b.heartbeat()
    await b.lose_power_during_heartbeat()
    before = b.received_chunks
    b = SimulatedWallDevice.from_state("http://test", b.state(), client=http)  # its flash
    resumed = await b.heartbeat()
    await b.receive_firmware()
    await a.receive_firmware()
    bootloaders = await devices(client)

    # then: the bootloader went first; A's progress showed on the way
    assert applied["errors"] == []
    assert [e["code"] for e in too_early["errors"]] == ["CONFLICT"]
    assert halfway["Wall device WPD-A"]["firmwareProgress"] == {
        "percent": 40, "done": False, "stage": "bootloader", "firmware": {"version": "2.2.0"},
    }
    # then: B resumed at the 8,192 bytes it held: the lost chunk came again, nothing before it
    assert resumed["firmwareReport"] == {"firmwareId": bootloader, "status": "RECEIVING",
                                         "offset": 8192}
    assert resumed["firmwareChunk"]["offset"] == 8192
    assert [(c.offset, c.length) for c in before] == [(0, 4096), (4096, 4096)]
    assert [(c.offset, c.length) for c in b.received_chunks] == [(8192, 1808)]
    # then: both run bootloader 2.2.0, done, as the server and the devices say
    for name, device in (("Wall device WPD-A", a), ("Wall device WPD-B", b)):
        shown = bootloaders[name]
        assert shown["bootloaderVersion"] == "2.2.0" == device.bootloader_version
        assert shown["firmwareProgress"]["done"] is True
        assert shown["firmwareProgress"]["percent"] == 100

    # when: the firmware follows, in bigger chunks for B
    applied = await apply(client, firmware, [a_id, b_id])
    b.firmware_chunk_size = 16_384
    first = await a.heartbeat()
    a_heartbeats = 1 + await a.receive_firmware()
    b_heartbeats = await b.receive_firmware()
    finished = await devices(client)

    # then: the next heartbeat started the firmware from its first byte; both run 5.3.0
    assert applied["errors"] == []
    assert first["firmwareChunk"]["stage"] == "firmware"
    assert first["firmwareChunk"]["offset"] == 0
    assert first["firmwareChunk"]["total"] == 20_000
    assert a_heartbeats == 6  # five chunks of 4 KiB, then the done report
    assert b_heartbeats == 3  # two chunks of 16 KiB, then the done report
    for name, device in (("Wall device WPD-A", a), ("Wall device WPD-B", b)):
        shown = finished[name]
        assert shown["firmwareVersion"] == "5.3.0" == device.firmware_version
        assert shown["bootloaderVersion"] == "2.2.0"
        assert shown["firmwareProgress"] == {
            "percent": 100, "done": True, "stage": "firmware", "firmware": {"version": "5.3.0"},
        }
    async with database.tenant_session(trusting.tenant_id) as s:
        deployments = list(await s.scalars(select(FirmwareDeployment)))
    assert len(deployments) == 4 and all(d.done for d in deployments)


async def test_device_status_subscribers_hear_a_device_come_online_and_every_firmware_step(
    http: Any,
    client: GraphQLClient,
    settings: Settings,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: an offline device with a bootloader of 10,000 bytes waiting for it, and a
    # subscriber of the tenant's device status on the process's real pub/sub
    device_id, device = await wall(http, database, trusting, "WPD-S")
    bootloader = await imported(client, vendor, bundle_id, "REMOTE_BOOTLOADER", "2.2.0", 10_000)
    await apply(client, bootloader, [device_id])
    async with listening(settings, trusting, DEVICE_STATUS) as mailbox:
        # when: it calls in, takes three chunks, reports done, then calls in with nothing due
        seen: list[tuple[list[Event], Any]] = []
        for _ in range(5):
            await device.heartbeat()
            seen.append((await heard(mailbox), await devices(client)))

    # then: one event each when it came online and at each of its three reports; none after
    expected = DeviceStatusChanged(trusting.tenant_id, device_id, True, seen[0][0][0].at)
    assert [len(events) for events, _ in seen] == [1, 1, 1, 1, 0]
    assert seen[0][0] == [expected]
    assert all(
        e.device_id == device_id and e.online for events, _ in seen for e in events
        if isinstance(e, DeviceStatusChanged)
    )
    # then: at each event a subscriber reads the progress it announces
    progress = [shown["Wall device WPD-S"]["firmwareProgress"] for _, shown in seen[:4]]
    assert [(p["percent"], p["done"]) for p in progress] == [
        (0, False), (40, False), (81, False), (100, True)
    ]
    assert seen[0][1]["Wall device WPD-S"]["online"] is True


async def test_a_heartbeat_is_answered_even_when_its_live_events_cannot_be_published(
    settings: Settings, database: Database, tenant: NewTenant
) -> None:
    # given: the application pointed at a Redis nobody listens on
    from app.web import create_app

    broken = settings.model_copy(update={"redis_url": SecretStr("redis://127.0.0.1:1/0")})
    transport = httpx.ASGITransport(app=create_app(broken, database))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        device_id, device = await wall(http, database, tenant, "WPD-R")
        # when: the device comes online (an event that cannot be published)
        answer = await device.heartbeat()

    # then: the device got its answer and is online all the same (R23)
    assert answer["configuration"]["name"] == "Wall device WPD-R"
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await s.get(RemoteDevice, device_id)
        assert row is not None and row.online is True


async def test_a_transfer_replaced_by_a_newer_image_is_dropped_and_the_new_one_starts_at_zero(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: a device half-way through bootloader 2.2.0
    device_id, device = await wall(http, database, trusting, "WPD-N")
    older = await imported(client, vendor, bundle_id, "REMOTE_BOOTLOADER", "2.2.0", 10_000)
    await apply(client, older, [device_id])
    await device.heartbeat()
    await device.heartbeat()
    assert device.firmware_transfer is not None and device.firmware_transfer.offset == 8192

    # when: bootloader 2.3.0 is applied, and the device reports its progress on 2.2.0
    newer = await imported(client, vendor, bundle_id, "REMOTE_BOOTLOADER", "2.3.0", 6000)
    await apply(client, newer, [device_id])
    answer = await device.heartbeat()
    await device.receive_firmware()

    # then: 2.2.0 is dropped, 2.3.0 comes from its first byte and ends installed
    assert answer["firmwareReport"] == {"firmwareId": older, "status": "SUPERSEDED", "offset": 0}
    assert answer["firmwareChunk"]["firmwareId"] == newer
    assert answer["firmwareChunk"]["offset"] == 0
    assert device.bootloader_version == "2.3.0"
    assert (await devices(client))["Wall device WPD-N"]["bootloaderVersion"] == "2.3.0"


@pytest.mark.parametrize("bootloader_size", [6000, 30_000])
async def test_a_bootloader_applied_during_a_firmware_transfer_goes_first_then_the_firmware(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
    bootloader_size: int,
) -> None:
    # given: a device on a current bootloader, 12,288 bytes into firmware 5.3.0
    device_id, device = await wall(http, database, trusting, "WPD-M")
    first = await imported(client, vendor, bundle_id, "REMOTE_BOOTLOADER", "2.2.0", 10_000)
    await apply(client, first, [device_id])
    await device.receive_firmware()
    firmware = await imported(client, vendor, bundle_id, "REMOTE_DEVICE", "5.3.0", 20_000)
    await apply(client, firmware, [device_id])
    for _ in range(3):
        await device.heartbeat()

    # when: bootloader 2.3.0 (shorter, or longer, than that offset) is applied meanwhile
    second = await imported(
        client, vendor, bundle_id, "REMOTE_BOOTLOADER", "2.3.0", bootloader_size
    )
    await apply(client, second, [device_id])
    answer = await device.heartbeat()
    await device.receive_firmware()

    # then: the firmware's progress is kept, the new bootloader comes from its first byte,
    # and the firmware follows it to the end
    assert answer["firmwareReport"] == {"firmwareId": firmware, "status": "RECEIVING",
                                        "offset": 12_288}
    chunk = answer["firmwareChunk"]
    assert (chunk["firmwareId"], chunk["stage"], chunk["offset"]) == (second, "bootloader", 0)
    assert (device.bootloader_version, device.firmware_version) == ("2.3.0", "5.3.0")
    shown = (await devices(client))["Wall device WPD-M"]
    assert (shown["bootloaderVersion"], shown["firmwareVersion"]) == ("2.3.0", "5.3.0")
    assert shown["firmwareProgress"]["done"] is True


async def test_a_firmware_report_outside_the_image_is_refused_naming_the_field(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: a device receiving a bootloader of 10,000 bytes
    device_id, device = await wall(http, database, trusting, "WPD-X")
    bootloader = await imported(client, vendor, bundle_id, "REMOTE_BOOTLOADER", "2.2.0", 10_000)
    await apply(client, bootloader, [device_id])
    await device.heartbeat()

    # when: it reports an offset past the end, then done half-way, then nonsense
    refusals = []
    for firmware in (
        {"firmwareId": bootloader, "offset": 10_001},
        {"firmwareId": bootloader, "offset": 4096, "done": True},
        {"firmwareId": bootloader, "offset": -1},
    ):
        with pytest.raises(DeviceRefused) as refused:
            await device.request("heartbeat", {"firmware": firmware})
        refusals.append(refused.value)

    # then: each is a 400 naming the field, and nothing of it was kept
    assert [(r.status, r.code) for r in refusals] == [(400, "INVALID")] * 3
    assert [r.message.split(":")[0] for r in refusals] == ["firmware.offset"] * 3
    async with database.tenant_session(trusting.tenant_id) as s:
        deployment = await s.scalar(select(FirmwareDeployment))
        assert deployment is not None and deployment.offset == 0 and not deployment.done


# --- key firmware (R26) -----------------------------------------------------------------


async def test_a_generation_2_key_updated_at_an_updater_device_runs_the_new_firmware(
    http: Any,
    client: GraphQLClient,
    settings: Settings,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: a generation-2 key on 16.3.7, a wall device with the generation-2 updater on,
    # and generation-2 key firmware 16.4.0 applied: a FIRMWARE job waits for the key, and
    # the key image has reached the device with its heartbeats
    _, device = await wall(http, database, trusting, "WPD-K", updater_gen2=True)
    key_id, uid = await add_key(database, trusting, KeyGeneration.GEN2, "16.3.7")
    firmware = await imported(client, vendor, bundle_id, "KEY_GEN2", "16.4.0")
    applied = await apply(client, firmware)
    assert [j["kind"] for j in applied["remoteJobs"]] == ["FIRMWARE"]
    await device.receive_firmware()

    async with listening(settings, trusting, JOB_EVENTS) as mailbox:
        # when: the key is inserted and the device reports the update done
        answer = await device.insert_key(uid, "16.3.7")
        delivered = await heard(mailbox)
        results = await device.complete(answer)
        closed = await heard(mailbox)

    # then: the firmware job was delivered, done, and the key runs 16.4.0
    [job] = answer["jobs"]
    assert job["kind"] == "FIRMWARE"
    assert job["payload"]["version"] == "16.4.0"
    assert answer["keyFirmwareImage"]["firmwareId"] == firmware
    assert [f.version for f in device.key_flashes] == ["16.4.0"]
    [verdict] = results["jobs"]
    assert verdict["status"] == "DONE"
    assert verdict["keyFirmware"]["outcome"] == "UPDATED"
    assert verdict["keyFirmware"]["keyFirmware"] == "16.4.0"
    assert (await key_row(database, trusting, key_id)).firmware_version == "16.4.0"
    # then: jobEvents subscribers heard of the job when it was delivered and when it closed
    assert delivered == [JobChanged(trusting.tenant_id, None, job["remoteJobId"], delivered[0].at)]
    assert [e.remote_job_id for e in closed if isinstance(e, JobChanged)] == [job["remoteJobId"]]


async def test_a_generation_1_key_pulled_out_mid_update_is_defective_and_a_replacement_proposed(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: a generation-1 key on 4.0 and the one wall device in generation-1 updater mode,
    # with generation-1 key firmware 6.2 applied
    _, device = await wall(http, database, trusting, "WPD-G1", updater_gen1=True)
    key_id, uid = await add_key(database, trusting, KeyGeneration.GEN1, "4.0")
    firmware = await imported(client, vendor, bundle_id, "KEY_GEN1", "6.2")
    await apply(client, firmware)
    await device.receive_firmware()  # the key image reaches the updater device first

    # when: the key is pulled out during its update
    answer = await device.insert_key(uid, "4.0")
    results = await device.complete(answer, interrupted=True)
    again = await device.insert_key(uid, "4.0")

    # then: the device is told the key is broken and a replacement is proposed (R26, R20)
    [verdict] = results["jobs"]
    assert verdict["status"] == "FAILED"
    outcome = verdict["keyFirmware"]
    assert outcome["outcome"] == "DEFECTIVE"
    assert outcome["keyStatus"] == "DEFECTIVE"
    assert [w["code"] for w in outcome["warnings"]] == ["REPLACEMENT_PROPOSED"]
    assert "copyKeyConfiguration" in outcome["warnings"][0]["message"]
    # then: the key is DEFECTIVE, nothing waits for it, and it is refused at the device
    key = await key_row(database, trusting, key_id)
    assert key.status is KeyStatus.DEFECTIVE
    assert key.firmware_version == "4.0"
    assert await open_jobs(database, trusting, key_id) == []
    assert (again["status"], again["code"], again["jobs"]) == ("refused", "NOT_ISSUED", [])


async def test_a_generation_2_key_pulled_out_mid_update_gets_rights_and_firmware_at_next_insertion(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: a generation-2 key and generation-2 key firmware 16.4.0 applied
    _, device = await wall(http, database, trusting, "WPD-G2", updater_gen2=True)
    key_id, uid = await add_key(database, trusting, KeyGeneration.GEN2, "16.3.7")
    firmware = await imported(client, vendor, bundle_id, "KEY_GEN2", "16.4.0")
    await apply(client, firmware)
    await device.receive_firmware()  # the key image reaches the updater device first

    # when: the key is pulled out during its update
    answer = await device.insert_key(uid, "16.3.7")
    interrupted = await device.complete(answer, interrupted=True)
    waiting = await open_jobs(database, trusting, key_id)
    # ... and inserted again, staying in until the end
    restored = await device.insert_key(uid, "16.3.7")
    finished = await device.complete(restored)

    # then: not defective; its rights and the firmware wait for its next insertion
    [verdict] = interrupted["jobs"]
    assert verdict["status"] == "FAILED"
    assert verdict["keyFirmware"]["outcome"] == "RESTORE_AT_NEXT_INSERTION"
    assert verdict["keyFirmware"]["keyStatus"] == "ISSUED"
    assert sorted(verdict["keyFirmware"]["remoteJobIds"]) == [j.id for j in waiting]
    assert {j.kind for j in waiting} == {
        RemoteJobKind.VALIDITY,
        RemoteJobKind.SCHEDULE,
        RemoteJobKind.AUTHORIZATIONS,
        RemoteJobKind.FIRMWARE,
    }
    # then: the next insertion restores them all in one go and the key runs 16.4.0
    assert restored["status"] == "ok"
    assert sorted(j["remoteJobId"] for j in restored["jobs"]) == [j.id for j in waiting]
    assert all(v["status"] == "DONE" for v in finished["jobs"])
    key = await key_row(database, trusting, key_id)
    assert (key.status, key.firmware_version) == (KeyStatus.ISSUED, "16.4.0")
    assert await open_jobs(database, trusting, key_id) == []


async def test_a_key_firmware_job_failing_before_the_update_began_goes_again_and_harms_no_key(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: a generation-1 key with its firmware job delivered at the updater device
    _, device = await wall(http, database, trusting, "WPD-F", updater_gen1=True)
    key_id, uid = await add_key(database, trusting, KeyGeneration.GEN1, "4.0")
    firmware = await imported(client, vendor, bundle_id, "KEY_GEN1", "6.2")
    await apply(client, firmware)
    await device.receive_firmware()  # the key image reaches the updater device first
    answer = await device.insert_key(uid, "4.0")
    [job] = answer["jobs"]

    # when: a reason on a DONE job is refused; then the job fails for another reason
    with pytest.raises(DeviceRefused) as refused:
        await device.report(jobs=[(job["remoteJobId"], "DONE", "INTERRUPTED")], key_uid=uid)
    results = await device.report(jobs=[(job["remoteJobId"], "FAILED", "KEY_REMOVED")])

    # then: the key is untouched and the update waits for its next insertion
    assert (refused.value.status, refused.value.message.split(":")[0]) == (400, "jobs.0.reason")
    [verdict] = results["jobs"]
    assert (verdict["status"], verdict["keyFirmware"]) == ("FAILED", None)
    key = await key_row(database, trusting, key_id)
    assert (key.status, key.firmware_version) == (KeyStatus.ISSUED, "4.0")
    [again] = await open_jobs(database, trusting, key_id)
    assert again.kind is RemoteJobKind.FIRMWARE
    assert again.payload["version"] == "6.2"
    assert again.payload["firmwareId"] == firmware
