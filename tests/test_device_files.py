"""Device files for a USB stick (R27): configuration file, trace-log request for one device,
trace log uploaded and read."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from app.access.blocking_list import tenant_public_key
from app.db import Database
from app.devices.files import verify_signed_file, write_trace_log
from app.models import RemoteDevice, RemoteDeviceKind, Tenant, utcnow
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, make_tenant, superadmin_token

UPLOAD = """mutation($i: UploadTraceLogInput!) { uploadTraceLog(input: $i) {
  traceLog { log writtenAt } errors { field code message } } }"""


async def _device(
    database: Database, tenant: NewTenant, serial: str
) -> tuple[str, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    async with database.tenant_session(tenant.tenant_id) as s:
        row = RemoteDevice(
            domain_id=tenant.default_domain_id,
            name=f"Wall {serial}",
            kind=RemoteDeviceKind.WALL,
            serial=serial,
            firmware_version="5.2.0",
            bootloader_version="2.1.0",
            public_key=key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
            offline_max_updates=15,
            offline_extension_hours=24,
        )
        s.add(row)
        await s.commit()
        return to_global_id("RemoteDevice", row.id), key


async def _tenant_key(database: Database, tenant: NewTenant) -> bytes:
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await s.get(Tenant, tenant.tenant_id)
        assert row is not None
        return tenant_public_key(row)


async def test_trace_log_round_trip_for_exactly_one_device(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: two wall devices
    first, first_key = await _device(database, tenant, "WPD-1")
    second, second_key = await _device(database, tenant, "WPD-2")
    public = await _tenant_key(database, tenant)
    # when: the admin downloads the configuration file and a trace-log request for WPD-1
    config = await http.get(f"/devices/{first}/configuration-file", headers=gql.headers())
    request = await http.get(f"/devices/{first}/trace-log-request", headers=gql.headers())
    # then: both are signed with the tenant's key and name the device
    assert config.status_code == 200 and request.status_code == 200
    body = verify_signed_file(json.loads(config.content), public, "configuration", "file")
    assert (body["serial"], body["offlineUpdates"]["maxOfflineUpdates"]) == ("WPD-1", 15)
    assert (
        verify_signed_file(json.loads(request.content), public, "trace-log-request", "file")[
            "serial"
        ]
        == "WPD-1"
    )
    # when: WPD-1 writes its log to the stick and the admin uploads it
    log = write_trace_log(
        request.content, "WPD-1", "fw 5.2.0; DNS lookup failed", first_key, utcnow()
    )
    uploaded = await gql.upload(
        UPLOAD, {"i": {"deviceId": first, "file": None}}, "variables.i.file", log
    )
    # then: kept and readable
    assert uploaded.json()["data"]["uploadTraceLog"]["errors"] == []
    logs = await gql(
        "query($d: ID!) { node(id: $d) { ... on RemoteDevice { traceLogs { log } } } }",
        {"d": first},
    )
    assert logs["node"]["traceLogs"] == [{"log": "fw 5.2.0; DNS lookup failed"}]
    # and: the request is worth nothing for another device, nor a log signed by another key
    foreign = write_trace_log(request.content, "WPD-2", "x", second_key, utcnow())
    refused = await gql.upload(
        UPLOAD, {"i": {"deviceId": second, "file": None}}, "variables.i.file", foreign
    )
    assert refused.json()["data"]["uploadTraceLog"]["errors"][0]["code"] == "INVALID"
    forged = write_trace_log(request.content, "WPD-1", "forged", second_key, utcnow())
    refused = await gql.upload(
        UPLOAD, {"i": {"deviceId": first, "file": None}}, "variables.i.file", forged
    )
    assert refused.json()["data"]["uploadTraceLog"]["errors"][0]["code"] == "BAD_SIGNATURE"
    late = write_trace_log(
        request.content, "WPD-1", "late", first_key, utcnow() + timedelta(days=8)
    )
    refused = await gql.upload(
        UPLOAD, {"i": {"deviceId": first, "file": None}}, "variables.i.file", late
    )
    assert "expired" in refused.json()["data"]["uploadTraceLog"]["errors"][0]["message"]


async def test_device_files_are_only_for_the_devices_own_tenant(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    device, _ = await _device(database, tenant, "WPD-7")
    other = await make_tenant(database, "Other Site")
    other_token = await superadmin_token(database, other)
    for suffix in ("configuration-file", "trace-log-request"):
        foreign = await http.get(f"/devices/{device}/{suffix}", headers=gql.headers(other_token))
        assert foreign.status_code == 404
        assert (await http.get(f"/devices/{device}/{suffix}")).status_code == 401
    reader = await superadmin_token(database, tenant, rights=["devices.read"])
    denied = await http.get(f"/devices/{device}/trace-log-request", headers=gql.headers(reader))
    assert denied.status_code == 403
