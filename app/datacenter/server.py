"""``keywarden datacenter``: a small simulated vendor data center (R2, R25, R31).

The real data center is the vendor's service that delivers firmware and
factory data (extension files) to the installations connected to it. This one
serves signed files from a directory, for development, demos and tests:

- ``<var_dir>/datacenter/*.json`` are offered to every tenant;
- ``<var_dir>/datacenter/<tenant id>/*.json`` to that tenant only (R1: the
  listing and the download of a tenant never show another tenant's files).

A file is offered from its modification time (``offeredAt``): backdating a
file's mtime backdates the offer. Files that are neither a firmware file
(``keywarden-firmware/1``) nor an extension file (``keywarden-extension/1``)
are not offered. ``keywarden factory firmware --out var/datacenter/x.json``
puts a firmware file on offer.

HTTP (JSON):

- ``GET /v1/offers?tenant=<id>``: ``{"offers": [offer, ...]}``, oldest first;
  an offer is ``{"id", "kind": "FIRMWARE"|"EXTENSION", "offeredAt", "size",
  "sha256", "url"}`` plus, for firmware, ``target``, ``version``,
  ``certificateBundle``, and for an extension ``fileId``, ``orderNumber``.
  These are the file's unverified claims; importers check the signed file.
- ``GET /v1/files/<id>?tenant=<id>``: the file's bytes.
- ``POST /v1/offers[?tenant=<id>][&offeredAt=<ISO 8601>]`` (from loopback
  only, the simulator's administration): the body is a firmware or extension
  file signed with the development vendor key (``var_dir/vendor-dev.key``),
  or ``{"firmware": {"target", "version", "certificateBundle", "size",
  "releaseNotes"}}`` for the data center to build and sign a demo image.
  Answers ``201`` with the offer.

Tenants are not authenticated here: a real data center authenticates each
installation; the simulator trusts the ``tenant`` parameter.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.errors import DomainError
from app.factory import extension_file
from app.factory import firmware as firmware_file
from app.factory.vendor import load_or_create_dev_vendor_key, public_key_hex

log = logging.getLogger("keywarden.datacenter")

DIRECTORY = "datacenter"
FIRMWARE = "FIRMWARE"
EXTENSION = "EXTENSION"
# Largest file the simulator accepts on POST.
MAX_FILE_BYTES = 64 * 1024 * 1024
_TENANT = re.compile(r"[A-Za-z0-9-]{1,64}")
_OFFER_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class OfferedFile:
    """One file on offer: where it lies, for whom, since when, and what it claims to be."""

    id: str
    path: Path
    tenant: str | None
    kind: str
    offered_at: datetime
    size: int
    sha256: str
    claims: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "offeredAt": self.offered_at.isoformat(),
            "size": self.size,
            "sha256": self.sha256,
            "url": f"/v1/files/{self.id}",
            **self.claims,
        }


def describe(data: bytes) -> tuple[str, dict[str, Any]] | None:
    """The kind of a signed file and what it claims (unverified), or None if it is neither."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    if document.get("format") == firmware_file.FORMAT:
        header = document.get("header")
        if not isinstance(header, dict):
            return None
        return FIRMWARE, {
            "target": header.get("target"),
            "version": header.get("version"),
            "certificateBundle": header.get("certificateBundle"),
        }
    if document.get("format") == extension_file.FORMAT:
        payload = document.get("payload")
        if not isinstance(payload, dict):
            return None
        return EXTENSION, {
            "fileId": payload.get("fileId"),
            "orderNumber": payload.get("orderNumber"),
        }
    return None


class OfferStore:
    """The offered files under ``<var_dir>/datacenter`` (see the module docstring)."""

    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir
        self.root = var_dir / DIRECTORY
        self._cache: dict[Path, tuple[tuple[int, int], OfferedFile | None]] = {}

    def offers(self, tenant: str) -> list[OfferedFile]:
        """Files offered to ``tenant`` (every tenant's and its own), oldest first."""
        found: list[OfferedFile] = []
        for directory, owner in ((self.root, None), (self.root / tenant, tenant)):
            if not directory.is_dir():
                continue
            for path in sorted(directory.glob("*.json")):
                offered = self._read(path, owner)
                if offered is not None:
                    found.append(offered)
        unique = {o.id: o for o in found}
        return sorted(unique.values(), key=lambda o: (o.offered_at, o.id))

    def find(self, tenant: str, offer_id: str) -> OfferedFile | None:
        """The file ``offer_id`` if it is offered to ``tenant``."""
        return next((o for o in self.offers(tenant) if o.id == offer_id), None)

    def put(self, data: bytes, *, tenant: str | None, offered_at: datetime | None) -> OfferedFile:
        """Offer a file (to one tenant or to all), from ``offered_at`` (default: now)."""
        directory = self.root / tenant if tenant else self.root
        directory.mkdir(parents=True, exist_ok=True)
        offer_id = hashlib.sha256(data).hexdigest()[:32]
        path = directory / f"{offer_id}.json"
        tmp = directory / f".{offer_id}.{secrets.token_hex(4)}.tmp"
        tmp.write_bytes(data)
        if offered_at is not None:
            stamp = offered_at.timestamp()
            os.utime(tmp, (stamp, stamp))
        os.replace(tmp, path)
        offered = self._read(path, tenant)
        assert offered is not None  # the caller checked the format
        return offered

    def _read(self, path: Path, tenant: str | None) -> OfferedFile | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        signature = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == signature:
            return cached[1]
        data = path.read_bytes()
        described = describe(data)
        offered = None
        if described is None:
            log.warning("%s is neither a firmware nor an extension file: not offered", path)
        else:
            kind, claims = described
            offered = OfferedFile(
                id=hashlib.sha256(data).hexdigest()[:32],
                path=path,
                tenant=tenant,
                kind=kind,
                offered_at=datetime.fromtimestamp(stat.st_mtime, UTC),
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                claims=claims,
            )
        self._cache[path] = (signature, offered)
        return offered


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status)


def _tenant(request: Request, *, required: bool) -> str | None:
    tenant = request.query_params.get("tenant")
    if tenant is None or tenant == "":
        if required:
            raise _BadRequest("name the tenant: ?tenant=<id>")
        return None
    if not _TENANT.fullmatch(tenant):
        raise _BadRequest("tenant: not a tenant id")
    return tenant


class _BadRequest(Exception):
    pass


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(var_dir: Path) -> Starlette:
    """The data center's ASGI app over ``<var_dir>/datacenter`` (see the module docstring)."""
    store = OfferStore(var_dir)
    signing_key = load_or_create_dev_vendor_key(var_dir)
    vendor = public_key_hex(signing_key)

    async def list_offers(request: Request) -> Response:
        try:
            tenant = _tenant(request, required=True)
        except _BadRequest as exc:
            return _problem(400, str(exc))
        assert tenant is not None
        return JSONResponse({"offers": [o.as_json() for o in store.offers(tenant)]})

    async def get_file(request: Request) -> Response:
        try:
            tenant = _tenant(request, required=True)
        except _BadRequest as exc:
            return _problem(400, str(exc))
        assert tenant is not None
        offer_id = request.path_params["offer_id"]
        offered = store.find(tenant, offer_id) if _OFFER_ID.fullmatch(offer_id) else None
        if offered is None:
            return _problem(404, "no such file on offer for this tenant")
        return Response(offered.path.read_bytes(), media_type="application/json")

    async def post_offer(request: Request) -> Response:
        if not _is_loopback(request):
            return _problem(403, "offers are put up from the data center's own host only")
        try:
            tenant = _tenant(request, required=False)
            offered_at = _offered_at(request.query_params.get("offeredAt"))
        except _BadRequest as exc:
            return _problem(400, str(exc))
        body = await request.body()
        if len(body) > MAX_FILE_BYTES:
            return _problem(413, f"larger than {MAX_FILE_BYTES} bytes")
        try:
            data = _file_to_offer(body, signing_key, vendor)
        except _BadRequest as exc:
            return _problem(400, str(exc))
        offered = store.put(data, tenant=tenant, offered_at=offered_at)
        log.info("offered %s %s to %s", offered.kind, offered.id, tenant or "every tenant")
        return JSONResponse(offered.as_json(), 201)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "vendorKey": vendor})

    return Starlette(
        routes=[
            Route("/v1/offers", list_offers, methods=["GET"]),
            Route("/v1/offers", post_offer, methods=["POST"]),
            Route("/v1/files/{offer_id}", get_file, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ]
    )


def _offered_at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _BadRequest(f"offeredAt: not an ISO 8601 time: {text!r}") from exc
    if value.tzinfo is None:
        raise _BadRequest("offeredAt: give the UTC offset")
    return value


def _file_to_offer(body: bytes, signing_key: Ed25519PrivateKey, vendor: str) -> bytes:
    """The signed file a POST offers: the body itself, or a demo firmware file built from it."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise _BadRequest("the body is not JSON") from exc
    if isinstance(document, dict) and isinstance(document.get("firmware"), dict):
        spec = document["firmware"]
        try:
            target = str(spec["target"])
            version = str(spec["version"])
            size = int(spec.get("size", 64 * 1024))
            if not 1 <= size <= MAX_FILE_BYTES // 2:
                raise ValueError(f"size must be 1..{MAX_FILE_BYTES // 2} bytes")
            image = firmware_file.demo_image(target, version, size)
            return firmware_file.make_firmware_file(
                target=target,
                version=version,
                image=image,
                certificate_bundle=str(spec.get("certificateBundle", "Default CCB")),
                release_notes=str(spec.get("releaseNotes", "")),
                signing_key=signing_key,
            )
        except (KeyError, ValueError) as exc:
            raise _BadRequest(f"firmware: {exc}") from exc
        except DomainError as exc:
            raise _BadRequest(exc.message) from exc
    described = describe(body)
    if described is None:
        raise _BadRequest("the body is neither a firmware nor an extension file")
    try:
        if described[0] == FIRMWARE:
            firmware_file.verify_firmware_file(body, [vendor])
        else:
            extension_file.verify_extension_file(body, [vendor])
    except DomainError as exc:
        raise _BadRequest(f"{exc.code}: {exc.message}") from exc
    return body


def main(host: str, port: int, var_dir: Path) -> int:
    """Serve the simulated data center until interrupted (``keywarden datacenter``)."""
    import uvicorn

    app = create_app(var_dir)
    (var_dir / DIRECTORY).mkdir(parents=True, exist_ok=True)
    print(
        f"data center on http://{host}:{port}: offering files from {var_dir / DIRECTORY}; "
        f"vendor key {public_key_hex(load_or_create_dev_vendor_key(var_dir))}"
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
    return 0
