"""Expected failures of domain operations, mapped to the contract's UserError codes."""

from __future__ import annotations


class DomainError(Exception):
    """An expected failure (validation, not allowed, conflict) with the contract's error code.

    ``field`` is the dotted path of the input field at fault, or None.
    """

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class Forbidden(DomainError):
    """The caller lacks a right (R7); the message names it."""

    def __init__(self, right: str) -> None:
        super().__init__("FORBIDDEN", f"missing right: {right}")
        self.right = right
