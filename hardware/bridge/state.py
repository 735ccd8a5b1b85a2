"""The bridge's local state directory: its device key pair, its enrolment, its queue and status.

A bridge is enrolled once per tenant with a one-time code (issue 5); from then
on it proves who it is by signing with the Ed25519 private key generated at
enrolment, which never leaves this directory. Layout (directory 0700)::

    bridge.key      the private key, PKCS#8 PEM, mode 0600 (the agent refuses a looser mode)
    bridge.json     enrolment: server, tenant id, bridge id, name, public key, enrolled at
    reports.sqlite3 the durable report queue (:mod:`hardware.bridge.reports`)
    agent.lock      held (flock) by the running service; holds its pid
    status.json     what the running service last saw (:mod:`hardware.bridge.status`)
    known_desks.json the desk device identity pinned on first use (hardware/PROTOCOL.md)

Every file is written to a private temporary file beside its target, flushed
and renamed over it, so a crash never leaves half a key or half a config.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

STATE_DIR_ENV = "KEYWARDEN_BRIDGE_STATE_DIR"
CONFIG_VERSION = 1


class ConfigError(Exception):
    """A fatal problem with the agent's configuration or state directory, fixable by a person."""


@dataclass(frozen=True)
class Enrolment:
    """What the server told the bridge at enrolment: who it is, for which tenant, where."""

    server: str
    tenant_id: str
    bridge_id: str
    name: str
    public_key: str  # base64 raw Ed25519, as sent to enrolBridge
    enrolled_at: str
    version: int = CONFIG_VERSION

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Enrolment:
        if data.get("version") != CONFIG_VERSION:
            raise ConfigError(f"unsupported bridge config version {data.get('version')!r}")
        fields = ("server", "tenant_id", "bridge_id", "name", "public_key", "enrolled_at")
        missing = [f for f in fields if not isinstance(data.get(f), str)]
        if missing:
            raise ConfigError(f"bridge config lacks {', '.join(missing)}")
        return cls(**{f: data[f] for f in fields})


def default_state_dir() -> Path:
    """``$KEYWARDEN_BRIDGE_STATE_DIR``, else systemd's ``$STATE_DIRECTORY``, else ~/.local/state."""
    explicit = os.environ.get(STATE_DIR_ENV)
    if explicit:
        return Path(explicit)
    systemd = os.environ.get("STATE_DIRECTORY")
    if systemd:
        # systemd may pass several directories separated by ':'; ours is the first.
        return Path(systemd.split(":")[0])
    return Path.home() / ".local" / "state" / "keywarden-bridge"


def write_atomically(path: Path, data: bytes, mode: int = 0o600, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data``: private temp file beside it, rename over the target.

    ``durable`` also fsyncs the file and the directory, so the new content survives a
    power cut (keys, enrolment); a status file need not pay for that.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if not durable:
        return
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key, base64, as ``enrolBridge`` takes it."""
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


class StateDir:
    """The agent's state directory (see the module docstring for its files)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def key_path(self) -> Path:
        return self.path / "bridge.key"

    @property
    def config_path(self) -> Path:
        return self.path / "bridge.json"

    @property
    def queue_path(self) -> Path:
        return self.path / "reports.sqlite3"

    @property
    def known_desks_path(self) -> Path:
        return self.path / "known_desks.json"

    @property
    def lock_path(self) -> Path:
        return self.path / "agent.lock"

    @property
    def status_path(self) -> Path:
        return self.path / "status.json"

    def ensure(self) -> None:
        """Create the directory (0700), or tighten an existing one of ours to 0700."""
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = self.path.stat()
        if info.st_uid != os.geteuid():
            raise ConfigError(f"{self.path} belongs to another user (uid {info.st_uid})")
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(self.path, 0o700)

    # --- the device key pair ------------------------------------------------------------

    def store_private_key(self, key: Ed25519PrivateKey, path: Path | None = None) -> None:
        """Write ``key`` (PKCS#8 PEM, 0600) atomically to ``path`` (default bridge.key)."""
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        write_atomically(path or self.key_path, pem, 0o600)

    def load_private_key(self) -> Ed25519PrivateKey:
        """The bridge's private key; refused unless it is ours and readable by us only."""
        path = self.key_path
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise ConfigError(
                f"no bridge key at {path}: enrol first (keywarden-bridge enrol ...)"
            ) from None
        except OSError as exc:
            raise ConfigError(f"cannot open the bridge key {path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if info.st_uid != os.geteuid():
                raise ConfigError(f"{path} belongs to another user (uid {info.st_uid})")
            if info.st_mode & 0o077:
                # Anyone else who can read it can impersonate this bridge: refuse to run.
                raise ConfigError(
                    f"{path} is readable or writable by group/others "
                    f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}"
                )
            pem = f.read()
        try:
            key = load_pem_private_key(pem, password=None)
        except ValueError as exc:
            raise ConfigError(f"{path} is not a readable private key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"{path} is not an Ed25519 private key")
        return key

    # --- enrolment ------------------------------------------------------------------------

    def load_enrolment(self) -> Enrolment | None:
        """The stored enrolment, or None when this bridge was never enrolled."""
        try:
            text = self.config_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{self.config_path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{self.config_path} is not a JSON object")
        return Enrolment.from_json(data)

    def store_enrolment(self, enrolment: Enrolment) -> None:
        data = json.dumps(enrolment.to_json(), indent=2, sort_keys=True) + "\n"
        write_atomically(self.config_path, data.encode(), 0o600)


# --- proving the bridge's identity (interfaces section 4) ---------------------------------


def signed_identity(
    enrolment: Enrolment, key: Ed25519PrivateKey, *, now: float | None = None
) -> dict[str, Any]:
    """The ``bridge`` object of connection_init: tenant, bridge, time, fresh nonce, signature.

    The signature covers ``keywarden-bridge:<tenant>:<bridge>:<unix seconds>:<nonce>``;
    the server accepts it within ±120 s and never twice (replay protection).
    """
    timestamp = int(now if now is not None else time.time())
    nonce = secrets.token_hex(16)
    message = b":".join([
        b"keywarden-bridge",
        enrolment.tenant_id.encode(),
        enrolment.bridge_id.encode(),
        str(timestamp).encode(),
        nonce.encode(),
    ])
    return {
        "tenantId": enrolment.tenant_id,
        "bridgeId": enrolment.bridge_id,
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": base64.b64encode(key.sign(message)).decode(),
    }


def connection_init_payload(enrolment: Enrolment, key: Ed25519PrivateKey) -> dict[str, Any]:
    """The graphql-transport-ws ``connection_init`` payload that authenticates the bridge."""
    return {"bridge": signed_identity(enrolment, key)}


def connect_token(enrolment: Enrolment, key: Ed25519PrivateKey) -> str:
    """A one-use bearer for HTTP requests (``Authorization: Bridge <token>``): the signed
    identity as compact JSON, base64url without padding."""
    raw = json.dumps(signed_identity(enrolment, key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
