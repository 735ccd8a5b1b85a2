"""Expected failures of domain operations and their codes, one list for the domain and the API.

``ErrorCode`` is the contract's ``ErrorCode`` enum; the GraphQL enum is generated from
it (app.schema.common). Domain code raises with a code imported by name::

    from app.errors import NOT_FOUND, DomainError

    raise DomainError(NOT_FOUND, "keyId: no such key", "keyId")

so a misspelt code fails when the module is imported, not when the error is raised.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    """Why an expected failure happened (the contract's ErrorCode)."""

    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"  # also for what the caller may not see (R1, R8)
    FORBIDDEN = "FORBIDDEN"  # the message names the missing right (R7)
    CONFLICT = "CONFLICT"
    UNSUPPORTED_KEY_TYPE = "UNSUPPORTED_KEY_TYPE"  # e.g. E3 functions onto E1/E2 (R20)
    IMMUTABLE = "IMMUTABLE"  # e.g. the approver function (R29)
    WRONG_PIN = "WRONG_PIN"  # R5, R6
    FIRMWARE_TOO_OLD = "FIRMWARE_TOO_OLD"  # R17
    BAD_SIGNATURE = "BAD_SIGNATURE"  # R5, R25, R31
    BRIDGE_OFFLINE = "BRIDGE_OFFLINE"  # a login through a bridge that is not connected (R5)
    RATE_LIMITED = "RATE_LIMITED"  # too many tries: the message says when to try again


INVALID = ErrorCode.INVALID
NOT_FOUND = ErrorCode.NOT_FOUND
FORBIDDEN = ErrorCode.FORBIDDEN
CONFLICT = ErrorCode.CONFLICT
UNSUPPORTED_KEY_TYPE = ErrorCode.UNSUPPORTED_KEY_TYPE
IMMUTABLE = ErrorCode.IMMUTABLE
WRONG_PIN = ErrorCode.WRONG_PIN
FIRMWARE_TOO_OLD = ErrorCode.FIRMWARE_TOO_OLD
BAD_SIGNATURE = ErrorCode.BAD_SIGNATURE
BRIDGE_OFFLINE = ErrorCode.BRIDGE_OFFLINE
RATE_LIMITED = ErrorCode.RATE_LIMITED


class DomainError(Exception):
    """An expected failure (validation, not allowed, conflict) with its code.

    ``field`` is the dotted path of the input field at fault, or None. A code that
    is not an ``ErrorCode`` is refused here (ValueError), never sent to a client.
    """

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.field = field


class Forbidden(DomainError):
    """The caller lacks a right (R7); the message names it."""

    def __init__(self, right: str) -> None:
        super().__init__(FORBIDDEN, f"missing right: {right}")
        self.right = right
