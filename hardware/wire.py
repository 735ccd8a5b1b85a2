"""What Keywarden and its hardware must write alike: the wire format, with one owner.

The server (``app/``) and the hardware (``hardware/``: the simulators and the
bridge agent) each implement their own rules, but the bytes they exchange
must match exactly, so these few definitions live here once and both import
them. Standard library only: the bridge agent installs without the server
(``hardware/pyproject.toml``), and nothing here may pull a dependency in.

- times: RFC 3339 in UTC ending in ``Z`` (:func:`rfc3339`, :func:`parse_timestamp`);
- firmware versions: 1–4 dotted numbers, compared as numbers (:func:`compare_versions`);
- the remote-device protocol's signed strings (docs/remote-protocol.md):
  :func:`request_message`, :func:`answer_message`, the header names, the
  path (:func:`request_path`) and the most offline updates one heartbeat carries;
- the key blocking list's signed document (:func:`blocking_list_message`, R21);
- the message a programming key signs to log in (:func:`login_message`, R5).

Rules (what opens, what a key may hold, what a device grants offline) are
*not* here: the server and each simulator implement them on their own, so a
simulator can disagree with a server bug.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime

# --- times ----------------------------------------------------------------------------------


def rfc3339(value: datetime) -> str:
    """A point in time as the protocols write it: UTC, ISO 8601, ending in ``Z``."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: the protocols speak UTC")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime | None:
    """An RFC 3339 time with its offset, in UTC; None when malformed or without an offset."""
    if not isinstance(text, str) or not 0 < len(text) <= 40:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return None
    return value.astimezone(UTC)


# --- firmware versions (R17, R22, R25, R26) ---------------------------------------------------

# The width of the server's version columns (Key.firmware_version, Firmware.version, ...).
MAX_VERSION_LENGTH = 32
# fullmatch with [0-9]: "$" would accept a trailing newline and "\d" Arabic-Indic digits.
_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+){0,3}")


def is_version(text: str) -> bool:
    """Whether ``text`` is a firmware version: 1–4 dotted ASCII numbers, at most 32 characters."""
    return (
        isinstance(text, str)
        and len(text) <= MAX_VERSION_LENGTH
        and _VERSION.fullmatch(text) is not None
    )


def parse_version(text: str) -> tuple[int, ...]:
    """The numeric parts of a firmware version (``"16.3.7"`` → ``(16, 3, 7)``).

    Raises ``ValueError`` for text that is not a version (see :func:`is_version`).
    """
    if not is_version(text):
        raise ValueError(f"not a firmware version: {text!r}")
    return tuple(int(part) for part in text.split("."))


def compare_versions(a: str, b: str) -> int:
    """Compare two firmware versions as numbers: -1 if a < b, 0 if equal, 1 if a > b.

    Parts compare numerically (``"10.2" < "10.10"``) and missing parts count as 0
    (``"12.3" == "12.3.0"``). Raises ``ValueError`` if either is not a version.
    """
    left, right = parse_version(a), parse_version(b)
    width = max(len(left), len(right))
    left += (0,) * (width - len(left))
    right += (0,) * (width - len(right))
    return (left > right) - (left < right)


def version_at_least(version: str, minimum: str) -> bool:
    """Whether firmware ``version`` is ``minimum`` or newer. Raises ``ValueError`` on a
    non-version."""
    return compare_versions(version, minimum) >= 0


# --- the remote-device protocol (docs/remote-protocol.md, R22, R23) ---------------------------

REMOTE_PROTOCOL = "KEYWARDEN-REMOTE-V1"
ANSWER_PROTOCOL = "KEYWARDEN-REMOTE-V1-ANSWER"
REMOTE_PREFIX = "/remote/v1"
TIMESTAMP_HEADER = "X-Keywarden-Timestamp"
NONCE_HEADER = "X-Keywarden-Nonce"
SIGNATURE_HEADER = "X-Keywarden-Signature"
# A heartbeat carries at most this many offline updates (R24); a device sends the rest later.
MAX_OFFLINE_UPDATES_PER_HEARTBEAT = 1000


def body_digest(body: bytes) -> str:
    """The SHA-256 of a request or answer body, lowercase hex."""
    return hashlib.sha256(body).hexdigest()


def request_path(tenant_id: str, serial: str, verb: str) -> str:
    """The path of ``verb`` for device ``serial`` of tenant ``tenant_id``."""
    return f"{REMOTE_PREFIX}/{tenant_id}/{serial}/{verb}"


def request_message(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The exact bytes a device signs for one request: six lines joined by ``\\n``."""
    lines = [REMOTE_PROTOCOL, method.upper(), path, timestamp, nonce, body_digest(body)]
    return "\n".join(lines).encode("utf-8")


def answer_message(nonce: str, status: int, body: bytes) -> bytes:
    """The exact bytes the server signs for its answer to the request with ``nonce``."""
    return "\n".join([ANSWER_PROTOCOL, nonce, str(status), body_digest(body)]).encode("utf-8")


# --- the key blocking list (R21) --------------------------------------------------------------


def _list_time(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return rfc3339(value)


def blocking_list_message(
    *,
    tenant_id: str,
    version: int,
    issued_at: datetime | str,
    valid_until: datetime | str | None,
    key_uids: Sequence[str],
) -> bytes:
    """The exact bytes a blocking list's signature covers: canonical JSON (sorted keys, no
    whitespace, ASCII only, times in UTC with ``Z``)::

        {"issuedAt":"2026-11-29T10:00:00Z","keyUids":["04A1..."],"tenant":"<tenant uuid>",
         "validUntil":"2026-11-29T12:00:00Z","version":7}

    Raises ``ValueError`` for a malformed or naive time.
    """
    document = {
        "tenant": tenant_id,
        "version": version,
        "issuedAt": _list_time(issued_at),
        "validUntil": _list_time(valid_until),
        "keyUids": list(key_uids),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("ascii")


# --- programming-key login (R5) ---------------------------------------------------------------


def login_message(tenant_id: str, nonce: str) -> bytes:
    """The bytes a programming key signs to log in to ``tenant_id`` with challenge ``nonce``."""
    return b"keywarden-login:" + tenant_id.encode() + b":" + nonce.encode()
