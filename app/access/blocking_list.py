"""The key blocking list (R21): every lost key's UID, versioned and signed by the tenant.

Wall devices enforce the newest list they received with a heartbeat and allow
offline updates only while it is valid (R21, R24). A list is issued on every
loss (in the transaction that reports it) and at least hourly
(:func:`reissue_if_due`, run by the periodic worker); each one is valid for two
hours, so a device that misses one reissue still holds a valid list.

What is signed is the canonical JSON (the wire format,
:func:`hardware.wire.blocking_list_message`)::

    {"issuedAt":"2026-11-29T10:00:00Z","keyUids":["04A1..."],"tenant":"<tenant uuid>",
     "validUntil":"2026-11-29T12:00:00Z","version":7}

sorted keys, no whitespace, ASCII only, timestamps in UTC with a ``Z``. The
signature is Ed25519 with the tenant's own key (``Tenant.signing_key``), in
base64; the public half is served as hex (GraphQL ``tenantPublicKey``).
:func:`verify_served_blocking_list` checks a list exactly as GraphQL
``blockingList { version issuedAt validUntil keyUids signature }`` serves it.

Versions never repeat and never go backwards, also under concurrency: issuing
locks the tenant's row (``SELECT ... FOR UPDATE`` on PostgreSQL), so issuances
of one tenant run one after the other, and a later version is computed after
the earlier one committed, from a snapshot that includes every loss committed
before it. (A lock, rather than retrying on a unique violation, because a retry
alone would let a later version miss a loss reported concurrently.) SQLite has
no row locks: there issuing starts with a no-op write to the tenant row, which
takes the database's single write lock until the transaction ends. The unique
(tenant, version) constraint backs both.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CONFLICT, DomainError
from app.models import BlockingList, Key, KeyStatus, Tenant, utcnow
from app.tenants.scoping import ALL_DOMAINS
from app.tenants.service import lock_tenant
from hardware.wire import blocking_list_message as canonical_blocking_list

log = logging.getLogger("keywarden.blocking_list")

# R11: a cylinder holds a blocking list of at most 3,000 keys; warn well before.
MAX_BLOCKED_KEYS = 3000
WARN_BLOCKED_KEYS = 2700
VALIDITY = timedelta(hours=2)
# R21: issued at least hourly.
REISSUE_INTERVAL = timedelta(hours=1)


def blocking_list_message(tenant_id: str, row: BlockingList) -> bytes:
    """The bytes tenant ``tenant_id`` signed for the stored list ``row`` (R21)."""
    return canonical_blocking_list(
        tenant_id=tenant_id,
        version=row.version,
        issued_at=row.issued_at,
        valid_until=row.valid_until,
        key_uids=row.key_uids,
    )


def tenant_public_key(tenant: Tenant) -> bytes:
    """The raw 32-byte Ed25519 public key that verifies the tenant's blocking lists (R21)."""
    return tenant_public_key_of(tenant.signing_key)


@functools.lru_cache(maxsize=4096)
def tenant_public_key_of(signing_key: bytes) -> bytes:
    """The public half of a tenant's raw signing key; cached, every heartbeat answer names it."""
    private = Ed25519PrivateKey.from_private_bytes(signing_key)
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def verify_blocking_list(
    *,
    tenant_id: str,
    version: int,
    issued_at: datetime | str,
    valid_until: datetime | str | None,
    key_uids: Sequence[str],
    signature: str,
    public_key: bytes | str,
) -> bool:
    """Whether ``signature`` (base64) is the tenant's signature over exactly this list (R21).

    ``public_key`` is the raw key or its hex (as ``tenantPublicKey`` serves it).
    Anything malformed (signature, key, timestamps) verifies as False.
    """
    try:
        raw_key = bytes.fromhex(public_key) if isinstance(public_key, str) else public_key
        message = canonical_blocking_list(
            tenant_id=tenant_id,
            version=version,
            issued_at=issued_at,
            valid_until=valid_until,
            key_uids=key_uids,
        )
        Ed25519PublicKey.from_public_bytes(raw_key).verify(
            base64.b64decode(signature, validate=True), message
        )
    except (InvalidSignature, ValueError, TypeError, binascii.Error):
        return False
    return True


def verify_served_blocking_list(
    served: Mapping[str, Any], *, tenant_id: str, public_key: bytes | str
) -> bool:
    """Check a list as GraphQL serves it: ``{version issuedAt validUntil keyUids signature}``.

    For devices and simulators that receive the list over the API (R21, R23).
    """
    try:
        return verify_blocking_list(
            tenant_id=tenant_id,
            version=served["version"],
            issued_at=served["issuedAt"],
            valid_until=served["validUntil"],
            key_uids=served["keyUids"],
            signature=served["signature"],
            public_key=public_key,
        )
    except KeyError:
        return False


def blocking_list_warning(row: BlockingList) -> str | None:
    """A warning for the administrator when the list nears the hardware's 3,000 keys (R11)."""
    count = len(row.key_uids)
    if count < WARN_BLOCKED_KEYS:
        return None
    return (
        f"the key blocking list holds {count} keys; cylinders take at most "
        f"{MAX_BLOCKED_KEYS} (R11): replace cylinders or retire lost keys' entries soon"
    )


async def current_blocking_list(session: AsyncSession) -> BlockingList | None:
    """The newest blocking list of the session's tenant, or None before the first (R21)."""
    return await session.scalar(select(BlockingList).order_by(BlockingList.version.desc()).limit(1))


async def issue_blocking_list(
    session: AsyncSession, *, now: datetime | None = None, validity: timedelta = VALIDITY
) -> BlockingList:
    """Issue the next version of the tenant's key blocking list (R19, R21).

    It lists the UIDs of every key of the tenant with status LOST, in every
    domain whatever the session's domains (R8 limits what an administrator sees,
    not what the walls must refuse), sorted, signed with the tenant's key. Call
    it in the transaction that reports a key lost, after the status change; the
    caller commits. More than 3,000 keys is refused (CONFLICT), as the hardware
    cannot hold them (R11); from 2,700 a warning is logged (and
    :func:`blocking_list_warning` gives it for the answer).
    """
    issued_at = (now or utcnow()).replace(microsecond=0)
    tenant = await lock_tenant(session)
    uids = sorted(
        await session.scalars(
            select(Key.uid)
            .where(Key.status == KeyStatus.LOST)
            .execution_options(**{ALL_DOMAINS: True})
        )
    )
    if len(uids) > MAX_BLOCKED_KEYS:
        raise DomainError(
            CONFLICT,
            f"the key blocking list would hold {len(uids)} keys; cylinders take at most "
            f"{MAX_BLOCKED_KEYS} (R11)",
        )
    latest = await session.scalar(select(func.max(BlockingList.version)))
    row = BlockingList(
        version=(latest or 0) + 1,
        issued_at=issued_at,
        valid_until=issued_at + validity,
        key_uids=uids,
        signature="",
    )
    row.signature = base64.b64encode(
        Ed25519PrivateKey.from_private_bytes(tenant.signing_key).sign(
            blocking_list_message(tenant.id, row)
        )
    ).decode("ascii")
    session.add(row)
    await session.flush()
    if len(uids) >= WARN_BLOCKED_KEYS:
        log.warning(
            "tenant %s: blocking list version %d holds %d of at most %d keys",
            tenant.id,
            row.version,
            len(uids),
            MAX_BLOCKED_KEYS,
        )
    return row


async def reissue_if_due(
    session: AsyncSession, now: datetime, *, interval: timedelta = REISSUE_INTERVAL
) -> BlockingList | None:
    """Issue a new list when the newest is ``interval`` (an hour) old or there is none (R21).

    For the periodic worker; returns the new list, or None when the newest is
    still fresh. The tenant row is locked first, so two workers do not both
    reissue. The caller commits.
    """
    await lock_tenant(session)
    newest = await current_blocking_list(session)
    if newest is not None and newest.issued_at > now - interval:
        return None
    return await issue_blocking_list(session, now=now)


async def ensure_blocking_list(
    session: AsyncSession, *, now: datetime | None = None
) -> BlockingList:
    """The newest list, issuing version 1 when the tenant has none yet (R21).

    A new tenant has no list until its first loss or the first hourly reissue;
    devices and the API must still get one. The caller commits.
    """
    await lock_tenant(session)
    newest = await current_blocking_list(session)
    if newest is not None:
        return newest
    return await issue_blocking_list(session, now=now)
