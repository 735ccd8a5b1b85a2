"""Who is calling: the principal behind a credential, and the credential's format (R5, R7, R8, R9).

A credential is a bearer token of the form ``kw_<kind>_<tenant>_<secret>``:

- ``kind`` is ``t`` for an API token (R9) and ``s`` for a login session of a
  programming key (R5);
- ``tenant`` is the tenant's uuid without dashes (32 lowercase hex digits), so the
  tenant is known before any lookup and the lookup itself runs under that
  tenant's scope (and, on PostgreSQL, its row-level security, R1);
- ``secret`` is 32 random bytes in unpadded urlsafe base64 (43 characters).

Only the SHA-256 of the whole string is stored.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Literal, NamedTuple

from app.errors import Forbidden

TokenKind = Literal["t", "s"]
API_TOKEN_KIND: TokenKind = "t"
SESSION_KIND: TokenKind = "s"

_TOKEN = re.compile(r"kw_(?P<kind>[ts])_(?P<tenant>[0-9a-f]{32})_(?P<secret>[A-Za-z0-9_-]{43})")


@dataclass(frozen=True, kw_only=True)
class Principal:
    """The caller of an operation: an API token (R9), a programming key's login session (R5)
    or a site bridge agent.

    ``rights`` are what every operation checks (R7). ``domain_ids`` are the domains
    the caller administers (R8); None means every domain of the tenant.
    ``programming_key_id`` is the logged-in programming key (None for API tokens),
    ``token_id`` the ApiToken row and ``session_id`` the LoginSession row that
    authenticated the call. A bridge (``kind`` "bridge", ``bridge_id``) holds no
    right at all: it may only receive its own commands and report them
    (app.bridges), nothing else is readable to it.
    """

    tenant_id: str
    kind: Literal["api_token", "session", "bridge"]
    name: str
    rights: frozenset[str]
    domain_ids: frozenset[int] | None
    programming_key_id: int | None = None
    token_id: int | None = None
    session_id: int | None = None
    bridge_id: int | None = None

    def has(self, right: str) -> bool:
        """Whether the caller holds ``right`` (R7)."""
        return right in self.rights

    def require(self, right: str) -> None:
        """Refuse the operation unless the caller holds ``right``; the error names it (R7)."""
        if right not in self.rights:
            raise Forbidden(right)


class ParsedToken(NamedTuple):
    """The parts of a well-formed credential; ``tenant_id`` is the canonical dashed uuid."""

    kind: TokenKind
    tenant_id: str
    secret: str


def parse_token(token: str) -> ParsedToken | None:
    """Split a bearer token into kind, tenant and secret; None when it is not well-formed."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    kind: TokenKind = API_TOKEN_KIND if match["kind"] == API_TOKEN_KIND else SESSION_KIND
    return ParsedToken(kind, str(uuid.UUID(hex=match["tenant"])), match["secret"])


def format_token(kind: TokenKind, tenant_id: str, secret: str) -> str:
    """Build the bearer token for ``tenant_id`` (dashed uuid) out of a kind and a secret."""
    return f"kw_{kind}_{uuid.UUID(tenant_id).hex}_{secret}"
