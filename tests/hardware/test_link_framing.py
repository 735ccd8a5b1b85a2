"""Framing of the desk link (hardware/PROTOCOL.md §2): COBS, CRC-32, delimiters, size limits.

Round trips go through real pseudo-terminal pairs, as the bytes do between the
bridge PC and the desk device.
"""

from __future__ import annotations

import os
import select
import tty

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.link.framing import (
    MAX_FRAME,
    MAX_WIRE,
    FrameDecoder,
    FrameError,
    FrameType,
    cobs_decode,
    cobs_encode,
    open_frame,
    seal_frame,
)


def pty_pair() -> tuple[int, int]:
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave


def read_frames(fd: int, count: int, timeout: float = 5.0) -> list[bytes]:
    decoder = FrameDecoder()
    frames: list[bytes] = []
    while len(frames) < count:
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, f"only {len(frames)} of {count} frames arrived"
        frames.extend(decoder.feed(os.read(fd, 65536)))
    return frames


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@given(st.binary(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_cobs_round_trips_any_bytes_and_never_emits_the_delimiter(data: bytes) -> None:
    encoded = cobs_encode(data)
    assert 0 not in encoded
    assert len(encoded) <= len(data) + len(data) // 254 + 1
    assert cobs_decode(encoded) == data


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"\x00\x00", b"\x01" * 254, b"\x01" * 254 + b"\x00", b"\x01" * 255,
     b"\x00" + b"\xff" * 508 + b"\x00"],
)
def test_cobs_edge_cases_round_trip(data: bytes) -> None:
    assert cobs_decode(cobs_encode(data)) == data


def test_frames_full_of_zero_bytes_cross_a_real_pty_intact() -> None:
    # given: frames that are mostly 0x00 and 0xff, up to the largest frame the protocol allows
    master, slave = pty_pair()
    frames = [
        bytes([FrameType.DATA]) + bytes(40),
        bytes([FrameType.DATA]) + b"\x00\xff" * ((MAX_FRAME - 5) // 2),
        bytes([FrameType.ECHO]) + bytes(range(256)) * 4,
        bytes([FrameType.ACK]) + bytes(MAX_FRAME - 5),
    ]
    try:
        # when
        write_all(slave, b"".join(seal_frame(f) for f in frames))
        received = read_frames(master, len(frames))
    finally:
        os.close(master)
        os.close(slave)
    # then
    assert received == frames
    assert all(len(seal_frame(f)) <= MAX_WIRE + 1 for f in frames)


def test_a_frame_with_a_bad_crc_is_dropped_and_the_next_one_still_arrives() -> None:
    master, slave = pty_pair()
    good = bytes([FrameType.DATA]) + b"\x00payload\x00"
    damaged = bytearray(seal_frame(good))
    damaged[3] ^= 0x40  # line noise in the middle of the frame
    decoder = FrameDecoder()
    try:
        write_all(slave, bytes(damaged) + seal_frame(good))
        received: list[bytes] = []
        while not received:
            select.select([master], [], [], 5)
            received.extend(decoder.feed(os.read(master, 4096)))
    finally:
        os.close(master)
        os.close(slave)
    assert received == [good]
    assert decoder.bad_frames == 1


def test_a_lost_delimiter_costs_at_most_the_frames_around_it() -> None:
    decoder = FrameDecoder()
    first = seal_frame(bytes([FrameType.DATA]) + b"one")
    second = seal_frame(bytes([FrameType.DATA]) + b"two")
    third = bytes([FrameType.DATA]) + b"three"
    # the delimiter of the first frame is lost: first and second run together
    frames = list(decoder.feed(first[:-1] + second + seal_frame(third)))
    assert frames == [third]
    assert decoder.bad_frames == 1


def test_a_run_of_garbage_longer_than_any_frame_is_discarded_until_the_next_delimiter() -> None:
    decoder = FrameDecoder()
    good = bytes([FrameType.DATA]) + b"after the noise"
    frames = list(decoder.feed(b"\x55" * (3 * MAX_WIRE)))
    frames += list(decoder.feed(b"\x55" * 10 + b"\x00" + seal_frame(good)))
    assert frames == [good]
    assert decoder.bad_frames == 1


def test_truncated_cobs_and_unknown_frame_types_are_refused() -> None:
    with pytest.raises(FrameError):
        cobs_decode(b"\x05ab")
    with pytest.raises(FrameError):
        open_frame(seal_frame(b"\x42hello")[:-1])
