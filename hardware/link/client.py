"""The PC's side of the desk link: :class:`DeskClient`, used by the bridge agent.

Synchronous (the agent calls it through ``asyncio.to_thread``) and safe to use
from several threads: requests are matched to their answers by id, unsolicited
events (a key inserted or removed) are queued for :meth:`DeskClient.next_event`.
A background thread reads the port, acknowledges frames and retransmits.

Any failure of the link (no answer after the retransmissions, the port closed,
the handshake refused) raises :class:`LinkError`; the session is then over and
the caller opens a new client (after a cable was plugged back, the port may
have a new path). Everything the desk refuses raises :class:`DeskError` with
its code (PROTOCOL.md §5.3).
"""

from __future__ import annotations

import base64
import hashlib
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from hardware.link import messages
from hardware.link.crypto import (
    PROTOCOL_VERSIONS,
    ClientHandshake,
    HandshakeError,
    HelloRefuse,
    HelloReply,
    KnownDesks,
    SessionKeys,
    fingerprint,
)
from hardware.link.framing import FrameDecoder, FrameError, FrameType, seal_frame
from hardware.link.messages import FIRMWARE_CHUNK, DeskError, LinkError
from hardware.link.session import Channel, LinkStats, SessionDead
from hardware.link.transport import SerialTransport, TransportClosed

__all__ = ["DeskClient", "DeskError", "LinkError", "VersionMismatch"]

MAX_TRIES = 5  # transmissions of one frame before the link is declared dead


class VersionMismatch(DeskError):
    """The desk speaks no protocol version this client speaks (code UNSUPPORTED)."""

    def __init__(self, ours: tuple[int, int], theirs: tuple[int, int], reason: str) -> None:
        super().__init__(
            "UNSUPPORTED",
            f"no common protocol version: this client speaks {ours[0]}..{ours[1]}, "
            f"the desk {theirs[0]}..{theirs[1]} ({reason})",
            {"desk": list(theirs), "client": list(ours)},
        )


class _Waiter:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.response: dict[str, Any] | None = None


class DeskClient:
    """A session with a desk programming device over a serial port (PROTOCOL.md)."""

    def __init__(
        self,
        transport: SerialTransport,
        keys: SessionKeys,
        decoder: FrameDecoder,
        *,
        timeout: float,
    ) -> None:
        self._transport = transport
        self._decoder = decoder
        self.timeout = timeout
        self.keys = keys
        self.identity_fingerprint = fingerprint(keys.peer_identity or b"")
        self._channel = Channel(keys, transport.write, rto=timeout, max_tries=MAX_TRIES)
        self._waiters: dict[str, _Waiter] = {}
        self._waiters_lock = threading.Lock()
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._closed = False
        self._reader = threading.Thread(target=self._read_loop, name="desk-link", daemon=True)
        self._reader.start()

    # --- opening and closing ------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        port: str,
        *,
        baudrate: int = 115200,
        timeout: float = 1.0,
        known_desks: str | Path | None = None,
        versions: tuple[int, int] = PROTOCOL_VERSIONS,
    ) -> DeskClient:
        """Open ``port``, agree on a protocol version and session keys with the desk.

        ``timeout`` is the retransmission time of one frame; the link is given up
        after five transmissions (MAX_TRIES). ``known_desks`` is the file of pinned desk
        identities (:class:`KnownDesks`: trust on first use, refused afterwards if
        another identity answers) — the agent passes a file in its state directory.
        Without it, or ``$KEYWARDEN_KNOWN_DESKS``, the signature still binds the
        session to the identity that answered, but nothing is pinned.
        """
        try:
            transport = SerialTransport(port, baudrate)
        except TransportClosed as exc:
            raise LinkError(str(exc)) from None
        try:
            keys, decoder = cls._handshake(transport, versions, timeout)
            pins = known_desks or os.environ.get("KEYWARDEN_KNOWN_DESKS")
            if pins:
                assert keys.peer_identity is not None
                KnownDesks(pins).check(keys.peer_identity, keys.peer_serial or "")
        except TransportClosed as exc:
            transport.close()
            raise LinkError(str(exc)) from None
        except HandshakeError as exc:
            transport.close()
            raise LinkError(f"handshake refused: {exc}") from None
        except BaseException:
            transport.close()
            raise
        return cls(transport, keys, decoder, timeout=timeout)

    @staticmethod
    def _handshake(
        transport: SerialTransport, versions: tuple[int, int], timeout: float
    ) -> tuple[SessionKeys, FrameDecoder]:
        handshake = ClientHandshake(versions)
        hello = seal_frame(handshake.hello.encode())
        decoder = FrameDecoder()
        # A leading delimiter ends whatever half frame the desk may still hold.
        transport.write(b"\x00" + hello)
        tries, deadline = 1, time.monotonic() + timeout
        while True:
            for frame in decoder.feed(transport.read()):
                try:
                    if frame[0] == FrameType.HELLO_REPLY:
                        return handshake.finish(HelloReply.decode(frame)), decoder
                    if frame[0] == FrameType.HELLO_REFUSE:
                        refuse = HelloRefuse.decode(frame)
                        raise VersionMismatch(
                            versions, (refuse.lowest, refuse.highest), refuse.reason
                        )
                except FrameError:
                    continue  # anything else (a previous session's frames) is ignored
            if time.monotonic() >= deadline:
                if tries >= MAX_TRIES:
                    raise TransportClosed(
                        f"{transport.port}: no handshake reply after {tries} tries "
                        f"({timeout:g} s apart): is a desk device on this port?"
                    )
                tries += 1
                deadline = time.monotonic() + timeout
                transport.write(hello)

    def close(self) -> None:
        """End the session and close the port."""
        if self._closed:
            return
        self._closed = True
        self._channel.kill("closed by the client")
        self._reader.join(timeout=2)
        self._transport.close()

    def __enter__(self) -> DeskClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def stats(self) -> LinkStats:
        """This session's frame counters (sent, received, retransmitted, refused)."""
        self._channel.stats.bad_frames = max(
            self._channel.stats.bad_frames, self._decoder.bad_frames
        )
        return self._channel.stats

    @property
    def alive(self) -> bool:
        return self._channel.dead is None

    # --- the reader thread ---------------------------------------------------------------------

    def _read_loop(self) -> None:
        channel = self._channel
        while channel.dead is None:
            try:
                data = self._transport.read()
            except TransportClosed as exc:
                channel.kill(f"port closed: {exc}")
                break
            for frame in self._decoder.feed(data):
                for message in channel.receive_frame(frame):
                    self._deliver(message)
            channel.flush_ack()
            channel.tick()
        # Everyone waiting learns the link is gone.
        with self._waiters_lock:
            waiters = list(self._waiters.values())
        for waiter in waiters:
            waiter.done.set()
        self._events.put(None)

    def _deliver(self, data: bytes) -> None:
        try:
            message = messages.decode(data)
        except DeskError:
            return
        if "event" in message:
            self._events.put(message)
            return
        with self._waiters_lock:
            waiter = self._waiters.get(str(message.get("id")))
        if waiter is not None:
            waiter.response = message
            waiter.done.set()

    def _link_error(self) -> LinkError:
        return LinkError(self._channel.dead or "link closed")

    # --- requests -------------------------------------------------------------------------------

    def call(self, op: str, args: dict[str, Any], *, request_id: str | None = None) -> Any:
        """Send one request and wait for its answer; the result, or DeskError / LinkError.

        Sending a write again with the same ``request_id`` (for instance after the
        cable was pulled and the client reopened) returns the first answer and does
        not apply the write twice (PROTOCOL.md §5.1).
        """
        request_id = request_id or secrets.token_hex(8)
        waiter = _Waiter()
        with self._waiters_lock:
            self._waiters[request_id] = waiter
        try:
            try:
                self._channel.send(messages.encode({"id": request_id, "op": op, "args": args}))
            except SessionDead:
                raise self._link_error() from None
            # The channel retransmits each fragment itself; what is left to bound is a desk
            # that acknowledged the request but never answers it.
            patience = self.timeout * MAX_TRIES
            while not waiter.done.wait(0.05):
                if self._channel.dead:
                    break
                if (
                    not self._channel.busy
                    and time.monotonic() - self._channel.last_progress > patience
                ):
                    # Whether the answer never came or came tampered, the tally says.
                    self._channel.kill(
                        f"no answer to {op} within {patience:g} s; {self._channel.refusals()}"
                    )
                    break
        finally:
            with self._waiters_lock:
                self._waiters.pop(request_id, None)
        response = waiter.response
        if response is None:
            raise self._link_error()
        if response.get("ok"):
            return response.get("result")
        error = dict(response.get("error") or {})
        code = str(error.pop("code", "BAD_REQUEST"))
        message = str(error.pop("message", ""))
        raise DeskError(code, message, error)

    def info(self) -> dict[str, Any]:
        """The device: {"model", "serial", "firmware", "protocolVersion", "slots"}."""
        result: dict[str, Any] = self.call("INFO", {})
        return result

    def slots(self) -> dict[str, dict[str, Any] | None]:
        """What is in each slot: None or {"kind": "USER"|"PROGRAMMING", "uid", ...}."""
        result: dict[str, dict[str, Any] | None] = self.call("SLOTS", {})
        return result

    def next_event(self, timeout: float) -> dict[str, Any] | None:
        """The next KEY_INSERTED / KEY_REMOVED event, or None after ``timeout`` seconds."""
        if self._channel.dead and self._events.empty():
            raise self._link_error()
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            return None
        if event is None:
            self._events.put(None)  # keep telling later callers
            raise self._link_error()
        return event

    def read_key(self, slot: str) -> dict[str, Any]:
        """Identity and state of the key in ``slot`` (PROTOCOL.md §5.2 READ_KEY)."""
        result: dict[str, Any] = self.call("READ_KEY", {"slot": slot})
        return result

    def sign_login(self, slot: str, pin: str, message: bytes) -> bytes:
        """Have the programming key in ``slot`` sign a login challenge after checking the PIN.

        R5: the key checks the PIN itself; WRONG_PIN (details: remainingTries) or
        KEY_LOCKED after three wrong ones.
        """
        result = self.call(
            "SIGN_LOGIN",
            {"slot": slot, "pin": pin, "message": base64.b64encode(message).decode()},
        )
        return base64.b64decode(result["signature"])

    def write_jobs(self, slot: str, jobs: list[dict[str, Any]]) -> int:
        """Put exactly these programming jobs on the programming key (R17); jobs now on it."""
        result = self.call("WRITE_JOBS", {"slot": slot, "jobs": jobs})
        return int(result["onKey"])

    def read_results(self, slot: str) -> list[dict[str, Any]]:
        """The programming key's job results: [{"jobId", "outcome", "auditEvents"}] (R15)."""
        result = self.call("READ_RESULTS", {"slot": slot})
        return list(result["results"])

    def clear_results(self, slot: str, job_ids: list[str]) -> None:
        """Remove these results from the programming key (after they are safely reported)."""
        self.call("CLEAR_RESULTS", {"slot": slot, "jobIds": job_ids})

    def read_audit_trail(self, slot: str) -> list[dict[str, Any]]:
        """The user key's audit trail [{"at", "cylinderUid", "result"}] (R28); E1: UNSUPPORTED."""
        result = self.call("READ_AUDIT", {"slot": slot})
        return list(result["events"])

    def write_key(
        self,
        slot: str,
        *,
        validity: dict[str, Any] | None,
        schedule: dict[str, Any] | None,
        key_memory: dict[str, Any] | None,
        revalidated_at: str | None,
    ) -> dict[str, Any]:
        """Write a user key's memory at the desk (R10, R18); the key as read back after.

        All given parts are written together or none is; E1 keys refuse validity and
        schedule (UNSUPPORTED), key memory is for E3 keys only.
        """
        result: dict[str, Any] = self.call(
            "WRITE_KEY",
            {
                "slot": slot,
                "validity": validity,
                "schedule": schedule,
                "keyMemory": key_memory,
                "revalidatedAt": revalidated_at,
            },
        )
        return result

    def update_firmware(
        self,
        slot: str,
        version: str,
        image: bytes,
        progress: Callable[[int, int], None] | None = None,
    ) -> str:
        """Load a firmware image onto the user key in ``slot`` (R26); its new version.

        Resumes where an interrupted transfer of the same image stopped: the key
        reports how many bytes of it it already holds.
        """
        digest = hashlib.sha256(image).hexdigest()
        begun = self.call(
            "FW_BEGIN", {"slot": slot, "version": version, "size": len(image), "sha256": digest}
        )
        offset = int(begun["offset"])
        if progress is not None:
            progress(offset, len(image))
        resyncs = 0
        while offset < len(image):
            chunk = image[offset : offset + FIRMWARE_CHUNK]
            try:
                answer = self.call(
                    "FW_CHUNK",
                    {"slot": slot, "offset": offset, "data": base64.b64encode(chunk).decode()},
                )
            except DeskError as exc:
                # The key holds another offset than we thought (our view was stale): go on
                # from where the key is, a few times at most.
                if exc.code != "BAD_REQUEST" or "offset" not in exc.details or resyncs >= 3:
                    raise
                resyncs += 1
                answer = {"offset": exc.details["offset"]}
            offset = int(answer["offset"])
            if progress is not None:
                progress(offset, len(image))
        finished = self.call("FW_FINISH", {"slot": slot, "sha256": digest})
        return str(finished["firmwareVersion"])
