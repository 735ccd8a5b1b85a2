"""The messages inside the encrypted frames (PROTOCOL.md §5): JSON objects, UTF-8.

A request is ``{"id", "op", "args"}``, its response ``{"id", "ok": true, "result"}``
or ``{"id", "ok": false, "error": {"code", "message", ...}}``; the desk's
unsolicited events are ``{"event", ...}``. JSON keeps the traffic readable in a
line trace; at a few hundred bytes per message the line time it costs over a
binary encoding is small next to the frame overhead (measured: bench/serial_link.py).
"""

from __future__ import annotations

import json
from typing import Any

# The operations of protocol version 1 (PROTOCOL.md §5.2).
OPS = (
    "INFO",
    "SLOTS",
    "READ_KEY",
    "SIGN_LOGIN",
    "WRITE_JOBS",
    "READ_RESULTS",
    "CLEAR_RESULTS",
    "READ_AUDIT",
    "WRITE_KEY",
    "FW_BEGIN",
    "FW_CHUNK",
    "FW_FINISH",
)
SLOTS = ("left", "right")
FIRMWARE_CHUNK = 512  # image bytes per FW_CHUNK (base64 in JSON keeps it inside one frame)

ERROR_CODES = (
    "NO_KEY",  # no key in that slot, or not the kind of key the operation needs
    "WRONG_PIN",  # the programming key refused the PIN; details: remainingTries
    "KEY_LOCKED",  # three wrong PINs: the key signs nothing until unlocked with the PUK
    "UNSUPPORTED",  # the key (type, generation) cannot do that, or no common protocol version
    "MEMORY_FULL",  # the key's memory cannot hold what was written; nothing was written
    "BAD_REQUEST",  # malformed request or arguments
    "BUSY",  # the desk is in the middle of something else for that slot
    "LINK",  # the link failed (only raised on the PC side)
)


class DeskError(Exception):
    """An operation the desk device (or the key in it) refused; ``code`` is one of ERROR_CODES."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details or {}


class LinkError(DeskError):
    """The link failed: timeout after retransmissions, tampered or replayed frames, port closed."""

    def __init__(self, message: str) -> None:
        super().__init__("LINK", message)


def encode(message: dict[str, Any]) -> bytes:
    """A message as it goes into the frames: compact JSON, UTF-8."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def decode(data: bytes) -> dict[str, Any]:
    """A received message; DeskError BAD_REQUEST if it is not a JSON object."""
    try:
        message = json.loads(data.decode())
    except (UnicodeDecodeError, ValueError) as exc:
        raise DeskError("BAD_REQUEST", f"not a JSON message: {exc}") from None
    if not isinstance(message, dict):
        raise DeskError("BAD_REQUEST", "a message is a JSON object")
    return message


def error_body(error: DeskError) -> dict[str, Any]:
    """The ``error`` member of a failed response."""
    return {"code": error.code, "message": error.message, **error.details}
