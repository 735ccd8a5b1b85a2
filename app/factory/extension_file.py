"""Factory extension files: their format, the vendor's signature, and the checks (R31, R32).

For every order the vendor's factory delivers an *extension*: the list of
elements it has just made for the tenant's master key system. The tenant
imports it (by hand, or automatically from the data center), which verifies
the vendor's signature and creates the elements as NOT_ACTIVATED; an admin
then activates it, after which the elements can be used (R31).

File format (UTF-8 JSON)::

    {
      "format": "keywarden-extension/1",
      "payload": {...},
      "signature": "<base64 of the 64-byte Ed25519 signature>",
      "signer": "<hex of the vendor's raw 32-byte Ed25519 public key>"
    }

The signature is over the canonical JSON of ``payload``:
``json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()``
(``app.factory.vendor.canonical_payload``). It is
accepted only if ``signer`` is one of the tenant's ``TrustedVendorKey`` rows.

``payload``::

    {
      "fileId": "<uuid>",            # the vendor's id for this file; imported once
      "orderNumber": "<string>",
      "createdAt": "<ISO 8601>",
      "keys": [{"marking", "uid", "type": "E1|E2|E3", "generation": "GEN1|GEN2",
                "firmwareVersion"}],
      "cylinders": [{"marking", "uid", "securityRelevant": bool}],
      "programmingKeys": [{"marking", "uid", "kind": "MAIN|SUBMASTER|SUB",
                           "firmwareVersion", "publicKey": "<hex, 32 bytes>",
                           "pinHash"?: "<argon2id>", "pukHash"?: "<argon2id, MAIN only>"}],
      "remoteDevices": [{"serial", "kind": "WALL|MOBILE|DESK", "name", "firmwareVersion",
                         "bootloaderVersion", "publicKey": "<hex, 32 bytes>",
                         "potentialFreeOutput": bool, "systemLinked": bool}]
    }

All four lists are required (they may be empty). Markings, UIDs and serials
are unique within their list; a key's firmware must fit its generation (R10:
GEN1 runs firmware up to 6.x, GEN2 10.x and up); only a wall device can have a
potential-free output (R22); a master key system has one MAIN key (R5).
A programming key may carry the argon2id hash of the PIN (and, for the MAIN key,
of the PUK) the factory printed on the letter it sends the customer; without a
PIN hash its holder sets the first PIN (``app.auth.programming_keys``, R5).

Importing and activating an extension is ``app.factory.extension``.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.errors import BAD_SIGNATURE, INVALID, DomainError
from app.factory.firmware import is_version
from app.factory.vendor import canonical_payload, public_key_hex
from app.models import (
    KeyGeneration,
    KeyType,
    ProgrammingKeyKind,
    RemoteDeviceKind,
    utcnow,
)
from app.uploads import not_plain_text, shown

E = TypeVar("E", bound=enum.Enum)

FORMAT = "keywarden-extension/1"
FILE_FIELD = "file"
ARGON2ID_PREFIX = "$argon2id$"
SECRET_FIELDS = frozenset({"pinHash", "pukHash"})

_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
# R10: generation 1 (ASIC1) runs firmware up to 6.x, generation 2 (ASIC2) 10.x and up.
_FIRMWARE_MAJOR = {KeyGeneration.GEN1: (0, 6), KeyGeneration.GEN2: (10, None)}


def build_extension(payload: Mapping[str, Any], signing_key: Ed25519PrivateKey) -> bytes:
    """Sign ``payload`` as the vendor and wrap it in an extension file (R31).

    The payload is taken as given, unchecked; ``make_extension_file`` is the
    checked way to write a file.
    """
    signature = signing_key.sign(canonical_payload(payload))
    document = {
        "format": FORMAT,
        "payload": payload,
        "signature": base64.b64encode(signature).decode("ascii"),
        "signer": public_key_hex(signing_key),
    }
    return json.dumps(document, indent=2, sort_keys=True).encode()


def make_extension_file(
    *,
    keys: Sequence[Mapping[str, Any]] = (),
    cylinders: Sequence[Mapping[str, Any]] = (),
    programming_keys: Sequence[Mapping[str, Any]] = (),
    remote_devices: Sequence[Mapping[str, Any]] = (),
    signing_key: Ed25519PrivateKey,
    order_number: str,
    file_id: str | None = None,
    created_at: datetime | None = None,
) -> bytes:
    """Write the factory's extension file for one order, signed with ``signing_key`` (R31).

    Elements are given as they appear in the file (``{"marking": ..., "uid": ...,
    "type": "E3", ...}``, see the module docstring). The payload is checked as an
    import would check it, so a file this makes is never refused as INVALID;
    a mistake raises ``DomainError(INVALID)`` naming the element's path.
    """
    payload: dict[str, Any] = {
        "fileId": file_id or str(uuid.uuid4()),
        "orderNumber": order_number,
        "createdAt": (created_at or utcnow()).isoformat(),
        "keys": [dict(k) for k in keys],
        "cylinders": [dict(c) for c in cylinders],
        "programmingKeys": [dict(p) for p in programming_keys],
        "remoteDevices": [dict(d) for d in remote_devices],
    }
    _check_payload(payload)
    return build_extension(payload, signing_key)


def verify_extension_file(data: bytes, trusted_public_keys: Iterable[str]) -> dict[str, Any]:
    """Check an extension file and return its payload (R31).

    Raises ``DomainError`` on field ``file``: BAD_SIGNATURE when the signer is not
    one of ``trusted_public_keys`` (hex) or the signature does not match the
    payload; INVALID, naming the JSON path at fault, when the file is not an
    extension file (an archive, which is never unpacked, or UTF-16 text is said
    so at once) or its content breaks the format (see the module docstring).
    """
    problem = not_plain_text(data)
    if problem is not None:
        raise _invalid("$", problem)
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, huge ints, deep nesting
        raise _invalid("$", f"the file is not UTF-8 JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise _invalid("$", "the file must be a JSON object")
    if document.get("format") != FORMAT:
        raise _invalid("format", f"must be {FORMAT!r}, found {shown(document.get('format'))}")
    payload = document.get("payload")
    if not isinstance(payload, dict):
        raise _invalid("payload", "must be an object")
    signature_text = _string(document, "signature", "$", max_length=200)
    signer = _string(document, "signer", "$", max_length=64)
    if not _HEX_KEY.fullmatch(signer):
        raise _invalid("signer", "must be the hex of a 32-byte Ed25519 public key")

    trusted = {k.lower() for k in trusted_public_keys}
    if signer.lower() not in trusted:
        raise DomainError(
            BAD_SIGNATURE,
            f"the file is signed by vendor key {signer[:16]}…, which this system does not trust",
            FILE_FIELD,
        )
    try:
        signature = base64.b64decode(signature_text, validate=True)
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(signer)).verify(
            signature, canonical_payload(payload)
        )
    except (binascii.Error, ValueError, InvalidSignature) as exc:
        raise DomainError(
            BAD_SIGNATURE,
            "the file's signature does not match its content: it was altered or damaged",
            FILE_FIELD,
        ) from exc
    _check_payload(payload)
    return payload


def _invalid(path: str, message: str) -> DomainError:
    return DomainError(INVALID, f"{path}: {message}", FILE_FIELD)


def _string(obj: Mapping[str, Any], name: str, path: str, *, max_length: int = 64) -> str:
    where = f"{path}.{name}" if path != "$" else name
    if name not in obj:
        raise _invalid(where, "is missing")
    value = obj[name]
    if not isinstance(value, str):
        raise _invalid(where, f"must be a string, found {type(value).__name__}")
    if not value.strip():
        raise _invalid(where, "must not be empty")
    if len(value) > max_length:
        raise _invalid(where, f"must be at most {max_length} characters")
    return value


def _boolean(obj: Mapping[str, Any], name: str, path: str) -> bool:
    if name not in obj:
        raise _invalid(f"{path}.{name}", "is missing")
    value = obj[name]
    if not isinstance(value, bool):
        raise _invalid(f"{path}.{name}", f"must be true or false, found {shown(value)}")
    return value


def _choice(obj: Mapping[str, Any], name: str, path: str, enum_cls: type[E]) -> E:
    value = _string(obj, name, path)
    try:
        return enum_cls[value]
    except KeyError:
        allowed = ", ".join(m.name for m in enum_cls)
        raise _invalid(f"{path}.{name}", f"must be one of {allowed}, found {value!r}") from None


def _version(obj: Mapping[str, Any], name: str, path: str) -> str:
    value = _string(obj, name, path, max_length=32)
    if not is_version(value):
        raise _invalid(f"{path}.{name}", f"must be a version like 12.3.0, found {value!r}")
    return value


def _public_key(obj: Mapping[str, Any], name: str, path: str) -> bytes:
    value = _string(obj, name, path)
    if not _HEX_KEY.fullmatch(value):
        raise _invalid(f"{path}.{name}", "must be the hex of a 32-byte Ed25519 public key")
    return bytes.fromhex(value)


def _secret_hash(obj: Mapping[str, Any], name: str, path: str) -> bool:
    """Check an optional PIN or PUK hash; whether it is there. Only argon2id (R5: slow)."""
    if name not in obj:
        return False
    value = _string(obj, name, path, max_length=200)
    if not value.startswith(ARGON2ID_PREFIX):
        raise _invalid(f"{path}.{name}", "must be an argon2id hash ($argon2id$...)")
    return True


def without_secrets(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``payload`` without the programming keys' PIN and PUK hashes, to keep on file (R37)."""
    return {
        **payload,
        "programmingKeys": [
            {k: v for k, v in p.items() if k not in SECRET_FIELDS}
            for p in payload["programmingKeys"]
        ],
    }


def _elements(payload: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    if name not in payload:
        raise _invalid(f"payload.{name}", "is missing (an empty list is allowed)")
    items = payload[name]
    if not isinstance(items, list):
        raise _invalid(f"payload.{name}", "must be a list")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise _invalid(f"payload.{name}[{i}]", "must be an object")
    return items


def _unique(items: list[Mapping[str, Any]], list_name: str, attribute: str) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        value = item[attribute]
        if value in seen:
            raise _invalid(
                f"payload.{list_name}[{i}].{attribute}",
                f"{value!r} appears twice in the file (also payload.{list_name}[{seen[value]}])",
            )
        seen[value] = i


def _check_payload(payload: Mapping[str, Any]) -> None:
    """Raise INVALID, naming the path, for the first thing in ``payload`` that breaks the format."""
    if not isinstance(payload, Mapping):
        raise _invalid("payload", "must be an object")
    file_id = _string(payload, "fileId", "payload")
    try:
        uuid.UUID(file_id)
    except ValueError:
        raise _invalid("payload.fileId", f"must be a UUID, found {file_id!r}") from None
    _string(payload, "orderNumber", "payload", max_length=200)
    created_at = _string(payload, "createdAt", "payload")
    try:
        datetime.fromisoformat(created_at)
    except ValueError:
        raise _invalid(
            "payload.createdAt", f"must be an ISO 8601 time, found {created_at!r}"
        ) from None

    keys = _elements(payload, "keys")
    for i, item in enumerate(keys):
        path = f"payload.keys[{i}]"
        _string(item, "marking", path)
        _string(item, "uid", path)
        _choice(item, "type", path, KeyType)
        generation = _choice(item, "generation", path, KeyGeneration)
        firmware = _version(item, "firmwareVersion", path)
        low, high = _FIRMWARE_MAJOR[generation]
        major = int(firmware.split(".")[0])
        if major < low or (high is not None and major > high):
            expected = "up to 6.x" if generation is KeyGeneration.GEN1 else "10.x or later"
            raise _invalid(
                f"{path}.firmwareVersion",
                f"a {generation.name} key runs firmware {expected} (R10), found {firmware}",
            )

    cylinders = _elements(payload, "cylinders")
    for i, item in enumerate(cylinders):
        path = f"payload.cylinders[{i}]"
        _string(item, "marking", path)
        _string(item, "uid", path)
        _boolean(item, "securityRelevant", path)

    programming_keys = _elements(payload, "programmingKeys")
    main_at: int | None = None
    for i, item in enumerate(programming_keys):
        path = f"payload.programmingKeys[{i}]"
        _string(item, "marking", path)
        _string(item, "uid", path)
        kind = _choice(item, "kind", path, ProgrammingKeyKind)
        _version(item, "firmwareVersion", path)
        _public_key(item, "publicKey", path)
        _secret_hash(item, "pinHash", path)
        if _secret_hash(item, "pukHash", path) and kind is not ProgrammingKeyKind.MAIN:
            raise _invalid(f"{path}.pukHash", "only the MAIN key has a PUK (R5)")
        if kind is ProgrammingKeyKind.MAIN:
            if main_at is not None:
                raise _invalid(
                    f"{path}.kind",
                    f"a master key system has one MAIN key (R5); "
                    f"payload.programmingKeys[{main_at}] is one already",
                )
            main_at = i

    remote_devices = _elements(payload, "remoteDevices")
    for i, item in enumerate(remote_devices):
        path = f"payload.remoteDevices[{i}]"
        _string(item, "serial", path)
        kind = _choice(item, "kind", path, RemoteDeviceKind)
        _string(item, "name", path, max_length=200)
        _version(item, "firmwareVersion", path)
        _version(item, "bootloaderVersion", path)
        _public_key(item, "publicKey", path)
        if _boolean(item, "potentialFreeOutput", path) and kind is not RemoteDeviceKind.WALL:
            raise _invalid(
                f"{path}.potentialFreeOutput",
                "only a wall programming device has a potential-free output (R22)",
            )
        _boolean(item, "systemLinked", path)

    if not (keys or cylinders or programming_keys or remote_devices):
        raise _invalid("payload", "the file lists no elements")

    for list_name, items, attributes in (
        ("keys", keys, ("marking", "uid")),
        ("cylinders", cylinders, ("marking", "uid")),
        ("programmingKeys", programming_keys, ("marking", "uid")),
        ("remoteDevices", remote_devices, ("serial",)),
    ):
        for attribute in attributes:
            _unique(items, list_name, attribute)
