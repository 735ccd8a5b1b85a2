"""Polling the vendor's data center for connected tenants (R2, R25, R31).

For every tenant connected to the data center (``Tenant.data_center_connected``)
the poll lists the files offered to it (``GET /v1/offers?tenant=<id>``, see
``app.datacenter.server``) and:

- imports an offered **firmware** file 24 hours after it was offered (R25,
  FAQ: the vendor can still withdraw it meanwhile), source DATA_CENTER, into
  the certificate bundle it is built for; Superadmins are e-mailed;
- imports an offered **extension** file at once (R31); Superadmins and Admins
  are e-mailed that it waits for activation.

Each file is imported in a transaction of its own, with its e-mails (outbox,
R33), after which ``notify_outbox()`` asks a worker to send them. The poll is
idempotent: a file imported before (the same firmware target, version and
bundle; the same extension file id) is skipped, so a poll repeated, or a
worker killed and its message redelivered, imports nothing twice. A file the
tenant refuses (bad signature, invalid, conflicting elements) is reported in
:class:`PollReport` and tried again at the next poll.

The data center's address is ``KEYWARDEN_DATACENTER_URL`` (default
``http://127.0.0.1:8900``, where ``keywarden datacenter`` listens).
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Self

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db import Database
from app.errors import DomainError
from app.factory import extension_file
from app.factory import firmware as firmware_file
from app.factory.extension import import_extension
from app.firmware.imports import existing_firmware_id, import_firmware_from_data_center
from app.models import CertificateBundle, Extension, FirmwareTarget, Tenant, utcnow
from app.workers.outbox import notify_outbox

log = logging.getLogger("keywarden.datacenter")

# R25: offered firmware is imported 24 hours after it appears.
FIRMWARE_DELAY = timedelta(hours=24)
HTTP_TIMEOUT_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 5.0
# Largest file downloaded from the data center.
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
FIRMWARE = "FIRMWARE"
EXTENSION = "EXTENSION"


class DataCenterError(Exception):
    """The data center could not be reached, or answered something unusable."""


@dataclass(frozen=True)
class Offer:
    """A file the data center offers a tenant, with what it claims to be (checked at import)."""

    id: str
    kind: str
    offered_at: datetime
    size: int
    sha256: str
    claims: dict[str, Any]

    @classmethod
    def from_json(cls, item: Any) -> Offer:
        """Read one entry of ``GET /v1/offers``; ``DataCenterError`` when malformed."""
        try:
            offered_at = datetime.fromisoformat(item["offeredAt"])
            if offered_at.tzinfo is None:
                raise ValueError("offeredAt without UTC offset")
            known = {"id", "kind", "offeredAt", "size", "sha256", "url"}
            return cls(
                id=str(item["id"]),
                kind=str(item["kind"]),
                offered_at=offered_at,
                size=int(item["size"]),
                sha256=str(item["sha256"]),
                claims={k: v for k, v in item.items() if k not in known},
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise DataCenterError(f"malformed offer {item!r:.200}: {exc}") from exc


class DataCenterClient:
    """The data center's HTTP API over one ``httpx.AsyncClient``; use it with ``async with``.

    Every request has a timeout (``HTTP_TIMEOUT_SECONDS`` for each read and the
    whole connection set-up within ``CONNECT_TIMEOUT_SECONDS``), answers are read
    as they stream in up to a limit, and anything but 200 is a ``DataCenterError``.
    """

    def __init__(self, url: str, *, timeout: float = HTTP_TIMEOUT_SECONDS) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_SECONDS)),
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.aclose()

    async def offers(self, tenant_id: str) -> list[Offer]:
        """The files offered to the tenant."""
        body = await self._get("/v1/offers", tenant_id, MAX_DOWNLOAD_BYTES)
        try:
            items = json.loads(body)["offers"]
        except (ValueError, KeyError, TypeError) as exc:
            raise DataCenterError(f"the offer list is not JSON with 'offers': {exc}") from exc
        if not isinstance(items, list):
            raise DataCenterError("'offers' is not a list")
        return [Offer.from_json(item) for item in items]

    async def download(self, tenant_id: str, offer: Offer) -> bytes:
        """The offered file, checked against the offer's size and SHA-256."""
        if offer.size > MAX_DOWNLOAD_BYTES:
            raise DataCenterError(f"the file is {offer.size} bytes, more than we download")
        data = await self._get(
            f"/v1/files/{urllib.parse.quote(offer.id, safe='')}", tenant_id, offer.size + 1
        )
        if len(data) != offer.size or hashlib.sha256(data).hexdigest() != offer.sha256:
            raise DataCenterError("the downloaded file does not match its offer's size and hash")
        return data

    async def _get(self, path: str, tenant_id: str, limit: int) -> bytes:
        data = bytearray()
        try:
            async with self.client.stream(
                "GET", f"{self.url}{path}", params={"tenant": tenant_id}
            ) as response:
                if response.status_code != 200:
                    raise DataCenterError(
                        f"data center {self.url} unavailable: HTTP {response.status_code} "
                        f"for {path}"
                    )
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise DataCenterError(f"the answer to {path} is larger than {limit} bytes")
        except httpx.HTTPError as exc:
            raise DataCenterError(
                f"data center {self.url} unavailable: {type(exc).__name__} {exc}"
            ) from exc
        return bytes(data)


@dataclass
class PollReport:
    """What one poll did, by (tenant id, offer id)."""

    tenants: list[str] = field(default_factory=list)
    imported: list[tuple[str, str, str]] = field(default_factory=list)  # + kind
    waiting: list[tuple[str, str, datetime]] = field(default_factory=list)  # + due time
    skipped: list[tuple[str, str]] = field(default_factory=list)  # imported before
    failed: list[tuple[str, str | None, str]] = field(default_factory=list)  # + reason

    def merge(self, other: PollReport) -> None:
        self.tenants += other.tenants
        self.imported += other.imported
        self.waiting += other.waiting
        self.skipped += other.skipped
        self.failed += other.failed


async def connected_tenant_ids(database: Database) -> list[str]:
    """The tenants connected to the data center (R2), read across tenants by the owner."""
    async with database.system_session() as session:
        return list(
            await session.scalars(
                select(Tenant.id)
                .where(Tenant.data_center_connected.is_(True))
                .order_by(Tenant.id)
            )
        )


async def poll_data_center(
    database: Database,
    settings: Settings,
    *,
    now: datetime | None = None,
    url: str | None = None,
) -> PollReport:
    """Poll the data center for every connected tenant and import what is due (R2, R25, R31).

    ``now`` (default: the current time) decides which firmware offers are 24
    hours old; ``url`` defaults to ``KEYWARDEN_DATACENTER_URL``. One tenant's
    trouble (data center unreachable for it, a refused file) is reported and
    does not stop the others. Commits per imported file.
    """
    report = PollReport()
    async with DataCenterClient(url or settings.datacenter_url) as client:
        for tenant_id in await connected_tenant_ids(database):
            report.merge(await poll_tenant(database, settings, tenant_id, client=client, now=now))
    return report


async def poll_tenant(
    database: Database,
    settings: Settings,
    tenant_id: str,
    *,
    client: DataCenterClient,
    now: datetime | None = None,
) -> PollReport:
    """Poll the data center for one tenant; nothing when it is not connected (R2)."""
    now = now or utcnow()
    report = PollReport()
    async with database.tenant_session(tenant_id) as session:
        connected = await session.scalar(select(Tenant.data_center_connected))
    if not connected:
        return report
    report.tenants.append(tenant_id)
    try:
        offers = await client.offers(tenant_id)
    except DataCenterError as exc:
        log.warning("data center poll for tenant %s failed: %s", tenant_id, exc)
        report.failed.append((tenant_id, None, str(exc)))
        return report
    for offer in offers:
        await _take(database, settings, tenant_id, offer, client, now, report)
    return report


async def _take(
    database: Database,
    settings: Settings,
    tenant_id: str,
    offer: Offer,
    client: DataCenterClient,
    now: datetime,
    report: PollReport,
) -> None:
    if offer.kind not in (FIRMWARE, EXTENSION):
        report.failed.append((tenant_id, offer.id, f"unknown kind of file {offer.kind!r}"))
        return
    if offer.kind == FIRMWARE and now < offer.offered_at + FIRMWARE_DELAY:
        report.waiting.append((tenant_id, offer.id, offer.offered_at + FIRMWARE_DELAY))
        return
    async with database.tenant_session(tenant_id) as session:
        try:
            known = await _imported_before(session, offer)
        except DataCenterError as exc:
            report.failed.append((tenant_id, offer.id, str(exc)))
            return
    if known:
        report.skipped.append((tenant_id, offer.id))
        return
    try:
        data = await client.download(tenant_id, offer)
    except DataCenterError as exc:
        log.warning("data center file %s for tenant %s: %s", offer.id, tenant_id, exc)
        report.failed.append((tenant_id, offer.id, str(exc)))
        return
    async with database.tenant_session(tenant_id) as session:
        try:
            await _import(session, settings, offer, data)
            await session.commit()
        except (DomainError, IntegrityError, DataCenterError) as exc:
            await session.rollback()
            if await _imported_before(session, offer):
                # Another worker imported it meanwhile (at-least-once delivery).
                report.skipped.append((tenant_id, offer.id))
                return
            reason = f"{exc.code}: {exc.message}" if isinstance(exc, DomainError) else str(exc)
            log.warning("tenant %s refused data center file %s: %s", tenant_id, offer.id, reason)
            report.failed.append((tenant_id, offer.id, reason))
            return
    log.info("tenant %s imported %s %s from the data center", tenant_id, offer.kind, offer.id)
    report.imported.append((tenant_id, offer.id, offer.kind))
    notify_outbox()  # Superadmins (firmware) or admins (extension) are told (R25, R31, R33)


async def _imported_before(session: AsyncSession, offer: Offer) -> bool:
    """Whether the tenant has the offered file already, judged by what the offer claims."""
    if offer.kind == EXTENSION:
        file_id = offer.claims.get("fileId")
        if not isinstance(file_id, str):
            raise DataCenterError("the extension offer names no fileId")
        found = await session.scalar(select(Extension.id).where(Extension.file_id == file_id))
        return found is not None
    target, version, bundle_name = _firmware_claims(offer)
    bundle_id = await session.scalar(
        select(CertificateBundle.id).where(CertificateBundle.name == bundle_name)
    )
    if bundle_id is None:
        return False
    return await existing_firmware_id(session, target, version, bundle_id) is not None


def _firmware_claims(offer: Offer) -> tuple[FirmwareTarget, str, str]:
    target = offer.claims.get("target")
    version = offer.claims.get("version")
    bundle = offer.claims.get("certificateBundle")
    if (
        not isinstance(target, str)
        or target not in FirmwareTarget.__members__
        or not isinstance(version, str)
        or not firmware_file.is_version(version)
        or not isinstance(bundle, str)
    ):
        raise DataCenterError("the firmware offer does not name its target, version and bundle")
    return FirmwareTarget[target], version, bundle


async def _import(session: AsyncSession, settings: Settings, offer: Offer, data: bytes) -> None:
    """Import the downloaded file; it must be of the offer's kind and match its claims."""
    try:
        file_format = json.loads(data).get("format")
    except (ValueError, AttributeError, RecursionError) as exc:
        raise DataCenterError("the offered file is not a JSON object") from exc
    expected = firmware_file.FORMAT if offer.kind == FIRMWARE else extension_file.FORMAT
    if file_format != expected:
        raise DataCenterError(f"offered as {offer.kind} but the file is {file_format!r}")
    if offer.kind == EXTENSION:
        result = await import_extension(session, data)
        if result.file_id != offer.claims.get("fileId"):
            raise DataCenterError("the extension file's id is not the one its offer names")
        return
    imported = await import_firmware_from_data_center(
        session, data, max_size=settings.max_upload_bytes
    )
    target, version, bundle = _firmware_claims(offer)
    row = imported.firmware
    if (row.target, row.version, imported.certificate_bundle.name) != (target, version, bundle):
        raise DataCenterError("the firmware file is not the target, version and bundle offered")
