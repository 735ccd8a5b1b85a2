"""Global ids as the API spells them, for what the bridge protocol carries (job ids, login ids).

The format is the API's (``app.schema.relay``); it is imported when first used
because the schema package imports this domain package in turn.
"""

from __future__ import annotations


def global_id(type_name: str, pk: int | str) -> str:
    """The API's global id of ``type_name`` ``pk``."""
    from app.schema.relay import to_global_id

    return to_global_id(type_name, pk)


def parse_id(value: str) -> tuple[str, str] | None:
    """(type name, primary key) of a global id, or None when it is not one."""
    from app.schema.relay import parse_global_id

    return parse_global_id(value)
