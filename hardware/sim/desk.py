"""The simulated desk programming device: two key slots, served over a serial line (R22).

At a customer site the desk device sits beside the PC, plugged in by a USB
serial cable; administrators put programming keys and user keys into its left
and right slot, and the bridge agent reads and writes them through the device
(hardware/PROTOCOL.md). This simulator serves that protocol on a
pseudo-terminal, so the agent is tested against a real serial port, and acts on
the keys of the simulator's world (``hardware.sim.world``): a login signed by
the programming key after its PIN (R5), programming jobs loaded onto it and
their results read back (R15, R17), a user key's memory written (R10, R12–R14,
R18), its audit trail read (R28, always allowed at a desk, R29), its firmware
updated in chunks with resume (R26).

Writes are applied only once the whole request has arrived and authenticated
(the link hands up complete messages only) and each in one step — the world
model checks a write completely before it changes anything — so a cable pulled
mid-write leaves the key as it was. The world is saved after every change
(atomically), and on exit.

    python -m hardware.sim desk --pty --world world.json [--control desk.sock] [--baud 115200]

prints ``pty: /dev/pts/N`` as its first line (again after each ``replug``) and
serves until killed. The control socket (``hardware.sim.control``) is the person
at the desk and on site: insert and remove keys, carry a programming key to a
cylinder, pull the cable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from hardware.link.crypto import PROTOCOL_VERSIONS, fingerprint
from hardware.link.messages import FIRMWARE_CHUNK, SLOTS, DeskError
from hardware.link.server import DeskLinkServer
from hardware.link.transport import PtyLine
from hardware.sim.programming import ProgrammingKey
from hardware.sim.user_key import SimError, UserKey, parse_time
from hardware.sim.world import World

MODEL = "Keywarden DPD-2 desk programming device (simulated)"
DEVICE_FIRMWARE = "3.2.0"
# A firmware transfer writes the world file every this many chunks (and at its end): the
# file holds the image bytes received so far, so writing it per 512-byte chunk would cost
# quadratic time for a 256 KiB image.
SAVE_EVERY_CHUNKS = 64


def load_identity(path: Path) -> Ed25519PrivateKey:
    """The desk's long-term Ed25519 identity from ``path`` (hex), made and stored (0600) if
    missing. Its public key is what the PC pins (PROTOCOL.md §3.4)."""
    try:
        return Ed25519PrivateKey.from_private_bytes(
            bytes.fromhex(path.read_text(encoding="ascii").strip())
        )
    except FileNotFoundError:
        pass
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(raw + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return key


def _now() -> datetime:
    return datetime.now(UTC)


class DeskDevice:
    """A desk programming device with a left and a right slot, serving PROTOCOL.md on a pty.

    Everything that touches the world or the slots holds ``lock``: the link's
    requests (in the line's thread) and the control commands (in theirs).
    """

    def __init__(
        self,
        world: World,
        *,
        world_path: Path | None,
        identity: Ed25519PrivateKey,
        serial: str = "DPD-SIM-0001",
        baud: int = 0,
        on_pty: Callable[[str], None] | None = None,
    ) -> None:
        self.world = world
        self.world_path = world_path
        self.serial = serial
        self.baud = baud
        self.on_pty = on_pty
        self.lock = threading.RLock()
        self.slots: dict[str, str | None] = dict.fromkeys(SLOTS)
        self.link = DeskLinkServer(identity, serial, self.handle)
        self.fingerprint = fingerprint(
            identity.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        self._line: PtyLine | None = None
        self._serving: threading.Thread | None = None
        self._chunks_unsaved = 0
        self._ops: dict[str, Callable[[dict[str, Any]], Any]] = {
            "INFO": self._info,
            "SLOTS": lambda args: self.slot_contents(),
            "READ_KEY": self._read_key,
            "SIGN_LOGIN": self._sign_login,
            "WRITE_JOBS": self._write_jobs,
            "READ_RESULTS": self._read_results,
            "CLEAR_RESULTS": self._clear_results,
            "READ_AUDIT": self._read_audit,
            "WRITE_KEY": self._write_key,
            "FW_BEGIN": self._fw_begin,
            "FW_CHUNK": self._fw_chunk,
            "FW_FINISH": self._fw_finish,
        }

    # --- the cable ----------------------------------------------------------------------

    @property
    def pty(self) -> str | None:
        """The PC's end of the cable while plugged in, else None."""
        line = self._line
        return line.path if line is not None and not line.closed else None

    def plug(self) -> str:
        """Plug the cable in: a new pty, served in a thread; returns the PC's port path."""
        with self.lock:
            if self.pty is not None:
                return self.pty
            line = PtyLine(self.baud)
            self._line = line
            self._serving = threading.Thread(
                target=self.link.serve, args=(line,), name="desk-line", daemon=True
            )
            self._serving.start()
        if self.on_pty is not None:
            self.on_pty(line.path)
        return line.path

    def unplug(self) -> None:
        """Pull the cable: the pty is closed and the PC's port fails. Keys stay in the slots."""
        with self.lock:
            line, serving = self._line, self._serving
            self._line = self._serving = None
        if line is not None:
            line.unplug()
        if serving is not None:
            serving.join(timeout=5)
        self.save()

    def replug(self) -> str:
        """Plug the cable back in; the port has a new path, as a re-enumerated USB device may."""
        self.unplug()
        return self.plug()

    # --- the slots (the person at the desk) -----------------------------------------------

    def slot_contents(self) -> dict[str, dict[str, Any] | None]:
        """What each slot holds: None or {"kind", "uid", ...} (PROTOCOL.md SLOTS)."""
        with self.lock:
            return {slot: self._summary(uid) for slot, uid in self.slots.items()}

    def _summary(self, uid: str | None) -> dict[str, Any] | None:
        if uid is None:
            return None
        key = self.world.key(uid)
        if isinstance(key, ProgrammingKey):
            return {"kind": "PROGRAMMING", "uid": uid, "marking": key.marking}
        return {
            "kind": "USER",
            "uid": uid,
            "keyType": key.key_type,
            "generation": key.generation,
        }

    def insert(self, slot: str, uid: str) -> dict[str, Any]:
        """Put key ``uid`` into ``slot``; the PC gets a KEY_INSERTED event."""
        with self.lock:
            self._check_slot(slot)
            self.world.key(uid)  # NO_KEY for an unknown key
            if self.slots[slot] is not None:
                raise SimError("BAD_REQUEST", f"the {slot} slot holds {self.slots[slot]} already")
            held = self.holding(uid)
            if held is not None:
                raise SimError("BAD_REQUEST", f"key {uid} is in the {held} slot already")
            self.slots[slot] = uid
            summary = self._summary(uid)
            assert summary is not None
        self.link.push_event({"event": "KEY_INSERTED", "slot": slot, **summary})
        return summary

    def remove(self, slot: str) -> dict[str, Any] | None:
        """Take the key out of ``slot``; a user key mid-firmware-update is interrupted (R26)."""
        with self.lock:
            self._check_slot(slot)
            uid = self.slots[slot]
            if uid is None:
                return None
            summary = self._summary(uid)
            assert summary is not None
            key = self.world.key(uid)
            if isinstance(key, UserKey) and key.interrupt_firmware():
                summary["firmwareInterrupted"] = True
            self.slots[slot] = None
            self.save()
        self.link.push_event({"event": "KEY_REMOVED", "slot": slot, **summary})
        return summary

    def holding(self, uid: str) -> str | None:
        """The slot key ``uid`` is in, or None."""
        return next((slot for slot, held in self.slots.items() if held == uid), None)

    @staticmethod
    def _check_slot(slot: Any) -> None:
        if slot not in SLOTS:
            raise SimError("BAD_REQUEST", f"slot must be one of {list(SLOTS)}, not {slot!r}")

    # --- persistence ------------------------------------------------------------------

    def save(self) -> None:
        """Write the world file (atomically), if the device has one."""
        with self.lock:
            self._chunks_unsaved = 0
            if self.world_path is not None:
                self.world.save(self.world_path)

    # --- the protocol's operations (PROTOCOL.md §5.2) --------------------------------------

    def handle(self, op: str, args: dict[str, Any]) -> Any:
        """Carry out one complete, authenticated request; DeskError with the key's refusal."""
        try:
            with self.lock:
                return self._ops[op](args)
        except SimError as exc:
            raise DeskError(exc.code, exc.message, exc.details) from None

    def _info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "model": MODEL,
            "serial": self.serial,
            "firmware": DEVICE_FIRMWARE,
            "protocolVersion": PROTOCOL_VERSIONS[1],
            "slots": list(SLOTS),
            "identity": self.fingerprint,
        }

    def _key_in(self, args: dict[str, Any]) -> UserKey | ProgrammingKey:
        slot = args.get("slot")
        self._check_slot(slot)
        uid = self.slots[slot]
        if uid is None:
            raise SimError("NO_KEY", f"no key in the {slot} slot")
        return self.world.key(uid)

    def _programming_key(self, args: dict[str, Any]) -> ProgrammingKey:
        key = self._key_in(args)
        if not isinstance(key, ProgrammingKey):
            raise SimError("NO_KEY", f"the key in the {args['slot']} slot is not a programming key")
        return key

    def _user_key(self, args: dict[str, Any]) -> UserKey:
        key = self._key_in(args)
        if not isinstance(key, UserKey):
            raise SimError("NO_KEY", f"the key in the {args['slot']} slot is not a user key")
        return key

    def _read_key(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._key_in(args).describe()

    def _sign_login(self, args: dict[str, Any]) -> dict[str, Any]:
        key = self._programming_key(args)
        pin, message = args.get("pin"), _b64(args.get("message"), "message")
        if not isinstance(pin, str):
            raise SimError("BAD_REQUEST", "pin: a string")
        try:
            signature = key.sign(message, pin)
        finally:
            self.save()  # the wrong-PIN count is the key's memory too (R5)
        return {
            "uid": key.uid,
            "marking": key.marking,
            "signature": base64.b64encode(signature).decode(),
        }

    def _write_jobs(self, args: dict[str, Any]) -> dict[str, Any]:
        key = self._programming_key(args)
        jobs = args.get("jobs")
        if not isinstance(jobs, list):
            raise SimError("BAD_REQUEST", "jobs: a list")
        on_key = key.load_jobs(jobs)
        self.save()
        return {"onKey": on_key}

    def _read_results(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"results": self._programming_key(args).read_results()}

    def _clear_results(self, args: dict[str, Any]) -> dict[str, Any]:
        key = self._programming_key(args)
        job_ids = args.get("jobIds")
        if not isinstance(job_ids, list) or not all(isinstance(j, str) for j in job_ids):
            raise SimError("BAD_REQUEST", "jobIds: a list of job ids")
        key.clear_results(job_ids)
        self.save()
        return {"results": len(key.results)}

    def _read_audit(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"events": self._user_key(args).read_audit_trail()}

    def _write_key(self, args: dict[str, Any]) -> dict[str, Any]:
        key = self._user_key(args)
        for part in ("validity", "schedule", "keyMemory"):
            if args.get(part) is not None and not isinstance(args[part], dict):
                raise SimError("BAD_REQUEST", f"{part}: an object or null")
        key.write(
            validity=args.get("validity"),
            schedule=args.get("schedule"),
            key_memory=args.get("keyMemory"),
            revalidated_at=args.get("revalidatedAt"),
        )
        self.save()
        return key.describe()

    def _fw_begin(self, args: dict[str, Any]) -> dict[str, Any]:
        key = self._user_key(args)
        version, size = args.get("version"), args.get("size")
        if not isinstance(version, str):
            raise SimError("BAD_REQUEST", "version: a firmware version")
        offset = key.begin_firmware(version, size)  # type: ignore[arg-type]
        self.save()
        return {"offset": offset, "size": size}

    def _fw_chunk(self, args: dict[str, Any]) -> dict[str, Any]:
        key = self._user_key(args)
        offset = args.get("offset")
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise SimError("BAD_REQUEST", "offset: a number of bytes")
        data = _b64(args.get("data"), "data")
        if len(data) > FIRMWARE_CHUNK:
            raise SimError("BAD_REQUEST", f"data: at most {FIRMWARE_CHUNK} bytes per chunk")
        new_offset = key.write_firmware_chunk(offset, data)
        self._chunks_unsaved += 1
        if self._chunks_unsaved >= SAVE_EVERY_CHUNKS:
            self.save()
        return {"offset": new_offset}

    def _fw_finish(self, args: dict[str, Any]) -> dict[str, Any]:
        key = self._user_key(args)
        update = key.firmware_update
        expected = args.get("sha256")
        if update is not None and update.offset == update.size and isinstance(expected, str):
            actual = hashlib.sha256(bytes(update.received)).hexdigest()
            if actual != expected.lower():
                # Not the image the PC meant (a resumed transfer of another build with the
                # same version and size): start over rather than install it.
                key.firmware_update = None
                self.save()
                raise SimError(
                    "BAD_REQUEST",
                    "firmware: the image on the key does not match its SHA-256; "
                    "the transfer starts over",
                    offset=0,
                )
        version = key.finish_firmware()
        self.save()
        return {"firmwareVersion": version}

    # --- the person at the desk and on site (control commands) -----------------------------

    def visit(
        self, cylinder_uid: str, key_uid: str, at: datetime | None, pull_after: int | None
    ) -> list[dict[str, Any]]:
        """Carry programming key ``key_uid`` to a cylinder (R15, R17); it must be out of the
        desk."""
        with self.lock:
            self._refuse_in_slot(key_uid)
            results = self.world.visit(cylinder_uid, key_uid, at or _now(), pull_after)
            self.save()
            return results

    def try_open(self, cylinder_uid: str, key_uid: str, at: datetime | None) -> dict[str, Any]:
        """Try user key ``key_uid`` in a cylinder (R11–R14, R19)."""
        with self.lock:
            self._refuse_in_slot(key_uid)
            decision = self.world.try_open(cylinder_uid, key_uid, at or _now())
            self.save()
            return {"opened": decision.opened, "reason": decision.reason, "detail": decision.detail}

    def _refuse_in_slot(self, uid: str) -> None:
        slot = self.holding(uid)
        if slot is not None:
            raise SimError(
                "BAD_REQUEST", f"key {uid} is in the desk's {slot} slot: remove it first"
            )

    def state(self) -> dict[str, Any]:
        """The world as JSON, plus the desk's own state under ``desk``."""
        with self.lock:
            stats = self.link.stats
            return {
                **self.world.to_dict(),
                "desk": {
                    "serial": self.serial,
                    "identity": self.fingerprint,
                    "pty": self.pty,
                    "slots": self.slot_contents(),
                    "sessions": self.link.sessions,
                    "link": stats.as_dict() if stats else None,
                },
            }


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise SimError("BAD_REQUEST", f"{what}: base64")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SimError("BAD_REQUEST", f"{what}: not base64") from None


def parse_at(value: Any) -> datetime | None:
    """An optional ``at`` of a control command (RFC 3339 with offset)."""
    return None if value is None else parse_time(value, "at")
