"""Simulated programming keys (R5): the private half a real key keeps in its chip, kept in a file.

The demo seeding stores each simulated key here when it registers the key's
public key with the server, and ``keywarden login`` reads it back to sign the
login challenge, acting as the key holder would with the real key in a
programming device. The server writes and reads this file on its own
(``app/demo_keys.py``), never through this module, so the format below is the
contract between the two; ``tests/test_demo.py`` checks the simulator reads what
the demo wrote.

The state file is JSON, readable by its owner only (0600)::

    {"version": 1,
     "tenants": {"<tenant id>": {"<marking>": {"uid": "...", "private_key": "<hex>"}}}}
"""

from __future__ import annotations

import json
import os
import tempfile
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

STATE_VERSION = 1


@dataclass(frozen=True)
class SimulatedProgrammingKey:
    """A programming key of the simulator: its marking, hardware UID and Ed25519 private key."""

    marking: str
    uid: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key the server stores as ``ProgrammingKey.public_key``."""
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def private_key_hex(self) -> str:
        """The raw 32-byte private key in hex, as the state file keeps it."""
        return self.private_key.private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        ).hex()

    def sign_login(self, tenant_id: str, nonce: str) -> bytes:
        """Sign a login challenge as the key's chip would (R5)."""
        return self.private_key.sign(login_message(tenant_id, nonce))


class SimulatorState:
    """The simulator's private keys, per tenant and marking, in one JSON file at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @staticmethod
    def new_key(marking: str, uid: str) -> SimulatedProgrammingKey:
        """A freshly generated simulated programming key (not yet stored)."""
        return SimulatedProgrammingKey(marking, uid, Ed25519PrivateKey.generate())

    def add(self, tenant_id: str, key: SimulatedProgrammingKey) -> None:
        """Store ``key`` for ``tenant_id``, replacing any key with the same marking there."""
        state = self._read()
        state["tenants"].setdefault(tenant_id, {})[key.marking] = {
            "uid": key.uid,
            "private_key": key.private_key_hex(),
        }
        self._write(state)

    def get(self, tenant_id: str, marking: str) -> SimulatedProgrammingKey:
        """The stored key ``marking`` of ``tenant_id``; a KeyError that says what is missing."""
        entry = self._read()["tenants"].get(tenant_id, {}).get(marking)
        if entry is None:
            raise KeyError(
                f"the simulator has no programming key {marking!r} for tenant {tenant_id} "
                f"in {self.path}"
            )
        private_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(entry["private_key"]))
        return SimulatedProgrammingKey(marking, entry["uid"], private_key)

    def markings(self, tenant_id: str) -> list[str]:
        """The markings of the simulated keys stored for ``tenant_id``, sorted."""
        return sorted(self._read()["tenants"].get(tenant_id, {}))

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"version": STATE_VERSION, "tenants": {}}
        state: dict[str, Any] = json.loads(text)
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"{self.path}: unsupported simulator state version")
        return state

    def _write(self, state: dict[str, Any]) -> None:
        # Written to a private temporary file beside the target and renamed over it, so
        # a reader never sees half a file and the keys are never world-readable.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                os.fchmod(f.fileno(), 0o600)
                json.dump(state, f, indent=2, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
