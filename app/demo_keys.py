"""The demo's programming keys as the simulator holds them: the private half each key's chip keeps.

``keywarden demo`` makes an Ed25519 key pair for every demo programming key
(R5), registers the public half with the server and writes the private half
into the simulator's key file, from which the simulator
(``hardware/sim/programming_key.py``, where the format is documented) and
``keywarden login`` sign the login challenge as the key holder would. The
server never imports the simulator: it writes the documented format itself,
and tests check that the simulator reads what it wrote.

The file is JSON, readable by its owner only (0600)::

    {"version": 1,
     "tenants": {"<tenant id>": {"<marking>": {"uid": "...", "private_key": "<hex>"}}}}
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from hardware.wire import login_message

FILE_VERSION = 1


@dataclass(frozen=True)
class DemoKeyPair:
    """A demo programming key's marking, hardware UID and the private key its chip keeps."""

    marking: str
    uid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, marking: str, uid: str) -> DemoKeyPair:
        """A new key pair for the programming key ``marking``."""
        return cls(marking, uid, Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key the server stores as ``ProgrammingKey.public_key``."""
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign_login(self, tenant_id: str, nonce: str) -> bytes:
        """Sign a login challenge as the key's chip would (R5)."""
        return self.private_key.sign(login_message(tenant_id, nonce))


def store_key_pairs(path: Path, tenant_id: str, pairs: Iterable[DemoKeyPair]) -> None:
    """Add ``pairs`` to the simulator's key file for ``tenant_id`` (a marking already there is
    replaced), in one write."""
    data = _read(path)
    keys = data["tenants"].setdefault(tenant_id, {})
    for pair in pairs:
        raw = pair.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        keys[pair.marking] = {"uid": pair.uid, "private_key": raw.hex()}
    # A private temporary file beside the target, renamed over it: a reader never sees half
    # a file, and the private keys are never readable by others.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o600)
            json.dump(data, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_key_pair(path: Path, tenant_id: str, marking: str) -> DemoKeyPair:
    """The stored key pair ``marking`` of ``tenant_id``; a KeyError that says what is missing."""
    entry = _read(path)["tenants"].get(tenant_id, {}).get(marking)
    if entry is None:
        raise KeyError(
            f"the simulator has no programming key {marking!r} for tenant {tenant_id} in {path}"
        )
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(entry["private_key"]))
    return DemoKeyPair(marking, entry["uid"], private)


def _read(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": FILE_VERSION, "tenants": {}}
    if data.get("version") != FILE_VERSION:
        raise ValueError(f"{path}: unsupported simulator key file version")
    return data
