"""Programming jobs loaded and reported at wall devices (issue 10 item 11; R15, R17).

A sub key's assigned jobs go onto the key when it is inserted in a wall device,
through the signed device protocol (``programming-key-inserted``); the key,
carried to the cylinders of the simulator's world, comes back to the device,
which reports what it did (``programming-results``) and clears it. Key firmware
12.3 and device firmware 5 are the minimum; a refusal says why, to the device
and to the administrators (``ProgrammingKey.remoteRefusal``). The simulated
wall device and programming key (``hardware.sim``) talk to the real endpoint
over HTTP (in process), on SQLite and PostgreSQL; ``test_remote_programming_story``
runs the same with every component a separate process.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from app.db import Database
from app.models import (
    AuditEvent,
    Cylinder,
    ProgrammingJob,
    ProgrammingKey,
    ProgrammingKeyKind,
)
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from hardware.sim.cylinder import Cylinder as SimCylinder
from hardware.sim.programming import ProgrammingKey as SimProgrammingKey
from hardware.sim.wall_device import DeviceRefused, SimulatedWallDevice
from hardware.sim.wall_programming import REPORT, insert_programming_key
from hardware.sim.world import World
from tests.conftest import GraphQLClient, StatementCounter, superadmin_token
from tests.test_devices import add_device
from tests.test_programming_keys_jobs import (
    CYLINDER,
    Site,
    assign,
    build_site,
    open_jobs,
    outbox,
    pk,
)

REFUSAL = """
query { programmingKeys { marking remoteRefusal { code message deviceSerial deviceName at } } }
"""


# --- the hardware of a story -------------------------------------------------------------


async def wall(
    http: Any, database: Database, tenant: NewTenant, firmware: str = "5.2.0"
) -> SimulatedWallDevice:
    """A registered wall device running ``firmware`` and its simulator (in process)."""
    key = Ed25519PrivateKey.generate()
    serial = f"WPD-{secrets.token_hex(3)}"
    await add_device(database, tenant, key, serial, firmware_version=firmware)
    return SimulatedWallDevice(
        "http://test", tenant.tenant_id, serial, key, client=http, firmware_version=firmware
    )


async def cylinders(database: Database, site: Site) -> dict[str, Cylinder]:
    """The site's domain-A cylinders by marking."""
    async with database.tenant_session(site.tenant_id) as s:
        rows = await s.scalars(select(Cylinder).where(Cylinder.id.in_(site.cylinders)))
        return {c.marking: c for c in rows}


async def world_of(
    database: Database, site: Site, firmware: str = "12.3.0"
) -> tuple[World, SimProgrammingKey, dict[str, Cylinder]]:
    """The simulator's world: PN-A's chip (reading ``firmware``) and the site's cylinders,
    holding what the server says they hold, C-000 with one event in its trail."""
    rows = await cylinders(database, site)
    async with database.tenant_session(site.tenant_id) as s:
        uid = await s.scalar(select(ProgrammingKey.uid).where(ProgrammingKey.id == site.sub_key))
    assert uid is not None
    world = World()
    pkey = world.add_programming_key(SimProgrammingKey(
        uid=uid, marking="PN-A", private_key=Ed25519PrivateKey.generate(), pin="2468",
        firmware=firmware,
    ))
    for marking, row in rows.items():
        trail = [{"at": "2026-11-01T08:00:00Z", "keyUid": site.key_uid, "result": "GRANTED"}]
        world.add_cylinder(SimCylinder.from_dict(
            {"uid": row.uid, "marking": marking, "auditTrail": trail if marking == "C-000" else []}
        ))
    return world, pkey, rows


async def statuses(database: Database, site: Site) -> dict[str, str]:
    """The status of each domain-A cylinder's newest job, by marking."""
    async with database.tenant_session(site.tenant_id) as s:
        rows = await s.execute(
            select(Cylinder.marking, ProgrammingJob.status)
            .join(ProgrammingJob, ProgrammingJob.cylinder_id == Cylinder.id)
            .where(Cylinder.id.in_(site.cylinders))
            .order_by(ProgrammingJob.id)
        )
        return {marking: status.value for marking, status in rows.all()}


async def assigned_site(gql: GraphQLClient, database: Database, tenant: NewTenant) -> Site:
    """Three cylinders (C-002 security-relevant) with a job each, assigned to PN-A."""
    site = await build_site(database, tenant, cylinders=3, security_relevant=(2,))
    jobs = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)
    assert (await assign(gql, site.sub_key, jobs))["errors"] == []
    return site


# --- the story ---------------------------------------------------------------------------


async def test_jobs_load_at_a_wall_device_and_the_report_there_closes_them_and_clears_the_key(
    http: Any, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    """R15, R17: load at the device, program two of three cylinders, report at the device."""
    # given: PN-A (firmware 12.3) with three assigned jobs, a wall device on firmware 5.2
    site = await assigned_site(gql, database, tenant)
    device = await wall(http, database, tenant)
    world, pkey, rows = await world_of(database, site)

    # when: the key is inserted in the wall device
    loaded = await insert_programming_key(device, pkey)

    # then: its jobs are on the key, security-relevant cylinder first, as the server planned
    answer = loaded["answer"]
    assert (loaded["action"], answer["status"], answer["loaded"]) == ("load", "ok", 3)
    assert [j["cylinderUid"] for j in answer["jobs"]] == [
        rows["C-002"].uid, rows["C-000"].uid, rows["C-001"].uid
    ]
    assert answer["jobs"][0]["changes"] == [{"op": "ADD", "keyUid": site.key_uid, "groupId": None}]
    assert [j["jobId"] for j in pkey.jobs] == [j["jobId"] for j in answer["jobs"]]
    job_of = {j["cylinderUid"]: j["jobId"] for j in answer["jobs"]}
    assert set((await statuses(database, site)).values()) == {"ON_KEY"}
    (listing,) = await outbox(database, site.tenant_id, "programming_jobs_loaded")
    assert listing.recipient == site.holder_email and "C-002 (security-relevant)" in listing.body

    # when: the holder programs C-002 and C-000 (not C-001) and inserts the key again
    at = datetime.now(UTC) - timedelta(minutes=5)
    for marking in ("C-002", "C-000"):
        world.visit(rows[marking].uid, pkey.uid, at)
    carried = pkey.read_results()
    reported = await insert_programming_key(device, pkey)

    # then: two jobs done, the third back to PN-A, the key cleared, the final e-mail sent
    answer = reported["answer"]
    assert (reported["action"], answer["status"]) == ("report", "ok")
    assert (answer["done"], answer["failed"], answer["aborted"]) == (2, 0, 0)
    assert answer["allCompleted"] is False
    assert answer["openCylinderUids"] == [rows["C-001"].uid]
    assert answer["returnedJobIds"] == [job_of[rows["C-001"].uid]]
    assert answer["auditEventsStored"] == 1 and answer["ignoredJobIds"] == []
    assert pkey.jobs == [] and pkey.results == []
    assert await statuses(database, site) == {"C-000": "DONE", "C-001": "ASSIGNED",
                                              "C-002": "DONE"}
    (final,) = await outbox(database, site.tenant_id, "programming_jobs_report")
    assert final.recipient == site.holder_email and "C-001" in final.body
    # the programmed state is what the cylinder holds now, its trail kept (R11, R15)
    node = (await gql(CYLINDER, {"id": to_global_id("Cylinder", rows["C-000"].id)}))["node"]
    assert node["accessList"] == [{"key": {"marking": "K-1"}, "desired": True, "programmed": True}]
    assert world.cylinder(rows["C-000"].uid).access_keys == {site.key_uid}
    async with database.tenant_session(site.tenant_id) as s:
        kept = await s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.cylinder_id == rows["C-000"].id))
    assert kept == 1

    # when: the device sends the same report again (its answer was lost)
    again = await device.request(
        REPORT, {"programmingKeyUid": pkey.uid, "keyFirmware": "12.3.0", "results": carried}
    )
    # then: nothing changes; the results are listed as ignored, no second e-mail
    assert (again["status"], again["done"]) == ("ok", 0)
    assert sorted(again["ignoredJobIds"]) == sorted(r["jobId"] for r in carried)
    assert await statuses(database, site) == {"C-000": "DONE", "C-001": "ASSIGNED",
                                              "C-002": "DONE"}
    assert len(await outbox(database, site.tenant_id, "programming_jobs_report")) == 1



# --- firmware minimums (R17) -------------------------------------------------------------


async def test_old_key_or_device_firmware_is_refused_with_the_reason_shown_to_the_admin(
    http: Any, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    """R17 (FAQ: key firmware 12.3, remote unit firmware 5): refused at the device with the
    reason, nothing loaded or closed, the refusal on ``ProgrammingKey.remoteRefusal`` until
    the key succeeds at a device."""
    # given: PN-A with three assigned jobs, a current wall device and one on firmware 4.9
    site = await assigned_site(gql, database, tenant)
    device = await wall(http, database, tenant)
    old_device = await wall(http, database, tenant, firmware="4.9")
    world, pkey, _ = await world_of(database, site, firmware="12.2.9")

    # when: the key on 12.2.9 is inserted in the current device
    too_old_key = (await insert_programming_key(device, pkey))["answer"]
    shown = await refusal_of(gql, "PN-A")
    # then: refused, naming the key's firmware; nothing loaded; the admin sees why
    assert (too_old_key["status"], too_old_key["code"]) == ("refused", "KEY_FIRMWARE_TOO_OLD")
    assert "12.2.9" in too_old_key["message"] and "12.3" in too_old_key["message"]
    assert pkey.jobs == [] and set((await statuses(database, site)).values()) == {"ASSIGNED"}
    assert shown is not None and (shown["code"], shown["deviceSerial"]) == (
        "KEY_FIRMWARE_TOO_OLD", device.serial
    )
    assert shown["message"] == too_old_key["message"]

    # when: the key, updated to 12.3, is inserted in the device on firmware 4.9
    pkey.firmware = "12.3"
    too_old_device = (await insert_programming_key(old_device, pkey))["answer"]
    # then: refused, naming the device's firmware
    assert (too_old_device["status"], too_old_device["code"]) == (
        "refused", "DEVICE_FIRMWARE_TOO_OLD"
    )
    assert "4.9" in too_old_device["message"]
    assert (await refusal_of(gql, "PN-A") or {}).get("deviceSerial") == old_device.serial

    # when: it loads at the current device, programs nothing, and comes back to the old one
    assert (await insert_programming_key(device, pkey))["answer"]["status"] == "ok"
    assert await refusal_of(gql, "PN-A") is None
    refused_report = (await insert_programming_key(old_device, pkey))["answer"]
    # then: the report is refused too: the jobs stay on the key, the key keeps them
    assert refused_report["code"] == "DEVICE_FIRMWARE_TOO_OLD"
    assert set((await statuses(database, site)).values()) == {"ON_KEY"} and len(pkey.jobs) == 3
    assert not await outbox(database, site.tenant_id, "programming_jobs_report")
    del world


async def refusal_of(gql: GraphQLClient, marking: str) -> dict[str, Any] | None:
    keys = {k["marking"]: k for k in (await gql(REFUSAL))["programmingKeys"]}
    return keys[marking]["remoteRefusal"]  # type: ignore[no-any-return]


async def test_remote_refusal_costs_the_same_statements_for_few_or_many_programming_keys(
    http: Any, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    """No N+1: ``remoteRefusal`` is read with the programming key itself."""
    for n in range(30):
        async with database.tenant_session(tenant.tenant_id) as s:
            s.add(ProgrammingKey(
                marking=f"PN-{n:02d}", uid=secrets.token_hex(8), kind=ProgrammingKeyKind.SUB,
                firmware_version="12.2", public_key=bytes(32),
                remote_refusal={"code": "KEY_FIRMWARE_TOO_OLD", "message": "old",
                                "at": "2026-12-07T10:00:00Z", "deviceName": "W",
                                "deviceSerial": "W-1"},
            ))
            await s.commit()
        if n in (2, 29):
            await gql(REFUSAL)  # the token's first use of the round is recorded apart
            with StatementCounter(database.app_engine) as counter:
                data = await gql(REFUSAL)
            assert len(data["programmingKeys"]) == n + 1
            assert {k["remoteRefusal"]["code"] for k in data["programmingKeys"]} == {
                "KEY_FIRMWARE_TOO_OLD"
            }
            if n == 2:
                few = counter.count
    assert counter.count == few


# --- isolation and bad input (R1) -------------------------------------------------------


async def test_another_tenants_device_does_not_know_the_programming_key(
    http: Any, gql: GraphQLClient, database: Database, tenant: NewTenant,
    other_tenant: NewTenant,
) -> None:
    """R1: a device of another tenant neither loads nor closes this tenant's jobs."""
    site = await assigned_site(gql, database, tenant)
    _, pkey, _ = await world_of(database, site)
    foreign = await wall(http, database, other_tenant)
    loaded = (await insert_programming_key(foreign, pkey))["answer"]
    assert (loaded["status"], loaded["code"]) == ("unknown", "UNKNOWN_KEY")
    job_gid = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)[0]
    reported = await foreign.request(REPORT, {
        "programmingKeyUid": pkey.uid, "keyFirmware": "12.3",
        "results": [{"jobId": job_gid, "outcome": "DONE", "auditEvents": []}],
    })
    assert reported["code"] == "UNKNOWN_KEY"
    assert set((await statuses(database, site)).values()) == {"ASSIGNED"}
    other_gql = GraphQLClient(http, await superadmin_token(database, other_tenant))
    assert (await other_gql(REFUSAL))["programmingKeys"] == []


async def test_a_malformed_report_is_refused_naming_the_field_and_changes_nothing(
    http: Any, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    """The body's format is checked before anything is applied: 400 INVALID naming the field."""
    site = await assigned_site(gql, database, tenant)
    device = await wall(http, database, tenant)
    _, pkey, _ = await world_of(database, site)
    assert (await insert_programming_key(device, pkey))["answer"]["loaded"] == 3
    job = pkey.jobs[0]["jobId"]
    for results, field in (
        ([{"jobId": job, "outcome": "MAYBE"}], "results.0.outcome"),
        ([{"jobId": job, "outcome": "DONE", "auditEvents": [{"at": "yesterday",
                                                               "result": "GRANTED"}]}],
         "results.0.auditEvents.0.at"),
        ("all", "results"),
    ):
        try:
            await device.request(REPORT, {"programmingKeyUid": pkey.uid, "keyFirmware": "12.3",
                                          "results": results})
        except DeviceRefused as exc:
            assert (exc.status, exc.code) == (400, "INVALID")
            assert exc.message.startswith(field)
        else:
            raise AssertionError(f"{field}: accepted")
    assert set((await statuses(database, site)).values()) == {"ON_KEY"}
    assert pk(site.sub_key)
