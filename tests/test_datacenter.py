"""R2, R25, R31: the simulated vendor data center, and connected tenants polling it.

The data center runs for real (uvicorn on a loopback port, in a thread); the
poll talks to it over HTTP. Offers are made to the tests' own tenants, so the
tenants of other tests are not concerned.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from app.config import Settings
from app.datacenter.poll import DataCenterClient, PollReport, poll_data_center, poll_tenant
from app.datacenter.server import create_app
from app.db import Database
from app.factory.extension_file import make_extension_file
from app.factory.firmware import demo_image, make_firmware_file, verify_firmware_file
from app.factory.vendor import DEV_VENDOR_KEY_FILE, load_or_create_dev_vendor_key, public_key_hex
from app.models import (
    CertificateBundle,
    Employee,
    Extension,
    Firmware,
    FirmwareSource,
    OutboxMessage,
    ProgrammingKey,
    ProgrammingKeyKind,
    ProgrammingKeyRole,
)
from app.tenants.service import NewTenant
from app.workers.broker import InProcessWorker, configure_broker
from app.workers.datacenter import poll_data_center as poll_actor
from tests.conftest import make_tenant
from tests.harness import listening_socket, patience, refused_port
from tests.processes import ThreadedServer

OFFERED_AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BUNDLE = "CCB 7F01"


class DataCenter(ThreadedServer):
    """``keywarden datacenter``'s app served by uvicorn on a loopback port of its own."""

    def __init__(self, var_dir: Path) -> None:
        super().__init__(create_app(var_dir), lifespan="off", ws="none")
        self.var_dir = var_dir

    def request(
        self, method: str, path: str, body: bytes | None = None, **query: str
    ) -> tuple[int, bytes]:
        url = f"{self.url}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        request = urllib.request.Request(url, data=body, method=method)
        try:
            with urllib.request.urlopen(request, timeout=patience(10)) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def offer(self, data: bytes, tenant: NewTenant, offered_at: datetime = OFFERED_AT) -> str:
        status, body = self.request(
            "POST", "/v1/offers", data, tenant=tenant.tenant_id, offeredAt=offered_at.isoformat()
        )
        assert status == 201, body
        return str(json.loads(body)["id"])


@pytest.fixture(scope="module")
def data_center(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DataCenter]:
    # The data center signs with the development vendor key the test tenants trust.
    var_dir = tmp_path_factory.mktemp("datacenter")
    load_or_create_dev_vendor_key(settings.var_dir)
    shutil.copy(settings.var_dir / DEV_VENDOR_KEY_FILE, var_dir / DEV_VENDOR_KEY_FILE)
    center = DataCenter(var_dir).start()
    yield center
    center.stop()


async def connected_tenant(
    database: Database, vendor: Ed25519PrivateKey, name: str, *, connected: bool = True
) -> NewTenant:
    t = await make_tenant(
        database, name, data_center_connected=connected, vendor_public_keys=[public_key_hex(vendor)]
    )
    async with database.tenant_session(t.tenant_id) as s:
        employee = Employee(
            domain_id=t.default_domain_id, first_name="Sam", last_name="Super",
            email=f"super@{name.lower().replace(' ', '-')}.test",
        )
        s.add(employee)
        await s.flush()
        key = ProgrammingKey(
            marking="PR-1", uid=f"PR-{t.tenant_id}", kind=ProgrammingKeyKind.MAIN,
            firmware_version="12.3.0", holder_id=employee.id, public_key=bytes(32),
        )
        s.add(key)
        await s.flush()
        s.add(ProgrammingKeyRole(programming_key_id=key.id, role_id=t.superadmin_role_id))
        await s.commit()
    return t


def firmware(vendor: Ed25519PrivateKey, version: str = "16.3.7") -> bytes:
    return make_firmware_file(
        target="KEY_GEN2",
        version=version,
        image=demo_image("KEY_GEN2", version, 3000),
        certificate_bundle=BUNDLE,
        signing_key=vendor,
    )


def extension(vendor: Ed25519PrivateKey, marking: str) -> bytes:
    keys = [{"marking": marking, "uid": f"UID-{marking}", "type": "E3", "generation": "GEN2",
             "firmwareVersion": "16.3.7"}]
    return make_extension_file(keys=keys, signing_key=vendor, order_number=f"ORD-{marking}")


async def count(database: Database, t: NewTenant, model: type, *where: Any) -> int:
    async with database.tenant_session(t.tenant_id) as s:
        stmt = select(func.count()).select_from(model)
        for condition in where:
            stmt = stmt.where(condition)
        return int(await s.scalar(stmt) or 0)


def of(report: PollReport, t: NewTenant) -> dict[str, list[Any]]:
    """The report's entries for one tenant (other tests' connected tenants are polled too)."""
    return {
        "imported": sorted((o, k) for tid, o, k in report.imported if tid == t.tenant_id),
        "waiting": sorted(o for tid, o, _ in report.waiting if tid == t.tenant_id),
        "skipped": sorted(o for tid, o in report.skipped if tid == t.tenant_id),
        "failed": [(o, r) for tid, o, r in report.failed if tid == t.tenant_id],
    }


# --- the data center ---------------------------------------------------------------------


async def test_offers_are_listed_and_served_to_their_tenant_only(
    data_center: DataCenter, database: Database, vendor: Ed25519PrivateKey
) -> None:
    # given: the data center builds and signs a firmware file for one tenant
    mine = await make_tenant(database, "Mine")
    theirs = await make_tenant(database, "Theirs")
    spec = {"firmware": {"target": "REMOTE_DEVICE", "version": "5.3", "certificateBundle": BUNDLE,
                         "size": 2048}}
    status, body = data_center.request(
        "POST", "/v1/offers", json.dumps(spec).encode(), tenant=mine.tenant_id
    )
    assert status == 201, body
    offer_id = json.loads(body)["id"]

    # when
    _, listed_mine = data_center.request("GET", "/v1/offers", tenant=mine.tenant_id)
    _, listed_theirs = data_center.request("GET", "/v1/offers", tenant=theirs.tenant_id)
    got_mine, file_mine = data_center.request(
        "GET", f"/v1/files/{offer_id}", tenant=mine.tenant_id
    )
    got_theirs, _ = data_center.request("GET", f"/v1/files/{offer_id}", tenant=theirs.tenant_id)

    # then (R1)
    [offer] = json.loads(listed_mine)["offers"]
    assert (offer["kind"], offer["target"]) == ("FIRMWARE", "REMOTE_DEVICE")
    assert offer["version"] == "5.3"
    assert offer["certificateBundle"] == BUNDLE
    assert json.loads(listed_theirs)["offers"] == []
    assert (got_mine, got_theirs) == (200, 404)
    verified = verify_firmware_file(file_mine, [public_key_hex(vendor)])
    assert verified.image == demo_image("REMOTE_DEVICE", "5.3", 2048)


async def test_files_are_put_on_offer_from_loopback_only(tmp_path: Path) -> None:
    # given: the app, reached from another host
    app = create_app(tmp_path)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))

    # when
    async with httpx.AsyncClient(transport=transport, base_url="http://dc") as http:
        response = await http.post("/v1/offers", content=b'{"firmware": {}}')

    # then
    assert response.status_code == 403
    assert not (tmp_path / "datacenter").exists()


async def test_a_file_not_signed_by_the_vendor_is_not_put_on_offer(
    data_center: DataCenter, database: Database
) -> None:
    # given
    t = await make_tenant(database, "Careful")
    forged = firmware(Ed25519PrivateKey.generate())

    # when
    status, body = data_center.request("POST", "/v1/offers", forged, tenant=t.tenant_id)

    # then
    assert status == 400
    assert b"BAD_SIGNATURE" in body
    _, listed = data_center.request("GET", "/v1/offers", tenant=t.tenant_id)
    assert json.loads(listed)["offers"] == []


# --- the poll ------------------------------------------------------------------------------


async def test_extensions_are_imported_at_once_and_firmware_24_hours_after_its_offer(
    data_center: DataCenter, database: Database, settings: Settings, vendor: Ed25519PrivateKey
) -> None:
    # given: a connected tenant and a purchased, unconnected one, offered the same files
    connected = await connected_tenant(database, vendor, "Connected Co")
    unconnected = await connected_tenant(database, vendor, "Own Server Co", connected=False)
    fw, ext = firmware(vendor), extension(vendor, "DC-K1")
    firmware_offer = data_center.offer(fw, connected)
    extension_offer = data_center.offer(ext, connected)
    data_center.offer(fw, unconnected)
    data_center.offer(ext, unconnected)

    # when: an hour after the offer
    early = of(
        await poll_data_center(
            database, settings, now=OFFERED_AT + timedelta(hours=1), url=data_center.url
        ),
        connected,
    )

    # then: the extension is in (R31), the firmware waits (R25)
    assert early["imported"] == [(extension_offer, "EXTENSION")]
    assert early["waiting"] == [firmware_offer]
    assert early["failed"] == []
    assert await count(database, connected, Extension) == 1
    assert await count(database, connected, Firmware) == 0

    # when: 25 hours after the offer
    late = of(
        await poll_data_center(
            database, settings, now=OFFERED_AT + timedelta(hours=25), url=data_center.url
        ),
        connected,
    )

    # then: the firmware is imported from the data center into the bundle it names
    assert late["imported"] == [(firmware_offer, "FIRMWARE")]
    assert late["skipped"] == [extension_offer]
    async with database.tenant_session(connected.tenant_id) as s:
        row = await s.scalar(select(Firmware))
        assert row is not None
        assert (row.target.name, row.version, row.source) == (
            "KEY_GEN2", "16.3.7", FirmwareSource.DATA_CENTER
        )
        bundle = await s.scalar(select(CertificateBundle.name))
        assert bundle == BUNDLE

    # when: polled once more
    again = of(
        await poll_data_center(
            database, settings, now=OFFERED_AT + timedelta(hours=26), url=data_center.url
        ),
        connected,
    )

    # then: nothing twice (idempotent), one e-mail per import (R25, R31, R33)
    assert again["imported"] == []
    assert again["skipped"] == sorted([firmware_offer, extension_offer])
    assert await count(database, connected, Firmware) == 1
    assert await count(database, connected, Extension) == 1
    mails = await count(database, connected, OutboxMessage)
    kinds = await _mail_kinds(database, connected)
    assert mails == 2
    assert kinds == ["extension_imported", "firmware_imported"]
    # and the unconnected tenant was never polled (R2)
    assert await count(database, unconnected, Firmware) == 0
    assert await count(database, unconnected, Extension) == 0
    assert await count(database, unconnected, OutboxMessage) == 0


async def _mail_kinds(database: Database, t: NewTenant) -> list[str]:
    async with database.tenant_session(t.tenant_id) as s:
        return sorted(await s.scalars(select(OutboxMessage.kind)))


async def test_a_tampered_offer_is_refused_reported_and_tried_again(
    data_center: DataCenter, database: Database, settings: Settings, vendor: Ed25519PrivateKey
) -> None:
    # given: a firmware file altered on the data center's disk, offered two days ago
    t = await connected_tenant(database, vendor, "Tampered Co")
    document = json.loads(firmware(vendor, "16.4"))
    image = bytearray(base64.b64decode(document["image"]))
    image[0] ^= 1
    document["image"] = base64.b64encode(bytes(image)).decode()
    directory = data_center.var_dir / "datacenter" / t.tenant_id
    directory.mkdir(parents=True)
    path = directory / "tampered.json"
    path.write_text(json.dumps(document))
    stamp = (OFFERED_AT - timedelta(days=2)).timestamp()
    await asyncio.to_thread(_touch, path, stamp)

    # when: polled twice
    reports = [
        of(await poll_data_center(database, settings, now=OFFERED_AT, url=data_center.url), t)
        for _ in range(2)
    ]

    # then
    for report in reports:
        [(_, reason)] = report["failed"]
        assert reason.startswith("BAD_SIGNATURE")
        assert report["skipped"] == []
    assert await count(database, t, Firmware) == 0
    assert await count(database, t, CertificateBundle) == 0


def _touch(path: Path, stamp: float) -> None:
    import os

    os.utime(path, (stamp, stamp))


async def test_an_unreachable_data_center_is_reported_per_tenant(
    database: Database, settings: Settings, vendor: Ed25519PrivateKey
) -> None:
    # given: nothing listens there
    t = await connected_tenant(database, vendor, "Offline Co")

    # when
    with refused_port() as port:
        report = of(
            await poll_data_center(database, settings, url=f"http://127.0.0.1:{port}"), t
        )

    # then
    [(offer_id, reason)] = report["failed"]
    assert offer_id is None
    assert "unavailable" in reason


async def test_a_data_center_that_never_answers_costs_the_poll_one_timeout(
    database: Database, settings: Settings, vendor: Ed25519PrivateKey
) -> None:
    # given: a server that accepts the connection and then says nothing
    t = await connected_tenant(database, vendor, "Silent Co")
    silent = listening_socket()
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"

    # when
    started = time.monotonic()
    try:
        async with DataCenterClient(url, timeout=0.5) as client:
            report = of(await poll_tenant(database, settings, t.tenant_id, client=client), t)
    finally:
        silent.close()

    # then
    [(offer_id, reason)] = report["failed"]
    assert offer_id is None
    assert "unavailable: ReadTimeout" in reason
    assert time.monotonic() - started < patience(10)


async def test_a_refused_request_is_reported_with_its_status(
    data_center: DataCenter, database: Database, settings: Settings, vendor: Ed25519PrivateKey
) -> None:
    # given: a path the data center does not serve
    t = await connected_tenant(database, vendor, "Wrong Path Co")

    # when
    report = of(await poll_data_center(database, settings, url=f"{data_center.url}/nowhere"), t)

    # then
    [(_, reason)] = report["failed"]
    assert "HTTP 404" in reason


async def test_the_poll_actor_imports_for_connected_tenants_through_the_queue(
    data_center: DataCenter,
    database: Database,
    settings: Settings,
    vendor: Ed25519PrivateKey,
) -> None:
    # given: the workers find the data center through their settings
    t = await connected_tenant(database, vendor, "Queued Co")
    offer_id = data_center.offer(extension(vendor, "Q-K1"), t, datetime.now(UTC))

    # when: the poll is sent and the in-process worker runs it, and its per-tenant messages
    # (the outbox sender finds no SMTP server and keeps the e-mail)
    with refused_port() as no_smtp:
        worker_settings = settings.model_copy(
            update={"datacenter_url": data_center.url, "smtp_port": no_smtp}
        )
        try:
            with InProcessWorker(worker_settings, periodic=False) as worker:
                poll_actor.send()
                # All connected tenants of the session are polled, and every due e-mail
                # tried: on a busy machine that takes longer than the default half minute.
                await asyncio.to_thread(worker.join, timeout_ms=round(patience(60) * 1000))
        finally:
            configure_broker(settings)

    # then
    async with database.tenant_session(t.tenant_id) as s:
        file_ids = list(await s.scalars(select(Extension.file_id)))
    assert len(file_ids) == 1
    _, listed = data_center.request("GET", "/v1/offers", tenant=t.tenant_id)
    assert [o["fileId"] for o in json.loads(listed)["offers"] if o["id"] == offer_id] == file_ids
    assert await _mail_kinds(database, t) == ["extension_imported"]
