"""Factory extension files: their format, signature check, import and activation (R31, R32).

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
``json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()``. It is
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
                           "firmwareVersion", "publicKey": "<hex, 32 bytes>"}],
      "remoteDevices": [{"serial", "kind": "WALL|MOBILE|DESK", "name", "firmwareVersion",
                         "bootloaderVersion", "publicKey": "<hex, 32 bytes>",
                         "potentialFreeOutput": bool, "systemLinked": bool}]
    }

All four lists are required (they may be empty). Markings, UIDs and serials
are unique within their list; a key's firmware must fit its generation (R10:
GEN1 runs firmware up to 6.x, GEN2 10.x and up); only a wall device can have a
potential-free output (R22); a master key system has one MAIN key (R5).

A cylinder whose marking already exists in the tenant is a *clone*: a
replacement made by the factory with the original order's state (R32). It is
not added as a new element and needs no activation (as the FAQ says); at
import the existing cylinder is flagged for reprogramming and a full
reprogramming job is created for it.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError
from app.factory.vendor import public_key_hex
from app.mail import builtin_role_emails, queue_mail
from app.models import (
    Cylinder,
    CylinderStatus,
    Domain,
    Extension,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    ProgrammingJob,
    ProgrammingJobStatus,
    ProgrammingKey,
    ProgrammingKeyKind,
    ProgrammingKeyStatus,
    RemoteDevice,
    RemoteDeviceKind,
    Schedule,
    TrustedVendorKey,
    utcnow,
)

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")

FORMAT = "keywarden-extension/1"
FILE_FIELD = "file"

# R31, R33: these roles hear about a new extension (the FAQ: "Admin/Superadmin").
NOTIFIED_ROLES = ("Superadmin", "Admin")
OPEN_JOB_STATUSES = (
    ProgrammingJobStatus.PENDING,
    ProgrammingJobStatus.ASSIGNED,
    ProgrammingJobStatus.ON_KEY,
)
# Values per IN (...) list: far below the drivers' parameter limits (32k), so
# any realistic order is checked in one statement per element kind.
IN_CHUNK = 5000
# How many conflicting elements an error message names before it summarises.
NAMED_IN_MESSAGE = 5

_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
# R10: generation 1 (ASIC1) runs firmware up to 6.x, generation 2 (ASIC2) 10.x and up.
_FIRMWARE_MAJOR = {KeyGeneration.GEN1: (0, 6), KeyGeneration.GEN2: (10, None)}


# --- the file ---------------------------------------------------------------


def canonical_payload(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes the vendor signs: the payload as canonical JSON."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


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
    a mistake raises ``DomainError("INVALID")`` naming the element's path.
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
    extension file or its content breaks the format (see the module docstring).
    """
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, huge ints, deep nesting
        raise _invalid("$", f"the file is not UTF-8 JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise _invalid("$", "the file must be a JSON object")
    if document.get("format") != FORMAT:
        raise _invalid("format", f"must be {FORMAT!r}, found {document.get('format')!r}")
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
            "BAD_SIGNATURE",
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
            "BAD_SIGNATURE",
            "the file's signature does not match its content: it was altered or damaged",
            FILE_FIELD,
        ) from exc
    _check_payload(payload)
    return payload


def _invalid(path: str, message: str) -> DomainError:
    return DomainError("INVALID", f"{path}: {message}", FILE_FIELD)


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
        raise _invalid(f"{path}.{name}", f"must be true or false, found {value!r}")
    return value


def _choice(obj: Mapping[str, Any], name: str, path: str, enum_cls: type[E]) -> E:
    value = _string(obj, name, path)
    try:
        return enum_cls[value]
    except KeyError:
        allowed = ", ".join(m.name for m in enum_cls)
        raise _invalid(f"{path}.{name}", f"must be one of {allowed}, found {value!r}") from None


def _version(obj: Mapping[str, Any], name: str, path: str) -> str:
    from app.factory.firmware import is_version  # firmware.py imports this module

    value = _string(obj, name, path, max_length=32)
    if not is_version(value):
        raise _invalid(f"{path}.{name}", f"must be a version like 12.3.0, found {value!r}")
    return value


def _public_key(obj: Mapping[str, Any], name: str, path: str) -> bytes:
    value = _string(obj, name, path)
    if not _HEX_KEY.fullmatch(value):
        raise _invalid(f"{path}.{name}", "must be the hex of a 32-byte Ed25519 public key")
    return bytes.fromhex(value)


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


# --- import and activation ----------------------------------------------------


@dataclass
class ImportedExtension:
    """What an extension import did, or for a dry run would do (R31, R32).

    ``extension`` is None for a dry run. ``programming_jobs`` are the full
    reprogramming jobs of the clones (R32), created now or already open.
    """

    file_id: str
    order_number: str
    extension: Extension | None
    new_keys: int
    new_cylinders: int
    new_programming_keys: int
    new_remote_devices: int
    clones: int
    clone_markings: list[str] = field(default_factory=list)
    programming_jobs: list[ProgrammingJob] = field(default_factory=list)


async def import_extension(
    session: AsyncSession, data: bytes, *, dry_run: bool = False
) -> ImportedExtension:
    """Import the factory's extension file into the session's tenant (R31, R32).

    The file must be signed by one of the tenant's trusted vendor keys. New
    keys, cylinders, programming keys and remote devices are created in the
    default domain as NOT_ACTIVATED (keys with the default schedule, always
    valid, R12), linked to the new ``Extension``; they become usable when an
    admin activates it. A cylinder whose marking exists already is a clone
    (R32): it needs no activation, so here and now the existing cylinder is
    flagged ``needs_reprogramming`` and gets one full reprogramming job. Every
    Superadmin and Admin with an e-mail address is told through the outbox
    (R31, R33).

    Raises ``DomainError``: BAD_SIGNATURE or INVALID for the file (see
    ``verify_extension_file``); CONFLICT when the file was imported before or
    names a key, programming key, device or cylinder UID that exists already;
    FORBIDDEN when the session is limited to some of the tenant's domains
    (factory data concerns them all, R8). ``dry_run`` checks everything and
    writes nothing. Never commits.
    """
    await _require_whole_tenant(session)
    trusted = list(await session.scalars(select(TrustedVendorKey.public_key)))
    payload = verify_extension_file(data, trusted)
    file_id: str = payload["fileId"]
    order_number: str = payload["orderNumber"]
    keys: list[dict[str, Any]] = payload["keys"]
    cylinders: list[dict[str, Any]] = payload["cylinders"]
    programming_keys: list[dict[str, Any]] = payload["programmingKeys"]
    remote_devices: list[dict[str, Any]] = payload["remoteDevices"]

    if await session.scalar(select(Extension.id).where(Extension.file_id == file_id)) is not None:
        raise DomainError(
            "CONFLICT",
            f"the extension file {file_id} (order {order_number}) has been imported already",
            FILE_FIELD,
        )

    conflicts: list[str] = []
    conflicts += await _existing_identities(session, Key, "key", keys, ("marking", "uid"))
    conflicts += await _existing_identities(
        session, ProgrammingKey, "programming key", programming_keys, ("marking", "uid")
    )
    conflicts += await _existing_identities(
        session, RemoteDevice, "remote device", remote_devices, ("serial",)
    )
    if any(p["kind"] == ProgrammingKeyKind.MAIN.name for p in programming_keys):
        main = await session.scalar(
            select(ProgrammingKey.marking).where(ProgrammingKey.kind == ProgrammingKeyKind.MAIN)
        )
        if main is not None:
            conflicts.append(f"a MAIN programming key ({main}; one per system, R5)")
    originals, cylinder_conflicts = await _match_cylinders(session, cylinders)
    conflicts += cylinder_conflicts
    if conflicts:
        named = ", ".join(conflicts[:NAMED_IN_MESSAGE])
        more = len(conflicts) - NAMED_IN_MESSAGE
        raise DomainError(
            "CONFLICT",
            f"already in this system: {named}" + (f" and {more} more" if more > 0 else ""),
            FILE_FIELD,
        )

    new_cylinders = [c for c in cylinders if c["marking"] not in originals]
    clone_markings = [c["marking"] for c in cylinders if c["marking"] in originals]
    result = ImportedExtension(
        file_id=file_id,
        order_number=order_number,
        extension=None,
        new_keys=len(keys),
        new_cylinders=len(new_cylinders),
        new_programming_keys=len(programming_keys),
        new_remote_devices=len(remote_devices),
        clones=len(clone_markings),
        clone_markings=clone_markings,
    )
    if dry_run:
        return result

    domain_id = await session.scalar(select(Domain.id).where(Domain.is_default))
    schedule_id = await session.scalar(select(Schedule.id).where(Schedule.is_default))
    if domain_id is None or schedule_id is None:
        # create_tenant makes both; a tenant without them is damaged, not a user mistake.
        raise RuntimeError("the tenant has no default domain or no default schedule")

    has_new_elements = bool(keys or new_cylinders or programming_keys or remote_devices)
    now = utcnow()
    extension = Extension(
        file_id=file_id,
        content=payload,
        new_keys=result.new_keys,
        new_cylinders=result.new_cylinders,
        clones=result.clones,
        # Clones need no activation (FAQ): a file of clones only has nothing to activate.
        activated=not has_new_elements,
        activated_at=None if has_new_elements else now,
    )
    session.add(extension)
    await session.flush()

    session.add_all(
        Key(
            domain_id=domain_id,
            marking=k["marking"],
            uid=k["uid"],
            type=KeyType[k["type"]],
            generation=KeyGeneration[k["generation"]],
            firmware_version=k["firmwareVersion"],
            status=KeyStatus.NOT_ACTIVATED,
            always_valid=True,
            schedule_id=schedule_id,
            extension_id=extension.id,
        )
        for k in keys
    )
    session.add_all(
        Cylinder(
            domain_id=domain_id,
            marking=c["marking"],
            uid=c["uid"],
            status=CylinderStatus.NOT_ACTIVATED,
            security_relevant=c["securityRelevant"],
            extension_id=extension.id,
        )
        for c in new_cylinders
    )
    session.add_all(
        ProgrammingKey(
            marking=p["marking"],
            uid=p["uid"],
            kind=ProgrammingKeyKind[p["kind"]],
            status=ProgrammingKeyStatus.NOT_ACTIVATED,
            firmware_version=p["firmwareVersion"],
            public_key=bytes.fromhex(p["publicKey"]),
            extension_id=extension.id,
        )
        for p in programming_keys
    )
    session.add_all(
        RemoteDevice(
            domain_id=domain_id,
            name=d["name"],
            kind=RemoteDeviceKind[d["kind"]],
            serial=d["serial"],
            public_key=bytes.fromhex(d["publicKey"]),
            firmware_version=d["firmwareVersion"],
            bootloader_version=d["bootloaderVersion"],
            potential_free_output=d["potentialFreeOutput"],
            system_linked=d["systemLinked"],
            extension_id=extension.id,
        )
        for d in remote_devices
    )
    for clone in cylinders:
        if clone["marking"] in originals:
            _mark_clone(originals[clone["marking"]], clone)
    result.programming_jobs = await _full_reprogram_jobs(
        session, [originals[m] for m in clone_markings]
    )
    await _notify_admins(session, result, has_new_elements)
    await session.flush()
    result.extension = extension
    return result


async def activate_extension(session: AsyncSession, extension_id: int) -> Extension:
    """Activate an imported extension: its elements become usable (R31).

    Its keys go IN_STOCK, its cylinders and programming keys ACTIVE; remote
    devices carry no status and count as activated with their extension.
    Raises ``DomainError``: NOT_FOUND (field ``id``) for an extension this
    tenant does not have, CONFLICT when it is activated already, FORBIDDEN when
    the session is limited to some of the tenant's domains. Never commits.
    """
    await _require_whole_tenant(session)
    extension = await session.scalar(
        select(Extension).where(Extension.id == extension_id).with_for_update()
    )
    if extension is None:
        raise DomainError("NOT_FOUND", f"no extension {extension_id}", "id")
    if extension.activated:
        raise DomainError(
            "CONFLICT", f"the extension {extension.file_id} is activated already", "id"
        )
    await session.execute(
        update(Key)
        .where(Key.extension_id == extension.id, Key.status == KeyStatus.NOT_ACTIVATED)
        .values(status=KeyStatus.IN_STOCK)
    )
    await session.execute(
        update(Cylinder)
        .where(
            Cylinder.extension_id == extension.id,
            Cylinder.status == CylinderStatus.NOT_ACTIVATED,
        )
        .values(status=CylinderStatus.ACTIVE)
    )
    await session.execute(
        update(ProgrammingKey)
        .where(
            ProgrammingKey.extension_id == extension.id,
            ProgrammingKey.status == ProgrammingKeyStatus.NOT_ACTIVATED,
        )
        .values(status=ProgrammingKeyStatus.ACTIVE)
    )
    extension.activated = True
    extension.activated_at = utcnow()
    await session.flush()
    return extension


async def _require_whole_tenant(session: AsyncSession) -> None:
    """Refuse a session limited to some domains: factory data concerns every domain (R8).

    A domain-limited session would not see elements of other domains, so it
    could neither recognise a clone nor a marking that is taken.
    """
    limited_to = session.info.get("domain_ids")
    if limited_to is None:
        return
    every_domain = set(await session.scalars(select(Domain.id)))
    if not every_domain <= set(limited_to):
        raise DomainError(
            "FORBIDDEN",
            "importing or activating factory data needs access to every domain (R8, R31)",
        )


def _chunks(values: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


async def _existing_identities(
    session: AsyncSession,
    model: type[Key] | type[ProgrammingKey] | type[RemoteDevice],
    label: str,
    items: list[dict[str, Any]],
    attributes: tuple[str, ...],
) -> list[str]:
    """The identities (marking, uid, serial) of ``items`` that the tenant has already."""
    found: list[str] = []
    for attribute in attributes:
        wanted = [item[attribute] for item in items]
        column = getattr(model, attribute)
        for chunk in _chunks(wanted):
            taken = set(await session.scalars(select(column).where(column.in_(chunk))))
            found += [f"{label} {attribute} {value}" for value in chunk if value in taken]
    return found


async def _match_cylinders(
    session: AsyncSession, cylinders: list[dict[str, Any]]
) -> tuple[dict[str, Cylinder], list[str]]:
    """Find the originals of clones (same marking, R32) and UIDs another cylinder has."""
    originals: dict[str, Cylinder] = {}
    by_uid: dict[str, Cylinder] = {}
    markings = [c["marking"] for c in cylinders]
    uids = [c["uid"] for c in cylinders]
    for marking_chunk, uid_chunk in zip(_chunks(markings), _chunks(uids), strict=True):
        statement: Select[tuple[Cylinder]] = select(Cylinder).where(
            or_(Cylinder.marking.in_(marking_chunk), Cylinder.uid.in_(uid_chunk))
        )
        for cylinder in await session.scalars(statement):
            originals[cylinder.marking] = cylinder
            by_uid[cylinder.uid] = cylinder
    conflicts: list[str] = []
    for item in cylinders:
        holder = by_uid.get(item["uid"])
        if holder is not None and holder.marking != item["marking"]:
            conflicts.append(f"cylinder uid {item['uid']} (cylinder {holder.marking})")
    wanted = set(markings)
    return {m: c for m, c in originals.items() if m in wanted}, conflicts


def _mark_clone(original: Cylinder, clone: Mapping[str, Any]) -> None:
    """The replacement takes the original's place and waits for a full reprogramming (R32)."""
    original.is_clone = True
    original.needs_reprogramming = True
    # The replacement's chip is what now sits in the door.
    original.uid = clone["uid"]
    original.security_relevant = original.security_relevant or clone["securityRelevant"]
    if original.status is CylinderStatus.DEFECTIVE:
        # A defective cylinder is what a replacement is ordered for; the new one works.
        original.status = CylinderStatus.ACTIVE


async def _full_reprogram_jobs(
    session: AsyncSession, cylinders: list[Cylinder]
) -> list[ProgrammingJob]:
    """One open full reprogramming job per clone, reusing one already open (R15, R32)."""
    if not cylinders:
        return []
    ids = [c.id for c in cylinders]
    open_jobs: dict[int, ProgrammingJob] = {}
    for chunk in _chunks(ids):
        for job in await session.scalars(
            select(ProgrammingJob)
            .where(
                ProgrammingJob.cylinder_id.in_(chunk),
                ProgrammingJob.full_reprogram.is_(True),
                ProgrammingJob.status.in_(OPEN_JOB_STATUSES),
            )
            .order_by(ProgrammingJob.id)
        ):
            open_jobs.setdefault(job.cylinder_id, job)
    jobs: list[ProgrammingJob] = []
    for cylinder in cylinders:
        job = open_jobs.get(cylinder.id)
        if job is None:
            job = ProgrammingJob(
                cylinder_id=cylinder.id,
                status=ProgrammingJobStatus.PENDING,
                full_reprogram=True,
            )
            session.add(job)
        jobs.append(job)
    await session.flush()
    return jobs


async def _notify_admins(
    session: AsyncSession, result: ImportedExtension, has_new_elements: bool
) -> None:
    """Write one e-mail per Superadmin/Admin address to the outbox (R31, R33)."""
    recipients = await builtin_role_emails(session, NOTIFIED_ROLES)
    if not recipients:
        return
    lines = [
        f"Factory data for order {result.order_number} has been imported "
        f"(file {result.file_id}).",
        "",
        f"New keys: {result.new_keys}",
        f"New cylinders: {result.new_cylinders}",
        f"New programming keys: {result.new_programming_keys}",
        f"New remote devices: {result.new_remote_devices}",
        f"Replacement cylinders (clones): {result.clones}",
        "",
    ]
    if has_new_elements:
        lines.append("Activate the extension to put the new elements into use.")
    if result.clones:
        lines.append(
            "Clones need no activation. Each one has a full reprogramming job waiting; "
            "until it is carried out the cylinder holds only the original order's state: "
            + ", ".join(result.clone_markings)
        )
    subject = (
        f"Extension for order {result.order_number} is ready to activate"
        if has_new_elements
        else f"Replacement cylinders for order {result.order_number} need reprogramming"
    )
    queue_mail(
        session,
        kind="extension_imported",
        recipients=recipients,
        subject=subject,
        body="\n".join(lines),
    )
