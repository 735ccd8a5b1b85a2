"""The authenticated, reliable desk link (hardware/PROTOCOL.md §3–4) against a meddling cable.

A real desk link server (``hardware.link.server``) serves a real pty; the PC's
:class:`DeskClient` reaches it through a second pty pair and a :class:`Tap` — a
cable with someone in the middle who can drop, damage, tamper with, replay and
reorder frames, or recompute CRCs as an attacker would.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import threading
import time
import tty
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hardware.link.client import DeskClient, DeskError, LinkError, VersionMismatch
from hardware.link.crypto import HelloReply, raw_public
from hardware.link.framing import FrameType, open_frame, seal_frame
from hardware.link.server import DeskLinkServer
from hardware.link.session import MAX_MESSAGE
from hardware.link.transport import PtyLine
from tests.harness import patience, wait_until

# Retransmission time in these tests: short, so lost frames cost little time (longer on a
# busy machine, where a frame can wait that long for the thread that answers it).
RTO = patience(0.25)

Policy = Callable[[bytes], list[bytes]]


def frame_of(wire: bytes) -> bytes:
    """The frame inside one delimited wire chunk (CRC checked and removed)."""
    return open_frame(wire[:-1])


def kind(wire: bytes) -> int | None:
    try:
        return frame_of(wire)[0]
    except ValueError:
        return None


def pass_all(wire: bytes) -> list[bytes]:
    return [wire]


class Tap:
    """A cable between the PC and the desk with someone in the middle.

    The PC opens :attr:`path`; every delimited frame is handed to ``to_desk`` /
    ``to_pc``, which returns what goes on instead (nothing, the frame, a changed
    frame, more frames). :meth:`inject` puts any bytes on either wire.
    """

    def __init__(self, desk_path: str) -> None:
        self._pc, pc_slave = os.openpty()
        tty.setraw(pc_slave)
        self._pc_slave = pc_slave
        self.path = os.ttyname(pc_slave)
        self._desk = os.open(desk_path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self._desk)
        self.to_desk: Policy = pass_all
        self.to_pc: Policy = pass_all
        self.seen_to_desk: list[bytes] = []
        self.seen_to_pc: list[bytes] = []
        self._stop_r, self._stop_w = os.pipe()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._forward, args=(self._pc, self._desk, True), daemon=True),
            threading.Thread(target=self._forward, args=(self._desk, self._pc, False), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _forward(self, src: int, dst: int, to_desk: bool) -> None:
        buffer = bytearray()
        while True:
            ready, _, _ = select.select([src, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            try:
                data = os.read(src, 65536)
            except OSError:
                return
            buffer += data
            while (end := buffer.find(0)) >= 0:
                wire = bytes(buffer[: end + 1])
                del buffer[: end + 1]
                (self.seen_to_desk if to_desk else self.seen_to_pc).append(wire)
                policy = self.to_desk if to_desk else self.to_pc
                for out in policy(wire):
                    self._write(dst, out)

    def _write(self, fd: int, data: bytes) -> None:
        with self._lock:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]

    def inject(self, data: bytes, *, to_desk: bool) -> None:
        self._write(self._desk if to_desk else self._pc, data)

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        for thread in self._threads:
            thread.join(timeout=2)
        for fd in (self._pc, self._pc_slave, self._desk, self._stop_r, self._stop_w):
            with contextlib.suppress(OSError):
                os.close(fd)


@dataclass
class Desk:
    """An in-process desk link server on a real pty; its handler counts what it carried out."""

    server: DeskLinkServer
    line: PtyLine
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def start_desk(
    identity: Ed25519PrivateKey | None = None, versions: tuple[int, int] = (1, 1)
) -> tuple[Desk, threading.Thread]:
    calls: list[tuple[str, dict[str, Any]]] = []

    def handler(op: str, args: dict[str, Any]) -> Any:
        calls.append((op, args))
        if args.get("refuse"):
            raise DeskError("NO_KEY", "no key in the left slot")
        return {"op": op, "echo": args, "count": len(calls)}

    server = DeskLinkServer(
        identity or Ed25519PrivateKey.generate(), "DPD-TEST", handler, versions=versions,
        rto=RTO, max_tries=5,
    )
    line = PtyLine(0)
    thread = threading.Thread(target=server.serve, args=(line,), daemon=True)
    thread.start()
    return Desk(server, line, calls), thread


@pytest.fixture
def desk() -> Iterator[Desk]:
    running, thread = start_desk()
    yield running
    running.line.unplug()
    thread.join(timeout=5)


@pytest.fixture
def tap(desk: Desk) -> Iterator[Tap]:
    cable = Tap(desk.line.path)
    yield cable
    cable.close()


def open_client(path: str, **kwargs: Any) -> DeskClient:
    return DeskClient.open(path, timeout=RTO, **kwargs)


def first_of(
    frame_type: int, change: Callable[[bytes], list[bytes]], *, count: int = 1
) -> Policy:
    """A policy that applies ``change`` to the first ``count`` frames of ``frame_type``."""
    left = [count]

    def policy(wire: bytes) -> list[bytes]:
        if left[0] > 0 and kind(wire) == frame_type:
            left[0] -= 1
            return change(wire)
        return [wire]

    return policy


def tamper_ciphertext(wire: bytes) -> list[bytes]:
    """Flip a ciphertext bit and recompute the CRC, as an attacker on the cable can."""
    frame = bytearray(frame_of(wire))
    frame[-1] ^= 0x01
    return [seal_frame(bytes(frame))]


# --- the plain path ------------------------------------------------------------------------


def test_request_and_answer_cross_the_link_and_a_refusal_keeps_its_code(
    desk: Desk, tap: Tap
) -> None:
    with open_client(tap.path) as client:
        assert client.call("INFO", {"x": "\x00\x00"})["echo"] == {"x": "\x00\x00"}
        with pytest.raises(DeskError) as refused:
            client.call("READ_KEY", {"slot": "left", "refuse": True})
        assert refused.value.code == "NO_KEY"
        assert not isinstance(refused.value, LinkError)
        assert client.stats.retransmissions == 0


def test_a_message_of_the_maximum_size_crosses_in_fragments(desk: Desk, tap: Tap) -> None:
    # given: a request just under the 64 KiB message limit
    payload = "k" * (MAX_MESSAGE - 200)
    with open_client(tap.path) as client:
        # when
        answer = client.call("INFO", {"blob": payload})
        # then: 64 fragments each way, all acknowledged in order
        assert answer["echo"]["blob"] == payload
        assert client.stats.messages_received == 1
        assert client.stats.frames_received >= 64
        with pytest.raises(ValueError):
            client.call("INFO", {"blob": "x" * MAX_MESSAGE})


# --- line noise and loss --------------------------------------------------------------------


def test_a_frame_with_a_crc_error_is_dropped_and_retransmitted(desk: Desk, tap: Tap) -> None:
    def damage(wire: bytes) -> list[bytes]:
        noisy = bytearray(wire)
        noisy[len(noisy) // 2] ^= 0x10  # CRC not recomputed: line noise
        return [bytes(noisy)]

    with open_client(tap.path) as client:
        tap.to_desk = first_of(FrameType.DATA, damage)
        assert client.call("INFO", {"n": 1})["count"] == 1
        assert client.stats.retransmissions >= 1
    assert desk.server.bad_frames >= 1
    assert len(desk.calls) == 1


def test_a_lost_answer_is_delivered_again_without_carrying_out_the_request_twice(
    desk: Desk, tap: Tap
) -> None:
    with open_client(tap.path) as client:
        # given: the desk's first answer never reaches the PC
        tap.to_pc = first_of(FrameType.DATA, lambda wire: [])
        # when
        answer = client.call("WRITE_JOBS", {"slot": "left", "jobs": [{"jobId": "J1"}]})
        # then: the PC sent the request again, the desk saw a duplicate and re-sent its answer
        assert answer["count"] == 1
        assert client.stats.retransmissions >= 1
        server_stats = desk.server.stats
        assert server_stats is not None
        assert server_stats.duplicates + server_stats.retransmissions >= 1
    assert [op for op, _ in desk.calls] == ["WRITE_JOBS"]


def test_the_link_fails_with_link_error_when_the_desk_stops_answering(
    desk: Desk, tap: Tap
) -> None:
    with open_client(tap.path) as client:
        tap.to_pc = lambda wire: []
        started = time.monotonic()
        with pytest.raises(LinkError) as failed:
            client.call("INFO", {})
        assert failed.value.code == "LINK"
        assert "no acknowledgement" in failed.value.message
        assert time.monotonic() - started < patience(RTO * 5 + 2)
        with pytest.raises(LinkError):
            client.call("INFO", {})  # the session is over; the caller opens a new one


# --- attacks on the cable ---------------------------------------------------------------------


def test_a_tampered_frame_is_refused_and_the_genuine_one_is_retransmitted(
    desk: Desk, tap: Tap
) -> None:
    with open_client(tap.path) as client:
        tap.to_pc = first_of(FrameType.DATA, tamper_ciphertext)
        assert client.call("INFO", {"n": 2})["echo"] == {"n": 2}
        assert client.stats.auth_failures == 1
        tap.to_desk = first_of(FrameType.DATA, tamper_ciphertext)
        assert client.call("INFO", {"n": 3})["count"] == 2
    stats = desk.server.stats
    assert stats is not None and stats.auth_failures == 1
    assert len(desk.calls) == 2


def test_a_cable_that_tampers_with_every_frame_ends_in_link_error_naming_it(
    desk: Desk, tap: Tap
) -> None:
    with open_client(tap.path) as client:
        tap.to_pc = lambda w: tamper_ciphertext(w) if kind(w) == FrameType.DATA else [w]
        with pytest.raises(LinkError) as failed:
            client.call("INFO", {})
        # The desk's answers all failed authentication, and the error says so with a count
        # above zero, however the link gave up (no acknowledgement, or no answer in time).
        assert re.search(r"\b[1-9]\d* failed authentication", failed.value.message), (
            failed.value.message
        )
        assert client.stats.auth_failures >= 1


def test_a_replayed_request_is_refused_and_not_carried_out_again(desk: Desk, tap: Tap) -> None:
    with open_client(tap.path) as client:
        # given: a write went over the cable, and then another request
        client.call("WRITE_KEY", {"slot": "right", "validity": {"alwaysValid": True}})
        recorded = next(w for w in tap.seen_to_desk if kind(w) == FrameType.DATA)
        client.call("INFO", {})
        # when: the attacker plays the recorded write frame again
        tap.inject(recorded, to_desk=True)
        # then: refused as a replay; the desk carried the write out once
        stats = desk.server.stats
        assert stats is not None
        wait_until(lambda: stats.replays_refused >= 1, "the desk to refuse the replay")
        assert stats.replays_refused == 1
        assert [op for op, _ in desk.calls] == ["WRITE_KEY", "INFO"]
        assert client.call("INFO", {})["count"] == 3  # and the session goes on


def test_a_frame_delivered_out_of_order_is_refused(desk: Desk, tap: Tap) -> None:
    held: list[bytes] = []

    def hold_back_a_copy(wire: bytes) -> list[bytes]:
        held.append(wire)
        return [wire]

    with open_client(tap.path) as client:
        # given: the attacker keeps a copy of the desk's first answer and lets newer frames pass
        tap.to_pc = first_of(FrameType.DATA, hold_back_a_copy)
        client.call("INFO", {"n": 1})
        client.call("INFO", {"n": 2})
        events_before = client.stats.messages_received
        # when: the old answer arrives after the newer ones
        tap.inject(held[0], to_desk=False)
        # then: refused, nothing delivered twice
        wait_until(lambda: client.stats.replays_refused >= 1, "the client to refuse the frame")
        assert client.stats.replays_refused == 1
        assert client.stats.messages_received == events_before
        assert client.next_event(0.05) is None


def test_a_frame_from_an_earlier_session_is_refused(desk: Desk, tap: Tap) -> None:
    with open_client(tap.path) as first:
        first.call("WRITE_KEY", {"slot": "right"})
    recorded = next(w for w in tap.seen_to_desk if kind(w) == FrameType.DATA)
    with open_client(tap.path) as second:
        # the same sequence number in a new session: the keys differ, the tag does not verify
        tap.inject(recorded, to_desk=True)
        stats = desk.server.stats
        assert stats is not None
        wait_until(lambda: stats.auth_failures >= 1, "the desk to refuse the old frame")
        assert second.call("INFO", {})["count"] == 2
    assert stats.auth_failures == 1
    assert [op for op, _ in desk.calls] == ["WRITE_KEY", "INFO"]


def test_a_man_in_the_middle_swapping_the_desks_key_exchange_is_detected(
    desk: Desk, tap: Tap
) -> None:
    attacker = X25519PrivateKey.generate()

    def substitute(wire: bytes) -> list[bytes]:
        reply = HelloReply.decode(frame_of(wire))
        forged = HelloReply(
            reply.version, raw_public(attacker.public_key()), reply.random, reply.identity,
            reply.serial, reply.signature,
        )
        return [seal_frame(forged.encode())]

    tap.to_pc = first_of(FrameType.HELLO_REPLY, substitute, count=10)
    with pytest.raises(LinkError) as refused:
        open_client(tap.path)
    assert "signature does not verify" in refused.value.message


def test_the_desk_identity_is_pinned_on_first_use_and_an_impostor_is_refused(
    desk: Desk, tmp_path: Path
) -> None:
    known = tmp_path / "known_desks.json"
    # first use: the desk's identity is pinned
    with open_client(desk.line.path, known_desks=known) as client:
        genuine = client.identity_fingerprint
    assert genuine in known.read_text()
    assert oct(known.stat().st_mode & 0o777) == "0o600"
    # the same desk again: accepted
    with open_client(desk.line.path, known_desks=known):
        pass
    # another device with its own identity (an impostor on the cable): refused
    impostor, thread = start_desk()
    try:
        with pytest.raises(LinkError) as refused:
            open_client(impostor.line.path, known_desks=known)
        assert "not pinned" in refused.value.message
        assert impostor.calls == []
    finally:
        impostor.line.unplug()
        thread.join(timeout=5)


# --- the version handshake ----------------------------------------------------------------------


def test_a_client_offering_only_newer_versions_is_refused_with_the_desks_range(
    desk: Desk,
) -> None:
    with pytest.raises(VersionMismatch) as refused:
        open_client(desk.line.path, versions=(2, 3))
    assert refused.value.code == "UNSUPPORTED"
    assert refused.value.details == {"desk": [1, 1], "client": [2, 3]}


def test_the_highest_common_version_is_chosen() -> None:
    newer, thread = start_desk(versions=(1, 4))
    try:
        with open_client(newer.line.path, versions=(1, 2)) as client:
            assert client.keys.version == 2
            assert client.call("INFO", {})["count"] == 1
    finally:
        newer.line.unplug()
        thread.join(timeout=5)


# --- events -------------------------------------------------------------------------------------


def test_events_reach_the_pc_in_order_even_when_frames_are_lost(desk: Desk, tap: Tap) -> None:
    with open_client(tap.path) as client:
        tap.to_pc = first_of(FrameType.DATA, lambda wire: [], count=2)
        for i in range(3):
            assert desk.server.push_event({"event": "KEY_INSERTED", "slot": "left", "uid": str(i)})
        received = [client.next_event(RTO * 6) for _ in range(3)]
        assert [e["uid"] for e in received if e] == ["0", "1", "2"]
        assert client.next_event(0.05) is None


def test_pulling_the_cable_fails_calls_and_event_waits_with_link_error(desk: Desk) -> None:
    client = open_client(desk.line.path)
    try:
        desk.line.unplug()
        with pytest.raises(LinkError) as failed:
            client.next_event(2)
        assert "port closed" in failed.value.message
        with pytest.raises(LinkError):
            client.call("INFO", {})
    finally:
        client.close()
