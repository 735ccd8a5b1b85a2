"""One session of the desk link: reliable, ordered, authenticated messages (PROTOCOL.md §4).

Each direction is a stop-and-wait channel: a message is cut into fragments of
at most ``MAX_FRAGMENT`` bytes, each fragment travels in one DATA frame with the
next sequence number, and the next fragment leaves only once the peer has
acknowledged the previous one (by an ACK frame, or by the ``ack`` field every
DATA frame carries). An unacknowledged frame is sent again, byte for byte, every
``rto`` seconds; after ``max_tries`` the session is dead.

The sequence number is also the AEAD nonce, so the receiver takes exactly the
frame it expects next: the previous one again (a retransmission whose ACK was
lost) is acknowledged again and dropped; anything else that authenticates is a
replayed or reordered frame and is refused; anything that does not is a tampered
frame and is refused. A message is handed up only once all its fragments have
arrived and authenticated, so a write cut off mid-way is never applied.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from hardware.link.crypto import AuthenticationError, SessionKeys
from hardware.link.framing import (
    ACK_HEADER,
    FLAG_MORE,
    MAX_FRAGMENT,
    FrameError,
    FrameType,
    data_header,
    parse_ack,
    parse_data,
    seal_frame,
)
from hardware.link.transport import TransportClosed

MAX_MESSAGE = 64 * 1024  # the largest message either side reassembles


@dataclass
class LinkStats:
    """What one endpoint saw on the line; refused frames are counted, never delivered."""

    frames_sent: int = 0
    frames_received: int = 0
    retransmissions: int = 0
    bad_frames: int = 0  # CRC or COBS errors (line noise): dropped, the sender retransmits
    auth_failures: int = 0  # AEAD tag did not verify: tampered or foreign frames
    replays_refused: int = 0  # authentic but out of order: replayed or reordered
    duplicates: int = 0  # the previous frame again (its ACK was lost): re-acknowledged
    messages_sent: int = 0
    messages_received: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class SessionDead(Exception):
    """The session cannot go on: no acknowledgement after the retries, or the port failed."""


@dataclass
class _Outstanding:
    seq: int
    wire: bytes
    deadline: float
    tries: int = 1


@dataclass
class Channel:
    """Both directions of one session, as seen from one side.

    ``write`` puts bytes on the line (it may block for the line's pace). The side's
    reader thread calls :meth:`receive_frame` for every frame and then
    :meth:`flush_ack`, and :meth:`tick` now and then to retransmit.
    """

    keys: SessionKeys
    write: Callable[[bytes], None]
    rto: float = 1.0
    max_tries: int = 5
    stats: LinkStats = field(default_factory=LinkStats)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._tx_seq = 0
        self._outstanding: _Outstanding | None = None
        self._queue: deque[tuple[int, bytes]] = deque()
        self._rx_expected = 1
        self._ack_sent = 0
        self._partial = bytearray()
        self.dead: str | None = None
        self.last_progress = time.monotonic()

    # --- sending ---------------------------------------------------------------------

    def send(self, message: bytes) -> None:
        """Queue a message; its fragments go out one by one as the peer acknowledges them."""
        if len(message) > MAX_MESSAGE:
            raise ValueError(f"message of {len(message)} bytes exceeds {MAX_MESSAGE}")
        pieces = [message[i : i + MAX_FRAGMENT] for i in range(0, len(message), MAX_FRAGMENT)]
        pieces = pieces or [b""]
        with self._lock:
            if self.dead:
                raise SessionDead(self.dead)
            for i, piece in enumerate(pieces):
                self._queue.append((FLAG_MORE if i < len(pieces) - 1 else 0, piece))
            self.stats.messages_sent += 1
            self._send_next()

    def _send_next(self) -> None:
        if self._outstanding is not None or not self._queue or self.dead:
            return
        flags, piece = self._queue.popleft()
        self._tx_seq += 1
        ack = self._rx_expected - 1
        header = data_header(flags, self._tx_seq, ack, len(piece) + 16)
        body = self.keys.send.seal(FrameType.DATA, self._tx_seq, piece, header)
        wire = seal_frame(header + body)
        # Retransmissions send these very bytes again: same nonce, same plaintext, so the
        # AEAD never sees one nonce with two different messages.
        self._outstanding = _Outstanding(self._tx_seq, wire, time.monotonic() + self.rto)
        self._ack_sent = max(self._ack_sent, ack)
        self._put(wire)

    def _put(self, wire: bytes) -> None:
        try:
            self.write(wire)
        except TransportClosed as exc:
            self.kill(f"port closed: {exc}")
            return
        self.stats.frames_sent += 1

    def _send_ack(self) -> None:
        ack = self._rx_expected - 1
        header = ACK_HEADER.pack(FrameType.ACK, ack)
        tag = self.keys.send.seal(FrameType.ACK, ack, b"", header)
        self._ack_sent = max(self._ack_sent, ack)
        self._put(seal_frame(header + tag))

    def flush_ack(self) -> None:
        """Acknowledge what was received, unless a DATA frame sent since already did."""
        with self._lock:
            if not self.dead and self._ack_sent < self._rx_expected - 1:
                self._send_ack()

    @property
    def busy(self) -> bool:
        """Frames are queued or waiting for their acknowledgement."""
        return self._outstanding is not None or bool(self._queue)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until everything queued was acknowledged (True) or the session died."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while (self._outstanding or self._queue) and not self.dead:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
            return not self.dead

    # --- receiving -------------------------------------------------------------------------

    def receive_frame(self, frame: bytes) -> list[bytes]:
        """Take one CRC-valid DATA or ACK frame; return the messages it completed."""
        with self._lock:
            if self.dead:
                return []
            self.stats.frames_received += 1
            try:
                if frame[0] == FrameType.ACK:
                    self._receive_ack(frame)
                    return []
                if frame[0] == FrameType.DATA:
                    return self._receive_data(frame)
            except FrameError:
                self.stats.bad_frames += 1
            return []

    def _receive_ack(self, frame: bytes) -> None:
        ack, header, tag = parse_ack(frame)
        try:
            self.keys.receive.open(FrameType.ACK, ack, tag, header)
        except AuthenticationError:
            self.stats.auth_failures += 1
            return
        self._acknowledged(ack)

    def _receive_data(self, frame: bytes) -> list[bytes]:
        data = parse_data(frame)
        try:
            plaintext = self.keys.receive.open(
                FrameType.DATA, data.seq, data.ciphertext, data.header
            )
        except AuthenticationError:
            self.stats.auth_failures += 1
            return []
        if data.seq == self._rx_expected - 1 and data.seq > 0:
            # Our acknowledgement got lost: say it again, and re-deliver what we have in
            # flight (usually the answer to that very frame) without waiting for our timer.
            self.stats.duplicates += 1
            if self._outstanding is not None:
                self._retransmit()
            else:
                self._send_ack()
            return []
        if data.seq != self._rx_expected:
            self.stats.replays_refused += 1
            return []
        self._rx_expected += 1
        self._acknowledged(data.ack)
        self._partial += plaintext
        if len(self._partial) > MAX_MESSAGE:
            self.kill(f"peer sent a message longer than {MAX_MESSAGE} bytes")
            return []
        if data.flags & FLAG_MORE:
            return []
        message = bytes(self._partial)
        self._partial.clear()
        self.stats.messages_received += 1
        return [message]

    def _acknowledged(self, ack: int) -> None:
        self.last_progress = time.monotonic()
        if self._outstanding is not None and self._outstanding.seq <= ack <= self._tx_seq:
            self._outstanding = None
            self._send_next()
            if self._outstanding is None and not self._queue:
                self._idle.notify_all()

    # --- timers -------------------------------------------------------------------------------

    def tick(self) -> None:
        """Retransmit the outstanding frame if its time is up; die after ``max_tries``."""
        with self._lock:
            pending = self._outstanding
            if self.dead or pending is None or time.monotonic() < pending.deadline:
                return
            if pending.tries >= self.max_tries:
                self.kill(
                    f"no acknowledgement for frame {pending.seq} after {pending.tries} tries "
                    f"({self.rto:g} s apart); {self.refusals()}"
                )
                return
            self._retransmit()

    def refusals(self) -> str:
        """The frames refused so far, by cause: what a link error tells about the cable."""
        return (
            f"refused frames so far: {self.stats.auth_failures} failed authentication, "
            f"{self.stats.replays_refused} replayed or reordered, "
            f"{self.stats.bad_frames} damaged"
        )

    def _retransmit(self) -> None:
        pending = self._outstanding
        assert pending is not None
        pending.tries += 1
        pending.deadline = time.monotonic() + self.rto
        self.stats.retransmissions += 1
        self._put(pending.wire)

    def kill(self, reason: str) -> None:
        """End the session; whoever waits on it learns ``reason``."""
        with self._lock:
            if self.dead is None:
                self.dead = reason
            self._idle.notify_all()
