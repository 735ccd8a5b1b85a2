"""Global ids: the one owner of how an object's id is spelled outside the database.

A global id is the url-safe base64 of ``"<type name>:<primary key>"`` without
padding (``Key:7`` -> ``S2V5Ojc``). The API (``app.schema.relay``), the bridge
protocol (job and login ids it carries) and the device-file downloads all spell
and read ids through here, so a client can hand any of them back to any other.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from app.errors import NOT_FOUND, DomainError


def to_global_id(type_name: str, pk: int | str) -> str:
    """The global id of ``type_name`` ``pk``."""
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def parse_global_id(gid: str) -> tuple[str, str] | None:
    """(type name, primary key) of a global id, or None when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(gid + "=" * (-len(gid) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, pk = raw.partition(":")
    if not sep or not type_name or not pk:
        return None
    return type_name, pk


def decode_id(gid: str, expected: str | Sequence[str], field: str) -> tuple[str, int]:
    """Decode a global id of one of the ``expected`` types, or fail naming the input field."""
    allowed = (expected,) if isinstance(expected, str) else tuple(expected)
    parsed = parse_global_id(gid)
    if parsed is None or parsed[0] not in allowed or not parsed[1].isdigit():
        names = " or ".join(allowed)
        raise DomainError(NOT_FOUND, f"{field}: no {names} with id {gid!r}", field)
    return parsed[0], int(parsed[1])


def decode_ids(
    gids: Sequence[str], expected: str | Sequence[str], field: str
) -> list[tuple[str, int]]:
    """:func:`decode_id` for each item of a list input; an error names the item (``field.3``)."""
    return [decode_id(gid, expected, f"{field}.{i}") for i, gid in enumerate(gids)]
