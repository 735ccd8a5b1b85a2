"""One-time sign-in links: a browser signs in as a programming key without the key (issue 11).

For development and self-hosters: ``keywarden demo`` (and so ``make run``) prints
one for the demo Superadmin, whose programming key lives only in the simulator.
A link is single use, valid :data:`LINK_TTL`, and stored as the SHA-256 of its
secret. Its code names the tenant (``<tenant uuid hex>.<secret>``), so that the
unauthenticated sign-in runs under that tenant's scope (R1). Using it opens an
ordinary login session of the key (R5), with the key's roles and domains.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.login import open_session, refuse_unless_active
from app.errors import INVALID, NOT_FOUND, DomainError
from app.models import LoginSession, ProgrammingKey, SignInLink, utcnow

LINK_TTL = timedelta(minutes=15)
_CODE = re.compile(r"(?P<tenant>[0-9a-f]{32})\.(?P<secret>[A-Za-z0-9_-]{43})")
_UNUSABLE = "this sign-in link is unknown, used or expired: ask for a new one"


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def link_tenant(code: str) -> str | None:
    """The tenant (dashed uuid) a link's code names; None when the code is malformed."""
    match = _CODE.fullmatch(code.strip())
    return str(uuid.UUID(hex=match["tenant"])) if match else None


async def create_sign_in_link(
    session: AsyncSession, marking: str, *, now: datetime | None = None
) -> str:
    """A new one-time link code for the programming key ``marking``; shown once."""
    now = now or utcnow()
    key = await session.scalar(select(ProgrammingKey).where(ProgrammingKey.marking == marking))
    if key is None:
        raise DomainError(NOT_FOUND, "no programming key with this marking", "marking")
    refuse_unless_active(key, "marking")
    secret = secrets.token_urlsafe(32)
    session.add(
        SignInLink(
            programming_key_id=key.id,
            secret_hash=_secret_hash(secret),
            created_at=now,
            expires_at=now + LINK_TTL,
        )
    )
    await session.flush()
    return f"{uuid.UUID(session.info['tenant_id']).hex}.{secret}"


async def use_sign_in_link(
    session: AsyncSession, code: str, *, session_hours: int, now: datetime | None = None
) -> tuple[LoginSession, str]:
    """Spend a link (once, before it expires) and open a login session of its key (R5).

    ``session`` must be scoped to the tenant the code names (:func:`link_tenant`);
    unknown, used, expired and malformed links are all INVALID on ``link``.
    """
    now = now or utcnow()
    match = _CODE.fullmatch(code.strip())
    if match is None or link_tenant(code) != session.info.get("tenant_id"):
        raise DomainError(INVALID, _UNUSABLE, "link")
    # Spent in one statement: two tabs racing on one link cannot both sign in.
    key_id = await session.scalar(
        update(SignInLink)
        .where(
            SignInLink.secret_hash == _secret_hash(match["secret"]),
            SignInLink.used_at.is_(None),
            SignInLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(SignInLink.programming_key_id)
    )
    key = await session.get(ProgrammingKey, key_id) if key_id is not None else None
    if key is None:
        raise DomainError(INVALID, _UNUSABLE, "link")
    refuse_unless_active(key, "link")
    return await open_session(session, key, now=now, session_hours=session_hours)
