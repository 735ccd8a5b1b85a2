"""The development vendor key that signs factory data in development and tests (R31).

In production the factory signs extension files with the vendor's own key and
each tenant trusts its public half (``TrustedVendorKey``). For development and
for the CLI's ``keywarden factory extension`` we keep one Ed25519 key under the
server's ``var`` directory so that locally made files verify against a tenant
that trusts it.

What the vendor signs is the canonical JSON of a file's payload or header
(:func:`canonical_payload`), for extension and firmware files alike.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

DEV_VENDOR_KEY_FILE = "vendor-dev.key"


def canonical_payload(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes the vendor signs: the payload as canonical JSON."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def load_or_create_dev_vendor_key(var_dir: Path) -> Ed25519PrivateKey:
    """The development vendor's signing key, created on first use (R31).

    Stored at ``var_dir/vendor-dev.key`` as the hex of the raw 32-byte private
    key, readable by the owner only (mode 0600). Two processes starting at once
    end up with the same key: the file appears atomically, complete, or not at all.
    """
    path = var_dir / DEV_VENDOR_KEY_FILE
    if path.exists():
        return _read_key(path)
    var_dir.mkdir(parents=True, exist_ok=True)
    raw = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    tmp = var_dir / f".{DEV_VENDOR_KEY_FILE}.{secrets.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(raw.hex() + "\n")
        try:
            # link() fails if another process created the key meanwhile: theirs wins.
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
    return _read_key(path)


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The hex of the raw 32-byte public key, as ``TrustedVendorKey.public_key`` stores it."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _read_key(path: Path) -> Ed25519PrivateKey:
    text = path.read_text(encoding="ascii").strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError as exc:
        raise ValueError(f"{path} does not hold a hex-encoded Ed25519 key") from exc
    if len(raw) != 32:
        raise ValueError(f"{path} does not hold a raw 32-byte Ed25519 key")
    return Ed25519PrivateKey.from_private_bytes(raw)
