"""The desk device's side of the link: answer handshakes, serve requests, push events.

The operations themselves are the caller's (``hardware.sim.desk`` for the
simulator): a ``handler(op, args)`` that returns the result or raises
:class:`DeskError`. This module adds what every desk does regardless of its
keys (PROTOCOL.md §4–5): a request is handled only once complete and
authenticated; the answers to the last requests are kept by request id, across
sessions, so a request sent again (after a lost answer, or after the cable was
pulled and plugged back) gets the same answer and changes nothing a second time.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hardware.link import messages
from hardware.link.crypto import (
    PROTOCOL_VERSIONS,
    HandshakeError,
    Hello,
    HelloRefuse,
    choose_version,
    device_handshake,
)
from hardware.link.framing import FrameDecoder, FrameError, FrameType, seal_frame
from hardware.link.messages import DeskError
from hardware.link.session import Channel, LinkStats, SessionDead
from hardware.link.transport import PtyLine, TransportClosed

Handler = Callable[[str, dict[str, Any]], Any]
ANSWERS_KEPT = 256  # answers remembered by request id (PROTOCOL.md §5.1)


class DeskLinkServer:
    """Serves the desk protocol on a line, one session at a time (the newest HELLO wins)."""

    def __init__(
        self,
        identity: Ed25519PrivateKey,
        serial: str,
        handler: Handler,
        *,
        versions: tuple[int, int] = PROTOCOL_VERSIONS,
        rto: float = 1.0,
        max_tries: int = 5,
    ) -> None:
        self.identity = identity
        self.serial = serial
        self.handler = handler
        self.versions = versions
        self.rto = rto
        self.max_tries = max_tries
        self._lock = threading.Lock()
        self._channel: Channel | None = None
        self._last_hello: bytes | None = None
        self._last_reply: bytes | None = None
        self._answers: OrderedDict[str, bytes] = OrderedDict()
        self.sessions = 0
        self.bad_frames = 0

    @property
    def stats(self) -> LinkStats | None:
        """The current session's counters (None before the first handshake)."""
        channel = self._channel
        return channel.stats if channel else None

    def serve(self, line: PtyLine) -> None:
        """Serve ``line`` until it is unplugged; then close it. Runs in the caller's thread."""
        decoder = FrameDecoder()
        try:
            while True:
                try:
                    data = line.read(0.02)
                except TransportClosed:
                    break
                for frame in decoder.feed(data):
                    self._on_frame(line, frame)
                self.bad_frames = decoder.bad_frames
                channel = self._channel
                if channel is not None:
                    channel.flush_ack()
                    channel.tick()
        finally:
            with self._lock:
                if self._channel is not None:
                    self._channel.kill("unplugged")
                self._channel = None
                self._last_hello = self._last_reply = None
            line.release()

    def push_event(self, event: dict[str, Any]) -> bool:
        """Send an unsolicited event to the PC; False when no session is up to take it."""
        with self._lock:
            channel = self._channel
        if channel is None or channel.dead:
            return False
        try:
            channel.send(messages.encode(event))
        except SessionDead:
            return False
        return True

    # --- frames ----------------------------------------------------------------------------

    def _on_frame(self, line: PtyLine, frame: bytes) -> None:
        kind = frame[0]
        try:
            if kind == FrameType.HELLO:
                self._on_hello(line, frame)
            elif kind == FrameType.ECHO:
                # The line test of PROTOCOL.md §2.4: unauthenticated, touches nothing.
                line.write(seal_frame(bytes([FrameType.ECHO_REPLY]) + frame[1:]))
            elif kind in (FrameType.DATA, FrameType.ACK):
                channel = self._channel
                if channel is None:
                    return  # no session: the PC times out and shakes hands again
                for message in channel.receive_frame(frame):
                    self._on_message(channel, message)
                channel.flush_ack()
        except TransportClosed:
            line.unplug()
        except FrameError:
            self.bad_frames += 1

    def _on_hello(self, line: PtyLine, frame: bytes) -> None:
        if frame == self._last_hello and self._last_reply is not None:
            line.write(self._last_reply)  # our reply was lost; the PC asks again
            return
        hello = Hello.decode(frame)
        version = choose_version(hello, self.versions)
        if version is None:
            refuse = HelloRefuse(
                self.versions[0],
                self.versions[1],
                f"this desk speaks protocol versions {self.versions[0]}..{self.versions[1]}",
            )
            line.write(seal_frame(refuse.encode()))
            return
        try:
            reply, keys = device_handshake(hello, self.identity, self.serial, version)
        except HandshakeError:
            return
        channel = Channel(keys, line.write, rto=self.rto, max_tries=self.max_tries)
        wire = seal_frame(reply.encode())
        with self._lock:
            if self._channel is not None:
                self._channel.kill("a new session started")
            self._channel = channel
            self._last_hello, self._last_reply = frame, wire
            self.sessions += 1
        line.write(wire)

    # --- requests ------------------------------------------------------------------------

    def _on_message(self, channel: Channel, data: bytes) -> None:
        request_id: str | None = None
        try:
            request = messages.decode(data)
            request_id = request.get("id") if isinstance(request.get("id"), str) else None
            if request_id is not None and request_id in self._answers:
                # The same request again (PROTOCOL.md §5.1): the same answer, no second effect.
                self._answers.move_to_end(request_id)
                channel.send(self._answers[request_id])
                return
            op, args = request.get("op"), request.get("args", {})
            if op not in messages.OPS:
                raise DeskError("BAD_REQUEST", f"unknown operation {op!r}")
            if not isinstance(args, dict):
                raise DeskError("BAD_REQUEST", "args is a JSON object")
            response: dict[str, Any] = {
                "id": request_id, "ok": True, "result": self.handler(op, args),
            }
        except DeskError as exc:
            response = {"id": request_id, "ok": False, "error": messages.error_body(exc)}
        except SessionDead:
            return
        except Exception as exc:
            # A fault in the device must reach the PC as an answer, not a silent timeout.
            traceback.print_exc(file=sys.stderr)
            response = {
                "id": request_id,
                "ok": False,
                "error": {"code": "BAD_REQUEST", "message": f"device fault: {exc}"},
            }
        body = messages.encode(response)
        if request_id is not None:
            self._answers[request_id] = body
            while len(self._answers) > ANSWERS_KEPT:
                self._answers.popitem(last=False)
        try:
            channel.send(body)
        except SessionDead:
            pass
