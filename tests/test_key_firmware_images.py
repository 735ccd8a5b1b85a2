"""Key firmware images reach the updater devices before the keys do (R25, R26).

An updater wall device flashes keys from its own storage: applying key firmware
sends the key image to every updater device of that generation over heartbeats
(the chunked, resumable transfer of R25, after the device's own bootloader and
firmware), and a key's FIRMWARE job is delivered only where the image has fully
arrived. The simulated device of ``hardware/sim`` keeps key images apart from its
own firmware and flashes from them. Everything runs through the real device
endpoint and GraphQL, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from app.db import Database
from app.factory.firmware import demo_image
from app.factory.vendor import public_key_hex
from app.models import (
    Domain,
    Firmware,
    FirmwareDeployment,
    KeyGeneration,
    RemoteDevice,
    RemoteDeviceKind,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
    Schedule,
)
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from hardware.sim.wall_device import SimulatedWallDevice, SimulatorError
from tests.conftest import GraphQLClient, make_tenant, superadmin_token
from tests.test_firmware import add_bundle, apply
from tests.test_rollout import add_key, devices, imported, key_row, open_jobs, wall

UPDATE_DEVICE = """
mutation($input: UpdateRemoteDeviceInput!) {
  updateRemoteDevice(input: $input) {
    remoteDevice { updaterGen1 updaterGen2 }
    errors { field code message }
  }
}
"""


# --- fixtures and helpers ---------------------------------------------------------------


@pytest.fixture
async def bundle_id(database: Database, trusting: NewTenant) -> int:
    return await add_bundle(database, trusting)


async def updater(
    http: Any, database: Database, tenant: NewTenant, serial: str, *, gen1: bool, gen2: bool
) -> tuple[int, SimulatedWallDevice]:
    """A wall device (bootloader 2.1.0, firmware 5.2.0) with exactly the updater flags given."""
    return await wall(http, database, tenant, serial, updater_gen1=gen1, updater_gen2=gen2)


async def deployments(
    database: Database, tenant: NewTenant, device_id: int
) -> list[tuple[int, int, bool]]:
    """The device's deployments as (firmwareId, offset, done), oldest first."""
    async with database.tenant_session(tenant.tenant_id) as s:
        rows = await s.execute(
            select(FirmwareDeployment.firmware_id, FirmwareDeployment.offset,
                   FirmwareDeployment.done)
            .where(FirmwareDeployment.device_id == device_id)
            .order_by(FirmwareDeployment.id)
        )
        return [(f, o, d) for f, o, d in rows.all()]


async def set_flags(client: GraphQLClient, device_id: int, **flags: bool) -> dict[str, Any]:
    """``updateRemoteDevice`` with the updater flags given (``updaterGen1``/``updaterGen2``)."""
    variables = {"input": {"deviceId": to_global_id("RemoteDevice", device_id), **flags}}
    payload = (await client(UPDATE_DEVICE, variables))["updateRemoteDevice"]
    assert payload["errors"] == [], payload["errors"]
    return payload  # type: ignore[no-any-return]


def key_chunks(device: SimulatedWallDevice, firmware_id: int) -> list[tuple[int, int]]:
    """The (offset, length) of the chunks of one image the device wrote, in order."""
    return [(c.offset, c.length) for c in device.received_chunks if c.firmware_id == firmware_id]


# --- the image travels to the updater devices (R25, R26) ---------------------------------


async def test_generation_2_key_firmware_reaches_every_generation_2_updater_and_resumes(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: two wall devices with the generation-2 updater, one without any updater, and a
    # system-linked mobile device with the generation-2 updater
    a_id, a = await updater(http, database, trusting, "WPD-A", gen1=False, gen2=True)
    b_id, b = await updater(http, database, trusting, "WPD-B", gen1=False, gen2=True)
    c_id, c = await updater(http, database, trusting, "WPD-C", gen1=False, gen2=False)
    m_id, _ = await wall(http, database, trusting, "MPD-M", kind=RemoteDeviceKind.MOBILE,
                         system_linked=True, updater_gen2=True, updater_gen1=False)
    await add_key(database, trusting, KeyGeneration.GEN2, "16.3.7")
    image = await imported(client, vendor, bundle_id, "KEY_GEN2", "16.4.0", 10_000)

    # when: generation-2 key firmware 16.4.0 is applied
    applied = await apply(client, image)
    # ... A takes it all; B takes two chunks, loses power while the third is on its way,
    # and starts again from what its flash holds
    first = await a.heartbeat()
    await a.receive_firmware()
    await b.heartbeat()
    await b.heartbeat()
    await b.lose_power_during_heartbeat()
    b = SimulatedWallDevice.from_state("http://test", b.state(), client=http)
    resumed = await b.heartbeat()
    await b.receive_firmware()
    idle = await c.heartbeat()
    shown = await devices(client)

    # then: every generation-2 updater got a deployment, the device without updater none
    assert applied["errors"] == []
    assert sorted(d["name"] for d in applied["remoteDevices"]) == [
        "Wall device MPD-M", "Wall device WPD-A", "Wall device WPD-B",
    ]
    assert await deployments(database, trusting, m_id) == [(image, 0, False)]
    assert await deployments(database, trusting, c_id) == []
    assert idle["firmwareChunk"] is None
    # then: the image came as key firmware in chunks; B resumed at the 8,192 bytes it held
    chunk = first["firmwareChunk"]
    assert (chunk["firmwareId"], chunk["target"], chunk["stage"], chunk["offset"]) == (
        image, "KEY_GEN2", "key", 0
    )
    assert resumed["firmwareReport"] == {"firmwareId": image, "status": "RECEIVING",
                                         "offset": 8192}
    assert key_chunks(b, image) == [(8192, 1808)]
    # then: both hold the image, checked, and report it done to the server
    expected = demo_image("KEY_GEN2", "16.4.0", 10_000)
    for device_id, device in ((a_id, a), (b_id, b)):
        held = device.key_firmware_images[image]
        assert held.image == expected
        assert held.sha256 == hashlib.sha256(expected).hexdigest()
        assert await deployments(database, trusting, device_id) == [(image, 10_000, True)]
    # then: a key image is not the device's own firmware: its versions stay as they were,
    # on the device and as the server shows them
    for name, device in (("Wall device WPD-A", a), ("Wall device WPD-B", b)):
        assert (device.firmware_version, device.bootloader_version) == ("5.2.0", "2.1.0")
        assert (shown[name]["firmwareVersion"], shown[name]["bootloaderVersion"]) == (
            "5.2.0", "2.1.0"
        )
        assert shown[name]["firmwareProgress"]["done"] is True


async def test_a_key_inserted_before_the_image_arrived_gets_its_other_jobs_and_the_firmware_later(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: a generation-2 key on 16.3.7 with a schedule change waiting, an updater device,
    # and key firmware 16.4.0 applied; the device has taken two chunks of the 10,000 bytes
    # and reported the first (the server knows of 4,096 bytes)
    _, device = await updater(http, database, trusting, "WPD-K", gen1=False, gen2=True)
    key_id, uid = await add_key(database, trusting, KeyGeneration.GEN2, "16.3.7")
    async with database.tenant_session(trusting.tenant_id) as s:
        schedule_id = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        s.add(RemoteJob(key_id=key_id, kind=RemoteJobKind.SCHEDULE,
                        status=RemoteJobStatus.PENDING, payload={"scheduleId": schedule_id}))
        await s.commit()
    image = await imported(client, vendor, bundle_id, "KEY_GEN2", "16.4.0", 10_000)
    await apply(client, image)
    await device.heartbeat()
    await device.heartbeat()

    # when: the key is inserted now
    early = await device.insert_key(uid, "16.3.7")
    early_results = await device.complete(early)
    waiting = await open_jobs(database, trusting, key_id)
    # ... and again once the image has arrived
    await device.receive_firmware()
    later = await device.insert_key(uid, "16.3.7")
    later_results = await device.complete(later)

    # then: the first time it got its schedule, not the firmware, and the device was told why
    assert early["status"] == "ok"
    assert [j["kind"] for j in early["jobs"]] == ["SCHEDULE"]
    assert early["keyFirmwareImage"] is None
    pending = early["firmwarePending"]
    assert (pending["code"], pending["firmwareId"], pending["version"], pending["percent"]) == (
        "KEY_IMAGE_NOT_ON_DEVICE", image, "16.4.0", 40
    )
    assert "16.4.0" in pending["message"] and "insert it again" in pending["message"]
    assert [v["status"] for v in early_results["jobs"]] == ["DONE"]
    [firmware_job] = waiting
    assert firmware_job.kind is RemoteJobKind.FIRMWARE
    assert firmware_job.delivered_via_id is None
    # then: the second time the firmware job came, naming the image the device holds
    [job] = later["jobs"]
    assert (job["kind"], job["remoteJobId"]) == ("FIRMWARE", firmware_job.id)
    assert later["firmwarePending"] is None
    expected = demo_image("KEY_GEN2", "16.4.0", 10_000)
    assert later["keyFirmwareImage"] == {
        "remoteJobId": firmware_job.id,
        "firmwareId": image,
        "target": "KEY_GEN2",
        "version": "16.4.0",
        "sha256": hashlib.sha256(expected).hexdigest(),
        "size": 10_000,
    }
    # then: the device flashed the key from its stored image and the key runs 16.4.0
    assert [(f.key_uid, f.firmware_id, f.version) for f in device.key_flashes] == [
        (uid, image, "16.4.0")
    ]
    [verdict] = later_results["jobs"]
    assert verdict["keyFirmware"]["outcome"] == "UPDATED"
    assert (await key_row(database, trusting, key_id)).firmware_version == "16.4.0"
    assert await open_jobs(database, trusting, key_id) == []
    assert device.firmware_version == "5.2.0"


async def test_generation_1_key_firmware_goes_to_the_one_updater_mode_wall_device_only(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: the wall device in generation-1 updater mode, a wall device with only the
    # generation-2 updater, a mobile device marked generation-1 updater (it does not count),
    # and a generation-1 key on 4.0
    g1_id, g1 = await updater(http, database, trusting, "WPD-G1", gen1=True, gen2=False)
    g2_id, g2 = await updater(http, database, trusting, "WPD-G2", gen1=False, gen2=True)
    van_id, _ = await wall(http, database, trusting, "MPD-V", kind=RemoteDeviceKind.MOBILE,
                           system_linked=True, updater_gen1=True, updater_gen2=False)
    key_id, uid = await add_key(database, trusting, KeyGeneration.GEN1, "4.0")
    image = await imported(client, vendor, bundle_id, "KEY_GEN1", "6.2", 6000)

    # when: generation-1 key firmware 6.2 is applied and the devices call in
    applied = await apply(client, image)
    await g1.receive_firmware()
    other = await g2.heartbeat()
    # ... and the key is inserted at the generation-2 updater, then at the updater-mode device
    elsewhere = await g2.insert_key(uid, "4.0")
    there = await g1.insert_key(uid, "4.0")
    results = await g1.complete(there)

    # then: only the updater-mode wall device received the image
    assert [d["name"] for d in applied["remoteDevices"]] == ["Wall device WPD-G1"]
    assert await deployments(database, trusting, g1_id) == [(image, 6000, True)]
    assert await deployments(database, trusting, g2_id) == []
    assert await deployments(database, trusting, van_id) == []
    assert other["firmwareChunk"] is None
    assert list(g1.key_firmware_images) == [image] and g2.key_firmware_images == {}
    # then: the generation-2 updater neither delivers the job nor announces it
    assert (elsewhere["jobs"], elsewhere["firmwarePending"]) == ([], None)
    # then: the updater-mode device flashed the key: it runs 6.2; the device still 5.2.0
    [job] = there["jobs"]
    assert job["kind"] == "FIRMWARE" and there["keyFirmwareImage"]["firmwareId"] == image
    assert results["jobs"][0]["keyFirmware"]["outcome"] == "UPDATED"
    assert (await key_row(database, trusting, key_id)).firmware_version == "6.2"
    assert g1.firmware_version == "5.2.0"


# --- updater flags (R26) -------------------------------------------------------------------


async def test_turning_the_generation_2_updater_on_later_starts_the_newest_image_and_off_drops_it(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: key firmware 16.3.9 then 16.4.0 applied while only WPD-1 has the updater
    await updater(http, database, trusting, "WPD-1", gen1=False, gen2=True)
    late_id, late = await updater(http, database, trusting, "WPD-2", gen1=False, gen2=False)
    older = await imported(client, vendor, bundle_id, "KEY_GEN2", "16.3.9", 8000)
    newer = await imported(client, vendor, bundle_id, "KEY_GEN2", "16.4.0", 10_000)
    await apply(client, older)
    await apply(client, newer)
    before = await late.heartbeat()

    # when: its generation-2 updater is turned on, and it takes a chunk
    await set_flags(client, late_id, updaterGen2=True)
    started = await late.heartbeat()
    on = await deployments(database, trusting, late_id)
    # ... then turned off, and it calls in with what it holds
    await set_flags(client, late_id, updaterGen2=False)
    dropped = await late.heartbeat()
    off = await deployments(database, trusting, late_id)
    # ... then on again, and it takes the image to the end
    await set_flags(client, late_id, updaterGen2=True)
    again = await late.heartbeat()
    await late.receive_firmware()

    # then: nothing before; the newest applied image after the flag went on
    assert before["firmwareChunk"] is None
    assert (started["firmwareChunk"]["firmwareId"], started["firmwareChunk"]["offset"]) == (
        newer, 0
    )
    assert on == [(newer, 0, False)]
    # then: off, the unfinished transfer is gone and the device drops what it held
    assert dropped["firmwareReport"] == {"firmwareId": newer, "status": "SUPERSEDED", "offset": 0}
    assert dropped["firmwareChunk"] is None
    assert off == []
    assert late.firmware_transfer is None
    # then: on again, it starts from the first byte and ends holding the image
    assert (again["firmwareChunk"]["firmwareId"], again["firmwareChunk"]["offset"]) == (newer, 0)
    assert await deployments(database, trusting, late_id) == [(newer, 10_000, True)]
    assert list(late.key_firmware_images) == [newer]


async def test_moving_the_generation_1_updater_to_another_wall_device_moves_the_key_image(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: generation-1 key firmware 6.2 applied at WPD-OLD, which took one chunk of it
    old_id, old = await updater(http, database, trusting, "WPD-OLD", gen1=True, gen2=False)
    new_id, new = await updater(http, database, trusting, "WPD-NEW", gen1=False, gen2=False)
    key_id, uid = await add_key(database, trusting, KeyGeneration.GEN1, "4.0")
    image = await imported(client, vendor, bundle_id, "KEY_GEN1", "6.2", 6000)
    await apply(client, image)
    await old.heartbeat()

    # when: updater mode moves to WPD-NEW (off at the old one first: one at a time)
    await set_flags(client, old_id, updaterGen1=False)
    await set_flags(client, new_id, updaterGen1=True)
    await new.receive_firmware()
    answer = await new.insert_key(uid, "4.0")
    await new.complete(answer)

    # then: the old device's transfer was dropped, the new one holds the image and updates
    assert await deployments(database, trusting, old_id) == []
    assert await deployments(database, trusting, new_id) == [(image, 6000, True)]
    assert [j["kind"] for j in answer["jobs"]] == ["FIRMWARE"]
    assert (await key_row(database, trusting, key_id)).firmware_version == "6.2"


# --- ordering and replacement (R25) --------------------------------------------------------


async def test_the_devices_own_firmware_goes_before_a_key_image_which_then_resumes(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: an updater device 8,192 bytes into key image 16.4.0 (20,000 bytes)
    device_id, device = await updater(http, database, trusting, "WPD-O", gen1=False, gen2=True)
    key_image = await imported(client, vendor, bundle_id, "KEY_GEN2", "16.4.0", 20_000)
    await apply(client, key_image)
    await device.heartbeat()
    await device.heartbeat()

    # when: device firmware 5.3.0 is applied to it (its bundle has no bootloader to send first)
    own = await imported(client, vendor, bundle_id, "REMOTE_DEVICE", "5.3.0", 6000)
    applied = await apply(client, own, [device_id])
    switched = await device.heartbeat()
    await device.receive_firmware()
    shown = (await devices(client))["Wall device WPD-O"]

    # then: the device's own firmware came first, from its first byte
    assert applied["errors"] == []
    assert switched["firmwareReport"] == {"firmwareId": key_image, "status": "RECEIVING",
                                          "offset": 8192}
    chunk = switched["firmwareChunk"]
    assert (chunk["firmwareId"], chunk["stage"], chunk["offset"]) == (own, "firmware", 0)
    assert key_chunks(device, own)[0] == (0, 4096)
    # then: the key image resumed at the 8,192 bytes the device held, nothing sent twice
    assert key_chunks(device, key_image) == [
        (0, 4096), (4096, 4096), (8192, 4096), (12_288, 4096), (16_384, 3616)
    ]
    # then: the device runs firmware 5.3.0 and holds the key image
    assert device.firmware_version == "5.3.0" == shown["firmwareVersion"]
    assert list(device.key_firmware_images) == [key_image]
    assert await deployments(database, trusting, device_id) == [
        (key_image, 20_000, True), (own, 6000, True)
    ]


async def test_a_newer_key_image_replaces_an_unfinished_older_transfer(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: an updater device one chunk into key image 16.4.0, and a key waiting for it
    device_id, device = await updater(http, database, trusting, "WPD-R", gen1=False, gen2=True)
    key_id, uid = await add_key(database, trusting, KeyGeneration.GEN2, "16.3.7")
    older = await imported(client, vendor, bundle_id, "KEY_GEN2", "16.4.0", 10_000)
    await apply(client, older)
    await device.heartbeat()

    # when: 16.5.0 is applied; the device reports its progress on 16.4.0 and goes on
    newer = await imported(client, vendor, bundle_id, "KEY_GEN2", "16.5.0", 7000)
    await apply(client, newer)
    answer = await device.heartbeat()
    await device.receive_firmware()
    inserted = await device.insert_key(uid, "16.3.7")
    await device.complete(inserted)

    # then: 16.4.0 is dropped, 16.5.0 comes from its first byte, and the key gets 16.5.0
    assert answer["firmwareReport"] == {"firmwareId": older, "status": "SUPERSEDED", "offset": 0}
    assert (answer["firmwareChunk"]["firmwareId"], answer["firmwareChunk"]["offset"]) == (newer, 0)
    assert await deployments(database, trusting, device_id) == [(newer, 7000, True)]
    assert list(device.key_firmware_images) == [newer]
    assert inserted["keyFirmwareImage"]["version"] == "16.5.0"
    assert (await key_row(database, trusting, key_id)).firmware_version == "16.5.0"


# --- isolation (R1, R8) --------------------------------------------------------------------


async def test_another_tenants_devices_never_get_the_key_image(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: another tenant with a generation-2 updater device of its own
    other = await make_tenant(database, "Other Image Co",
                              vendor_public_keys=[public_key_hex(vendor)])
    _, mine = await updater(http, database, trusting, "WPD-MINE", gen1=False, gen2=True)
    their_id, theirs = await updater(http, database, other, "WPD-THEIRS", gen1=False, gen2=True)
    image = await imported(client, vendor, bundle_id, "KEY_GEN2", "16.4.0", 5000)

    # when: this tenant applies key firmware; the other tenant's device calls in, and even
    # claims to be receiving this tenant's image
    applied = await apply(client, image)
    await mine.receive_firmware()
    plain = await theirs.heartbeat()
    claimed = await theirs.request("heartbeat", {"firmware": {"firmwareId": image, "offset": 0}})

    # then: only this tenant's device got it; the other tenant's has nothing of it (R1)
    assert [d["name"] for d in applied["remoteDevices"]] == ["Wall device WPD-MINE"]
    assert list(mine.key_firmware_images) == [image]
    assert plain["firmwareChunk"] is None
    assert claimed["firmwareReport"]["status"] == "SUPERSEDED"
    assert claimed["firmwareChunk"] is None
    assert await deployments(database, other, their_id) == []
    async with database.tenant_session(other.tenant_id) as s:
        assert list(await s.scalars(select(Firmware.id))) == []


async def test_updaters_of_other_domains_get_the_image_but_are_not_named_to_the_caller(
    http: Any,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: an updater device in the default domain and one in a second domain, and an
    # administrator of the default domain only
    async with database.tenant_session(trusting.tenant_id) as s:
        branch = Domain(name="Branch")
        s.add(branch)
        await s.commit()
        branch_id = branch.id
    home_id, _ = await updater(http, database, trusting, "WPD-HOME", gen1=False, gen2=True)
    away_id, away = await updater(http, database, trusting, "WPD-AWAY", gen1=False, gen2=True)
    async with database.tenant_session(trusting.tenant_id) as s:
        row = await s.get(RemoteDevice, away_id)
        assert row is not None
        row.domain_id = branch_id
        await s.commit()
    everyone = GraphQLClient(http, await superadmin_token(database, trusting))
    image = await imported(everyone, vendor, bundle_id, "KEY_GEN2", "16.4.0", 5000)
    local = GraphQLClient(http, await superadmin_token(
        database, trusting, name="local", domain_ids=[trusting.default_domain_id]
    ))

    # when: the local administrator applies the key firmware
    applied = await apply(local, image)
    await away.receive_firmware()

    # then: keys of any domain meet any updater, so both devices receive the image (R26),
    # but the caller is told only of the device it may see (R8)
    assert applied["errors"] == []
    assert [d["name"] for d in applied["remoteDevices"]] == ["Wall device WPD-HOME"]
    assert await deployments(database, trusting, home_id) == [(image, 0, False)]
    assert await deployments(database, trusting, away_id) == [(image, 5000, True)]


# --- the simulated device (R26) ------------------------------------------------------------


async def test_the_simulated_device_refuses_to_flash_a_key_image_it_does_not_hold(
    http: Any,
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    bundle_id: int,
) -> None:
    # given: an updater device holding key image 16.4.0
    _, device = await updater(http, database, trusting, "WPD-S", gen1=False, gen2=True)
    image = await imported(client, vendor, bundle_id, "KEY_GEN2", "16.4.0", 5000)
    await apply(client, image)
    await device.receive_firmware()
    held = device.key_firmware_images[image]
    named = {"firmwareId": image, "version": "16.4.0", "sha256": held.sha256, "size": 5000}

    # when: it is asked to flash an image it does not hold, or one that does not match
    with pytest.raises(SimulatorError) as missing:
        device.flash_key("04AA", {"remoteJobId": 1, "payload": {}},
                         {**named, "firmwareId": image + 1000})
    with pytest.raises(SimulatorError) as mismatch:
        device.flash_key("04AA", {"remoteJobId": 1, "payload": {}}, {**named, "sha256": "0" * 64})
    flashed = device.flash_key("04AA", {"remoteJobId": 1, "payload": {}}, named)

    # then: it refuses clearly, and flashes from the image it holds
    assert "is not stored on device WPD-S" in str(missing.value)
    assert "does not match" in str(mismatch.value)
    assert (flashed.firmware_id, flashed.version, flashed.size) == (image, "16.4.0", 5000)
    # then: the stored images survive a restart (its flash)
    restored = SimulatedWallDevice.from_state("http://test", device.state(), client=http)
    assert restored.key_firmware_images[image] == held
