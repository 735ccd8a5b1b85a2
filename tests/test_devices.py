"""Remote devices over the real endpoint (R14, R18, R19, R21–R24, R29): a simulated wall device
signs its requests, takes heartbeats, key insertions and results, and works offline."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select

from app.access.blocking_list import (
    issue_blocking_list,
    tenant_public_key,
    verify_served_blocking_list,
)
from app.config import Settings
from app.db import Database
from app.devices.presence import mark_offline_devices
from app.devices.protocol import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    parse_timestamp,
    prune_nonces,
    sign_request,
    verify_answer,
)
from app.factory.extension import activate_extension, import_extension
from app.factory.extension_file import make_extension_file
from app.factory.vendor import load_or_create_dev_vendor_key, public_key_hex
from app.models import (
    AccessProfile,
    AccessProfileCylinder,
    AuditEvent,
    AuditSource,
    Cylinder,
    CylinderStatus,
    DeviceNonce,
    Extension,
    Key,
    KeyAccessProfile,
    KeyGeneration,
    KeyRevalidation,
    KeyStatus,
    KeyType,
    ReadoutRequest,
    ReadoutStatus,
    RemoteDevice,
    RemoteDeviceKind,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
    Schedule,
    Tenant,
    utcnow,
)
from app.schema.relay import decode_id, to_global_id
from app.tenants.service import NewTenant
from hardware.sim.wall_device import DeviceRefused, DeviceStore, SimulatedWallDevice
from hardware.sim.wall_device import main as wall_main
from tests.conftest import GraphQLClient, make_tenant, superadmin_token
from tests.harness import eventually
from tests.test_approval import decide, request, staff_council

UPDATE_KEY = """
mutation($i: UpdateKeyInput!) {
  updateKey(input: $i) { remoteJobs { id kind status } errors { code field message } }
}
"""
REPORT_LOST = """
mutation($i: ReportKeyLostInput!) { reportKeyLost(input: $i) { errors { code message } } }
"""


# --- helpers ---------------------------------------------------------------------------


def raw_public_key(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


async def add_device(
    database: Database,
    tenant: NewTenant,
    private_key: Ed25519PrivateKey,
    serial: str = "WPD-0001",
    **fields: Any,
) -> int:
    """A wall device registered with the simulator's public key; offline updates set up (R24)."""
    values: dict[str, Any] = {
        "kind": RemoteDeviceKind.WALL,
        "firmware_version": "5.2.0",
        "bootloader_version": "2.1.0",
        "heartbeat_interval_seconds": 60,
        "updater_gen2": True,
        "offline_max_updates": 2,
        "offline_max_hours_since_online": 48,
        "offline_blocking_list_validity_hours": 240,
        "offline_extension_hours": 24,
    }
    values.update(fields)
    async with database.tenant_session(tenant.tenant_id) as s:
        row = RemoteDevice(
            domain_id=tenant.default_domain_id,
            name=f"Wall device {serial}",
            serial=serial,
            public_key=raw_public_key(private_key),
            **values,
        )
        s.add(row)
        await s.commit()
        return row.id


async def add_key(
    database: Database,
    tenant: NewTenant,
    *,
    key_type: KeyType = KeyType.E3,
    firmware: str = "16.3.7",
    status: KeyStatus = KeyStatus.ISSUED,
    interval: int | None = None,
    readout: bool = False,
) -> tuple[int, str]:
    """A user key; its id and hardware UID."""
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule_id = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        row = Key(
            domain_id=tenant.default_domain_id,
            marking=f"K-{secrets.token_hex(4)}",
            uid=secrets.token_hex(7).upper(),
            type=key_type,
            generation=KeyGeneration.GEN2,
            firmware_version=firmware,
            status=status,
            schedule_id=schedule_id,
            extension_interval_hours=interval,
            audit_readout_enabled=readout,
        )
        s.add(row)
        await s.commit()
        return row.id, row.uid


async def add_lab_profile(database: Database, tenant: NewTenant, key_id: int) -> None:
    """Cylinder C-LAB (UID C0FFEE01) given to the key through profile "Lab", whose own
    extension interval is 8 h (R13, R14)."""
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule_id = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        cylinder = Cylinder(domain_id=tenant.default_domain_id, marking="C-LAB",
                            uid="C0FFEE01", status=CylinderStatus.ACTIVE)
        profile = AccessProfile(name="Lab", schedule_id=schedule_id, extension_interval_hours=8)
        s.add_all([cylinder, profile])
        await s.flush()
        s.add(AccessProfileCylinder(access_profile_id=profile.id, cylinder_id=cylinder.id))
        s.add(KeyAccessProfile(key_id=key_id, access_profile_id=profile.id))
        await s.commit()


async def remote_jobs(database: Database, tenant: NewTenant, key_id: int) -> list[RemoteJob]:
    async with database.tenant_session(tenant.tenant_id) as s:
        return list(
            await s.scalars(
                select(RemoteJob).where(RemoteJob.key_id == key_id).order_by(RemoteJob.id)
            )
        )


async def change_interval(gql: GraphQLClient, key_id: int, hours: int) -> list[dict[str, Any]]:
    """Change a key's extension interval over GraphQL: a VALIDITY remote job waits (R18)."""
    data = await gql(
        UPDATE_KEY,
        {"i": {"keyId": to_global_id("Key", key_id), "extensionIntervalHours": hours}},
    )
    assert data["updateKey"]["errors"] == []
    return data["updateKey"]["remoteJobs"]  # type: ignore[no-any-return]


def close_to(text: str, expected: Any, slack: timedelta = timedelta(seconds=30)) -> bool:
    at = parse_timestamp(text)
    assert at is not None, text
    return abs(at - expected) <= slack


@pytest.fixture
def device_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
async def wall(
    http: Any, tenant: NewTenant, database: Database, device_key: Ed25519PrivateKey
) -> AsyncIterator[SimulatedWallDevice]:
    """A registered wall device speaking to the application in-process (httpx ASGI transport)."""
    await add_device(database, tenant, device_key)
    yield SimulatedWallDevice("http://test", tenant.tenant_id, "WPD-0001", device_key, client=http)


@pytest.fixture
async def live_server(settings: Settings, database: Database) -> AsyncIterator[str]:
    """The application under a real uvicorn server on 127.0.0.1 (a free port)."""
    import uvicorn

    from app.web import create_app

    config = uvicorn.Config(
        create_app(settings, database),
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_level="warning",
        http="h11",
        ws="none",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        assert not task.done(), task  # it ended: the failure is in the task
        return bool(server.started)

    await eventually(started, "uvicorn to start", 5)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


# --- heartbeat (R21, R23) ----------------------------------------------------------------


async def test_a_heartbeat_over_http_marks_the_device_online_and_brings_the_signed_blocking_list(
    database: Database, tenant: NewTenant, live_server: str, device_key: Ed25519PrivateKey
) -> None:
    # given: a registered wall device, offline so far, and a lost key in the tenant
    device_id = await add_device(database, tenant, device_key)
    _, lost_uid = await add_key(database, tenant, status=KeyStatus.LOST)
    async with database.tenant_session(tenant.tenant_id) as s:
        tenant_row = await s.scalar(select(Tenant))
        assert tenant_row is not None
        public_key = tenant_public_key(tenant_row)
    # when: the device calls in over HTTP, reporting new firmware
    async with SimulatedWallDevice(
        live_server, tenant.tenant_id, "WPD-0001", device_key, firmware_version="5.3.1",
        tenant_public_key=public_key.hex(),
    ) as device:
        answer = await device.heartbeat()
        again = await device.heartbeat()
    # then: it is online, with the time of the heartbeat and its firmware recorded
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await s.get(RemoteDevice, device_id)
        assert row is not None
        assert row.online is True
        assert row.last_heartbeat_at is not None and utcnow() - row.last_heartbeat_at < timedelta(
            seconds=30
        )
        assert row.firmware_version == "5.3.1"
    # then: it got its configuration, the server's time and the blocking list, signed by the
    # tenant (the simulator checked answer and list signatures with the pinned key)
    assert close_to(answer["serverTime"], utcnow())
    assert answer["configuration"]["heartbeatIntervalSeconds"] == 60
    assert answer["configuration"]["offlineUpdates"] == {
        "maxOfflineUpdates": 2,
        "maxHoursSinceOnlineUpdate": 48,
        "blockingListValidityHours": 240,
        "offlineExtensionHours": 24,
    }
    served = answer["blockingList"]
    assert served["keyUids"] == [lost_uid]
    assert verify_served_blocking_list(served, tenant_id=tenant.tenant_id, public_key=public_key)
    assert answer["tenantPublicKey"] == public_key.hex()
    assert device.blocking_list == served
    # then: a device that holds the current list is not sent it again
    assert again["blockingList"] is None
    assert again["blockingListVersion"] == served["version"]


async def test_a_replayed_request_is_refused(
    wall: SimulatedWallDevice, database: Database, tenant: NewTenant
) -> None:
    # given: a heartbeat the server accepted
    await wall.heartbeat()
    # when: the same bytes, headers included, are sent again
    response = await wall.replay_last()
    # then: refused as a replay (R23)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "REPLAYED"


async def test_of_two_copies_of_a_request_racing_each_other_exactly_one_is_served(
    database: Database, tenant: NewTenant, live_server: str, device_key: Ed25519PrivateKey
) -> None:
    # given: a device over real HTTP, and one signed heartbeat
    await add_device(database, tenant, device_key)
    async with SimulatedWallDevice(live_server, tenant.tenant_id, "WPD-0001", device_key) as d:
        path = d.path("heartbeat")
        headers = {
            **sign_request(device_key, "POST", path, b"{}", now=utcnow()),
            "Content-Type": "application/json",
        }
        # when: it is sent twice at the same time
        responses = await asyncio.gather(
            *(d.client.post(live_server + path, content=b"{}", headers=headers) for _ in "ab")
        )
    # then: one is answered, the other refused as a replay
    assert sorted(r.status_code for r in responses) == [200, 401]
    assert [r.json()["error"]["code"] for r in responses if r.status_code == 401] == ["REPLAYED"]


async def test_a_heartbeat_brings_a_reissued_list_when_the_newest_is_an_hour_old(
    wall: SimulatedWallDevice, database: Database, tenant: NewTenant
) -> None:
    # given: the tenant's newest blocking list was issued 61 minutes ago
    async with database.tenant_session(tenant.tenant_id) as s:
        old = await issue_blocking_list(s, now=utcnow() - timedelta(minutes=61))
        await s.commit()
    # when: a device calls in
    answer = await wall.heartbeat()
    # then: it gets a newer list, issued now (R21: at least hourly)
    assert answer["blockingList"]["version"] == old.version + 1
    assert close_to(answer["blockingList"]["issuedAt"], utcnow())


async def test_a_request_more_than_five_minutes_off_the_servers_clock_is_refused(
    wall: SimulatedWallDevice,
) -> None:
    # when: the device's clock is six minutes behind, then six minutes ahead
    late = await wall.send("heartbeat", {}, at=utcnow() - timedelta(minutes=6))
    early = await wall.send("heartbeat", {}, at=utcnow() + timedelta(minutes=6))
    # then: both are refused as stale, with the server's time to resynchronise by
    for response in (late, early):
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["code"] == "STALE_TIMESTAMP"
        assert close_to(error["serverTime"], utcnow())
    # and four minutes off is still accepted
    assert (await wall.send("heartbeat", {}, at=utcnow() - timedelta(minutes=4))).status_code == 200


async def test_a_request_signed_with_another_key_or_altered_on_the_way_is_refused(
    wall: SimulatedWallDevice, http: Any, tenant: NewTenant
) -> None:
    # when: someone signs with a key that is not the device's
    forged = await wall.send("heartbeat", {}, private_key=Ed25519PrivateKey.generate())
    # when: the body is changed after the device signed it
    path = wall.path("heartbeat")
    headers = sign_request(wall.private_key, "POST", path, b"{}", now=utcnow())
    altered = await http.post(
        path,
        content=b'{"offlineUpdates":[]}',
        headers={**headers, "Content-Type": "application/json"},
    )
    # when: a serial that is not registered calls
    stranger = SimulatedWallDevice(
        "http://test", tenant.tenant_id, "WPD-9999", wall.private_key, client=http
    )
    unknown = await stranger.send("heartbeat", {})
    # then: all refused alike, without telling which check failed
    for response in (forged, altered, unknown):
        assert response.status_code == 401
        assert response.json()["error"] == {
            "code": "UNAUTHENTICATED",
            "message": "unknown device or bad signature",
            "serverTime": response.json()["error"]["serverTime"],
        }


async def test_a_device_of_one_tenant_cannot_act_for_another(
    database: Database, tenant: NewTenant, other_tenant: NewTenant, http: Any
) -> None:
    # given: tenant A's device, and tenant B with a device of the same serial but its own key
    key_a = Ed25519PrivateKey.generate()
    await add_device(database, tenant, key_a)
    device_b = await add_device(database, other_tenant, Ed25519PrivateKey.generate())
    # when: A's device names tenant B in the path
    posing = SimulatedWallDevice("http://test", other_tenant.tenant_id, "WPD-0001", key_a,
                                 client=http)
    response = await posing.send("heartbeat", {})
    # when: A's genuine request is sent to B's path
    genuine = SimulatedWallDevice("http://test", tenant.tenant_id, "WPD-0001", key_a, client=http)
    path_b = posing.path("heartbeat")
    headers = sign_request(key_a, "POST", genuine.path("heartbeat"), b"{}", now=utcnow())
    redirected = await http.post(
        path_b, content=b"{}", headers={**headers, "Content-Type": "application/json"}
    )
    # then: both refused, and B's device is untouched
    assert response.status_code == 401 and redirected.status_code == 401
    async with database.tenant_session(other_tenant.tenant_id) as s:
        row = await s.get(RemoteDevice, device_b)
        assert row is not None and row.online is False and row.last_heartbeat_at is None


async def test_a_device_of_an_extension_not_yet_activated_is_refused_until_activation(
    database: Database, settings: Settings, http: Any, tmp_path: Path
) -> None:
    # given: a tenant trusting the development vendor, and a device made with the simulator's
    # command line, whose factory record (its public key) the vendor signs into an
    # extension file (R31)
    vendor_key = load_or_create_dev_vendor_key(settings.var_dir)
    tenant = await make_tenant(
        database, "Factory Fresh", vendor_public_keys=[public_key_hex(vendor_key)]
    )
    state = tmp_path / "devices.json"
    record = tmp_path / "wpd-new.json"
    argv = ["--state", str(state), "new",
            "--serial", "WPD-NEW", "--tenant", tenant.tenant_id, "--out", str(record)]
    assert wall_main(argv) == 0
    out = tmp_path / "extension.json"
    out.write_bytes(make_extension_file(
        remote_devices=[json.loads(record.read_text())], signing_key=vendor_key,
        order_number="SIM-WPD-NEW",
    ))
    async with database.tenant_session(tenant.tenant_id) as s:
        imported = await import_extension(s, out.read_bytes())
        await s.commit()
        extension_id = await s.scalar(select(Extension.id))
    assert imported.new_remote_devices == 1
    device = SimulatedWallDevice.from_state("http://test", DeviceStore(state).get("WPD-NEW"),
                                            client=http)
    # when: it calls in before the extension is activated
    with pytest.raises(DeviceRefused) as refused:
        await device.heartbeat()
    # then: refused like an unknown device
    assert refused.value.status == 401 and refused.value.code == "UNAUTHENTICATED"
    # when: an admin activates the extension
    async with database.tenant_session(tenant.tenant_id) as s:
        await activate_extension(s, extension_id)
        await s.commit()
    # then: the device is served
    answer = await device.heartbeat()
    assert answer["configuration"]["name"] == "Simulated wall device WPD-NEW"


async def test_a_malformed_body_is_refused_naming_the_field_and_leaves_no_trace(
    wall: SimulatedWallDevice, database: Database, tenant: NewTenant
) -> None:
    # given: the device knows its tenant's key from a first heartbeat
    await wall.heartbeat()
    async with database.tenant_session(tenant.tenant_id) as s:
        nonces = await s.scalar(select(func.count()).select_from(DeviceNonce))
    # when: it reports an offline update without its time
    with pytest.raises(DeviceRefused) as refused:
        await wall.request("heartbeat", {"offlineUpdates": [{"keyUid": "04AA"}]})
    # then: 400, the field named, the answer signed by the tenant (checked by the simulator)
    assert refused.value.status == 400
    assert refused.value.code == "INVALID"
    assert "offlineUpdates.0.at" in refused.value.message
    async with database.tenant_session(tenant.tenant_id) as s:
        assert await s.scalar(select(func.count()).select_from(DeviceNonce)) == nonces
        assert await s.scalar(select(func.count()).select_from(KeyRevalidation)) == 0


async def test_devices_that_miss_two_heartbeat_intervals_go_offline(
    database: Database, tenant: NewTenant
) -> None:
    # given: three online devices with a one-minute interval, last heard 30 s, 90 s, 150 s ago
    now = utcnow()
    ids = []
    for i, seconds in enumerate((30, 90, 150)):
        ids.append(
            await add_device(
                database, tenant, Ed25519PrivateKey.generate(), f"WPD-{i}", online=True,
                last_heartbeat_at=now - timedelta(seconds=seconds),
            )
        )
    # when: the periodic check runs
    async with database.tenant_session(tenant.tenant_id) as s:
        went = await mark_offline_devices(s, now)
        await s.commit()
    # then: only the one silent for more than two intervals went offline (R23)
    assert went == [ids[2]]
    async with database.tenant_session(tenant.tenant_id) as s:
        online = dict((await s.execute(select(RemoteDevice.id, RemoteDevice.online))).all())
    assert online == {ids[0]: True, ids[1]: True, ids[2]: False}
    # and a second run finds nothing new
    async with database.tenant_session(tenant.tenant_id) as s:
        assert await mark_offline_devices(s, now) == []


async def test_nonces_are_forgotten_once_their_requests_would_be_stale_anyway(
    wall: SimulatedWallDevice, database: Database, tenant: NewTenant
) -> None:
    # given: two requests made
    await wall.heartbeat()
    await wall.heartbeat()
    # when: the tenant's nonces are pruned now, and after the clock window
    async with database.tenant_session(tenant.tenant_id) as s:
        assert await prune_nonces(s, utcnow()) == 0
        assert await prune_nonces(s, utcnow() + timedelta(minutes=6)) == 2
        await s.commit()
        assert await s.scalar(select(func.count()).select_from(DeviceNonce)) == 0


# --- key insertion (R14, R18, R22, R29) ------------------------------------------------------


async def test_key_insertion_extends_validity_by_the_interval_and_delivers_pending_remote_jobs(
    wall: SimulatedWallDevice, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: an issued E3 key whose interval an admin set to 72 h: a VALIDITY job waits
    key_id, uid = await add_key(database, tenant, interval=24)
    created = await change_interval(gql, key_id, 72)
    assert [j["kind"] for j in created] == ["VALIDITY"]
    # when: the key is inserted at the wall device
    answer = await wall.insert_key(uid, "16.3.7")
    # then: the job is delivered, and the key is valid for 72 h from now (R14)
    assert answer["status"] == "ok"
    assert [(j["kind"], j["payload"]["extensionIntervalHours"]) for j in answer["jobs"]] == [
        ("VALIDITY", 72)
    ]
    assert "deliverAt" not in answer["jobs"][0]["payload"]
    assert close_to(answer["validity"]["validUntil"], utcnow() + timedelta(hours=72))
    assert close_to(answer["setClock"], utcnow())
    [job] = await remote_jobs(database, tenant, key_id)
    assert job.status is RemoteJobStatus.DELIVERED
    async with database.tenant_session(tenant.tenant_id) as s:
        device_id = await s.scalar(select(RemoteDevice.id))
        revalidation = await s.scalar(select(KeyRevalidation))
    assert job.delivered_via_id == device_id
    assert revalidation is not None and revalidation.offline is False
    assert revalidation.key_id == key_id and revalidation.valid_until is not None
    # when: the device reports the job done, twice (the answer got lost the first time)
    done = await wall.complete(answer)
    repeated = await wall.complete(answer)
    # then: the job is closed once; the repeat is accepted and changes nothing
    assert done["jobs"] == [
        {"remoteJobId": job.id, "accepted": True, "status": "DONE", "code": None}
    ]
    assert repeated["jobs"] == [
        {"remoteJobId": job.id, "accepted": True, "status": "DONE", "code": "ALREADY_REPORTED"}
    ]
    [closed] = await remote_jobs(database, tenant, key_id)
    assert closed.status is RemoteJobStatus.DONE and closed.completed_at is not None
    # and the next insertion delivers nothing more but extends again
    later = await wall.insert_key(uid, "16.3.7")
    assert later["jobs"] == [] and later["validity"] is not None


async def test_with_flexible_extensions_a_profiles_shorter_interval_limits_its_cylinders(
    wall: SimulatedWallDevice, database: Database, tenant: NewTenant
) -> None:
    # given: flexible extensions on; a key valid 72 h per revalidation, holding a profile
    # whose cylinder must be revalidated every 8 h (R14)
    key_id, uid = await add_key(database, tenant, interval=72)
    await add_lab_profile(database, tenant, key_id)
    async with database.tenant_session(tenant.tenant_id) as s:
        tenant_row = await s.scalar(select(Tenant))
        assert tenant_row is not None
        tenant_row.flexible_extensions = True
        await s.commit()
    # when: the key is inserted
    answer = await wall.insert_key(uid, "16.3.7")
    # then: the key is extended by 72 h, the lab cylinder by the effective 8 h only
    validity = answer["validity"]
    assert close_to(validity["validUntil"], utcnow() + timedelta(hours=72))
    assert [c["cylinderUid"] for c in validity["cylinders"]] == ["C0FFEE01"]
    assert close_to(validity["cylinders"][0]["validUntil"], utcnow() + timedelta(hours=8))


async def test_a_key_reported_lost_is_on_the_next_blocking_list_and_blocked_at_insertion(
    wall: SimulatedWallDevice, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: the device holds a blocking list without the key, and the key had an update
    key_id, uid = await add_key(database, tenant, interval=24)
    first = await wall.heartbeat()
    assert uid not in first["blockingList"]["keyUids"]
    assert (await wall.insert_key(uid, "16.3.7"))["status"] == "ok"
    # when: the key is reported lost over GraphQL (R19)
    lost = await gql(REPORT_LOST, {"i": {"keyId": to_global_id("Key", key_id),
                                         "deprogram": False}})
    assert lost["reportKeyLost"]["errors"] == []
    # then: the next heartbeat brings a newer signed list with its UID (R21)
    answer = await wall.heartbeat()
    assert answer["blockingList"]["version"] > first["blockingList"]["version"]
    assert uid in answer["blockingList"]["keyUids"]
    # then: inserted online it is answered "blocked", with nothing delivered or extended
    online = await wall.insert_key(uid, "16.3.7")
    assert (online["status"], online["code"]) == ("blocked", "KEY_LOST")
    assert online["jobs"] == [] and online["validity"] is None
    # then: offline the device blocks it by its list as well
    offline = await wall.insert_key(uid, "16.3.7", online=False)
    assert (offline["status"], offline["code"]) == ("blocked", "KEY_BLOCKED")


async def test_keys_without_remote_updates_are_refused_and_e2_jobs_wait_for_a_desk_device(
    wall: SimulatedWallDevice, http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: an E1 and an E2 key; the E2 key has a schedule change waiting (R18)
    _, e1_uid = await add_key(database, tenant, key_type=KeyType.E1, firmware="4.2")
    e2_id, e2_uid = await add_key(database, tenant, key_type=KeyType.E2, firmware="12.3.0")
    from app.access.remote_jobs import ensure_remote_job

    async with database.tenant_session(tenant.tenant_id) as s:
        e2 = await s.get(Key, e2_id)
        assert e2 is not None
        await ensure_remote_job(s, e2, RemoteJobKind.SCHEDULE, {"windows": []})
        await s.commit()
    desk_key = Ed25519PrivateKey.generate()
    await add_device(database, tenant, desk_key, "DESK-1", kind=RemoteDeviceKind.DESK)
    desk = SimulatedWallDevice("http://test", tenant.tenant_id, "DESK-1", desk_key, client=http)
    # when: they are inserted at the wall device, and a foreign key too
    e1 = await wall.insert_key(e1_uid, "4.2")
    e2 = await wall.insert_key(e2_uid, "12.3.0")
    foreign = await wall.insert_key("FFFF0000", "16.3.7")
    # then: refused, and the E2 job still waits
    assert (e1["status"], e1["code"]) == ("refused", "NO_REMOTE_UPDATES")
    assert (e2["status"], e2["code"]) == ("refused", "DESK_DEVICE_ONLY")
    assert (foreign["status"], foreign["code"]) == ("unknown", "UNKNOWN_KEY")
    [job] = await remote_jobs(database, tenant, e2_id)
    assert job.status is RemoteJobStatus.PENDING
    # when: the E2 key meets a desk device
    at_desk = await desk.insert_key(e2_uid, "12.3.0")
    # then: it gets its job there
    assert at_desk["status"] == "ok"
    assert [j["remoteJobId"] for j in at_desk["jobs"]] == [job.id]


async def test_a_potential_free_output_needs_e3_key_firmware_16_3_7(
    database: Database, tenant: NewTenant, gql: GraphQLClient, http: Any
) -> None:
    # given: a vandal-proof wall device with a potential-free output (R22), and two keys
    device_key = Ed25519PrivateKey.generate()
    await add_device(database, tenant, device_key, "WPD-GATE", potential_free_output=True)
    gate = SimulatedWallDevice("http://test", tenant.tenant_id, "WPD-GATE", device_key,
                               client=http)
    old_id, old_uid = await add_key(database, tenant, firmware="16.3.6", interval=24)
    _, new_uid = await add_key(database, tenant, firmware="16.3.7", interval=24)
    await change_interval(gql, old_id, 48)
    # when: both are inserted
    old = await gate.insert_key(old_uid, "16.3.6")
    new = await gate.insert_key(new_uid, "16.3.7")
    # then: the older firmware gets its updates but FIRMWARE_TOO_OLD for the output
    assert old["status"] == "ok" and [j["kind"] for j in old["jobs"]] == ["VALIDITY"]
    assert old["validity"] is not None
    assert old["output"]["code"] == "FIRMWARE_TOO_OLD"
    assert old["output"]["minimumKeyFirmware"] == "16.3.7"
    assert new["output"]["code"] == "OK"
    # and the firmware the key reports is kept as its version
    async with database.tenant_session(tenant.tenant_id) as s:
        assert await s.scalar(select(Key.firmware_version).where(Key.id == old_id)) == "16.3.6"


async def test_without_the_approver_function_a_key_with_readout_enabled_is_read_automatically(
    wall: SimulatedWallDevice, database: Database, tenant: NewTenant
) -> None:
    # given: an E3 key with readout enabled and one without (approver function off, R29)
    key_id, uid = await add_key(database, tenant, readout=True)
    _, quiet_uid = await add_key(database, tenant, readout=False)
    async with database.tenant_session(tenant.tenant_id) as s:
        cylinder = Cylinder(domain_id=tenant.default_domain_id, marking="C-1", uid="CAFE0001",
                            status=CylinderStatus.ACTIVE)
        s.add(cylinder)
        await s.commit()
    events = [
        {"at": "2026-11-28T08:00:00Z", "result": "GRANTED", "cylinderUid": "CAFE0001"},
        {"at": "2026-11-28T09:30:00Z", "result": "DENIED_SCHEDULE", "cylinderUid": "CAFE0001"},
    ]
    # when: the first is inserted and the device hands in the trail it read, twice
    answer = await wall.insert_key(uid, "16.3.7")
    first = await wall.complete(answer, audit_events=events)
    second = await wall.complete(answer, audit_events=events)
    # then: the device was asked to read it, and each event is stored once (R28)
    assert answer["auditReadout"] is True
    assert answer["validity"] is None  # always valid, without an interval: nothing to extend
    assert first["auditEvents"] == {"stored": 2, "alreadyStored": 0, "code": None}
    assert second["auditEvents"] == {"stored": 0, "alreadyStored": 2, "code": None}
    async with database.tenant_session(tenant.tenant_id) as s:
        stored = list(await s.scalars(select(AuditEvent).order_by(AuditEvent.at)))
    assert [(e.source, e.key_id, e.cylinder_id) for e in stored] == [
        (AuditSource.KEY, key_id, cylinder.id)
    ] * 2
    # when: the key without readout is inserted and a device sends its trail anyway
    quiet = await wall.insert_key(quiet_uid, "16.3.7")
    unasked = await wall.report(key_uid=quiet_uid, audit_events=events)
    # then: not asked, and nothing stored
    assert quiet["auditReadout"] is False
    assert unasked["auditEvents"]["code"] == "NOT_REQUESTED"


async def test_with_the_approver_function_the_trail_is_read_only_after_approval_and_closes_it(
    database: Database, http: Any
) -> None:
    # given: a tenant with the approver function, a wall device and an issued E3 key
    council = await staff_council(database, http, "Works Council Devices")
    device_key = Ed25519PrivateKey.generate()
    await add_device(database, council.tenant, device_key)
    wall = SimulatedWallDevice("http://test", council.tenant.tenant_id, "WPD-0001", device_key,
                               client=http)
    key_id, uid = await add_key(database, council.tenant, readout=True)
    # when: the key meets the device before any approval
    before = await wall.insert_key(uid, "16.3.7")
    # then: its trail is not read, even with readout enabled
    assert before["auditReadout"] is False
    # when: a readout is requested and approved (R29), and the key comes back
    asked = await request(council.admin, to_global_id("Key", key_id), "Theft in the lab")
    decided = await decide(council.approver, asked["readoutRequest"]["id"], True, "ok")
    assert decided["errors"] == []
    answer = await wall.insert_key(uid, "16.3.7")
    # then: the device is asked to read it, through the AUDIT_READOUT job
    assert answer["auditReadout"] is True
    assert [j["kind"] for j in answer["jobs"]] == ["AUDIT_READOUT"]
    # when: the device reports the job done with the trail
    events = [{"at": "2026-11-28T08:00:00Z", "result": "GRANTED"}]
    result = await wall.complete(answer, audit_events=events)
    # then: the job is done, the request is DONE and the event stored
    assert result["jobs"][0]["status"] == "DONE"
    assert result["auditEvents"]["stored"] == 1
    request_id = decode_id(asked["readoutRequest"]["id"], "ReadoutRequest", "")[1]
    async with database.tenant_session(council.tenant.tenant_id) as s:
        row = await s.get(ReadoutRequest, request_id)
        assert row is not None and row.status is ReadoutStatus.DONE


async def test_a_failed_job_goes_to_the_key_again_at_its_next_insertion(
    wall: SimulatedWallDevice, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a delivered VALIDITY job
    key_id, uid = await add_key(database, tenant, interval=24)
    await change_interval(gql, key_id, 48)
    answer = await wall.insert_key(uid, "16.3.7")
    # when: the key was pulled too early and the device reports the job failed
    result = await wall.complete(answer, outcome="FAILED")
    # then: it is FAILED and the same change waits again
    assert result["jobs"][0]["status"] == "FAILED"
    failed, again = await remote_jobs(database, tenant, key_id)
    assert failed.status is RemoteJobStatus.FAILED and failed.completed_at is not None
    assert again.status is RemoteJobStatus.PENDING and again.payload == failed.payload
    # and the next insertion delivers it; a late DONE for the failed one is not accepted
    retry = await wall.insert_key(uid, "16.3.7")
    assert [j["remoteJobId"] for j in retry["jobs"]] == [again.id]
    late = await wall.report(jobs=[(failed.id, "DONE")])
    assert late["jobs"][0] == {
        "remoteJobId": failed.id, "accepted": False, "status": "FAILED", "code": "JOB_FAILED"
    }


async def test_a_job_delivered_through_another_device_cannot_be_closed_here(
    wall: SimulatedWallDevice, gql: GraphQLClient, database: Database, tenant: NewTenant,
    http: Any,
) -> None:
    # given: a job delivered at the wall device
    key_id, uid = await add_key(database, tenant, interval=24)
    await change_interval(gql, key_id, 48)
    answer = await wall.insert_key(uid, "16.3.7")
    other_key = Ed25519PrivateKey.generate()
    await add_device(database, tenant, other_key, "WPD-0002")
    other = SimulatedWallDevice("http://test", tenant.tenant_id, "WPD-0002", other_key,
                                client=http)
    # when: a different device reports it
    result = await other.complete(answer)
    # then: not accepted, and the job is still open
    assert result["jobs"][0]["code"] == "NOT_DELIVERED_HERE"
    [job] = await remote_jobs(database, tenant, key_id)
    assert job.status is RemoteJobStatus.DELIVERED


# --- offline updates (R24) ---------------------------------------------------------------


class Clock:
    """The simulated device's clock, moved by the test."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> Any:
        return utcnow() + self.offset


async def test_offline_updates_within_the_limits_are_granted_and_accounted_at_the_next_heartbeat(
    wall: SimulatedWallDevice, database: Database, tenant: NewTenant
) -> None:
    # given: the device knows its settings (2 offline updates, 24 h each) and a valid list,
    # and the key had an online update there
    clock = Clock()
    wall.clock = clock
    key_id, uid = await add_key(database, tenant, interval=24)
    await wall.heartbeat()
    assert (await wall.insert_key(uid, "16.3.7"))["status"] == "ok"
    # when: the server is unreachable; the key comes back after 30 and after 40 hours
    clock.offset = timedelta(hours=30)
    first = await wall.insert_key(uid, "16.3.7", online=False)
    clock.offset = timedelta(hours=40)
    second = await wall.insert_key(uid, "16.3.7", online=False)
    third = await wall.insert_key(uid, "16.3.7", online=False)
    # then: two updates are granted, each by the offline extension time; the third is refused
    assert first["status"] == "ok" and second["status"] == "ok"
    assert close_to(first["validity"]["validUntil"], utcnow() + timedelta(hours=30 + 24))
    assert (third["status"], third["code"]) == ("refused", "MAX_OFFLINE_UPDATES")
    assert len(wall.pending_offline_updates) == 2
    sent = list(wall.pending_offline_updates)
    # when: the device is back online (its clock right again) and calls in
    clock.offset = timedelta()
    answer = await wall.heartbeat()
    # then: the server accounts for both, as offline revalidations of the key
    assert answer["offlineUpdates"] == {"recorded": 2, "alreadyRecorded": 0}
    assert wall.pending_offline_updates == []
    async with database.tenant_session(tenant.tenant_id) as s:
        rows = list(
            await s.scalars(
                select(KeyRevalidation)
                .where(KeyRevalidation.offline.is_(True))
                .order_by(KeyRevalidation.at)
            )
        )
    assert [(r.key_id, r.key_uid) for r in rows] == [(key_id, uid)] * 2
    assert all(r.valid_until is not None and r.reported_at is not None for r in rows)
    # when: the same report arrives again (the device missed the answer)
    repeated = await wall.request("heartbeat", {"offlineUpdates": sent})
    # then: nothing is counted twice
    assert repeated["offlineUpdates"] == {"recorded": 0, "alreadyRecorded": 2}


async def test_offline_updates_beyond_the_limits_are_refused(
    wall: SimulatedWallDevice, database: Database, tenant: NewTenant
) -> None:
    # given: a device with a current list and a key updated online there
    clock = Clock()
    wall.clock = clock
    _, uid = await add_key(database, tenant, interval=24)
    _, stranger_uid = await add_key(database, tenant, interval=24)
    await wall.heartbeat()
    await wall.insert_key(uid, "16.3.7")
    # when: more than 48 h pass since the key's online update
    clock.offset = timedelta(hours=49)
    too_late = await wall.insert_key(uid, "16.3.7", online=False)
    # when: a key that never had an online update here comes
    stranger = await wall.insert_key(stranger_uid, "16.3.7", online=False)
    # when: the blocking list is older than its validity of 240 h
    clock.offset = timedelta(hours=241)
    expired = await wall.insert_key(uid, "16.3.7", online=False)
    # when: the list's signature does not verify (tampered with in the device)
    clock.offset = timedelta()
    wall.blocking_list = {**(wall.blocking_list or {}), "keyUids": []}
    wall.blocking_list["version"] += 1
    tampered = await wall.insert_key(uid, "16.3.7", online=False)
    # then: each is refused with its reason, and nothing is granted
    assert too_late["code"] == "TOO_LONG_SINCE_ONLINE_UPDATE"
    assert stranger["code"] == "NO_ONLINE_UPDATE"
    assert expired["code"] == "BLOCKING_LIST_EXPIRED"
    assert tampered["code"] == "NO_BLOCKING_LIST"
    assert {a["status"] for a in (too_late, stranger, expired, tampered)} == {"refused"}
    assert wall.pending_offline_updates == []


async def test_offline_updates_switched_off_are_refused(
    database: Database, tenant: NewTenant, http: Any
) -> None:
    # given: a device whose maximum offline updates is 0 (off, R24)
    device_key = Ed25519PrivateKey.generate()
    await add_device(database, tenant, device_key, "WPD-OFF", offline_max_updates=0)
    device = SimulatedWallDevice("http://test", tenant.tenant_id, "WPD-OFF", device_key,
                                 client=http)
    _, uid = await add_key(database, tenant, interval=24)
    await device.heartbeat()
    await device.insert_key(uid, "16.3.7")
    # when: the key is inserted offline
    answer = await device.insert_key(uid, "16.3.7", online=False)
    # then: refused
    assert (answer["status"], answer["code"]) == ("refused", "OFFLINE_UPDATES_OFF")


async def test_the_answer_signature_binds_the_answer_to_its_request(
    wall: SimulatedWallDevice, database: Database, tenant: NewTenant
) -> None:
    # given: an answered heartbeat
    response = await wall.send("heartbeat", {})
    assert response.status_code == 200
    signature = response.headers[SIGNATURE_HEADER]
    nonce = wall.last_request.headers[NONCE_HEADER] if wall.last_request else ""
    key = json.loads(response.content)["tenantPublicKey"]
    # then: it verifies for this request's nonce and body only
    assert verify_answer(key, signature, nonce, 200, response.content)
    assert not verify_answer(key, signature, "0" * 32, 200, response.content)
    assert not verify_answer(key, signature, nonce, 200, response.content + b" ")


async def test_the_endpoint_takes_only_signed_json_posts(http: Any, tenant: NewTenant) -> None:
    path = f"/remote/v1/{tenant.tenant_id}/WPD-0001/heartbeat"
    # when: a GET, a non-JSON body, an unknown verb and a request without signature headers
    get = await http.get(path)
    text = await http.post(path, content=b"hi", headers={"Content-Type": "text/plain"})
    verb = await http.post(path.replace("heartbeat", "reboot"), json={})
    unsigned = await http.post(path, json={})
    # then: each is refused with its status
    assert get.status_code == 405
    assert text.status_code == 415
    assert verb.status_code == 404
    assert unsigned.status_code == 401


# --- device settings over GraphQL (R24, R26) ------------------------------------------------

UPDATE_DEVICE = """
mutation($i: UpdateRemoteDeviceInput!) {
  updateRemoteDevice(input: $i) {
    remoteDevice {
      name heartbeatIntervalSeconds updaterGen1 updaterGen2
      offlineUpdates {
        maxOfflineUpdates maxHoursSinceOnlineUpdate blockingListValidityHours offlineExtensionHours
      }
    }
    errors { code field message }
  }
}
"""

OFFLINE = {
    "maxOfflineUpdates": 255,
    "maxHoursSinceOnlineUpdate": None,
    "blockingListValidityHours": None,
    "offlineExtensionHours": 730 * 24,
}


async def update_device(gql: GraphQLClient, device_id: int, **fields: Any) -> dict[str, Any]:
    data = await gql(UPDATE_DEVICE, {"i": {"deviceId": to_global_id("RemoteDevice", device_id),
                                           **fields}})
    return data["updateRemoteDevice"]  # type: ignore[no-any-return]


async def test_offline_settings_are_changed_over_graphql_and_reach_the_device_with_its_heartbeat(
    wall: SimulatedWallDevice, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: the registered wall device
    async with database.tenant_session(tenant.tenant_id) as s:
        device_id = await s.scalar(select(RemoteDevice.id))
    assert device_id is not None
    # when: an admin sets the widest offline settings R24 allows, unlimited where allowed
    payload = await update_device(
        gql, device_id, name="Gate 3", heartbeatIntervalSeconds=300, offlineUpdates=OFFLINE
    )
    # then: stored and shown
    assert payload["errors"] == []
    assert payload["remoteDevice"]["offlineUpdates"] == OFFLINE
    assert payload["remoteDevice"]["heartbeatIntervalSeconds"] == 300
    # then: the device works by them from its next heartbeat on
    answer = await wall.heartbeat()
    assert answer["configuration"]["offlineUpdates"] == OFFLINE
    assert answer["configuration"]["heartbeatIntervalSeconds"] == 300
    assert answer["configuration"]["name"] == "Gate 3"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"offlineUpdates": {**OFFLINE, "maxOfflineUpdates": 256}},
         "offlineUpdates.maxOfflineUpdates"),
        ({"offlineUpdates": {**OFFLINE, "maxOfflineUpdates": -1}},
         "offlineUpdates.maxOfflineUpdates"),
        ({"offlineUpdates": {**OFFLINE, "maxHoursSinceOnlineUpdate": 0}},
         "offlineUpdates.maxHoursSinceOnlineUpdate"),
        ({"offlineUpdates": {**OFFLINE, "blockingListValidityHours": 0}},
         "offlineUpdates.blockingListValidityHours"),
        ({"offlineUpdates": {**OFFLINE, "offlineExtensionHours": 730 * 24 + 1}},
         "offlineUpdates.offlineExtensionHours"),
        ({"offlineUpdates": {**OFFLINE, "offlineExtensionHours": 0}},
         "offlineUpdates.offlineExtensionHours"),
        ({"heartbeatIntervalSeconds": 9}, "heartbeatIntervalSeconds"),
        ({"heartbeatIntervalSeconds": 86_401}, "heartbeatIntervalSeconds"),
        ({"name": "  "}, "name"),
    ],
)
async def test_device_settings_out_of_range_are_refused_naming_the_field(
    gql: GraphQLClient, database: Database, tenant: NewTenant, fields: dict[str, Any], field: str
) -> None:
    # given: a wall device
    device_id = await add_device(database, tenant, Ed25519PrivateKey.generate())
    # when: a value outside R24's ranges is given
    payload = await update_device(gql, device_id, **fields)
    # then: refused, the field named, nothing changed
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", field)]
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await s.get(RemoteDevice, device_id)
        assert row is not None
        assert (row.offline_max_updates, row.heartbeat_interval_seconds) == (2, 60)


async def test_the_generation_1_updater_runs_on_one_wall_device_at_a_time(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: two wall devices, the first in generation-1 updater mode
    first = await add_device(database, tenant, Ed25519PrivateKey.generate(), "WPD-A")
    second = await add_device(database, tenant, Ed25519PrivateKey.generate(), "WPD-B")
    assert (await update_device(gql, first, updaterGen1=True))["errors"] == []
    # when: the updater is turned on at the second one too
    refused = await update_device(gql, second, updaterGen1=True)
    # then: refused, saying where it runs (R26)
    [error] = refused["errors"]
    assert (error["code"], error["field"]) == ("CONFLICT", "updaterGen1")
    assert "WPD-A" in error["message"]
    # when: it is turned off at the first, then on at the second
    assert (await update_device(gql, first, updaterGen1=False))["errors"] == []
    moved = await update_device(gql, second, updaterGen1=True)
    # then: accepted
    assert moved["errors"] == [] and moved["remoteDevice"]["updaterGen1"] is True


async def test_the_generation_2_updater_needs_a_wall_or_system_linked_mobile_device(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a mobile device not linked to the system, and one that is
    loose = await add_device(database, tenant, Ed25519PrivateKey.generate(), "MPD-1",
                             kind=RemoteDeviceKind.MOBILE, updater_gen2=False)
    linked = await add_device(database, tenant, Ed25519PrivateKey.generate(), "MPD-2",
                              kind=RemoteDeviceKind.MOBILE, updater_gen2=False,
                              system_linked=True)
    # when: the generation-2 updater is turned on at both
    refused = await update_device(gql, loose, updaterGen2=True)
    accepted = await update_device(gql, linked, updaterGen2=True)
    # then: only the system-linked one takes it (R26); generation 1 is for wall devices
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID", "updaterGen2")]
    assert accepted["errors"] == [] and accepted["remoteDevice"]["updaterGen2"] is True
    gen1 = await update_device(gql, linked, updaterGen1=True)
    assert [(e["code"], e["field"]) for e in gen1["errors"]] == [("INVALID", "updaterGen1")]


async def test_changing_device_settings_needs_the_devices_write_right(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a token that may only read devices
    device_id = await add_device(database, tenant, Ed25519PrivateKey.generate())
    token = await superadmin_token(database, tenant, rights=["devices.read"])
    # when: it tries to change a device
    data = await gql(
        UPDATE_DEVICE,
        {"i": {"deviceId": to_global_id("RemoteDevice", device_id), "name": "Mine"}},
        token=token,
    )
    # then: FORBIDDEN, naming the right
    [error] = data["updateRemoteDevice"]["errors"]
    assert error["code"] == "FORBIDDEN" and "devices.write" in error["message"]
