"""Creating, renaming and deleting domains, and moving elements between them (R8).

``administered`` is the caller's set of domains (``Principal.domain_ids``; None: every
domain of the tenant). A domain or an element outside it does not exist for the
caller (R8): it is answered NOT_FOUND, exactly like one of another tenant (R1).

Moving an element changes only who administers it: no access list changes, so no
programming or remote job is created, updated or cancelled (R8: "Moving a cylinder to
another domain needs no reprogramming").

The caller owns the transaction: these functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal_column, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import id_in
from app.errors import CONFLICT, FORBIDDEN, IMMUTABLE, INVALID, NOT_FOUND, DomainError
from app.models import (
    ApiToken,
    Bridge,
    Cylinder,
    Domain,
    Employee,
    Key,
    ProgrammingKey,
    ProgrammingKeyDomain,
    RemoteDevice,
)
from app.names import flush_named, free_name
from app.tenants.scoping import ALL_DOMAINS

NAME_MAX = 200
DESCRIPTION_MAX = 2000
# One moveToDomain call moves at most this many elements (input lists are capped).
MAX_MOVED = 10_000

# What can be moved between domains, by the node type that names it (R8).
# How a change holds its domain until it commits, so that a delete and a move into the
# domain take turns: moves share the domain (FOR KEY SHARE, as their foreign keys would),
# a delete excludes them (FOR UPDATE). SQLite has one write lock, taken at once.
SHARED: dict[str, bool] = {"read": True, "key_share": True}
EXCLUSIVE: dict[str, bool] = {"read": False}

MOVABLE: dict[str, Any] = {
    "Key": Key,
    "Cylinder": Cylinder,
    "Employee": Employee,
    "RemoteDevice": RemoteDevice,
}


@dataclass(frozen=True)
class Held:
    """A kind of row that belongs to a domain, and how a CONFLICT counts it (R8)."""

    model: Any
    one: str
    many: str


# Everything with a domain: a domain holding any of them cannot be deleted. Site bridges
# (and their commands, which share the bridge's domain) count too: they cannot be moved.
HELD: tuple[Held, ...] = (
    Held(Key, "key", "keys"),
    Held(Cylinder, "cylinder", "cylinders"),
    Held(Employee, "employee", "employees"),
    Held(RemoteDevice, "remote device", "remote devices"),
    Held(Bridge, "site bridge", "site bridges"),
)


async def create_domain(
    session: AsyncSession,
    *,
    name: str,
    description: str | None,
    administered: frozenset[int] | None,
) -> Domain:
    """A new, empty domain of the tenant (R8).

    Only a caller who administers every domain creates domains: a caller limited to
    some would create one it could not see (FORBIDDEN).
    """
    if administered is not None:
        raise DomainError(
            FORBIDDEN, "only an administrator of every domain creates domains (R8)", None
        )
    domain = Domain(
        name=await free_name(session, Domain, name, own_id=None, what="domain", limit=NAME_MAX),
        description=_clean_description(description),
        is_default=False,
    )
    session.add(domain)
    await flush_named(session, domain.name, what="domain")
    return domain


async def update_domain(
    session: AsyncSession,
    domain_id: int,
    *,
    name: str | None,
    description: str | None,
    administered: frozenset[int] | None,
) -> Domain:
    """Rename a domain or change its description (None leaves a field as it is; an empty
    description removes it). The default domain may be renamed: it stays the default."""
    domain = await _administered_domain(session, domain_id, administered)
    if name is not None:
        domain.name = await free_name(
            session, Domain, name, own_id=domain.id, what="domain", limit=NAME_MAX
        )
    if description is not None:
        domain.description = _clean_description(description)
    await flush_named(session, domain.name, what="domain")
    return domain


async def delete_domain(
    session: AsyncSession, domain_id: int, *, administered: frozenset[int] | None
) -> int:
    """Delete an empty domain nobody administers; returns its id (R8).

    The default domain, where new elements start, is IMMUTABLE. A domain that still
    holds elements, or that programming keys or API tokens administer, is CONFLICT
    naming what it holds and who administers it, with counts: nothing is moved or
    taken from anyone behind the administrator's back.
    """
    domain = await _administered_domain(session, domain_id, administered, lock=EXCLUSIVE)
    if domain.is_default:
        raise DomainError(
            IMMUTABLE,
            f"domainId: {domain.name!r} is the default domain, where new elements start;"
            " it cannot be deleted (R8)",
            "domainId",
        )
    uses = [*await _held_counts(session, domain.id), *await _administrators(session, domain.id)]
    if uses:
        raise DomainError(
            CONFLICT,
            f"domainId: domain {domain.name!r} is still in use: {'; '.join(uses)} (R8)",
            "domainId",
        )
    await session.delete(domain)
    await session.flush()
    return domain_id


async def move_to_domain(
    session: AsyncSession,
    domain_id: int,
    elements: Sequence[tuple[str, int]],
    *,
    administered: frozenset[int] | None,
) -> list[tuple[str, Any]]:
    """Move keys, cylinders, employees and remote devices into a domain, all or nothing (R8).

    ``elements`` are (node type, id) pairs of any of the :data:`MOVABLE` types, mixed;
    the caller must administer the target domain and the domain of every element
    (NOT_FOUND naming ``domainId`` or ``elementIds.<index>``). Returns the moved
    (node type, row) pairs in the order given, each once. Creates no job: nothing is reprogrammed.
    """
    if not elements:
        raise DomainError(INVALID, "elementIds: name at least one element to move", "elementIds")
    if len(elements) > MAX_MOVED:
        raise DomainError(
            INVALID, f"elementIds: at most {MAX_MOVED} elements at once", "elementIds"
        )
    target = await _administered_domain(session, domain_id, administered, lock=SHARED)
    first_index: dict[tuple[str, int], int] = {}
    for index, element in enumerate(elements):
        first_index.setdefault(element, index)
    found: dict[tuple[str, int], Any] = {}
    for type_name, model in MOVABLE.items():
        ids = [ident for kind, ident in first_index if kind == type_name]
        if ids:
            rows = await session.scalars(select(model).where(id_in(session, model.id, ids)))
            found.update(((type_name, row.id), row) for row in rows)
    for element, index in first_index.items():
        row = found.get(element)
        if row is None or (administered is not None and row.domain_id not in administered):
            field = f"elementIds.{index}"
            raise DomainError(NOT_FOUND, f"{field}: no {element[0]} with this id", field)
    for row in found.values():
        row.domain_id = target.id
    await session.flush()
    return [(element[0], found[element]) for element in first_index]


async def _administered_domain(
    session: AsyncSession,
    domain_id: int,
    administered: frozenset[int] | None,
    *,
    lock: dict[str, bool] | None = None,
) -> Domain:
    """The tenant's domain ``domain_id``, if the caller administers it (NOT_FOUND otherwise),
    held with ``lock`` (:data:`SHARED`, :data:`EXCLUSIVE`) until the transaction ends."""
    if lock is not None and session.get_bind().dialect.name == "sqlite":
        await session.execute(
            update(Domain)
            .where(Domain.id == domain_id)
            .values(name=Domain.name)
            .execution_options(synchronize_session=False)
        )
        lock = None
    domain = await session.get(Domain, domain_id, with_for_update=lock, populate_existing=True)
    if domain is None or (administered is not None and domain.id not in administered):
        raise DomainError(NOT_FOUND, "domainId: no such domain", "domainId")
    return domain


def _clean_description(description: str | None) -> str | None:
    if description is None:
        return None
    description = description.strip()
    if len(description) > DESCRIPTION_MAX:
        raise DomainError(
            INVALID, f"description: at most {DESCRIPTION_MAX} characters", "description"
        )
    return description or None


async def _held_counts(session: AsyncSession, domain_id: int) -> list[str]:
    """["holds 3 keys, 1 cylinder"]: every kind of element the domain holds, counted (one
    statement); [] for an empty domain."""
    counts = union_all(
        *(
            select(literal_column(str(i)).label("kind"), func.count().label("n"))
            .select_from(held.model)
            .where(held.model.domain_id == domain_id)
            for i, held in enumerate(HELD)
        )
    ).subquery()
    rows = await session.execute(
        select(counts.c.kind, counts.c.n), execution_options={ALL_DOMAINS: True}
    )
    by_kind = {int(kind): int(n) for kind, n in rows}
    held = [_counted(by_kind[i], h.one, h.many) for i, h in enumerate(HELD) if by_kind.get(i)]
    return [f"holds {', '.join(held)}"] if held else []


async def _administrators(session: AsyncSession, domain_id: int) -> list[str]:
    """The programming keys and live API tokens that administer the domain, counted and named."""
    markings = list(
        await session.scalars(
            select(ProgrammingKey.marking)
            .join(ProgrammingKeyDomain)
            .where(ProgrammingKeyDomain.domain_id == domain_id)
            .order_by(ProgrammingKey.marking)
        )
    )
    # Token domains are a JSON list: the few live tokens limited to some domains are read.
    tokens = await session.execute(
        select(ApiToken.name, ApiToken.domain_ids)
        .where(ApiToken.revoked_at.is_(None), ApiToken.domain_ids.is_not(None))
        .order_by(ApiToken.name)
    )
    names = [name for name, domain_ids in tokens if domain_id in (domain_ids or ())]
    uses = []
    if markings:
        uses.append(
            f"administered by {_counted(len(markings), 'programming key', 'programming keys')}"
            f" ({', '.join(markings)})"
        )
    if names:
        uses.append(
            f"administered by {_counted(len(names), 'API token', 'API tokens')}"
            f" ({', '.join(names)})"
        )
    return uses


def _counted(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
