"""The vendor's signed firmware files, their signature check, and firmware version rules (R25, R26).

Firmware for keys (generation 1 and 2) and for remote devices (firmware and
bootloader) comes from the vendor's data center or as a file a customer
uploads by hand, always built for one certificate bundle (CCB). Every image is
signature-checked here before anything stores it (R25).

File format (UTF-8 JSON, binary-safe: the image travels as base64)::

    {
      "format": "keywarden-firmware/1",
      "header": {
        "target": "KEY_GEN1|KEY_GEN2|REMOTE_DEVICE|REMOTE_BOOTLOADER",
        "version": "16.3.7",
        "certificateBundle": "<name of the CCB the image is built for>",
        "sha256": "<lower-case hex of the SHA-256 of the image>",
        "size": <bytes in the image, at least 1>,
        "createdAt": "<ISO 8601 time with UTC offset>",
        "releaseNotes": "<text, may be empty>"
      },
      "image": "<standard base64 of the image, with padding, no line breaks>",
      "signature": "<base64 of the 64-byte Ed25519 signature>",
      "signer": "<hex of the vendor's raw 32-byte Ed25519 public key>"
    }

The vendor signs the header only, and the header carries the image's SHA-256
and size: the image is bound to the signature through its hash, so the
signature check costs the same for any image size. The signed bytes are::

    b"keywarden-firmware/1\\n" + canonical JSON of the header

where the canonical JSON is ``app.factory.vendor.canonical_payload`` (sorted
keys, no spaces). The format tag in front separates firmware signatures from
the same vendor key's extension signatures (R31): no signed extension can pass
for a firmware header or the other way round. The signer must be one of the
tenant's ``TrustedVendorKey`` rows, as for extension files.

The file is strict: unknown or repeated fields, ``NaN`` and the like are
refused, so the only way to extend it is a new format tag.

Versions are dotted numbers of 1 to 4 parts (``"5"``, ``"12.3"``,
``"16.3.7"``), ASCII digits only, at most 32 characters, compared part by part
as numbers with missing parts counting as 0 (``"10.2" < "10.10"``,
``"12.3" == "12.3.0"``). Key firmware must fit its generation (R10, R26):
generation 1 runs firmware up to 6.x, generation 2 10.x and up.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.errors import BAD_SIGNATURE, INVALID, DomainError
from app.factory.vendor import canonical_payload, public_key_hex
from app.models import FirmwareTarget, utcnow
from app.uploads import not_plain_text, shown

# Versions are the wire format (1–4 dotted numbers, compared as numbers), owned by
# hardware.wire; the version columns have the same width (MAX_VERSION_LENGTH).
from hardware.wire import MAX_VERSION_LENGTH as MAX_VERSION_LENGTH
from hardware.wire import compare_versions as compare_versions
from hardware.wire import is_version as is_version
from hardware.wire import parse_version as parse_version
from hardware.wire import version_at_least as version_at_least

E = TypeVar("E", bound=enum.Enum)

FORMAT = "keywarden-firmware/1"
FILE_FIELD = "file"

# R17: jobs can be loaded onto a key at a remote device only from these versions on.
JOB_LOADING_MIN_KEY_FIRMWARE = "12.3"
JOB_LOADING_MIN_REMOTE_DEVICE_FIRMWARE = "5"
# R22: a potential-free output works only with E3 keys from this firmware on.
POTENTIAL_FREE_OUTPUT_MIN_KEY_FIRMWARE = "16.3.7"

MAX_BUNDLE_LENGTH = 200  # CertificateBundle.name
MAX_RELEASE_NOTES_LENGTH = 20_000

_DOCUMENT_FIELDS = frozenset({"format", "header", "image", "signature", "signer"})
_HEADER_FIELDS = frozenset(
    {"target", "version", "certificateBundle", "sha256", "size", "createdAt", "releaseNotes"}
)
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# R10, R26: the firmware majors each key generation runs (low, high; None: no limit).
_KEY_FIRMWARE_MAJOR: dict[FirmwareTarget, tuple[int, int | None]] = {
    FirmwareTarget.KEY_GEN1: (0, 6),
    FirmwareTarget.KEY_GEN2: (10, None),
}


@dataclass(frozen=True)
class VerifiedFirmware:
    """A firmware image whose vendor signature and hash have been checked (R25).

    ``certificate_bundle`` is the CCB name the vendor built the image for, as the
    header states it; the importer matches it against the bundle the user picked.
    """

    target: FirmwareTarget
    version: str
    certificate_bundle: str
    image: bytes
    sha256: str
    release_notes: str
    created_at: datetime
    signer: str


# --- the file ---------------------------------------------------------------


def signed_bytes(header: Mapping[str, Any]) -> bytes:
    """The exact bytes the vendor signs: the format tag, a newline, the canonical header."""
    return FORMAT.encode("ascii") + b"\n" + canonical_payload(header)


def build_firmware_file(
    header: Mapping[str, Any], image: bytes, signing_key: Ed25519PrivateKey
) -> bytes:
    """Sign ``header`` as the vendor and wrap it with ``image`` in a firmware file (R25).

    Header and image are taken as given, unchecked (tests use this to write files
    an import must refuse); ``make_firmware_file`` is the checked way to write one.
    """
    document = {
        "format": FORMAT,
        "header": dict(header),
        "image": base64.b64encode(image).decode("ascii"),
        "signature": base64.b64encode(signing_key.sign(signed_bytes(header))).decode("ascii"),
        "signer": public_key_hex(signing_key),
    }
    return json.dumps(document, indent=2, sort_keys=True).encode()


def make_firmware_file(
    *,
    target: FirmwareTarget | str,
    version: str,
    image: bytes,
    certificate_bundle: str,
    signing_key: Ed25519PrivateKey,
    release_notes: str = "",
    created_at: datetime | None = None,
) -> bytes:
    """Write the vendor's signed firmware file for one image and certificate bundle (R25).

    ``target`` is a ``FirmwareTarget`` or its name. The header is checked as an
    import checks it, so a file this makes is never refused as INVALID; a
    mistake (say generation-1 firmware 10.1, R10) raises ``DomainError(INVALID)``
    on field ``file`` naming the header field.
    """
    header: dict[str, Any] = {
        "target": target.name if isinstance(target, FirmwareTarget) else target,
        "version": version,
        "certificateBundle": certificate_bundle,
        "sha256": hashlib.sha256(image).hexdigest(),
        "size": len(image),
        "createdAt": (created_at or utcnow()).isoformat(),
        "releaseNotes": release_notes,
    }
    _check_header(header)
    return build_firmware_file(header, image, signing_key)


def verify_firmware_file(
    data: bytes, trusted_public_keys: Iterable[str], *, max_size: int | None = None
) -> VerifiedFirmware:
    """Check a firmware file's vendor signature and content, and return its image (R25, R26).

    Raises ``DomainError`` on field ``file``:

    - BAD_SIGNATURE when the signer is not one of ``trusted_public_keys`` (hex),
      the signature does not match the header, or the image's SHA-256 is not
      the one the signed header states (the image was altered);
    - INVALID, naming the JSON path at fault (``header.version``, ``image``, ...),
      when the file is not a firmware file or breaks the format: an archive
      (never unpacked) or UTF-16 text, not JSON, wrong
      format tag, unknown target, malformed version or one that does not fit
      the key generation (R10), an image of another size than the header
      states, or an image larger than ``max_size`` bytes.

    The header is read only after its signature has been checked, and the image
    is decoded only once its base64 length fits the signed size.
    """
    document = _load(data)
    if document.get("format") != FORMAT:
        _invalid("format", f"must be {FORMAT!r}, found {shown(document.get('format'))}")
    unknown = sorted(set(document) - _DOCUMENT_FIELDS)
    if unknown:
        _invalid(_cut(unknown[0]), "is not a field of a firmware file")
    header = document.get("header")
    if not isinstance(header, dict):
        _invalid("header", "must be an object")
    image_text = _string(document, "image", "$", max_length=None)
    signature_text = _string(document, "signature", "$", max_length=200)
    signer = _string(document, "signer", "$", max_length=64)
    if not _HEX_KEY.fullmatch(signer):
        _invalid("signer", "must be the hex of a 32-byte Ed25519 public key")

    if signer.lower() not in {k.lower() for k in trusted_public_keys}:
        raise DomainError(
            BAD_SIGNATURE,
            f"the firmware is signed by vendor key {signer[:16]}…, "
            "which this system does not trust",
            FILE_FIELD,
        )
    try:
        signature = base64.b64decode(signature_text, validate=True)
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(signer)).verify(
            signature, signed_bytes(header)
        )
    except (binascii.Error, ValueError, InvalidSignature) as exc:
        raise DomainError(
            BAD_SIGNATURE,
            "the firmware header's signature does not match: the file was altered or damaged",
            FILE_FIELD,
        ) from exc

    checked = _check_header(header)
    size = checked.size
    if max_size is not None and size > max_size:
        _invalid("header.size", f"the image is {size} bytes, more than the {max_size} allowed")
    if len(image_text) != 4 * math.ceil(size / 3):
        _invalid("image", f"is not the base64 of {size} bytes, as header.size states")
    try:
        image = base64.b64decode(image_text, validate=True)
    except binascii.Error:
        _invalid("image", "is not standard base64 (RFC 4648, with padding, no line breaks)")
    if len(image) != size:
        _invalid("image", f"holds {len(image)} bytes, but header.size states {size}")
    if hashlib.sha256(image).hexdigest() != checked.sha256:
        raise DomainError(
            BAD_SIGNATURE,
            "the firmware image does not match the signed header's SHA-256: "
            "the image was altered or damaged",
            FILE_FIELD,
        )
    return VerifiedFirmware(
        target=checked.target,
        version=checked.version,
        certificate_bundle=checked.certificate_bundle,
        image=image,
        sha256=checked.sha256,
        release_notes=checked.release_notes,
        created_at=checked.created_at,
        signer=signer.lower(),
    )


def demo_image(target: FirmwareTarget | str, version: str, size: int) -> bytes:
    """Deterministic stand-in firmware of ``size`` bytes for tests and development.

    The same target (enum or name) and version always give the same bytes
    (SHAKE-256 of ``keywarden-demo-firmware/<target>/<version>``), and different
    ones give different bytes, so demo files of one version agree everywhere.
    """
    if size < 0:
        raise ValueError(f"size must not be negative, got {size}")
    name = target.name if isinstance(target, FirmwareTarget) else FirmwareTarget[target].name
    seed = f"keywarden-demo-firmware/{name}/{version}".encode()
    return hashlib.shake_256(seed).digest(size)


# --- checks -----------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    target: FirmwareTarget
    version: str
    certificate_bundle: str
    sha256: str
    size: int
    created_at: datetime
    release_notes: str


class _Unreadable(ValueError):
    """Raised while parsing for JSON that is valid but not accepted (repeats, NaN)."""


def _invalid(path: str, message: str) -> NoReturn:
    raise DomainError(INVALID, f"{path}: {message}", FILE_FIELD)


def _cut(name: str) -> str:
    """A field name from the file, cut short for a message's path."""
    return name if len(name) <= 64 else name[:64] + "…"


def _unique_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise _Unreadable(f"the field {shown(name)} appears twice in one object")
        result[name] = value
    return result


def _no_constant(name: str) -> NoReturn:
    raise _Unreadable(f"{name} is not a JSON number")


def _load(data: bytes) -> dict[str, Any]:
    problem = not_plain_text(data)
    if problem is not None:
        _invalid("$", problem)
    try:
        document = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_unique_fields,
            parse_constant=_no_constant,
        )
    # ValueError covers bad UTF-8, bad JSON, and integers too long to convert;
    # RecursionError deeply nested arrays.
    except (ValueError, RecursionError) as exc:
        _invalid("$", f"the file is not a firmware file: not UTF-8 JSON ({exc})")
    if not isinstance(document, dict):
        _invalid("$", "the file must be a JSON object")
    return document


def _string(
    obj: Mapping[str, Any], name: str, path: str, *, max_length: int | None, empty: bool = False
) -> str:
    where = name if path == "$" else f"{path}.{name}"
    if name not in obj:
        _invalid(where, "is missing")
    value = obj[name]
    if not isinstance(value, str):
        _invalid(where, f"must be a string, found {type(value).__name__}")
    if not empty and not value.strip():
        _invalid(where, "must not be empty")
    if max_length is not None and len(value) > max_length:
        _invalid(where, f"must be at most {max_length} characters")
    return value


def _choice(obj: Mapping[str, Any], name: str, path: str, enum_cls: type[E]) -> E:
    value = _string(obj, name, path, max_length=64)
    try:
        return enum_cls[value]
    except KeyError:
        allowed = ", ".join(m.name for m in enum_cls)
        _invalid(f"{path}.{name}", f"must be one of {allowed}, found {value!r}")


def _check_header(header: Mapping[str, Any]) -> _Header:
    """Read the header, raising INVALID naming the first field that breaks the format."""
    unknown = sorted(set(header) - _HEADER_FIELDS)
    if unknown:
        _invalid(f"header.{_cut(unknown[0])}", "is not a field of a firmware header")
    target = _choice(header, "target", "header", FirmwareTarget)

    version = _string(header, "version", "header", max_length=MAX_VERSION_LENGTH)
    if not is_version(version):
        _invalid("header.version", f"must be a version like 16.3.7, found {version!r}")
    if target in _KEY_FIRMWARE_MAJOR:
        low, high = _KEY_FIRMWARE_MAJOR[target]
        major = parse_version(version)[0]
        if major < low or (high is not None and major > high):
            expected = "up to 6.x" if target is FirmwareTarget.KEY_GEN1 else "10.x or later"
            _invalid(
                "header.version",
                f"{target.name} firmware is version {expected} (R10, R26), found {version}",
            )

    bundle = _string(header, "certificateBundle", "header", max_length=MAX_BUNDLE_LENGTH)
    sha256 = _string(header, "sha256", "header", max_length=64)
    if not _SHA256.fullmatch(sha256):
        _invalid("header.sha256", "must be the lower-case hex of a SHA-256 hash")

    if "size" not in header:
        _invalid("header.size", "is missing")
    size = header["size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        _invalid(
            "header.size", f"must be a whole number of bytes, at least 1, found {shown(size)}"
        )

    created_text = _string(header, "createdAt", "header", max_length=64)
    try:
        created_at = datetime.fromisoformat(created_text)
    except ValueError:
        _invalid("header.createdAt", f"must be an ISO 8601 time, found {created_text!r}")
    if created_at.tzinfo is None:
        _invalid("header.createdAt", f"must give its UTC offset, found {created_text!r}")

    notes = _string(
        header, "releaseNotes", "header", max_length=MAX_RELEASE_NOTES_LENGTH, empty=True
    )
    return _Header(
        target=target,
        version=version,
        certificate_bundle=bundle,
        sha256=sha256,
        size=size,
        created_at=created_at,
        release_notes=notes,
    )
