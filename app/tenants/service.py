"""Creating a tenant with everything a new installation starts with (R1, R2, R7, R8, R12)."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.rights import BUILTIN_ROLES
from app.errors import FORBIDDEN, NOT_FOUND, DomainError
from app.models import Domain, HostingMode, Role, Schedule, Tenant, TrustedVendorKey

# R12: the default schedule, Sunday 00:00 to Saturday 23:59, every day all day.
ALWAYS_WINDOWS = [
    {
        "days": ["SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"],
        "start": "00:00",
        "end": "23:59",
    }
]


@dataclass(frozen=True)
class NewTenant:
    tenant_id: str
    default_domain_id: int
    superadmin_role_id: int


async def create_tenant(
    session: AsyncSession,
    *,
    name: str,
    hosting_mode: HostingMode = HostingMode.HOSTED,
    approver_function: bool = False,
    data_center_connected: bool = False,
    vendor_public_keys: list[str] = (),  # type: ignore[assignment]
) -> NewTenant:
    """Insert a tenant with its default domain, built-in roles and the "Always" schedule.

    ``session`` must be a session scoped to the new tenant's id (so that RLS lets
    the rows in); the caller commits.
    """
    tenant_id = session.info["tenant_id"]
    signing_key = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    session.add(
        Tenant(
            id=tenant_id,
            name=name,
            hosting_mode=hosting_mode,
            approver_function=approver_function,
            data_center_connected=data_center_connected,
            signing_key=signing_key,
        )
    )
    await session.flush()
    domain = Domain(name="Default", description="All elements start here (R8)", is_default=True)
    session.add(domain)
    roles = {
        name: Role(name=name, builtin=True, rights=list(r)) for name, r in BUILTIN_ROLES.items()
    }
    session.add_all(roles.values())
    session.add(Schedule(name="Always", windows=ALWAYS_WINDOWS, is_default=True))
    for i, key in enumerate(vendor_public_keys):
        session.add(TrustedVendorKey(name=f"vendor key {i + 1}", public_key=key))
    await session.flush()
    return NewTenant(tenant_id, domain.id, roles["Superadmin"].id)


async def lock_tenant(session: AsyncSession) -> Tenant:
    """The session's tenant row, locked until the transaction ends: tenant-wide changes take turns.

    Used where a rule spans the whole tenant (blocking-list versions, R21; the one
    generation-1 updater device, R26).
    """
    if session.get_bind().dialect.name == "sqlite":
        # No row locks in SQLite: a write takes the database's one write lock now.
        await session.execute(
            update(Tenant).values(name=Tenant.name).execution_options(synchronize_session=False)
        )
    tenant = await session.scalar(select(Tenant).with_for_update())
    if tenant is None:
        raise DomainError(NOT_FOUND, "no such tenant")
    return tenant


async def require_every_domain(session: AsyncSession, what: str) -> None:
    """Refuse ``what`` to a session limited to some of the tenant's domains (R8).

    For changes that reach every domain (factory data, roles): a domain-limited
    caller would change what it does not administer, or could not see what is
    already there. FORBIDDEN, naming ``what``.
    """
    limited_to = session.info.get("domain_ids")
    if limited_to is None:
        return
    every_domain = set(await session.scalars(select(Domain.id)))
    if not every_domain <= set(limited_to):
        raise DomainError(FORBIDDEN, f"{what} needs access to every domain (R8)")
