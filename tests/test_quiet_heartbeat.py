"""The quiet-heartbeat fast path on PostgreSQL (R21, R23, R25): the same answer, the same
authentication and replay protection as the ORM path, and no write when it steps aside."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text, update

from app.access.blocking_list import tenant_public_key
from app.db import Database
from app.devices.fast_heartbeat import is_quiet, quiet_heartbeat
from app.devices.heartbeat import HeartbeatReport, fresh_blocking_list, heartbeat
from app.devices.offline_updates import OfflineUpdate
from app.devices.protocol import (
    DeviceAuthError,
    check_headers,
    parse_timestamp,
    request_path,
    sign_request,
    verify_answer,
)
from app.models import (
    BlockingList,
    CertificateBundle,
    DeviceNonce,
    Extension,
    Firmware,
    FirmwareDeployment,
    FirmwareSource,
    FirmwareTarget,
    RemoteDevice,
    Tenant,
    utcnow,
)
from app.tenants.service import NewTenant
from tests.conftest import BACKEND, make_tenant
from tests.test_devices import add_device

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="the fast path is PostgreSQL's")


async def current_list_version(database: Database, tenant: NewTenant) -> int:
    async with database.tenant_session(tenant.tenant_id) as s:
        version = (await fresh_blocking_list(s, utcnow())).version
        await s.commit()
        return version


async def call(
    database: Database,
    tenant: NewTenant,
    key: Ed25519PrivateKey,
    report: dict[str, Any],
    serial: str = "WPD-0001",
    *,
    tenant_in_path: str | None = None,
    nonce: str | None = None,
) -> Any:
    """One heartbeat through the fast path, signed as the device signs it."""
    tenant_id = tenant_in_path or tenant.tenant_id
    body = json.dumps(report).encode()
    path = request_path(tenant_id, serial, "heartbeat")
    now = utcnow()
    headers = sign_request(key, "POST", path, body, now=now, nonce=nonce)
    parsed = HeartbeatReport(
        firmware_version=report.get("firmwareVersion"),
        bootloader_version=report.get("bootloaderVersion"),
        blocking_list_version=report.get("blockingListVersion"),
    )
    return await quiet_heartbeat(
        database,
        tenant_id=tenant_id,
        serial=serial,
        method="POST",
        path=path,
        signed=check_headers(headers, now),
        body=body,
        report=parsed,
        now=now,
    )


async def device_row(database: Database, tenant: NewTenant, device_id: int) -> RemoteDevice:
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await s.get(RemoteDevice, device_id)
        assert row is not None
        return row


async def nonces(database: Database, tenant: NewTenant) -> int:
    async with database.tenant_session(tenant.tenant_id) as s:
        return int(await s.scalar(select(func.count()).select_from(DeviceNonce)) or 0)


async def test_a_quiet_heartbeat_answers_exactly_as_the_orm_path_does(
    database: Database, tenant: NewTenant
) -> None:
    # given a device holding the current blocking list
    key = Ed25519PrivateKey.generate()
    device_id = await add_device(database, tenant, key)
    version = await current_list_version(database, tenant)
    # when it calls in through the fast path
    report = {"firmwareVersion": "5.3.0", "blockingListVersion": version}
    quiet = await call(database, tenant, key, report)
    # then the answer is the one the ORM path gives for the same report and moment
    assert quiet is not None
    async with database.tenant_session(tenant.tenant_id) as s:
        device = await s.get(RemoteDevice, device_id)
        row = await s.get(Tenant, tenant.tenant_id)
        assert device is not None and row is not None
        now = parse_timestamp(quiet.answer["serverTime"])
        assert now is not None
        orm = await heartbeat(
            s, device, row, HeartbeatReport(blocking_list_version=version), now=now
        )
        public_key = tenant_public_key(row).hex()
        await s.rollback()
    assert quiet.answer == orm.answer
    assert quiet.answer["tenantPublicKey"] == public_key
    assert quiet.answer["blockingList"] is None
    # and the device is online with the reported firmware, and subscribers hear it came online
    device = await device_row(database, tenant, device_id)
    assert device.online and device.firmware_version == "5.3.0"
    assert device.last_heartbeat_at is not None
    assert quiet.came_online is not None and quiet.came_online.device_id == device_id
    again = await call(database, tenant, key, {"blockingListVersion": version})
    assert again is not None and again.came_online is None


async def test_a_replayed_quiet_heartbeat_is_refused_and_writes_nothing(
    database: Database, tenant: NewTenant
) -> None:
    key = Ed25519PrivateKey.generate()
    device_id = await add_device(database, tenant, key)
    version = await current_list_version(database, tenant)
    report = {"blockingListVersion": version}
    assert await call(database, tenant, key, report, nonce="ab" * 16) is not None
    seen = (await device_row(database, tenant, device_id)).last_heartbeat_at
    with pytest.raises(DeviceAuthError) as refused:
        await call(database, tenant, key, report, nonce="ab" * 16)
    assert refused.value.code == "REPLAYED"
    assert (await device_row(database, tenant, device_id)).last_heartbeat_at == seen
    assert await nonces(database, tenant) == 1


async def test_the_fast_path_refuses_what_the_orm_path_refuses(
    database: Database, tenant: NewTenant
) -> None:
    key = Ed25519PrivateKey.generate()
    await add_device(database, tenant, key)
    version = await current_list_version(database, tenant)
    report = {"blockingListVersion": version}
    # another key, an unknown serial, the device under another tenant's path (R1)
    other = await make_tenant(database, "Other")
    for attempt in (
        call(database, tenant, Ed25519PrivateKey.generate(), report),
        call(database, tenant, key, report, serial="WPD-9999"),
        call(database, tenant, key, report, tenant_in_path=other.tenant_id),
    ):
        with pytest.raises(DeviceAuthError) as refused:
            await attempt
        assert refused.value.code == "UNAUTHENTICATED"
    # a device of an extension not yet activated (R31)
    async with database.tenant_session(tenant.tenant_id) as s:
        extension = Extension(file_id="EXT-1", content={}, activated=False)
        s.add(extension)
        await s.flush()
        await s.execute(update(RemoteDevice).values(extension_id=extension.id))
        await s.commit()
    with pytest.raises(DeviceAuthError):
        await call(database, tenant, key, report)
    assert await nonces(database, tenant) == 0


async def test_the_fast_path_steps_aside_without_writing_when_the_heartbeat_is_not_quiet(
    database: Database, tenant: NewTenant
) -> None:
    key = Ed25519PrivateKey.generate()
    device_id = await add_device(database, tenant, key)
    version = await current_list_version(database, tenant)
    # the device does not hold the current list (R21)
    assert await call(database, tenant, key, {"blockingListVersion": version - 1}) is None
    assert await call(database, tenant, key, {}) is None
    # the list is an hour old: it is reissued on the ORM path
    async with database.tenant_session(tenant.tenant_id) as s:
        await s.execute(update(BlockingList).values(issued_at=utcnow() - timedelta(hours=2)))
        await s.commit()
    assert await call(database, tenant, key, {"blockingListVersion": version}) is None
    version = await current_list_version(database, tenant)
    # firmware is due for the device (R25)
    async with database.tenant_session(tenant.tenant_id) as s:
        bundle = CertificateBundle(name="Bundle 1")
        s.add(bundle)
        await s.flush()
        image = b"\x00" * 64
        firmware = Firmware(
            target=FirmwareTarget.REMOTE_DEVICE,
            version="5.9.0",
            source=FirmwareSource.MANUAL,
            certificate_bundle_id=bundle.id,
            image=image,
            sha256=hashlib.sha256(image).hexdigest(),
        )
        s.add(firmware)
        await s.flush()
        s.add(
            FirmwareDeployment(device_id=device_id, firmware_id=firmware.id, offset=0, done=False)
        )
        await s.commit()
    assert await call(database, tenant, key, {"blockingListVersion": version}) is None
    # nothing was written by any of them: the ORM path claims the nonce and answers
    assert await nonces(database, tenant) == 0
    assert not (await device_row(database, tenant, device_id)).online


def test_offline_updates_or_a_firmware_report_in_the_body_take_the_orm_path() -> None:
    assert is_quiet(HeartbeatReport(blocking_list_version=3))
    assert not is_quiet(
        HeartbeatReport(offline_updates=[OfflineUpdate("04A1", utcnow(), None)])
    )


async def test_over_http_a_quiet_heartbeat_is_signed_by_the_tenant(
    http: Any, database: Database, tenant: NewTenant
) -> None:
    key = Ed25519PrivateKey.generate()
    await add_device(database, tenant, key)
    version = await current_list_version(database, tenant)
    body = json.dumps({"blockingListVersion": version}).encode()
    path = request_path(tenant.tenant_id, "WPD-0001", "heartbeat")
    headers = sign_request(key, "POST", path, body, now=utcnow())
    response = await http.post(
        path, content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await s.get(Tenant, tenant.tenant_id)
        assert row is not None
    assert verify_answer(
        tenant_public_key(row),
        response.headers["X-Keywarden-Signature"],
        headers["X-Keywarden-Nonce"],
        200,
        response.content,
    )
    assert response.json()["blockingListVersion"] == version
    replay = await http.post(
        path, content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "REPLAYED"


async def test_a_pooled_connection_the_server_closed_is_replaced_without_failing_the_heartbeat(
    database: Database, tenant: NewTenant
) -> None:
    # given quiet heartbeats answered at once, so several connections wait in the pool
    key = Ed25519PrivateKey.generate()
    await add_device(database, tenant, key)
    version = await current_list_version(database, tenant)
    answers = await asyncio.gather(
        *(call(database, tenant, key, {"blockingListVersion": version}) for _ in range(4))
    )
    assert None not in answers
    # when the server ends every session of the application role (a restart, an idle timeout)
    async with database.owner_engine.connect() as owner:
        await owner.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE usename = 'keywarden_app' AND datname = current_database()"
            )
        )
    # then the next heartbeat is answered on a fresh connection
    assert await call(database, tenant, key, {"blockingListVersion": version}) is not None
