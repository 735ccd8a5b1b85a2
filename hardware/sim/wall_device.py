"""A simulated wall programming device (R22–R24) that talks to the real endpoint over HTTP.

It signs its requests with its Ed25519 private key as a real device would
(``hardware.sim.device_crypto``), checks that every answer is signed by its tenant,
keeps the last blocking list after verifying its signature (R21), and, when it
cannot reach the server (``online=False``), decides offline updates by its
offline settings (R24): at most ``maxOfflineUpdates`` per key after the key's
last online update, no later than ``maxHoursSinceOnlineUpdate`` after it, only
while its blocking list is younger than ``blockingListValidityHours`` and the
key is not on it, each extending the key by ``offlineExtensionHours``. The
offline updates it grants go to the server with its next heartbeat.

A real key carries its last online update and offline-update count in its own
memory; the simulator keeps them per key UID on the device (``keys``), so a
story with one device behaves as the hardware would.

Firmware (R25) arrives in chunks with the heartbeats: the device writes each
chunk to its flash (``firmware_transfer``), reports the offset it holds with
the next heartbeat, checks the SHA-256 once the last chunk is in, installs the
image (its bootloader or firmware version changes) and reports it done. What
survives a power loss is what :meth:`SimulatedWallDevice.state` holds: a device
that loses power mid-transfer (:meth:`~SimulatedWallDevice.lose_power_during_heartbeat`)
resumes from the bytes it has. A transfer the server interrupts for another
image (its own bootloader or firmware goes before a key image) is kept aside
and resumed from its offset once that one is done.

Key firmware (R26): an updater device receives key images the same way, but
keeps them apart from its own firmware (``key_firmware_images``, by
firmwareId, SHA-256 checked once the last chunk is in; its own versions stay).
A key inserted with a FIRMWARE job is flashed from the stored image the answer
names (``keyFirmwareImage``); a device that does not hold it refuses with
:class:`SimulatorError` (the server never sends such a job, R26), and an
answer's ``firmwarePending`` is what the device shows while the image is still
on its way. :meth:`~SimulatedWallDevice.complete` with ``interrupted=True``
reports a key pulled out during its update.

Usable from tests and later tools::

    device = SimulatedWallDevice("http://127.0.0.1:8000", tenant_id, "WPD-0001", private_key)
    await device.heartbeat()
    answer = await device.insert_key("04A1B2C3D4", "16.3.7")
    await device.complete(answer)            # report every delivered job DONE
    await device.receive_firmware()          # heartbeats until no firmware is due (R25)
    await device.aclose()

and from the command line: ``python -m hardware.sim wall --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from hardware.sim.device_crypto import answer_is_signed, blocking_list_is_signed, sign_request
from hardware.wire import (
    MAX_OFFLINE_UPDATES_PER_HEARTBEAT,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    is_version,
    parse_timestamp,
    request_path,
    rfc3339,
    version_at_least,
)

JSON_HEADERS = {"Content-Type": "application/json"}
# What a device reports for a job the key left mid-write (docs/remote-protocol.md, R26).
INTERRUPTED = "INTERRUPTED"
# Heartbeats ``receive_firmware`` makes at most before it gives up.
MAX_FIRMWARE_HEARTBEATS = 10_000


def _now() -> datetime:
    return datetime.now(UTC)


class SimulatorError(Exception):
    """The server's answer cannot be trusted (unsigned, wrongly signed, bad blocking list)."""


class DeviceRefused(SimulatorError):
    """The server refused a request: HTTP ``status`` with the error ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass
class KeyRecord:
    """What a key remembers of its updates (kept by the simulator per UID, see module doc)."""

    last_online_update: datetime | None = None
    offline_updates: int = 0
    valid_until: datetime | None = None


@dataclass
class FirmwareTransfer:
    """An image the device is receiving, written to its flash chunk by chunk (R25).

    ``installed`` once all of it arrived, its SHA-256 matched and it was
    installed: the device reports it done until the server confirms.
    """

    firmware_id: int
    target: str
    version: str
    total: int
    sha256: str
    received: bytearray = field(default_factory=bytearray)
    installed: bool = False
    checksum_failures: int = 0

    @property
    def offset(self) -> int:
        """The bytes the device holds: where the next chunk starts."""
        return len(self.received)

    def report(self) -> dict[str, Any]:
        """The heartbeat's ``firmware`` field."""
        return {"firmwareId": self.firmware_id, "offset": self.offset, "done": self.installed}

    def state(self) -> dict[str, Any]:
        return {
            "firmwareId": self.firmware_id,
            "target": self.target,
            "version": self.version,
            "total": self.total,
            "sha256": self.sha256,
            "received": base64.b64encode(bytes(self.received)).decode("ascii"),
            "installed": self.installed,
            "checksumFailures": self.checksum_failures,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> FirmwareTransfer:
        return cls(
            firmware_id=state["firmwareId"],
            target=state["target"],
            version=state["version"],
            total=state["total"],
            sha256=state["sha256"],
            received=bytearray(base64.b64decode(state["received"])),
            installed=state["installed"],
            checksum_failures=state.get("checksumFailures", 0),
        )


@dataclass(frozen=True)
class KeyFirmwareImage:
    """A key firmware image an updater device holds to flash keys with (R26)."""

    firmware_id: int
    target: str
    version: str
    sha256: str
    image: bytes

    def state(self) -> dict[str, Any]:
        return {
            "firmwareId": self.firmware_id,
            "target": self.target,
            "version": self.version,
            "sha256": self.sha256,
            "image": base64.b64encode(self.image).decode("ascii"),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> KeyFirmwareImage:
        return cls(
            firmware_id=state["firmwareId"],
            target=state["target"],
            version=state["version"],
            sha256=state["sha256"],
            image=base64.b64decode(state["image"]),
        )


@dataclass(frozen=True)
class KeyFlash:
    """A key flashed at the device from a stored key image (R26), for tests."""

    key_uid: str
    firmware_id: int
    version: str
    size: int


@dataclass(frozen=True)
class ReceivedChunk:
    """A firmware chunk the device wrote (for tests: where transfers started and resumed)."""

    firmware_id: int
    offset: int
    length: int


@dataclass
class SentRequest:
    """The last request exactly as sent, for replaying it."""

    verb: str
    content: bytes
    headers: dict[str, str]


class SimulatedWallDevice:
    """A wall device of tenant ``tenant_id`` with serial ``serial`` and its private key."""

    def __init__(
        self,
        base_url: str,
        tenant_id: str,
        serial: str,
        private_key: Ed25519PrivateKey,
        *,
        firmware_version: str = "5.2.0",
        bootloader_version: str = "2.1.0",
        tenant_public_key: str | None = None,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tenant_id = tenant_id
        self.serial = serial
        self.private_key = private_key
        self.firmware_version = firmware_version
        self.bootloader_version = bootloader_version
        # Pinned when given (from the device's configuration file); else learnt from the
        # first heartbeat and pinned from then on.
        self.tenant_public_key = tenant_public_key
        self.clock = clock
        self.configuration: dict[str, Any] | None = None
        self.blocking_list: dict[str, Any] | None = None
        self.last_online_at: datetime | None = None
        self.pending_offline_updates: list[dict[str, Any]] = []
        self.keys: dict[str, KeyRecord] = {}
        self.firmware_transfer: FirmwareTransfer | None = None
        # Transfers the server interrupted for another image, resumed once it is done.
        self.paused_transfers: dict[int, FirmwareTransfer] = {}
        # R26: key images held to flash keys with, by firmwareId, and the keys flashed.
        self.key_firmware_images: dict[int, KeyFirmwareImage] = {}
        self.key_flashes: list[KeyFlash] = []
        # Asked of the server with each heartbeat; None: the server's default (4 KiB).
        self.firmware_chunk_size: int | None = None
        self.received_chunks: list[ReceivedChunk] = []
        self.last_request: SentRequest | None = None
        self._client = client
        self._owns_client = client is None

    # --- identity -----------------------------------------------------------------------

    @staticmethod
    def generate_key() -> Ed25519PrivateKey:
        """A new device key pair (its public half goes into the factory data)."""
        return Ed25519PrivateKey.generate()

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key the server stores as ``RemoteDevice.public_key``."""
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    # --- HTTP ---------------------------------------------------------------------------

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10.0)
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client the device opened itself."""
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> SimulatedWallDevice:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def path(self, verb: str) -> str:
        """The request path of ``verb`` for this device."""
        return request_path(self.tenant_id, self.serial, verb)

    async def send(
        self,
        verb: str,
        payload: Mapping[str, Any],
        *,
        nonce: str | None = None,
        at: datetime | None = None,
        private_key: Ed25519PrivateKey | None = None,
    ) -> httpx.Response:
        """POST a signed request and return the raw response (tests use the keyword overrides)."""
        content = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        path = self.path(verb)
        headers = sign_request(
            private_key or self.private_key,
            "POST",
            path,
            content,
            now=at or self.clock(),
            nonce=nonce,
        )
        headers.update(JSON_HEADERS)
        self.last_request = SentRequest(verb, content, headers)
        return await self.client.post(self.base_url + path, content=content, headers=headers)

    async def replay_last(self) -> httpx.Response:
        """Send the last request again, byte for byte: what an eavesdropper would do."""
        if self.last_request is None:
            raise SimulatorError("nothing sent yet")
        sent = self.last_request
        return await self.client.post(
            self.base_url + self.path(sent.verb), content=sent.content, headers=sent.headers
        )

    def _check_answer(self, response: httpx.Response, tenant_key: str | None) -> None:
        signature = response.headers.get(SIGNATURE_HEADER)
        assert self.last_request is not None
        nonce = self.last_request.headers[NONCE_HEADER]
        if tenant_key is None or signature is None:
            raise SimulatorError("the answer carries no tenant signature")
        status, body = response.status_code, response.content
        if not answer_is_signed(tenant_key, signature, nonce, status, body):
            raise SimulatorError("the answer is not signed by the tenant's key")

    async def request(self, verb: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Send a request and return the verified answer; DeviceRefused for a non-200.

        A device that never called in does so first: it needs its tenant's key to
        trust any other answer.
        """
        if verb != "heartbeat" and self.tenant_public_key is None:
            await self.heartbeat()
        response = await self.send(verb, payload)
        if response.status_code == 200:
            answer: dict[str, Any] = response.json()
            key = self.tenant_public_key
            if key is None and verb == "heartbeat":
                key = answer.get("tenantPublicKey")  # trust on first use, then pinned
            self._check_answer(response, key)
            return answer
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        if response.status_code == 400 and self.tenant_public_key is not None:
            self._check_answer(response, self.tenant_public_key)
        raise DeviceRefused(
            response.status_code, error.get("code", "HTTP"), error.get("message", response.text)
        )

    # --- heartbeat (R21, R23, R24) -----------------------------------------------------

    def _heartbeat_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "firmwareVersion": self.firmware_version,
            "bootloaderVersion": self.bootloader_version,
            "blockingListVersion": self.blocking_list["version"] if self.blocking_list else None,
            "offlineUpdates": self.pending_offline_updates[:MAX_OFFLINE_UPDATES_PER_HEARTBEAT],
        }
        if self.firmware_transfer is not None:
            payload["firmware"] = self.firmware_transfer.report()
        if self.firmware_chunk_size is not None:
            payload["firmwareChunkSize"] = self.firmware_chunk_size
        return payload

    async def heartbeat(self) -> dict[str, Any]:
        """Call in: report versions, offline updates and the firmware transfer; take
        configuration, blocking list and the next firmware chunk.

        A blocking list whose signature does not verify with the tenant's key is
        refused (SimulatorError) and the device keeps the one it had.
        """
        payload = self._heartbeat_payload()
        sent_updates = payload["offlineUpdates"]
        answer = await self.request("heartbeat", payload)
        if self.tenant_public_key is None:
            self.tenant_public_key = answer["tenantPublicKey"]
        served = answer.get("blockingList")
        if served is not None:
            if not blocking_list_is_signed(
                served, tenant_id=self.tenant_id, tenant_key=self.tenant_public_key
            ):
                raise SimulatorError("the blocking list's signature does not verify")
            self.blocking_list = served
        self.configuration = answer["configuration"]
        self.last_online_at = self.clock()
        counts = answer["offlineUpdates"]
        accounted = min(counts["recorded"] + counts["alreadyRecorded"], len(sent_updates))
        self.pending_offline_updates = self.pending_offline_updates[accounted:]
        self._take_firmware(answer.get("firmwareReport"), answer.get("firmwareChunk"))
        return answer

    async def lose_power_during_heartbeat(self) -> None:
        """Send a heartbeat and lose power before its answer arrives (R25).

        The server records what the device reported and sends the next chunk,
        which never reaches the flash; the device starts again with what its
        flash holds (:meth:`state`) and reports that offset with its next
        heartbeat, so the transfer resumes there instead of from the start.
        """
        await self.send("heartbeat", self._heartbeat_payload())

    async def receive_firmware(self, *, max_heartbeats: int = MAX_FIRMWARE_HEARTBEATS) -> int:
        """Call in again and again, as a device receiving firmware does, until no firmware is
        due and nothing is left to report (R25); the number of heartbeats made."""
        for count in range(1, max_heartbeats + 1):
            answer = await self.heartbeat()
            if (
                answer.get("firmwareChunk") is None
                and self.firmware_transfer is None
                and not self.paused_transfers
            ):
                return count
        raise SimulatorError(f"firmware still arriving after {max_heartbeats} heartbeats")

    def _take_firmware(
        self, report: Mapping[str, Any] | None, chunk: Mapping[str, Any] | None
    ) -> None:
        """Act on the server's verdict on the transfer, and write the chunk it sent."""
        transfer = self.firmware_transfer
        if (
            report is not None
            and transfer is not None
            and report["firmwareId"] == transfer.firmware_id
            and report["status"] in ("DONE", "SUPERSEDED")
        ):
            # Confirmed installed, or replaced by a newer image: forget it.
            self.firmware_transfer = transfer = None
        if transfer is None and self.paused_transfers:
            # Back to an image the server interrupted: the chunk's if it is that one, else
            # (nothing sent) the oldest, so its next report resumes it or hears SUPERSEDED.
            wanted = chunk["firmwareId"] if chunk is not None else None
            if wanted in self.paused_transfers:
                transfer = self.firmware_transfer = self.paused_transfers.pop(wanted)
            elif chunk is None:
                oldest = next(iter(self.paused_transfers))
                transfer = self.firmware_transfer = self.paused_transfers.pop(oldest)
        if chunk is None:
            return
        if transfer is None or transfer.firmware_id != chunk["firmwareId"]:
            if chunk["offset"] != 0:
                return  # not a transfer this device holds: its next report says so
            if transfer is not None and not transfer.installed and transfer.offset > 0:
                # Another image goes first (R25: the device's own before key images):
                # keep what arrived of this one and resume it afterwards.
                self.paused_transfers[transfer.firmware_id] = transfer
            transfer = self.firmware_transfer = FirmwareTransfer(
                firmware_id=chunk["firmwareId"],
                target=chunk["target"],
                version=chunk["version"],
                total=chunk["total"],
                sha256=chunk["sha256"],
            )
        if transfer.installed or chunk["offset"] != transfer.offset:
            return  # a chunk for another offset: the next report names the one held
        data = base64.b64decode(chunk["data"])
        transfer.received += data
        if data:
            self.received_chunks.append(
                ReceivedChunk(transfer.firmware_id, chunk["offset"], len(data))
            )
        if transfer.offset >= transfer.total:
            self._install(transfer)

    def _install(self, transfer: FirmwareTransfer) -> None:
        """The whole image is in: check it, then install it; a bad image starts over."""
        image = bytes(transfer.received)
        if len(image) != transfer.total or hashlib.sha256(image).hexdigest() != transfer.sha256:
            transfer.received.clear()
            transfer.checksum_failures += 1
            return
        if transfer.target == "REMOTE_BOOTLOADER":
            self.bootloader_version = transfer.version
        elif transfer.target == "REMOTE_DEVICE":
            self.firmware_version = transfer.version
        else:
            # R26: a key image is stored to flash keys with; the device's versions stay.
            self.key_firmware_images[transfer.firmware_id] = KeyFirmwareImage(
                firmware_id=transfer.firmware_id,
                target=transfer.target,
                version=transfer.version,
                sha256=transfer.sha256,
                image=image,
            )
        transfer.installed = True

    # --- key insertion (R14, R18, R22, R24, R29) --------------------------------------

    async def insert_key(
        self,
        uid: str,
        firmware: str,
        *,
        online: bool = True,
        key_clock: datetime | None = None,
    ) -> dict[str, Any]:
        """A key is inserted: ask the server (online) or decide alone by the offline settings.

        Online, a device that never called in yet does so first: it needs its
        configuration and its tenant's key before it serves keys. A FIRMWARE job in
        the answer is flashed into the key from the stored key image the answer
        names (:meth:`flash_key`); SimulatorError when the device does not hold it.
        """
        if not online:
            return self.offline_update(uid, firmware)
        if self.configuration is None:
            await self.heartbeat()
        payload: dict[str, Any] = {"keyUid": uid, "keyFirmware": firmware}
        if key_clock is not None:
            payload["keyClock"] = rfc3339(key_clock)
        answer = await self.request("key-inserted", payload)
        for job in answer.get("jobs", []):
            if job["kind"] == "FIRMWARE":
                self.flash_key(uid, job, answer.get("keyFirmwareImage"))
        if answer["status"] == "ok":
            validity = answer.get("validity") or {}
            until = validity.get("validUntil")
            record = self.keys.setdefault(uid, KeyRecord())
            record.last_online_update = self.clock()
            record.offline_updates = 0
            if until is not None:
                record.valid_until = parse_timestamp(until)
        return answer

    def flash_key(
        self, uid: str, job: Mapping[str, Any], named: Mapping[str, Any] | None
    ) -> KeyFlash:
        """Write key firmware into key ``uid`` from the image this device holds (R26).

        The image is the one the answer names (``keyFirmwareImage``, else the job's
        payload); it must be stored here whole, with the SHA-256 and size named.
        SimulatorError otherwise: the device cannot flash what it does not hold.
        """
        wanted = dict(job.get("payload") or {})
        if named is not None:
            wanted.update(named)
        firmware_id = wanted.get("firmwareId")
        stored = self.key_firmware_images.get(firmware_id) if isinstance(firmware_id, int) else None
        if stored is None:
            raise SimulatorError(
                f"remote job {job.get('remoteJobId')}: key firmware {wanted.get('version')} "
                f"(firmwareId {firmware_id}) is not stored on device {self.serial}: "
                "it cannot flash the key"
            )
        digest = hashlib.sha256(stored.image).hexdigest()
        size = wanted.get("size", len(stored.image))
        if digest != wanted.get("sha256") or len(stored.image) != size:
            raise SimulatorError(
                f"remote job {job.get('remoteJobId')}: the stored key image {firmware_id} does "
                "not match the SHA-256 and size the server named"
            )
        flash = KeyFlash(uid, firmware_id, stored.version, len(stored.image))
        self.key_flashes.append(flash)
        return flash

    def offline_update(self, uid: str, firmware: str) -> dict[str, Any]:
        """R24: grant or refuse an offline validity extension without the server."""
        now = self.clock()
        answer: dict[str, Any] = {
            "offline": True,
            "keyUid": uid,
            "status": "refused",
            "code": None,
            "message": None,
            "jobs": [],
            "validity": None,
            "output": None,
        }

        def refuse(code: str, message: str, status: str = "refused") -> dict[str, Any]:
            answer.update(status=status, code=code, message=message)
            self._offline_output(answer, firmware)
            return answer

        settings = (self.configuration or {}).get("offlineUpdates")
        if settings is None or settings["maxOfflineUpdates"] == 0:
            return refuse("OFFLINE_UPDATES_OFF", "offline updates are switched off")
        blocking = self.blocking_list
        if blocking is None or self.tenant_public_key is None or not blocking_list_is_signed(
            blocking, tenant_id=self.tenant_id, tenant_key=self.tenant_public_key
        ):
            return refuse("NO_BLOCKING_LIST", "no valid blocking list received yet")
        validity_hours = settings["blockingListValidityHours"]
        issued = parse_timestamp(blocking["issuedAt"])
        assert issued is not None
        if validity_hours is not None and now > issued + timedelta(hours=validity_hours):
            return refuse(
                "BLOCKING_LIST_EXPIRED",
                f"the blocking list of {blocking['issuedAt']} is older than {validity_hours} h",
            )
        if uid in blocking["keyUids"]:
            return refuse("KEY_BLOCKED", "the key is on the blocking list", status="blocked")
        record = self.keys.get(uid)
        if record is None or record.last_online_update is None:
            return refuse("NO_ONLINE_UPDATE", "the key never had an online update here")
        max_hours = settings["maxHoursSinceOnlineUpdate"]
        if max_hours is not None and now > record.last_online_update + timedelta(hours=max_hours):
            return refuse(
                "TOO_LONG_SINCE_ONLINE_UPDATE",
                f"the key's last online update is more than {max_hours} h ago",
            )
        if record.offline_updates >= settings["maxOfflineUpdates"]:
            return refuse(
                "MAX_OFFLINE_UPDATES",
                f"the key had {record.offline_updates} offline updates since its last online one",
            )
        until = now + timedelta(hours=settings["offlineExtensionHours"])
        record.offline_updates += 1
        record.valid_until = until
        self.pending_offline_updates.append(
            {"keyUid": uid, "at": rfc3339(now), "validUntil": rfc3339(until)}
        )
        answer.update(status="ok", validity={"validUntil": rfc3339(until)})
        self._offline_output(answer, firmware)
        return answer

    def _offline_output(self, answer: dict[str, Any], firmware: str) -> None:
        config = self.configuration or {}
        if not config.get("potentialFreeOutput"):
            return
        minimum = config.get("minimumKeyFirmwareForOutput", "16.3.7")
        if answer["status"] != "ok":
            answer["output"] = {"code": "REFUSED", "minimumKeyFirmware": minimum}
        elif not is_version(firmware) or not version_at_least(firmware, minimum):
            answer["output"] = {"code": "FIRMWARE_TOO_OLD", "minimumKeyFirmware": minimum}
        else:
            answer["output"] = {"code": "OK", "minimumKeyFirmware": minimum}

    # --- results (R18, R28) -----------------------------------------------------------

    async def report(
        self,
        *,
        jobs: Sequence[tuple[int, str] | tuple[int, str, str | None]] = (),
        key_uid: str | None = None,
        audit_events: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """Report job outcomes ``(remoteJobId, "DONE"|"FAILED"[, reason])`` and a key's audit
        events."""
        results = []
        for job in jobs:
            result: dict[str, Any] = {"remoteJobId": job[0], "outcome": job[1]}
            if len(job) > 2 and job[2] is not None:
                result["reason"] = job[2]
            results.append(result)
        payload: dict[str, Any] = {"jobs": results, "auditEvents": list(audit_events)}
        if key_uid is not None:
            payload["keyUid"] = key_uid
        return await self.request("results", payload)

    async def complete(
        self,
        answer: Mapping[str, Any],
        *,
        outcome: str = "DONE",
        audit_events: Sequence[Mapping[str, Any]] = (),
        interrupted: bool = False,
    ) -> dict[str, Any]:
        """Carry out a key-inserted answer: report each delivered job with ``outcome``, and the
        key's audit trail when the answer asked for it.

        ``interrupted``: the key is pulled out during its firmware update (R26): the
        FIRMWARE job and every job after it fail ``INTERRUPTED``, and no trail is read.
        """
        jobs: list[tuple[int, str] | tuple[int, str, str | None]] = []
        broken = False
        for job in answer.get("jobs", []):
            broken = broken or (interrupted and job["kind"] == "FIRMWARE")
            if broken:
                jobs.append((job["remoteJobId"], "FAILED", INTERRUPTED))
            else:
                jobs.append((job["remoteJobId"], outcome))
        events = audit_events if answer.get("auditReadout") and not broken else ()
        return await self.report(jobs=jobs, key_uid=answer["keyUid"], audit_events=events)

    # --- state, for the command line --------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything the device remembers, JSON-ready (its private key included)."""
        return {
            "tenantId": self.tenant_id,
            "serial": self.serial,
            "privateKey": self.private_key.private_bytes(
                Encoding.Raw, PrivateFormat.Raw, NoEncryption()
            ).hex(),
            "firmwareVersion": self.firmware_version,
            "bootloaderVersion": self.bootloader_version,
            "tenantPublicKey": self.tenant_public_key,
            "configuration": self.configuration,
            "blockingList": self.blocking_list,
            "lastOnlineAt": rfc3339(self.last_online_at) if self.last_online_at else None,
            "pendingOfflineUpdates": self.pending_offline_updates,
            "firmwareTransfer": (
                self.firmware_transfer.state() if self.firmware_transfer is not None else None
            ),
            "pausedTransfers": [t.state() for t in self.paused_transfers.values()],
            "keyFirmwareImages": [i.state() for i in self.key_firmware_images.values()],
            "keys": {
                uid: {
                    "lastOnlineUpdate": (
                        rfc3339(r.last_online_update) if r.last_online_update else None
                    ),
                    "offlineUpdates": r.offline_updates,
                    "validUntil": rfc3339(r.valid_until) if r.valid_until else None,
                }
                for uid, r in self.keys.items()
            },
        }

    @classmethod
    def from_state(
        cls, base_url: str, state: Mapping[str, Any], **kwargs: Any
    ) -> SimulatedWallDevice:
        """A device restored from :meth:`state`."""
        device = cls(
            base_url,
            state["tenantId"],
            state["serial"],
            Ed25519PrivateKey.from_private_bytes(bytes.fromhex(state["privateKey"])),
            firmware_version=state.get("firmwareVersion", "5.2.0"),
            bootloader_version=state.get("bootloaderVersion", "2.1.0"),
            tenant_public_key=state.get("tenantPublicKey"),
            **kwargs,
        )
        device.configuration = state.get("configuration")
        device.blocking_list = state.get("blockingList")
        last = state.get("lastOnlineAt")
        device.last_online_at = parse_timestamp(last) if last else None
        device.pending_offline_updates = list(state.get("pendingOfflineUpdates", []))
        transfer = state.get("firmwareTransfer")
        if transfer is not None:
            device.firmware_transfer = FirmwareTransfer.from_state(transfer)
        for paused in state.get("pausedTransfers", []):
            device.paused_transfers[paused["firmwareId"]] = FirmwareTransfer.from_state(paused)
        for held in state.get("keyFirmwareImages", []):
            device.key_firmware_images[held["firmwareId"]] = KeyFirmwareImage.from_state(held)
        for uid, r in state.get("keys", {}).items():
            device.keys[uid] = KeyRecord(
                last_online_update=(
                    parse_timestamp(r["lastOnlineUpdate"]) if r["lastOnlineUpdate"] else None
                ),
                offline_updates=r["offlineUpdates"],
                valid_until=parse_timestamp(r["validUntil"]) if r["validUntil"] else None,
            )
        return device


# --- command line: python -m hardware.sim wall ... -------------------------------------------


class DeviceStore:
    """Simulated devices by serial in one JSON file, readable by its owner only (0600)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": 1, "devices": {}}
        return data

    def get(self, serial: str) -> dict[str, Any]:
        device = self.read()["devices"].get(serial)
        if device is None:
            raise SystemExit(f"no simulated device {serial!r} in {self.path}")
        return device  # type: ignore[no-any-return]

    def put(self, serial: str, state: Mapping[str, Any]) -> None:
        data = self.read()
        data["devices"][serial] = dict(state)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                os.fchmod(f.fileno(), 0o600)
                json.dump(data, f, indent=2, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hardware.sim wall", description="a simulated wall programming device"
    )
    parser.add_argument("--var-dir", type=Path, default=Path(os.environ.get("VAR_DIR", "var")))
    parser.add_argument("--state", type=Path, help="device file (default VAR_DIR/sim-devices.json)")
    commands = parser.add_subparsers(dest="command", required=True)

    new = commands.add_parser(
        "new", help="a new device: its key pair, and its factory record (remoteDevices[] entry)"
    )
    new.add_argument("--serial", required=True)
    new.add_argument("--tenant", required=True, help="the tenant id the device will serve")
    new.add_argument("--out", type=Path, required=True, help="the factory record to write")
    new.add_argument("--name", default=None)
    new.add_argument("--potential-free-output", action="store_true")

    for name, text in (
        ("heartbeat", "call the server once"),
        ("insert-key", "a key is inserted"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--serial", required=True)
        command.add_argument("--url", default="http://127.0.0.1:8000")
        if name == "heartbeat":
            command.add_argument(
                "--until-firmware-done",
                action="store_true",
                help="keep calling while firmware chunks arrive (R25)",
            )
        if name == "insert-key":
            command.add_argument("--uid", required=True)
            command.add_argument("--firmware", required=True)
            command.add_argument("--offline", action="store_true", help="decide without the server")
            command.add_argument(
                "--complete", action="store_true", help="report every delivered job DONE"
            )
            command.add_argument(
                "--interrupted",
                action="store_true",
                help="with --complete: the key is pulled out during its firmware update (R26)",
            )
    return parser


async def _run(args: argparse.Namespace, store: DeviceStore) -> dict[str, Any]:
    device = SimulatedWallDevice.from_state(args.url, store.get(args.serial))
    try:
        if args.command == "heartbeat" and args.until_firmware_done:
            heartbeats = await device.receive_firmware()
            result = {
                "heartbeats": heartbeats,
                "firmwareVersion": device.firmware_version,
                "bootloaderVersion": device.bootloader_version,
                "keyFirmwareImages": [
                    {"firmwareId": i.firmware_id, "target": i.target, "version": i.version}
                    for i in device.key_firmware_images.values()
                ],
            }
        elif args.command == "heartbeat":
            result = await device.heartbeat()
        else:
            result = await device.insert_key(args.uid, args.firmware, online=not args.offline)
            if args.complete and not args.offline and result["status"] in ("ok", "refused"):
                results = await device.complete(result, interrupted=args.interrupted)
                result = {"answer": result, "results": results}
    finally:
        store.put(args.serial, device.state())
        await device.aclose()
    return result


def _new_device(args: argparse.Namespace, store: DeviceStore) -> dict[str, Any]:
    """A device leaves the factory: its key pair is made, its private half stays in the device
    (the store), and its factory record (one ``remoteDevices[]`` entry of an extension file,
    R31) goes to ``--out`` for the vendor to sign into an extension file
    (``keywarden factory extension --device FILE``)."""
    private = SimulatedWallDevice.generate_key()
    device = SimulatedWallDevice("", args.tenant, args.serial, private)
    record = {
        "serial": args.serial,
        "kind": "WALL",
        "name": args.name or f"Simulated wall device {args.serial}",
        "firmwareVersion": device.firmware_version,
        "bootloaderVersion": device.bootloader_version,
        "publicKey": device.public_key.hex(),
        "potentialFreeOutput": args.potential_free_output,
        "systemLinked": False,
    }
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    store.put(args.serial, device.state())
    return {"serial": args.serial, "publicKey": device.public_key.hex(), "record": str(args.out)}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hardware.sim wall new|heartbeat|insert-key``: prints JSON."""
    args = _parser().parse_args(argv)
    store = DeviceStore(args.state or args.var_dir / "sim-devices.json")
    try:
        if args.command == "new":
            result = _new_device(args, store)
        else:
            result = asyncio.run(_run(args, store))
    except DeviceRefused as exc:
        print(json.dumps({"error": {"status": exc.status, "code": exc.code,
                                    "message": exc.message}}), file=sys.stderr)
        return 1
    except (SimulatorError, httpx.HTTPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0
