"""Roles: the tenant's own bundles of rights, created, edited and removed (R7).

Built-in roles (Superadmin, Admin, Operator, Auditor, Approver) come with every
tenant and cannot be changed or removed (IMMUTABLE). A role's rights reach
every programming key that holds it, in every domain, so roles are changed only
by callers who administer every domain (R8), and only with rights the caller
holds itself: nobody hands out more than they have (except the approver's
right, which administrators give without holding it, R29).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.rights import grantable_rights
from app.errors import CONFLICT, IMMUTABLE, INVALID, NOT_FOUND, DomainError
from app.models import ProgrammingKey, ProgrammingKeyRole, Role
from app.names import flush_named, free_name
from app.tenants.service import require_every_domain

NAME_MAX = 100
# How many holders a CONFLICT message names before it summarises.
NAMED_IN_MESSAGE = 5
_WHAT = "changing roles"


async def create_role(
    session: AsyncSession, *, name: str, rights: Iterable[str], granter: Principal | None
) -> Role:
    """A new role named ``name`` bundling ``rights`` (R7).

    The name is trimmed, at most 100 characters and not taken by another role
    of the tenant, case aside (INVALID / CONFLICT on ``name``). Every right must
    exist (INVALID naming it) and be held by ``granter`` (FORBIDDEN naming it),
    and there must be at least one (INVALID on ``rights``). A granter limited to
    some domains is refused (FORBIDDEN, R8). Never commits.
    """
    await require_every_domain(session, _WHAT)
    role = Role(
        name=await free_name(session, Role, name, own_id=None, what="role", limit=NAME_MAX),
        builtin=False,
        rights=_rights(rights, granter, ()),
    )
    session.add(role)
    await flush_named(session, role.name, what="role")
    return role


async def update_role(
    session: AsyncSession,
    role_id: int,
    *,
    name: str | None = None,
    rights: Iterable[str] | None = None,
    granter: Principal | None,
) -> Role:
    """Rename a role or replace its rights (R7); None leaves that part as it is.

    Built-in roles are IMMUTABLE (on ``roleId``). The rules of :func:`create_role`
    apply, except that rights the role holds already may stay even when the
    granter lacks them: only rights it gains are granted. The new rights apply
    to every key holding the role from its next request on. Never commits.
    """
    await require_every_domain(session, _WHAT)
    role = await _editable(session, role_id)
    if name is not None:
        role.name = await free_name(
            session, Role, name, own_id=role.id, what="role", limit=NAME_MAX
        )
    if rights is not None:
        role.rights = _rights(rights, granter, role.rights)
    await flush_named(session, role.name, what="role")
    return role


async def delete_role(session: AsyncSession, role_id: int) -> int:
    """Remove a role nobody holds (R7); returns its id.

    Built-in roles are IMMUTABLE; a role still given to a programming key is a
    CONFLICT naming the keys by marking (API tokens hold rights, not roles, R9).
    Never commits.
    """
    await require_every_domain(session, _WHAT)
    role = await _editable(session, role_id)
    holders = list(
        await session.scalars(
            select(ProgrammingKey.marking)
            .join(ProgrammingKeyRole, ProgrammingKeyRole.programming_key_id == ProgrammingKey.id)
            .where(ProgrammingKeyRole.role_id == role.id)
            .order_by(ProgrammingKey.marking)
        )
    )
    if holders:
        named = ", ".join(holders[:NAMED_IN_MESSAGE])
        more = len(holders) - NAMED_IN_MESSAGE
        raise DomainError(
            CONFLICT,
            f"role {role.name} is still held by programming keys {named}"
            + (f" and {more} more" if more > 0 else "")
            + ": take it from them first",
            "roleId",
        )
    await session.delete(role)
    await session.flush()
    return role_id


async def _editable(session: AsyncSession, role_id: int) -> Role:
    role = await session.get(Role, role_id)
    if role is None:
        raise DomainError(NOT_FOUND, "roleId: no such Role", "roleId")
    if role.builtin:
        raise DomainError(
            IMMUTABLE, f"{role.name} is a built-in role and cannot be changed (R7)", "roleId"
        )
    return role


def _rights(rights: Iterable[str], granter: Principal | None, kept: Iterable[str]) -> list[str]:
    """The role's new rights: ``kept`` ones need not be held by the granter, new ones must."""
    wanted = grantable_rights(rights, None)
    already = set(kept)
    grantable_rights(
        [r for r in wanted if r not in already], granter, to_programming_keys=True
    )
    if not wanted:
        raise DomainError(INVALID, "a role needs at least one right", "rights")
    return wanted
