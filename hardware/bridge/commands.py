"""Bridge commands (interfaces section 3): what each one does on the desk device.

The server queues a command for the bridge with a JSON payload it computed; the
agent runs it against :class:`hardware.bridge.desk.Desk` and answers with a
:class:`~hardware.bridge.reports.Report`. Each command names the key it is for
(``keyUid`` / ``programmingKeyUid``) and optionally the slot; the agent checks
that this key really is in the desk device, so a key swapped between queueing
and execution is never written (error NO_KEY).

Error codes of the agent itself, besides the device's (NO_KEY, WRONG_PIN,
KEY_LOCKED, UNSUPPORTED, MEMORY_FULL, BAD_REQUEST, BUSY, LINK): BAD_REQUEST for
a payload the agent cannot read, DOWNLOAD when a firmware image cannot be
fetched, EXPIRED for a SIGN_LOGIN whose live answer is gone (R5: never kept).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from hardware.bridge.desk import SLOTS, Desk, DeskFailure
from hardware.bridge.reports import PendingClear, Report

log = logging.getLogger("keywarden.bridge.commands")

KINDS = (
    "READ_KEY", "WRITE_KEY", "LOAD_PROGRAMMING_JOBS", "READ_PROGRAMMING_RESULTS",
    "READ_AUDIT_TRAIL", "UPDATE_KEY_FIRMWARE", "SIGN_LOGIN",
)
# A login signature is answered live only and never retried: a retry after a
# link failure could spend a second PIN try on the key (3 tries lock it, R5).
LIVE_ONLY = frozenset({"SIGN_LOGIN"})
NOT_RETRIED = LIVE_ONLY


class CommandError(DeskFailure):
    """The agent refuses or cannot run a command (same shape as a device error)."""


@dataclass
class Command:
    """One command of ``bridgeCommands``: id, kind and the parsed payload."""

    id: str
    kind: str
    payload: dict[str, Any] = field(repr=False)  # may hold a PIN (SIGN_LOGIN): never logged
    status: str = "QUEUED"
    problem: str | None = None  # why the payload is unreadable, if it is

    @classmethod
    def from_node(cls, node: dict[str, Any]) -> Command:
        """Parse a ``BridgeCommand`` as the subscription delivers it."""
        payload: Any = {}
        problem = None
        try:
            payload = json.loads(node.get("payload") or "null")
        except (TypeError, json.JSONDecodeError) as exc:
            problem = f"the payload is not JSON: {exc}"
        if problem is None and not isinstance(payload, dict):
            problem = "the payload is not a JSON object"
        return cls(
            id=str(node["id"]), kind=str(node.get("kind")),
            payload=payload if isinstance(payload, dict) else {},
            status=str(node.get("status") or "QUEUED"), problem=problem,
        )

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


@dataclass(frozen=True)
class Outcome:
    """What running a command produced: its report, and results to clear after it is queued."""

    report: Report
    clear: PendingClear | None = None

    @property
    def durable(self) -> bool:
        return True


@dataclass(frozen=True)
class LiveOutcome(Outcome):
    """The outcome of a live-only command (SIGN_LOGIN): never written to the queue."""

    @property
    def durable(self) -> bool:
        return False


ImageFetcher = Callable[[str], Awaitable[bytes]]
Progress = Callable[[str, int, int], None]


class CommandRunner:
    """Runs bridge commands on the desk device, one at a time."""

    def __init__(
        self,
        desk: Desk,
        fetch_image: ImageFetcher,
        *,
        link_retry_seconds: float = 60.0,
        progress: Progress | None = None,
    ) -> None:
        self.desk = desk
        self.fetch_image = fetch_image
        self.link_retry_seconds = link_retry_seconds
        self.progress = progress or (lambda command_id, done, total: None)
        self.pending_clears: Callable[[str], list[PendingClear]] = lambda uid: []
        self.on_cleared: Callable[[str], None] = lambda command_id: None

    async def run(self, command: Command) -> Outcome:
        """Run ``command``; its outcome (a failure report rather than an exception).

        When the serial link fails mid-command the port is reopened and the command
        run again, for up to ``link_retry_seconds``: every desk write is idempotent
        (absolute state, jobs by id, firmware resumed from the key's offset), so a
        half-done attempt followed by a full one leaves the key as one full one would.
        """
        live = command.kind in LIVE_ONLY
        wrap = LiveOutcome if live else Outcome
        deadline = time.monotonic() + self.link_retry_seconds
        while True:
            try:
                result, clear = await self._dispatch(command)
                return wrap(Report.success(command.id, result), clear)
            except DeskFailure as failure:
                retry = (
                    failure.link and command.kind not in NOT_RETRIED
                    and not isinstance(failure, CommandError)
                    and time.monotonic() < deadline
                )
                if not retry:
                    return wrap(Report.failure(command.id, failure.code, failure.message))
                log.warning("%s interrupted (%s); retrying when the desk device is back",
                            command, failure.message)
                remaining = max(0.0, deadline - time.monotonic())
                if not await self.desk.wait_open(remaining):
                    return wrap(Report.failure(command.id, failure.code, failure.message))
            finally:
                if live:
                    command.payload.pop("pin", None)  # R5: the PIN lives no longer than needed

    async def _dispatch(self, command: Command) -> tuple[dict[str, Any], PendingClear | None]:
        if command.problem is not None:
            raise CommandError("BAD_REQUEST", command.problem)
        handler = getattr(self, f"_{command.kind.lower()}", None)
        if command.kind not in KINDS or handler is None:
            raise CommandError("BAD_REQUEST", f"unknown command kind {command.kind!r}")
        answer: tuple[dict[str, Any], PendingClear | None] = await handler(command)
        return answer

    # --- finding the key in the desk device ---------------------------------------------

    async def _slot(self, payload: dict[str, Any], uid: str | None, kind: str | None) -> str:
        """The slot holding the command's key (``uid``, of ``kind``), or NO_KEY."""
        wanted = payload.get("slot")
        if wanted is not None and wanted not in SLOTS:
            raise CommandError("BAD_REQUEST", f"unknown slot {wanted!r} (left or right)")
        slots = await self.desk.call("slots")
        for slot in [wanted] if wanted else list(SLOTS):
            key = slots.get(slot)
            if not key:
                continue
            if uid is not None and str(key.get("uid", "")).lower() != uid.lower():
                continue
            if kind is not None and key.get("kind") != kind:
                continue
            return str(slot)
        what = f"key {uid}" if uid else ("a programming key" if kind == "PROGRAMMING" else "a key")
        where = f"the {wanted} slot" if wanted else "the desk device"
        raise CommandError("NO_KEY", f"{what} is not in {where}")

    @staticmethod
    def _text(payload: dict[str, Any], name: str) -> str:
        value = payload.get(name)
        if not isinstance(value, str) or not value:
            raise CommandError("BAD_REQUEST", f"the payload lacks {name}")
        return value

    # --- the commands (interfaces section 3) ------------------------------------------------

    async def _read_key(self, command: Command) -> tuple[dict[str, Any], None]:
        """READ_KEY: the key's identity and state as the device reads it (R10)."""
        slot = await self._slot(command.payload, command.payload.get("keyUid"), None)
        return await self.desk.call("read_key", slot), None

    async def _write_key(self, command: Command) -> tuple[dict[str, Any], None]:
        """WRITE_KEY: validity, schedule and key memory written into a user key (R10, R18)."""
        p = command.payload
        slot = await self._slot(p, self._text(p, "keyUid"), "USER")
        after = await self.desk.call(
            "write_key", slot, validity=p.get("validity"), schedule=p.get("schedule"),
            key_memory=p.get("keyMemory"), revalidated_at=p.get("revalidatedAt"),
        )
        return after, None

    async def _load_programming_jobs(self, command: Command) -> tuple[dict[str, Any], None]:
        """LOAD_PROGRAMMING_JOBS: the cylinders' jobs onto a programming key (R17)."""
        p = command.payload
        slot = await self._slot(p, self._text(p, "programmingKeyUid"), "PROGRAMMING")
        jobs = p.get("jobs")
        if not isinstance(jobs, list) or not all(isinstance(j, dict) for j in jobs):
            raise CommandError("BAD_REQUEST", "the payload's jobs are not a list of jobs")
        on_key = await self.desk.call("write_jobs", slot, jobs)
        return {"onKey": int(on_key)}, None

    async def _read_programming_results(
        self, command: Command
    ) -> tuple[dict[str, Any], PendingClear | None]:
        """READ_PROGRAMMING_RESULTS: what the programming key did at the cylinders (R15, R17).

        The results are cleared from the key by the agent only after this report
        is committed to the durable queue (see :meth:`clear`).
        """
        p = command.payload
        uid = self._text(p, "programmingKeyUid")
        slot = await self._slot(p, uid, "PROGRAMMING")
        for earlier in self.pending_clears(uid):
            # Results already reported but not yet cleared (link lost right after the
            # commit): clear them first so they are not reported twice.
            await self.clear(PendingClear(earlier.command_id, slot, uid, earlier.job_ids))
        results = await self.desk.call("read_results", slot)
        job_ids = [str(r["jobId"]) for r in results if isinstance(r, dict) and "jobId" in r]
        clear = PendingClear(command.id, slot, uid, job_ids) if job_ids else None
        return {"results": results}, clear

    async def clear(self, clear: PendingClear) -> bool:
        """Clear reported results from the programming key; False if it is not possible now."""
        try:
            slot = await self._slot({}, clear.programming_key_uid, "PROGRAMMING")
            await self.desk.call("clear_results", slot, clear.job_ids)
        except DeskFailure as failure:
            log.warning("results of %s stay on programming key %s for now: %s",
                        clear.command_id, clear.programming_key_uid, failure.message)
            return False
        self.on_cleared(clear.command_id)
        return True

    async def _read_audit_trail(self, command: Command) -> tuple[dict[str, Any], None]:
        """READ_AUDIT_TRAIL: a user key's event log (E2/E3; R28, always allowed at the desk R29)."""
        p = command.payload
        slot = await self._slot(p, self._text(p, "keyUid"), "USER")
        return {"events": await self.desk.call("read_audit_trail", slot)}, None

    async def _update_key_firmware(self, command: Command) -> tuple[dict[str, Any], None]:
        """UPDATE_KEY_FIRMWARE: new firmware into a user key, in chunks, resumable (R26)."""
        p = command.payload
        slot = await self._slot(p, self._text(p, "keyUid"), "USER")
        version = self._text(p, "version")
        if p.get("image"):
            try:
                image = base64.b64decode(p["image"], validate=True)
            except (binascii.Error, TypeError) as exc:
                raise CommandError("BAD_REQUEST", f"the image is not base64: {exc}") from None
        else:
            image = await self.fetch_image(self._text(p, "imageUrl"))
        expected = p.get("sha256")
        if isinstance(expected, str) and hashlib.sha256(image).hexdigest() != expected.lower():
            # Never write an image into a key that is not the one the server meant.
            raise CommandError("DOWNLOAD", "the firmware image does not match its SHA-256")
        loop = asyncio.get_running_loop()

        def progress(done: int, total: int) -> None:  # called in the desk thread
            loop.call_soon_threadsafe(self.progress, command.id, done, total)

        installed = await self.desk.call("update_firmware", slot, version, image, progress)
        return {"firmwareVersion": installed}, None

    async def _sign_login(self, command: Command) -> tuple[dict[str, Any], None]:
        """SIGN_LOGIN: the programming key signs the login challenge after its PIN (R5)."""
        p = command.payload
        pin = p.get("pin")
        if not isinstance(pin, str) or not pin:
            raise CommandError("EXPIRED", "the login request no longer carries its PIN")
        try:
            message = base64.b64decode(self._text(p, "message"), validate=True)
        except (binascii.Error, TypeError) as exc:
            raise CommandError("BAD_REQUEST", f"the message is not base64: {exc}") from None
        slot = await self._slot(p, p.get("programmingKeyUid"), "PROGRAMMING")
        key = await self.desk.call("read_key", slot)
        signature = await self.desk.call("sign_login", slot, pin, message)
        return {
            "marking": key.get("marking"),
            "uid": key.get("uid"),
            "signature": base64.b64encode(signature).decode(),
        }, None
