"""Frames on the serial line between the PC and the desk programming device (PROTOCOL.md §2).

A frame is a few header bytes, a body and a CRC-32; on the wire it is
COBS-encoded and ends with a single 0x00 byte, so a receiver that lost bytes
(a cable wiggled, a buffer overran) finds the start of the next frame at the
next 0x00 and never mistakes a payload byte for a delimiter. The CRC catches
line noise; authenticity is the session layer's job (``hardware.link.session``).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum

# Largest plaintext a DATA frame carries; longer messages are split into fragments.
MAX_FRAGMENT = 1024
# AEAD tag length (ChaCha20-Poly1305).
TAG_LEN = 16
# The largest frame any version-1 peer sends, before COBS: DATA header + fragment + tag + CRC.
MAX_FRAME = 12 + MAX_FRAGMENT + TAG_LEN + 4
# COBS adds one byte per 254 plus one; the decoder drops anything longer than this as garbage.
MAX_WIRE = MAX_FRAME + MAX_FRAME // 254 + 2

CRC_LEN = 4


class FrameType(IntEnum):
    """The first byte of every frame (PROTOCOL.md §2.2)."""

    HELLO = 0x01  # PC -> desk: versions offered, ephemeral X25519 key
    HELLO_REPLY = 0x02  # desk -> PC: version chosen, ephemeral key, identity, signature
    HELLO_REFUSE = 0x03  # desk -> PC: no common protocol version
    DATA = 0x10  # either way: an encrypted message fragment
    ACK = 0x11  # either way: an authenticated acknowledgement
    ECHO = 0x7E  # PC -> desk: line test, unauthenticated, answered verbatim
    ECHO_REPLY = 0x7F  # desk -> PC


class FrameError(ValueError):
    """A frame that cannot be decoded: bad COBS, bad CRC, too short, unknown type."""


# --- COBS (Consistent Overhead Byte Stuffing) ------------------------------------------


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode ``data``: the result contains no 0x00 byte and is at most len/254+1 longer."""
    out = bytearray()
    # Each run of non-zero bytes becomes a code byte (run length + 1) and the run; a code
    # below 0xFF implies the zero that ended the run. Runs of 254 get code 0xFF, no zero.
    for part in data.split(b"\x00"):
        while len(part) >= 254:
            out.append(0xFF)
            out += part[:254]
            part = part[254:]
        out.append(len(part) + 1)
        out += part
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Invert :func:`cobs_encode`; FrameError on a 0x00 byte or a truncated block."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise FrameError("COBS: zero byte inside a frame")
        end = i + code
        if end > n:
            raise FrameError("COBS: truncated block")
        out += data[i + 1 : end]
        i = end
        if code < 0xFF and i < n:
            out.append(0)
    return bytes(out)


# --- CRC ---------------------------------------------------------------------------------


def crc32(data: bytes) -> int:
    """CRC-32 (IEEE 802.3, the zlib polynomial) of ``data``."""
    return zlib.crc32(data) & 0xFFFFFFFF


def seal_frame(frame: bytes) -> bytes:
    """Append the CRC, COBS-encode and delimit: the bytes that go on the wire."""
    return cobs_encode(frame + struct.pack(">I", crc32(frame))) + b"\x00"


def open_frame(wire: bytes) -> bytes:
    """The frame (header + body, CRC removed) inside one delimited wire chunk (no 0x00)."""
    raw = cobs_decode(wire)
    if len(raw) < 1 + CRC_LEN:
        raise FrameError("frame too short")
    frame, (crc,) = raw[:-CRC_LEN], struct.unpack(">I", raw[-CRC_LEN:])
    if crc32(frame) != crc:
        raise FrameError("CRC mismatch")
    try:
        FrameType(frame[0])
    except ValueError:
        raise FrameError(f"unknown frame type 0x{frame[0]:02x}") from None
    return frame


class FrameDecoder:
    """Splits the received byte stream into frames at the 0x00 delimiters.

    Frames that fail COBS or CRC are dropped and counted (the sender retransmits
    them, PROTOCOL.md §4); an over-long run without a delimiter is discarded until
    the next 0x00 so one lost delimiter costs at most two frames.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._overflow = False
        self.bad_frames = 0

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Add received bytes; yield every complete, CRC-valid frame they finish."""
        self._buffer += data
        while True:
            end = self._buffer.find(0)
            if end < 0:
                if len(self._buffer) > MAX_WIRE:
                    self._buffer.clear()
                    self._overflow = True
                return
            chunk = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if self._overflow:
                self._overflow = False
                self.bad_frames += 1
                continue
            if not chunk:
                continue  # an idle delimiter, sent to flush a receiver's half frame
            if len(chunk) > MAX_WIRE:
                self.bad_frames += 1
                continue
            try:
                yield open_frame(chunk)
            except FrameError:
                self.bad_frames += 1


# --- frame layouts -------------------------------------------------------------------------

# DATA: type, flags, seq, ack, length of the ciphertext (which includes the AEAD tag).
DATA_HEADER = struct.Struct(">BBIIH")
# ACK: type, acknowledged sequence number; followed by the 16-byte tag.
ACK_HEADER = struct.Struct(">BI")
FLAG_MORE = 0x01  # DATA: more fragments of this message follow


@dataclass(frozen=True)
class DataFrame:
    """A DATA frame as received: the header fields and the ciphertext (with its tag)."""

    flags: int
    seq: int
    ack: int
    header: bytes
    ciphertext: bytes


def data_header(flags: int, seq: int, ack: int, ciphertext_len: int) -> bytes:
    """The DATA header bytes, which are also the AEAD's associated data."""
    return DATA_HEADER.pack(FrameType.DATA, flags, seq, ack, ciphertext_len)


def parse_data(frame: bytes) -> DataFrame:
    """Split a DATA frame; FrameError if the length field does not match the body."""
    if len(frame) < DATA_HEADER.size + TAG_LEN:
        raise FrameError("DATA frame too short")
    _, flags, seq, ack, length = DATA_HEADER.unpack_from(frame)
    body = frame[DATA_HEADER.size :]
    if len(body) != length:
        raise FrameError("DATA length field does not match the frame")
    return DataFrame(flags, seq, ack, frame[: DATA_HEADER.size], body)


def parse_ack(frame: bytes) -> tuple[int, bytes, bytes]:
    """(acknowledged seq, header, tag) of an ACK frame."""
    if len(frame) != ACK_HEADER.size + TAG_LEN:
        raise FrameError("ACK frame has the wrong length")
    _, ack = ACK_HEADER.unpack_from(frame)
    return ack, frame[: ACK_HEADER.size], frame[ACK_HEADER.size :]
