"""The tenant's settings (R14, R29)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import IMMUTABLE, NOT_FOUND, DomainError
from app.models import Tenant


async def update_tenant_settings(
    session: AsyncSession,
    *,
    flexible_extensions: bool | None = None,
    approver_function: bool | None = None,
) -> Tenant:
    """Change the tenant's settings; a None leaves a setting as it is (R14, R29).

    ``flexible_extensions`` may change at any time: effective extension
    intervals follow it (R14). ``approver_function`` was chosen when the tenant
    was created and never changes: giving the current value is accepted, any
    other is IMMUTABLE and nothing of the input is applied. The caller commits.
    """
    tenant = await session.scalar(select(Tenant))
    if tenant is None:
        raise DomainError(NOT_FOUND, "no such tenant")
    if approver_function is not None and approver_function != tenant.approver_function:
        raise DomainError(
            IMMUTABLE,
            "the approver function is chosen when the tenant is created; it can never be "
            "changed (R29)",
            "approverFunction",
        )
    if flexible_extensions is not None:
        tenant.flexible_extensions = flexible_extensions
    await session.flush()
    return tenant
