"""One recipe for every mutation: the right, the ids, one transaction, events, payload errors.

A mutation is a declaration and one call into a domain service (app.schema.extensions)::

    @mutation(right="extensions.activate", description="R31: make the extension's elements usable.")
    async def activate_extension(self, info: Info, id: strawberry.ID) -> ExtensionPayload:
        return await run(
            info, ExtensionPayload,
            lambda r: activate_extension(r.session, r.id(id, "Extension", "id")),
            lambda row: ExtensionPayload(extension=Extension(row=row)),
        )

``run`` does the rest, the same way for all of them:

1. the declared right is checked first (R7): a caller without it gets the payload
   error ``FORBIDDEN`` whose message names the right, and nothing is read or written;
2. the action runs in one transaction, committed when it succeeds and rolled back on
   any error: no half-written change;
3. ids are decoded inside it (``Run.id``): a malformed id, one of the wrong type, and
   another tenant's id all answer ``NOT_FOUND`` naming the input field, exactly like
   an id that does not exist (R1);
4. live events queued on the session are published after the commit (R23), then the
   ``after_commit`` steps run (waking the mailer, announcing to a bridge);
5. a ``DomainError`` becomes the payload's ``errors { field code message }``.

Mutations without a credential (login, enrolment) declare ``right=NO_CREDENTIAL`` and
name their tenant; the bridge's own reports declare ``right=BRIDGE_ITSELF``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.config import Settings
from app.errors import FORBIDDEN, NOT_FOUND, DomainError, Forbidden
from app.events.publish import publish_queued
from app.rate_limits import Hit, limit
from app.schema.common import UserError
from app.schema.context import Info
from app.schema.relay import decode_id, decode_ids

P = TypeVar("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Requirement:
    """Who may call a mutation that no right guards (documented in docs/decisions.md)."""

    name: str


# Any authenticated caller (logout: everyone may end their own session).
SIGNED_IN = Requirement("signed in")
# The site bridge of the connection, reporting its own commands (R8).
BRIDGE_ITSELF = Requirement("the bridge itself")
# No credential yet: the tenant is named in the input (login, bridge enrolment, R5).
NO_CREDENTIAL = Requirement("no credential")

# What each mutation requires, by its Python name: filled by @mutation, read by run().
REQUIREMENTS: dict[str, str | Requirement] = {}


def mutation(*, right: str | Requirement, description: str | None = None) -> Any:
    """``strawberry.mutation`` that declares the right (or Requirement) its ``run`` checks.

    The declaration is also kept in the field's metadata (``"right"``), so the
    served schema says what every mutation needs.
    """

    def declare(resolver: Callable[..., Any]) -> Any:
        name = resolver.__name__
        if REQUIREMENTS.get(name, right) != right:
            raise ValueError(f"two mutations named {name!r}")
        REQUIREMENTS[name] = right
        return strawberry.mutation(description=description, metadata={"right": right})(resolver)

    return declare


@dataclass
class Run:
    """What a mutation's action gets: the transaction's session, the caller and id decoding."""

    session: AsyncSession
    principal: Principal | None
    settings: Settings
    tenant_id: str
    _after_commit: list[Callable[[], Any]] = field(default_factory=list)

    @property
    def caller(self) -> Principal:
        """The principal of a mutation declared with a right (always there)."""
        if self.principal is None:
            raise ValueError("a mutation without a credential has no caller")
        return self.principal

    def id(self, gid: str, type_name: str, field: str) -> int:
        """The database id behind a global id of ``type_name``; NOT_FOUND names ``field``."""
        return decode_id(gid, type_name, field)[1]

    def optional_id(self, gid: str | None, type_name: str, field: str) -> int | None:
        """As :meth:`id`, for an optional input (None stays None)."""
        return None if gid is None else self.id(gid, type_name, field)

    def typed_id(self, gid: str, type_names: Sequence[str], field: str) -> tuple[str, int]:
        """(type name, id) of a global id that may be one of several types."""
        return decode_id(gid, type_names, field)

    def ids(self, gids: Sequence[str], type_name: str, field: str) -> list[int]:
        """Ids of a list input; an error names the item (``field.3``)."""
        return [ident for _, ident in decode_ids(gids, type_name, field)]

    def typed_ids(
        self, gids: Sequence[str], type_names: Sequence[str], field: str
    ) -> list[tuple[str, int]]:
        """(type name, id) of each item of a list input that may mix types (``typed_id``);
        an error names the item (``field.3``)."""
        return decode_ids(gids, type_names, field)

    def optional_ids(
        self, gids: Sequence[str] | None, type_name: str, field: str
    ) -> list[int] | None:
        """As :meth:`ids`, for an optional list (None stays None: "leave as it is")."""
        return None if gids is None else self.ids(gids, type_name, field)

    async def row(self, model: type[R], gid: str, type_name: str, field: str) -> R:
        """The row behind a global id, in the caller's tenant and domains (R1, R8).

        A row of another tenant or domain is answered exactly like one that does not
        exist: NOT_FOUND naming ``field``.
        """
        found = await self.session.get(model, self.id(gid, type_name, field))
        if found is None:
            raise DomainError(NOT_FOUND, f"{field}: no {type_name} with id {gid!r}", field)
        return found

    def after_commit(self, step: Callable[[], Any]) -> None:
        """Run ``step`` (sync or async) once the transaction has committed, never before."""
        self._after_commit.append(step)

    async def _committed(self) -> None:
        for step in self._after_commit:
            outcome = step()
            if inspect.isawaitable(outcome):
                await outcome


async def run(
    info: Info,
    payload: Callable[..., P],
    action: Callable[[Run], Awaitable[R]],
    answer: Callable[[R], P] | None = None,
    *,
    tenant: Callable[[], str] | None = None,
    keeps: tuple[type[DomainError], ...] = (),
    failed: Callable[[DomainError], P] | None = None,
    limits: Sequence[Hit] = (),
) -> P:
    """Run one mutation as declared by its ``@mutation(right=...)`` (see the module doc).

    ``action`` does the work in the transaction and returns the domain's result;
    ``answer`` turns it into the payload (without ``answer`` the action returns the
    payload itself). ``tenant`` names the tenant for ``NO_CREDENTIAL`` mutations.
    A ``DomainError`` of a type in ``keeps`` is committed before it is reported
    (a wrong PIN counts, R5/R6). ``failed`` builds the payload of a failure when
    the payload has no ``errors`` list. ``limits`` are counted before anything is
    read or written (logins, PINs, codes): one over its limit is the payload error
    ``RATE_LIMITED`` (app.rate_limits).
    """
    requirement = REQUIREMENTS[info.python_name]
    try:
        await limit(info.context.request, *limits)
        async with _transaction(info, requirement, tenant, keeps) as scope:
            result = await action(scope)
    except DomainError as exc:
        if failed is not None:
            return failed(exc)
        return payload(errors=[UserError.from_domain(exc)])
    await scope._committed()
    return answer(result) if answer is not None else result  # type: ignore[return-value]


@asynccontextmanager
async def _transaction(
    info: Info,
    requirement: str | Requirement,
    tenant: Callable[[], str] | None,
    keeps: tuple[type[DomainError], ...],
) -> AsyncIterator[Run]:
    """Check the requirement, then one transaction; its events are published after the commit."""
    context = info.context
    principal = _allowed(info, requirement)
    if principal is None or requirement is BRIDGE_ITSELF:
        # No request session: login and enrolment name their tenant, a bridge reports over
        # its WebSocket (which has no session of its own).
        if principal is not None:
            tenant_id = principal.tenant_id
        elif tenant is not None:
            tenant_id = tenant()
        else:
            raise ValueError("a mutation without a credential names its tenant")
        async with context.database.tenant_session(tenant_id) as session:
            async with _committing(session, keeps):
                yield Run(session, principal, context.settings, tenant_id)
        await publish_queued(session, context.settings)
        return
    db = context.db  # the request's own session, serialised with the request's reads
    async with db.lock:
        async with _committing(db.session, keeps):
            yield Run(db.session, principal, context.settings, principal.tenant_id)
    await publish_queued(db.session, context.settings)


@asynccontextmanager
async def _committing(
    session: AsyncSession, keeps: tuple[type[DomainError], ...]
) -> AsyncIterator[None]:
    """Commit when the block succeeds, roll back on any error; ``keeps`` errors are committed."""
    try:
        yield
    except keeps:
        await session.commit()
        raise
    except BaseException:
        await session.rollback()
        raise
    await session.commit()


def _allowed(info: Info, requirement: str | Requirement) -> Principal | None:
    """The caller, once it meets the requirement; FORBIDDEN names the missing right (R7)."""
    context = info.context
    if isinstance(requirement, str):
        principal = context.require_any()
        if not principal.has(requirement):
            raise Forbidden(requirement)
        return principal
    if requirement is SIGNED_IN:
        return context.require_any()
    if requirement is BRIDGE_ITSELF:
        principal = context.principal
        if principal is None or principal.kind != "bridge":
            raise DomainError(FORBIDDEN, "only a bridge reports its commands")
        return principal
    return None
