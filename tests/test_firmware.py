"""R25, R26: firmware import with its signature check, roll-out to remote devices over
heartbeats, and key firmware through remote jobs at updater devices."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from app.db import Database
from app.errors import DomainError
from app.factory.firmware import build_firmware_file, demo_image, make_firmware_file
from app.factory.vendor import public_key_hex
from app.firmware.bundles import create_certificate_bundle
from app.firmware.imports import import_firmware
from app.firmware.key_outcome import key_firmware_outcome
from app.firmware.rollout import apply_firmware
from app.firmware.transfer import next_firmware_chunk, record_firmware_progress
from app.models import (
    Employee,
    Firmware,
    FirmwareDeployment,
    FirmwareSource,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    OutboxMessage,
    ProgrammingKey,
    ProgrammingKeyKind,
    ProgrammingKeyRole,
    RemoteDevice,
    RemoteDeviceKind,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
    Role,
    Schedule,
)
from app.schema.relay import parse_global_id, to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, make_tenant, superadmin_token

BUNDLE = "CCB 7F01"

IMPORT_FIRMWARE = """
mutation($input: ImportFirmwareInput!) {
  importFirmware(input: $input) {
    firmware { id target version source applied certificateBundle { name } }
    errors { field code message }
  }
}
"""

APPLY_FIRMWARE = """
mutation($input: ApplyFirmwareInput!) {
  applyFirmware(input: $input) {
    firmware { applied }
    remoteJobs { kind status key { marking } }
    remoteDevices { name }
    warnings { code message }
    errors { field code message }
  }
}
"""

CREATE_BUNDLE = """
mutation($input: CreateCertificateBundleInput!) {
  createCertificateBundle(input: $input) {
    certificateBundle { id name }
    errors { field code message }
  }
}
"""

PROGRESS = """
{
  remoteDevices {
    name bootloaderVersion firmwareProgress { percent done stage firmware { version } }
  }
}
"""


# --- fixtures and helpers ---------------------------------------------------------------


def firmware_file(
    vendor: Ed25519PrivateKey,
    *,
    target: str = "KEY_GEN2",
    version: str = "16.3.7",
    bundle: str = BUNDLE,
    size: int = 5000,
) -> bytes:
    return make_firmware_file(
        target=target,
        version=version,
        image=demo_image(target, version, size),
        certificate_bundle=bundle,
        signing_key=vendor,
        release_notes="Potential-free output support",
    )


async def add_bundle(database: Database, t: NewTenant, name: str = BUNDLE) -> int:
    async with database.tenant_session(t.tenant_id) as s:
        bundle = await create_certificate_bundle(s, name=name)
        await s.commit()
        return bundle.id


async def add_firmware(database: Database, t: NewTenant, data: bytes, bundle_id: int) -> int:
    async with database.tenant_session(t.tenant_id) as s:
        result = await import_firmware(s, data, certificate_bundle_id=bundle_id)
        await s.commit()
        return result.firmware.id


async def add_device(
    database: Database,
    t: NewTenant,
    name: str,
    kind: RemoteDeviceKind = RemoteDeviceKind.WALL,
    **settings: Any,
) -> int:
    async with database.tenant_session(t.tenant_id) as s:
        device = RemoteDevice(
            domain_id=t.default_domain_id,
            name=name,
            kind=kind,
            serial=f"SN-{name}",
            firmware_version=settings.pop("firmware_version", "5.2.0"),
            bootloader_version=settings.pop("bootloader_version", "2.0"),
            **settings,
        )
        s.add(device)
        await s.commit()
        return device.id


async def add_key(
    database: Database,
    t: NewTenant,
    marking: str,
    generation: KeyGeneration,
    firmware: str,
    *,
    type: KeyType = KeyType.E3,
    status: KeyStatus = KeyStatus.ISSUED,
) -> int:
    async with database.tenant_session(t.tenant_id) as s:
        schedule_id = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        key = Key(
            domain_id=t.default_domain_id,
            marking=marking,
            uid=f"UID-{marking}",
            type=type,
            generation=generation,
            firmware_version=firmware,
            status=status,
            schedule_id=schedule_id,
        )
        s.add(key)
        await s.commit()
        return key.id


async def add_holder(
    database: Database, t: NewTenant, role: str, email: str, marking: str
) -> None:
    """A programming key with ``role`` whose holder has ``email``."""
    async with database.tenant_session(t.tenant_id) as s:
        employee = Employee(
            domain_id=t.default_domain_id, first_name="Ada", last_name=marking, email=email
        )
        s.add(employee)
        await s.flush()
        key = ProgrammingKey(
            marking=marking,
            uid=f"UID-{marking}",
            kind=ProgrammingKeyKind.SUB,
            firmware_version="12.3.0",
            holder_id=employee.id,
            public_key=bytes(32),
        )
        s.add(key)
        await s.flush()
        role_id = await s.scalar(select(Role.id).where(Role.name == role))
        s.add(ProgrammingKeyRole(programming_key_id=key.id, role_id=role_id))
        await s.commit()


async def upload(client: GraphQLClient, data: bytes, bundle_id: int) -> dict[str, Any]:
    bundle_gid = to_global_id("CertificateBundle", bundle_id)
    response = await client.upload(
        IMPORT_FIRMWARE,
        {"input": {"file": None, "certificateBundleId": bundle_gid}},
        "variables.input.file",
        data,
    )
    body = response.json()
    assert response.status_code == 200, body
    assert not body.get("errors"), body
    return body["data"]["importFirmware"]  # type: ignore[no-any-return]


async def apply(
    client: GraphQLClient, firmware_id: int, device_ids: list[int] | None = None
) -> dict[str, Any]:
    variables: dict[str, Any] = {"firmwareId": to_global_id("Firmware", firmware_id)}
    if device_ids is not None:
        variables["deviceIds"] = [to_global_id("RemoteDevice", d) for d in device_ids]
    return (await client(APPLY_FIRMWARE, {"input": variables}))["applyFirmware"]  # type: ignore[no-any-return]


async def count(database: Database, t: NewTenant, model: type) -> int:
    async with database.tenant_session(t.tenant_id) as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def firmware_jobs(database: Database, t: NewTenant) -> dict[str, dict[str, Any]]:
    async with database.tenant_session(t.tenant_id) as s:
        rows = await s.execute(
            select(Key.marking, RemoteJob.payload)
            .join(RemoteJob, RemoteJob.key_id == Key.id)
            .where(RemoteJob.kind == RemoteJobKind.FIRMWARE)
        )
        return {marking: payload for marking, payload in rows.all()}


# --- import (R25) ---------------------------------------------------------------------


async def test_importing_a_signed_firmware_file_stores_it_and_emails_every_superadmin(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given: a bundle chosen over GraphQL, a Superadmin and an Admin holder with addresses
    created = await client(CREATE_BUNDLE, {"input": {"name": BUNDLE}})
    bundle_gid = created["createCertificateBundle"]["certificateBundle"]["id"]
    await add_holder(database, trusting, "Superadmin", "super@firmware.test", "PR-1")
    await add_holder(database, trusting, "Admin", "admin@firmware.test", "PN-1")

    # when
    response = await client.upload(
        IMPORT_FIRMWARE,
        {"input": {"file": None, "certificateBundleId": bundle_gid}},
        "variables.input.file",
        firmware_file(vendor),
    )
    result = response.json()["data"]["importFirmware"]

    # then: stored as a manual import, not yet applied
    assert result["errors"] == []
    assert result["firmware"]["target"] == "KEY_GEN2"
    assert result["firmware"]["version"] == "16.3.7"
    assert result["firmware"]["source"] == "MANUAL"
    assert result["firmware"]["applied"] is False
    assert result["firmware"]["certificateBundle"]["name"] == BUNDLE
    listed = await client("{ firmware { version source } }")
    assert listed["firmware"] == [{"version": "16.3.7", "source": "MANUAL"}]
    # and only the Superadmin is told (R25, R33)
    async with database.tenant_session(trusting.tenant_id) as s:
        mails = list(
            await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "firmware_imported"))
        )
    assert [m.recipient for m in mails] == ["super@firmware.test"]
    assert "16.3.7" in mails[0].subject
    assert BUNDLE in mails[0].body


async def test_a_tampered_firmware_image_is_refused_as_bad_signature_and_nothing_is_stored(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given: one byte of the image changed after signing
    document = json.loads(firmware_file(vendor))
    image = bytearray(base64.b64decode(document["image"]))
    image[100] ^= 0xFF
    document["image"] = base64.b64encode(bytes(image)).decode()
    bundle_id = await add_bundle(database, trusting)

    # when
    result = await upload(client, json.dumps(document).encode(), bundle_id)

    # then
    assert result["firmware"] is None
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("file", "BAD_SIGNATURE")]
    assert await count(database, trusting, Firmware) == 0


async def test_a_file_from_a_vendor_the_tenant_does_not_trust_is_refused(
    client: GraphQLClient, database: Database, trusting: NewTenant
) -> None:
    # given
    stranger = Ed25519PrivateKey.generate()
    bundle_id = await add_bundle(database, trusting)

    # when
    result = await upload(client, firmware_file(stranger), bundle_id)

    # then
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("file", "BAD_SIGNATURE")]


async def test_a_file_built_for_another_certificate_bundle_is_refused_naming_the_bundle(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given: the tenant's bundle is not the one the file is built for
    bundle_id = await add_bundle(database, trusting, "CCB 7E00")

    # when
    result = await upload(client, firmware_file(vendor, bundle=BUNDLE), bundle_id)

    # then
    [error] = result["errors"]
    assert (error["field"], error["code"]) == ("certificateBundleId", "INVALID")
    assert BUNDLE in error["message"]
    assert await count(database, trusting, Firmware) == 0


async def test_the_same_firmware_twice_is_a_conflict_even_written_differently(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given: 16.3 imported
    bundle_id = await add_bundle(database, trusting)
    await add_firmware(database, trusting, firmware_file(vendor, version="16.3"), bundle_id)

    # when: 16.3.0 is the same version as numbers
    async with database.tenant_session(trusting.tenant_id) as s:
        with pytest.raises(DomainError) as caught:
            await import_firmware(
                s, firmware_file(vendor, version="16.3.0"), certificate_bundle_id=bundle_id
            )

    # then
    assert (caught.value.code, caught.value.field) == ("CONFLICT", "file")
    assert await count(database, trusting, Firmware) == 1


async def test_the_same_version_for_another_bundle_or_target_is_not_a_duplicate(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    first = await add_bundle(database, trusting)
    second = await add_bundle(database, trusting, "CCB 8000")
    device_file = firmware_file(vendor, target="REMOTE_DEVICE", version="5.3")
    await add_firmware(database, trusting, device_file, first)

    # when
    other_bundle = firmware_file(vendor, target="REMOTE_DEVICE", version="5.3", bundle="CCB 8000")
    await add_firmware(database, trusting, other_bundle, second)
    bootloader = firmware_file(vendor, target="REMOTE_BOOTLOADER", version="5.3")
    await add_firmware(database, trusting, bootloader, first)

    # then
    assert await count(database, trusting, Firmware) == 3


async def test_generation_1_firmware_numbered_10_1_is_refused(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given: a correctly signed file whose header breaks R10 (generation 1 runs up to 6.x)
    image = demo_image("KEY_GEN1", "10.1", 100)
    header = {
        "target": "KEY_GEN1",
        "version": "10.1",
        "certificateBundle": BUNDLE,
        "sha256": hashlib.sha256(image).hexdigest(),
        "size": len(image),
        "createdAt": "2026-01-01T00:00:00+00:00",
        "releaseNotes": "",
    }
    bundle_id = await add_bundle(database, trusting)

    # when
    result = await upload(client, build_firmware_file(header, image, vendor), bundle_id)

    # then
    [error] = result["errors"]
    assert (error["field"], error["code"]) == ("file", "INVALID")
    assert "header.version" in error["message"]


async def test_an_image_larger_than_the_upload_limit_is_refused(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    bundle_id = await add_bundle(database, trusting)

    # when
    async with database.tenant_session(trusting.tenant_id) as s:
        with pytest.raises(DomainError) as caught:
            await import_firmware(
                s, firmware_file(vendor, size=2000), certificate_bundle_id=bundle_id, max_size=1000
            )

    # then
    assert (caught.value.code, caught.value.field) == ("INVALID", "file")


async def test_a_certificate_bundle_name_is_unique_and_needs_the_firmware_write_right(
    client: GraphQLClient, http: Any, database: Database, trusting: NewTenant
) -> None:
    # given
    await client(CREATE_BUNDLE, {"input": {"name": BUNDLE}})

    # when
    again = await client(CREATE_BUNDLE, {"input": {"name": f" {BUNDLE} "}})
    reader = GraphQLClient(
        http, await superadmin_token(database, trusting, rights=["firmware.read"])
    )
    forbidden = await reader.raw(CREATE_BUNDLE, {"input": {"name": "Other"}})

    # then
    [error] = again["createCertificateBundle"]["errors"]
    assert (error["field"], error["code"]) == ("name", "CONFLICT")
    assert "firmware.write" in json.dumps(forbidden.json())
    assert (await client("{ certificateBundles { name } }"))["certificateBundles"] == [
        {"name": BUNDLE}
    ]


async def test_firmware_of_one_tenant_is_invisible_to_another(
    client: GraphQLClient, http: Any, database: Database, trusting: NewTenant,
    vendor: Ed25519PrivateKey,
) -> None:
    # given: firmware in the trusting tenant
    bundle_id = await add_bundle(database, trusting)
    result = await upload(client, firmware_file(vendor), bundle_id)
    firmware_gid = result["firmware"]["id"]
    other = await make_tenant(database, "Elsewhere", vendor_public_keys=[public_key_hex(vendor)])
    outsider = GraphQLClient(http, await superadmin_token(database, other))

    # when
    seen = await outsider(
        "query($id: ID!) { firmware { id } certificateBundles { id } node(id: $id) { id } }",
        {"id": firmware_gid},
    )
    parsed = parse_global_id(firmware_gid)
    assert parsed is not None
    applied = await apply(outsider, int(parsed[1]))

    # then (R1)
    assert seen == {"firmware": [], "certificateBundles": [], "node": None}
    assert applied["errors"][0]["code"] == "NOT_FOUND"


# --- key firmware (R26) ----------------------------------------------------------------


async def test_applying_generation_2_firmware_creates_jobs_only_for_lower_generation_2_keys(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given: one wall device with the generation-2 updater, keys of every kind
    await add_device(database, trusting, "Lobby", updater_gen2=True)
    g2 = KeyGeneration.GEN2
    await add_key(database, trusting, "LOW", g2, "16.2")
    await add_key(database, trusting, "LOW-STOCK", g2, "12.3", status=KeyStatus.IN_STOCK)
    await add_key(database, trusting, "LOW-E2", g2, "12.3", type=KeyType.E2)
    await add_key(database, trusting, "LOW-E1", g2, "12.3", type=KeyType.E1)
    await add_key(database, trusting, "SAME", g2, "16.3.7")
    await add_key(database, trusting, "NEWER", g2, "16.10")
    await add_key(database, trusting, "LOST", g2, "12.3", status=KeyStatus.LOST)
    await add_key(database, trusting, "BROKEN", g2, "12.3", status=KeyStatus.DEFECTIVE)
    await add_key(database, trusting, "NEW", g2, "12.3", status=KeyStatus.NOT_ACTIVATED)
    await add_key(database, trusting, "GEN1", KeyGeneration.GEN1, "4.0")
    bundle_id = await add_bundle(database, trusting)
    firmware_id = await add_firmware(database, trusting, firmware_file(vendor), bundle_id)

    # when
    result = await apply(client, firmware_id)

    # then: lower GEN2 keys that can take it; the E2 key waits for a desk device (R18)
    assert result["errors"] == []
    assert result["firmware"]["applied"] is True
    assert sorted(j["key"]["marking"] for j in result["remoteJobs"]) == [
        "LOW", "LOW-E2", "LOW-STOCK"
    ]
    assert {j["kind"] for j in result["remoteJobs"]} == {"FIRMWARE"}
    assert [w["code"] for w in result["warnings"]] == ["NO_REMOTE_UPDATE"]
    jobs = await firmware_jobs(database, trusting)
    assert jobs["LOW"]["version"] == "16.3.7"
    assert jobs["LOW"]["firmwareId"] == firmware_id
    assert jobs["LOW"]["deliverAt"] == "remote"
    assert jobs["LOW-E2"]["deliverAt"] == "desk"


async def test_applying_again_or_a_newer_version_keeps_one_waiting_job_per_key(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    await add_device(database, trusting, "Lobby", updater_gen2=True)
    await add_key(database, trusting, "K1", KeyGeneration.GEN2, "12.3")
    bundle_id = await add_bundle(database, trusting)
    older = await add_firmware(database, trusting, firmware_file(vendor, version="16.3"), bundle_id)
    newer = await add_firmware(database, trusting, firmware_file(vendor), bundle_id)

    # when: the newer applied, then the older and the newer again
    for firmware_id in (newer, older, newer):
        async with database.tenant_session(trusting.tenant_id) as s:
            await apply_firmware(s, firmware_id=firmware_id)
            await s.commit()

    # then: one waiting job, for the newest firmware
    assert await count(database, trusting, RemoteJob) == 1
    assert (await firmware_jobs(database, trusting))["K1"]["version"] == "16.3.7"


@pytest.mark.parametrize("updaters", [0, 2])
async def test_generation_1_firmware_needs_exactly_one_wall_device_in_updater_mode(
    client: GraphQLClient,
    database: Database,
    trusting: NewTenant,
    vendor: Ed25519PrivateKey,
    updaters: int,
) -> None:
    # given: a mobile device in updater mode does not count (the FAQ: one wall device)
    for n in range(updaters):
        await add_device(database, trusting, f"Wall {n}", updater_gen1=True)
    await add_device(database, trusting, "Van", RemoteDeviceKind.MOBILE, updater_gen1=True,
                     system_linked=True)
    await add_key(database, trusting, "OLD", KeyGeneration.GEN1, "4.0")
    bundle_id = await add_bundle(database, trusting)
    data = firmware_file(vendor, target="KEY_GEN1", version="6.2")
    firmware_id = await add_firmware(database, trusting, data, bundle_id)

    # when
    result = await apply(client, firmware_id)

    # then
    [error] = result["errors"]
    assert error["code"] == "CONFLICT"
    assert "updater mode" in error["message"]
    assert await count(database, trusting, RemoteJob) == 0
    async with database.tenant_session(trusting.tenant_id) as s:
        assert await s.scalar(select(Firmware.applied)) is False


async def test_generation_1_firmware_with_one_updater_creates_jobs_for_lower_keys(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    await add_device(database, trusting, "Updater", updater_gen1=True)
    await add_key(database, trusting, "OLD", KeyGeneration.GEN1, "4.0")
    await add_key(database, trusting, "CURRENT", KeyGeneration.GEN1, "6.2")
    bundle_id = await add_bundle(database, trusting)
    data = firmware_file(vendor, target="KEY_GEN1", version="6.2")
    firmware_id = await add_firmware(database, trusting, data, bundle_id)

    # when
    result = await apply(client, firmware_id)

    # then
    assert result["errors"] == []
    assert [j["key"]["marking"] for j in result["remoteJobs"]] == ["OLD"]


async def test_generation_2_firmware_needs_a_wall_or_system_linked_mobile_updater(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given: only a mobile device that is not system-linked has the flag (FAQ: not enough)
    await add_device(database, trusting, "Van", RemoteDeviceKind.MOBILE, updater_gen2=True)
    await add_key(database, trusting, "K1", KeyGeneration.GEN2, "12.3")
    bundle_id = await add_bundle(database, trusting)
    firmware_id = await add_firmware(database, trusting, firmware_file(vendor), bundle_id)

    # when
    refused = await apply(client, firmware_id)
    await add_device(database, trusting, "Linked van", RemoteDeviceKind.MOBILE,
                     updater_gen2=True, system_linked=True)
    accepted = await apply(client, firmware_id)

    # then
    assert [e["code"] for e in refused["errors"]] == ["CONFLICT"]
    assert accepted["errors"] == []
    assert len(accepted["remoteJobs"]) == 1


async def test_a_generation_1_key_pulled_out_mid_update_becomes_defective_with_a_replacement(
    database: Database, trusting: NewTenant
) -> None:
    # given
    key_id = await add_key(database, trusting, "G1", KeyGeneration.GEN1, "4.0")

    # when
    async with database.tenant_session(trusting.tenant_id) as s:
        key = await s.get(Key, key_id)
        assert key is not None
        outcome = await key_firmware_outcome(s, key, interrupted=True)
        await s.commit()

    # then (R26, R20)
    assert outcome.outcome == "DEFECTIVE"
    assert [w.code for w in outcome.warnings] == ["REPLACEMENT_PROPOSED"]
    assert "copyKeyConfiguration" in outcome.warnings[0].message
    async with database.tenant_session(trusting.tenant_id) as s:
        assert await s.scalar(select(Key.status).where(Key.id == key_id)) is KeyStatus.DEFECTIVE


async def test_a_generation_2_key_pulled_out_mid_update_gets_its_rights_at_the_next_insertion(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given: a FIRMWARE job delivered and broken off
    await add_device(database, trusting, "Lobby", updater_gen2=True)
    key_id = await add_key(database, trusting, "G2", KeyGeneration.GEN2, "12.3")
    bundle_id = await add_bundle(database, trusting)
    firmware_id = await add_firmware(database, trusting, firmware_file(vendor), bundle_id)
    async with database.tenant_session(trusting.tenant_id) as s:
        [job] = (await apply_firmware(s, firmware_id=firmware_id)).remote_jobs
        job.status = RemoteJobStatus.FAILED
        await s.commit()

    # when
    async with database.tenant_session(trusting.tenant_id) as s:
        key = await s.get(Key, key_id)
        failed = await s.get(RemoteJob, job.id)
        assert key is not None and failed is not None
        outcome = await key_firmware_outcome(s, key, interrupted=True, job=failed)
        await s.commit()

    # then: not defective; validity, schedule, authorizations and the firmware wait for it
    assert outcome.outcome == "RESTORE_AT_NEXT_INSERTION"
    async with database.tenant_session(trusting.tenant_id) as s:
        assert await s.scalar(select(Key.status).where(Key.id == key_id)) is KeyStatus.ISSUED
        waiting = set(
            await s.scalars(
                select(RemoteJob.kind).where(
                    RemoteJob.key_id == key_id, RemoteJob.status == RemoteJobStatus.PENDING
                )
            )
        )
    assert waiting == {
        RemoteJobKind.VALIDITY,
        RemoteJobKind.SCHEDULE,
        RemoteJobKind.AUTHORIZATIONS,
        RemoteJobKind.FIRMWARE,
    }


async def test_a_completed_key_update_records_the_new_firmware_version(
    database: Database, trusting: NewTenant
) -> None:
    # given
    key_id = await add_key(database, trusting, "G2", KeyGeneration.GEN2, "12.3")

    # when
    async with database.tenant_session(trusting.tenant_id) as s:
        key = await s.get(Key, key_id)
        assert key is not None
        outcome = await key_firmware_outcome(s, key, interrupted=False, firmware_version="16.3.7")
        await s.commit()

    # then
    assert outcome.outcome == "UPDATED"
    async with database.tenant_session(trusting.tenant_id) as s:
        assert await s.scalar(select(Key.firmware_version).where(Key.id == key_id)) == "16.3.7"


# --- remote devices (R25) ----------------------------------------------------------------


async def test_device_firmware_needs_chosen_devices(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    bundle_id = await add_bundle(database, trusting)
    data = firmware_file(vendor, target="REMOTE_BOOTLOADER", version="2.1")
    firmware_id = await add_firmware(database, trusting, data, bundle_id)

    # when
    missing = await apply(client, firmware_id)
    empty = await apply(client, firmware_id, [])

    # then
    for result in (missing, empty):
        assert [(e["field"], e["code"]) for e in result["errors"]] == [("deviceIds", "INVALID")]


async def test_device_firmware_before_its_bootloader_is_refused_then_accepted_after_it(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given: bootloader 2.1 and firmware 5.3 of one bundle; the device runs bootloader 2.0
    device_id = await add_device(database, trusting, "Lobby", bootloader_version="2.0")
    bundle_id = await add_bundle(database, trusting)
    bootloader_file = firmware_file(vendor, target="REMOTE_BOOTLOADER", version="2.1", size=300)
    bootloader = await add_firmware(database, trusting, bootloader_file, bundle_id)
    data = firmware_file(vendor, target="REMOTE_DEVICE", version="5.3")
    firmware = await add_firmware(database, trusting, data, bundle_id)

    # when: the firmware first
    refused = await apply(client, firmware, [device_id])

    # then
    [error] = refused["errors"]
    assert (error["field"], error["code"]) == ("deviceIds", "CONFLICT")
    assert "bootloader 2.1" in error["message"] and "Lobby" in error["message"]
    assert await count(database, trusting, FirmwareDeployment) == 0

    # when: the bootloader goes first and arrives whole
    assert (await apply(client, bootloader, [device_id]))["remoteDevices"] == [{"name": "Lobby"}]
    async with database.tenant_session(trusting.tenant_id) as s:
        device = await s.get(RemoteDevice, device_id)
        assert device is not None
        await record_firmware_progress(s, device, bootloader, 300, True)
        await s.commit()
    accepted = await apply(client, firmware, [device_id])

    # then
    assert accepted["errors"] == []
    assert accepted["remoteDevices"] == [{"name": "Lobby"}]


async def test_a_desk_device_or_another_tenants_device_cannot_be_chosen(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    desk = await add_device(database, trusting, "Desk", RemoteDeviceKind.DESK)
    other = await make_tenant(database, "Neighbour")
    foreign = await add_device(database, other, "Theirs")
    bundle_id = await add_bundle(database, trusting)
    data = firmware_file(vendor, target="REMOTE_BOOTLOADER", version="2.1")
    firmware_id = await add_firmware(database, trusting, data, bundle_id)

    # when
    at_desk = await apply(client, firmware_id, [desk])
    abroad = await apply(client, firmware_id, [foreign])

    # then
    assert [(e["field"], e["code"]) for e in at_desk["errors"]] == [("deviceIds", "INVALID")]
    assert [(e["field"], e["code"]) for e in abroad["errors"]] == [("deviceIds", "NOT_FOUND")]


async def test_firmware_travels_in_chunks_that_resume_from_an_offset_until_done(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given: a 10,000-byte bootloader applied to one device
    device_id = await add_device(database, trusting, "Lobby", bootloader_version="2.0")
    bundle_id = await add_bundle(database, trusting)
    data = firmware_file(vendor, target="REMOTE_BOOTLOADER", version="2.1", size=10_000)
    firmware_id = await add_firmware(database, trusting, data, bundle_id)
    await apply(client, firmware_id, [device_id])
    received = bytearray()

    async def heartbeat(offset: int, done: bool = False) -> dict[str, Any] | None:
        async with database.tenant_session(trusting.tenant_id) as s:
            device = await s.get(RemoteDevice, device_id)
            assert device is not None
            await record_firmware_progress(s, device, firmware_id, offset, done)
            chunk = await next_firmware_chunk(s, device, offset=offset)
            await s.commit()
            return chunk

    # when: the first chunk arrives
    first = await heartbeat(0)
    assert first is not None
    assert (first["offset"], first["total"], first["stage"]) == (0, 10_000, "bootloader")
    received += base64.b64decode(first["data"])
    second = await heartbeat(len(received))
    assert second is not None
    received += base64.b64decode(second["data"])
    progress = (await client(PROGRESS))["remoteDevices"][0]["firmwareProgress"]

    # then: 4,096 of 10,000 bytes recorded
    assert progress == {
        "percent": 40, "done": False, "stage": "bootloader", "firmware": {"version": "2.1"}
    }

    # when: the device lost the second chunk and asks again from where it stands
    again = await heartbeat(4096)
    assert again is not None and again["data"] == second["data"]
    while True:
        chunk = await heartbeat(len(received))
        assert chunk is not None
        if not chunk["data"]:
            break
        received += base64.b64decode(chunk["data"])
    assert chunk["last"] is True
    assert hashlib.sha256(received).hexdigest() == chunk["sha256"]
    finished = await heartbeat(len(received), done=True)

    # then: done, the device runs the new bootloader and gets nothing more
    assert finished is None
    [device] = (await client(PROGRESS))["remoteDevices"]
    assert device["bootloaderVersion"] == "2.1"
    assert device["firmwareProgress"]["percent"] == 100
    assert device["firmwareProgress"]["done"] is True


async def test_an_offset_outside_the_image_is_invalid(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    device_id = await add_device(database, trusting, "Lobby")
    bundle_id = await add_bundle(database, trusting)
    data = firmware_file(vendor, target="REMOTE_BOOTLOADER", version="2.1", size=500)
    firmware_id = await add_firmware(database, trusting, data, bundle_id)
    async with database.tenant_session(trusting.tenant_id) as s:
        await apply_firmware(s, firmware_id=firmware_id, device_ids=[device_id])
        await s.commit()

    # when
    async with database.tenant_session(trusting.tenant_id) as s:
        device = await s.get(RemoteDevice, device_id)
        assert device is not None
        with pytest.raises(DomainError) as beyond:
            await next_firmware_chunk(s, device, offset=501)
        with pytest.raises(DomainError) as early:
            await record_firmware_progress(s, device, firmware_id, 400, True)

    # then
    assert (beyond.value.code, beyond.value.field) == ("INVALID", "offset")
    assert (early.value.code, early.value.field) == ("INVALID", "offset")


async def test_a_newer_image_replaces_an_unfinished_transfer_of_the_same_target(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given: bootloader 2.1 half sent
    device_id = await add_device(database, trusting, "Lobby")
    bundle_id = await add_bundle(database, trusting)
    old = await add_firmware(
        database, trusting,
        firmware_file(vendor, target="REMOTE_BOOTLOADER", version="2.1", size=500), bundle_id,
    )
    new = await add_firmware(
        database, trusting,
        firmware_file(vendor, target="REMOTE_BOOTLOADER", version="2.2", size=500), bundle_id,
    )
    async with database.tenant_session(trusting.tenant_id) as s:
        await apply_firmware(s, firmware_id=old, device_ids=[device_id])
        device = await s.get(RemoteDevice, device_id)
        assert device is not None
        await record_firmware_progress(s, device, old, 250, False)
        await s.commit()

    # when
    async with database.tenant_session(trusting.tenant_id) as s:
        await apply_firmware(s, firmware_id=new, device_ids=[device_id])
        device = await s.get(RemoteDevice, device_id)
        assert device is not None
        chunk = await next_firmware_chunk(s, device, offset=0)
        stale = await record_firmware_progress(s, device, old, 300, False)
        await s.commit()

    # then
    assert chunk is not None and chunk["version"] == "2.2"
    assert stale is None
    assert await count(database, trusting, FirmwareDeployment) == 1


async def test_a_device_that_runs_the_version_already_gets_no_deployment(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    device_id = await add_device(database, trusting, "Lobby", bootloader_version="2.1.0")
    bundle_id = await add_bundle(database, trusting)
    data = firmware_file(vendor, target="REMOTE_BOOTLOADER", version="2.1")
    firmware_id = await add_firmware(database, trusting, data, bundle_id)

    # when
    result = await apply(client, firmware_id, [device_id])

    # then
    assert result["remoteDevices"] == []
    assert [w["code"] for w in result["warnings"]] == ["ALREADY_INSTALLED"]
    assert await count(database, trusting, FirmwareDeployment) == 0


async def test_firmware_stored_from_a_manual_import_says_so(
    database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey
) -> None:
    # given
    bundle_id = await add_bundle(database, trusting)

    # when
    firmware_id = await add_firmware(database, trusting, firmware_file(vendor), bundle_id)

    # then
    async with database.tenant_session(trusting.tenant_id) as s:
        row = await s.get(Firmware, firmware_id)
        assert row is not None
        assert row.source is FirmwareSource.MANUAL
        assert row.image == demo_image("KEY_GEN2", "16.3.7", 5000)
