"""The session handshake and frame protection of the desk link (PROTOCOL.md §3).

Both sides make an ephemeral X25519 key per session; the desk device signs the
handshake transcript with its long-term Ed25519 identity, so a man-in-the-middle
on the cable cannot substitute its own key without the PC noticing (the PC pins
the identity: trust on first use, stored fingerprint, :class:`KnownDesks`).
HKDF-SHA256 over the shared secret and the transcript gives one ChaCha20-Poly1305
key per direction; the nonce of every frame is its type and sequence number, so
a frame is accepted at most once and only where it was sent.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import struct
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hardware.link.framing import FrameError, FrameType

PROTOCOL_VERSIONS = (1, 1)  # (lowest, highest) version this code speaks
SIGNATURE_CONTEXT = b"keywarden-desk-handshake\x00"
KDF_INFO = b"keywarden-desk-link v1 keys\x00"

_HELLO = struct.Struct(">BBB32s16s")  # type, lowest version, highest version, eph key, random
_REPLY_FIXED = struct.Struct(">BB32s16s32sB")  # type, version, eph key, random, identity, len
_REFUSE = struct.Struct(">BBB")  # type, device's lowest, highest version; then a UTF-8 reason


class HandshakeError(Exception):
    """The handshake failed: bad signature, unpinned identity, malformed reply."""


class AuthenticationError(Exception):
    """A frame whose AEAD tag does not verify: tampered, or not from this session."""


def raw_public(key: X25519PublicKey | Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def fingerprint(identity_public: bytes) -> str:
    """The identity's fingerprint as people compare it: SHA-256, hex, in groups of four."""
    digest = hashlib.sha256(identity_public).hexdigest()
    return ":".join(digest[i : i + 4] for i in range(0, len(digest), 4))


# --- handshake messages -------------------------------------------------------------------


@dataclass(frozen=True)
class Hello:
    """The PC's opening frame: the versions it speaks and its ephemeral key."""

    lowest: int
    highest: int
    ephemeral: bytes
    random: bytes

    def encode(self) -> bytes:
        return _HELLO.pack(FrameType.HELLO, self.lowest, self.highest, self.ephemeral, self.random)

    @classmethod
    def decode(cls, frame: bytes) -> Hello:
        if len(frame) != _HELLO.size:
            raise FrameError("HELLO has the wrong length")
        _, lowest, highest, ephemeral, random = _HELLO.unpack(frame)
        return cls(lowest, highest, ephemeral, random)


@dataclass(frozen=True)
class HelloReply:
    """The desk's answer: chosen version, its ephemeral key, its identity, a signature."""

    version: int
    ephemeral: bytes
    random: bytes
    identity: bytes
    serial: str
    signature: bytes

    def signed_part(self) -> bytes:
        serial = self.serial.encode()
        return (
            _REPLY_FIXED.pack(
                FrameType.HELLO_REPLY,
                self.version,
                self.ephemeral,
                self.random,
                self.identity,
                len(serial),
            )
            + serial
        )

    def encode(self) -> bytes:
        return self.signed_part() + self.signature

    @classmethod
    def decode(cls, frame: bytes) -> HelloReply:
        if len(frame) < _REPLY_FIXED.size + 64:
            raise FrameError("HELLO_REPLY too short")
        _, version, ephemeral, random, identity, n = _REPLY_FIXED.unpack_from(frame)
        if len(frame) != _REPLY_FIXED.size + n + 64:
            raise FrameError("HELLO_REPLY has the wrong length")
        serial = frame[_REPLY_FIXED.size : _REPLY_FIXED.size + n].decode("utf-8", "replace")
        return cls(version, ephemeral, random, identity, serial, frame[-64:])


@dataclass(frozen=True)
class HelloRefuse:
    """The desk speaks no version the PC offered."""

    lowest: int
    highest: int
    reason: str

    def encode(self) -> bytes:
        reason = self.reason.encode()[:200]
        return _REFUSE.pack(FrameType.HELLO_REFUSE, self.lowest, self.highest) + reason

    @classmethod
    def decode(cls, frame: bytes) -> HelloRefuse:
        if len(frame) < _REFUSE.size:
            raise FrameError("HELLO_REFUSE too short")
        _, lowest, highest = _REFUSE.unpack_from(frame)
        return cls(lowest, highest, frame[_REFUSE.size :].decode("utf-8", "replace"))


def choose_version(hello: Hello, supported: tuple[int, int] = PROTOCOL_VERSIONS) -> int | None:
    """The highest version both speak, or None."""
    top = min(hello.highest, supported[1])
    return top if top >= max(hello.lowest, supported[0]) else None


# --- session keys ---------------------------------------------------------------------------


class DirectionKey:
    """The AEAD key of one direction. Nonce = frame type, seven zero bytes, 32-bit number."""

    def __init__(self, key: bytes) -> None:
        self._aead = ChaCha20Poly1305(key)

    @staticmethod
    def nonce(frame_type: int, number: int) -> bytes:
        return bytes([frame_type]) + bytes(7) + struct.pack(">I", number)

    def seal(self, frame_type: int, number: int, plaintext: bytes, aad: bytes) -> bytes:
        return self._aead.encrypt(self.nonce(frame_type, number), plaintext, aad)

    def open(self, frame_type: int, number: int, ciphertext: bytes, aad: bytes) -> bytes:
        try:
            return self._aead.decrypt(self.nonce(frame_type, number), ciphertext, aad)
        except InvalidTag:
            raise AuthenticationError("frame failed authentication") from None


@dataclass
class SessionKeys:
    """The two keys of a session, as seen from one side (``send`` and ``receive``)."""

    send: DirectionKey
    receive: DirectionKey
    version: int
    peer_identity: bytes | None = None
    peer_serial: str | None = None


def _derive(shared: bytes, hello: Hello, reply: HelloReply) -> tuple[bytes, bytes]:
    transcript = hashlib.sha256(hello.encode() + reply.encode()).digest()
    okm = HKDF(
        algorithm=hashes.SHA256(),
        length=64,
        salt=hello.random + reply.random,
        info=KDF_INFO + transcript,
    ).derive(shared)
    return okm[:32], okm[32:]  # PC -> desk, desk -> PC


class ClientHandshake:
    """The PC's half of the handshake: make the HELLO, then check the desk's reply."""

    def __init__(self, versions: tuple[int, int] = PROTOCOL_VERSIONS) -> None:
        self._ephemeral = X25519PrivateKey.generate()
        self.hello = Hello(
            versions[0], versions[1], raw_public(self._ephemeral.public_key()),
            secrets.token_bytes(16),
        )

    def finish(self, reply: HelloReply) -> SessionKeys:
        """Verify the desk's signature over the transcript and derive the session keys."""
        if not self.hello.lowest <= reply.version <= self.hello.highest:
            raise HandshakeError(f"desk chose protocol version {reply.version}, not offered")
        try:
            Ed25519PublicKey.from_public_bytes(reply.identity).verify(
                reply.signature, SIGNATURE_CONTEXT + self.hello.encode() + reply.signed_part()
            )
        except (InvalidSignature, ValueError):
            raise HandshakeError(
                "the desk's handshake signature does not verify: the frames were altered "
                "on the cable (man-in-the-middle?)"
            ) from None
        shared = self._ephemeral.exchange(X25519PublicKey.from_public_bytes(reply.ephemeral))
        to_desk, to_pc = _derive(shared, self.hello, reply)
        return SessionKeys(
            DirectionKey(to_desk), DirectionKey(to_pc), reply.version, reply.identity,
            reply.serial,
        )


def device_handshake(
    hello: Hello, identity: Ed25519PrivateKey, serial: str, version: int
) -> tuple[HelloReply, SessionKeys]:
    """The desk's half: answer a HELLO with a signed reply and derive the session keys."""
    ephemeral = X25519PrivateKey.generate()
    unsigned = HelloReply(
        version, raw_public(ephemeral.public_key()), secrets.token_bytes(16),
        raw_public(identity.public_key()), serial, b"",
    )
    signature = identity.sign(SIGNATURE_CONTEXT + hello.encode() + unsigned.signed_part())
    reply = HelloReply(
        unsigned.version, unsigned.ephemeral, unsigned.random, unsigned.identity, serial,
        signature,
    )
    try:
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(hello.ephemeral))
    except ValueError as exc:  # a low-order point: the all-zero shared secret is refused
        raise HandshakeError(str(exc)) from None
    to_desk, to_pc = _derive(shared, hello, reply)
    return reply, SessionKeys(DirectionKey(to_pc), DirectionKey(to_desk), version)


# --- identity pinning -------------------------------------------------------------------------


class KnownDesks:
    """The desk identities this PC trusts, pinned on first use (PROTOCOL.md §3.4).

    A JSON file ``{"desks": {"<fingerprint>": {"serial", "firstSeen"}}}``, 0600,
    written atomically. While it is empty the first desk seen is trusted and
    stored; after that a desk whose identity is not in the file is refused until
    someone who checked the fingerprint on the device's label adds it
    (:meth:`trust`) — a different identity on the same cable is exactly what a
    man-in-the-middle looks like.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def fingerprints(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        desks: dict[str, dict[str, str]] = data.get("desks", {})
        return desks

    def check(self, identity_public: bytes, serial: str) -> str:
        """Accept (and on first use pin) this identity; HandshakeError if another is pinned."""
        fp = fingerprint(identity_public)
        known = self.fingerprints()
        if fp in known:
            return fp
        if known:
            raise HandshakeError(
                f"desk {serial!r} presented identity {fp}, which is not pinned in "
                f"{self.path} (pinned: {', '.join(sorted(known))}); refusing the device — "
                "a man-in-the-middle on the cable or a replaced device. If the device was "
                "replaced, compare the fingerprint with its label and trust it explicitly."
            )
        self.trust(identity_public, serial)
        return fp

    def trust(self, identity_public: bytes, serial: str) -> None:
        """Pin an identity (first use, or an administrator's explicit decision)."""
        known = self.fingerprints()
        known[fingerprint(identity_public)] = {
            "serial": serial,
            "firstSeen": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                os.fchmod(f.fileno(), 0o600)
                json.dump({"desks": known}, f, indent=2, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
