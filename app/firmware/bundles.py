"""Certificate bundles (CCB) of the installation, which firmware is built for (R25).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CONFLICT, INVALID, DomainError
from app.factory.firmware import MAX_BUNDLE_LENGTH
from app.models import CertificateBundle


async def create_certificate_bundle(session: AsyncSession, *, name: str) -> CertificateBundle:
    """Record a certificate bundle (CCB) of the installation, which firmware is built for (R25).

    A purchased installation without a data-center connection names its bundles
    itself and picks one at each manual firmware import. Raises ``DomainError``
    on field ``name``: INVALID when empty or longer than 200 characters,
    CONFLICT when the tenant has a bundle of that name. Never commits.
    """
    clean = name.strip()
    if not clean:
        raise DomainError(INVALID, "name: must not be empty", "name")
    if len(clean) > MAX_BUNDLE_LENGTH:
        raise DomainError(
            INVALID, f"name: must be at most {MAX_BUNDLE_LENGTH} characters", "name"
        )
    taken = await session.scalar(
        select(CertificateBundle.id).where(CertificateBundle.name == clean)
    )
    if taken is not None:
        raise DomainError(
            CONFLICT, f"name: a certificate bundle {clean!r} exists already", "name"
        )
    bundle = CertificateBundle(name=clean)
    session.add(bundle)
    await session.flush()
    return bundle
