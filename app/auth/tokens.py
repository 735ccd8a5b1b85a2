"""API tokens (R9) and turning any bearer token into the principal behind it (R5, R7, R8, R9).

Tokens are shown once and stored as the SHA-256 of the whole token string. The
caller opens the session for the tenant named in the token (``parse_token``)
before calling :func:`authenticate`, so the lookup is already tenant-scoped (R1).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import (
    API_TOKEN_KIND,
    SESSION_KIND,
    Principal,
    TokenKind,
    format_token,
    parse_token,
)
from app.auth.rights import MAIN_KEY_RIGHTS, SUBMASTER_RIGHTS, grantable_rights
from app.errors import FORBIDDEN, INVALID, NOT_FOUND, DomainError
from app.models import (
    ApiToken,
    Domain,
    LoginSession,
    ProgrammingKey,
    ProgrammingKeyDomain,
    ProgrammingKeyKind,
    ProgrammingKeyRole,
    ProgrammingKeyStatus,
    Role,
    utcnow,
)

# last_used_at is informational (R9): refreshing it once a minute spares a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
NAME_MAX = 200
# R5: these keys administer the whole locking system, whatever domains are attached to them.
ALL_DOMAIN_KINDS = frozenset({ProgrammingKeyKind.MAIN, ProgrammingKeyKind.SUBMASTER})


def token_hash(token: str) -> str:
    """The stored form of a token: SHA-256 hex of the whole token string."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(kind: TokenKind, tenant_id: str) -> str:
    """A fresh bearer token of ``kind`` for ``tenant_id`` with 32 random bytes of secret."""
    return format_token(kind, tenant_id, secrets.token_urlsafe(32))


async def create_api_token(
    session: AsyncSession,
    *,
    name: str,
    rights: Iterable[str],
    domain_ids: Iterable[int] | None,
    creator: Principal | None = None,
    created_by_id: int | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token for a partner or script (R9); returns the row and the token, shown once.

    ``domain_ids`` None means every domain of the tenant. With a ``creator``, the
    token can hold only rights the creator holds (R7) and only domains the creator
    administers (R8); a creator limited to some domains who gives no domains gets a
    token limited to those same domains. ``created_by_id`` records the programming
    key that created the token; it defaults to the creator's programming key.
    """
    name = name.strip()
    if not name:
        raise DomainError(INVALID, "a token needs a name", "name")
    if len(name) > NAME_MAX:
        raise DomainError(INVALID, f"a token name has at most {NAME_MAX} characters", "name")

    wanted = grantable_rights(rights, creator)
    if not wanted:
        raise DomainError(INVALID, "a token needs at least one right", "rights")

    domains = await _clean_domain_ids(session, domain_ids, creator)
    token = new_token(API_TOKEN_KIND, session.info["tenant_id"])
    row = ApiToken(
        name=name,
        secret_hash=token_hash(token),
        rights=wanted,
        domain_ids=domains,
        created_by_id=(
            created_by_id
            if created_by_id is not None or creator is None
            else creator.programming_key_id
        ),
    )
    session.add(row)
    await session.flush()
    return row, token


async def _clean_domain_ids(
    session: AsyncSession, domain_ids: Iterable[int] | None, creator: Principal | None
) -> list[int] | None:
    limit = creator.domain_ids if creator is not None else None
    if domain_ids is None:
        return sorted(limit) if limit is not None else None
    wanted = sorted(set(domain_ids))
    if not wanted:
        raise DomainError(
            INVALID, "give at least one domain, or none at all for every domain", "domainIds"
        )
    found = set(await session.scalars(select(Domain.id).where(Domain.id.in_(wanted))))
    missing = [d for d in wanted if d not in found]
    if missing:
        raise DomainError(
            NOT_FOUND, f"no such domain: {', '.join(map(str, missing))}", "domainIds"
        )
    if limit is not None:
        beyond = [d for d in wanted if d not in limit]
        if beyond:
            raise DomainError(
                FORBIDDEN,
                f"cannot grant a domain you do not administer: {', '.join(map(str, beyond))}",
                "domainIds",
            )
    return wanted


async def revoke_api_token(session: AsyncSession, token_id: int) -> ApiToken:
    """Revoke an API token (R9): it stops working at once. Revoking twice keeps the first time."""
    row = await session.get(ApiToken, token_id)
    if row is None:
        raise DomainError(NOT_FOUND, "no such API token", "id")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
    return row


async def authenticate(
    session: AsyncSession, token: str, *, now: datetime | None = None
) -> Principal | None:
    """The principal behind a bearer token, or None when the token is not valid (R5, R9).

    ``session`` must be scoped to the tenant named in the token; a token naming
    another tenant is refused. An API token must not be revoked; a session must be
    neither revoked nor expired and its programming key must be active. A session's
    rights are the union of its key's roles' rights (R7); its domains are the key's
    domains, except for main and submaster keys, which see every domain (R5, R8).
    """
    parsed = parse_token(token)
    if parsed is None or parsed.tenant_id != session.info.get("tenant_id"):
        return None
    now = now or utcnow()
    digest = token_hash(token)
    if parsed.kind == API_TOKEN_KIND:
        return await _authenticate_api_token(session, digest, now)
    if parsed.kind == SESSION_KIND:
        return await _authenticate_session(session, digest, now)
    return None


async def _authenticate_api_token(
    session: AsyncSession, digest: str, now: datetime
) -> Principal | None:
    row = await session.scalar(
        select(ApiToken).where(ApiToken.secret_hash == digest, ApiToken.revoked_at.is_(None))
    )
    if row is None or not hmac.compare_digest(row.secret_hash, digest):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return Principal(
        tenant_id=row.tenant_id,
        kind="api_token",
        name=row.name,
        rights=frozenset(row.rights),
        domain_ids=frozenset(row.domain_ids) if row.domain_ids is not None else None,
        token_id=row.id,
    )


async def _authenticate_session(
    session: AsyncSession, digest: str, now: datetime
) -> Principal | None:
    # One row per role of the key (or one row with no role); the outer join keeps
    # a key without roles logged in with no rights rather than refusing it silently.
    rows = (
        await session.execute(
            select(LoginSession, ProgrammingKey, Role.rights)
            .join(ProgrammingKey, ProgrammingKey.id == LoginSession.programming_key_id)
            .outerjoin(
                ProgrammingKeyRole, ProgrammingKeyRole.programming_key_id == ProgrammingKey.id
            )
            .outerjoin(Role, Role.id == ProgrammingKeyRole.role_id)
            .where(LoginSession.secret_hash == digest, LoginSession.revoked_at.is_(None))
        )
    ).all()
    if not rows:
        return None
    login, key = rows[0][0], rows[0][1]
    if not hmac.compare_digest(login.secret_hash, digest):
        return None
    if login.expires_at <= now or key.status != ProgrammingKeyStatus.ACTIVE:
        return None
    rights = frozenset(right for _, _, role_rights in rows for right in role_rights or ())
    if key.kind == ProgrammingKeyKind.MAIN:
        rights |= MAIN_KEY_RIGHTS
    elif key.kind == ProgrammingKeyKind.SUBMASTER:
        rights |= SUBMASTER_RIGHTS
    domain_ids: frozenset[int] | None = None
    if key.kind not in ALL_DOMAIN_KINDS:
        domain_ids = frozenset(
            await session.scalars(
                select(ProgrammingKeyDomain.domain_id).where(
                    ProgrammingKeyDomain.programming_key_id == key.id
                )
            )
        )
    if login.last_used_at is None or now - login.last_used_at >= LAST_USED_RESOLUTION:
        login.last_used_at = now
    return Principal(
        tenant_id=login.tenant_id,
        kind="session",
        name=f"programming key {key.marking}",
        rights=rights,
        domain_ids=domain_ids,
        programming_key_id=key.id,
        session_id=login.id,
    )
