"""Domains over GraphQL (R8): create, rename, delete, and move elements between them."""

from __future__ import annotations

from typing import Any

import strawberry

from app.domains.service import (
    MOVABLE,
    create_domain,
    delete_domain,
    move_to_domain,
    update_domain,
)
from app.schema.common import DeletePayload, Node, UserError
from app.schema.context import Info
from app.schema.nodes import NODES
from app.schema.relay import to_global_id
from app.schema.runner import mutation, run
from app.schema.types import Domain


@strawberry.input
class CreateDomainInput:
    name: str
    description: str | None = None


@strawberry.input
class UpdateDomainInput:
    domain_id: strawberry.ID
    name: str | None = None
    description: str | None = strawberry.field(
        default=None, description="An empty description removes it."
    )


@strawberry.input
class DomainIdInput:
    domain_id: strawberry.ID


@strawberry.input
class MoveToDomainInput:
    domain_id: strawberry.ID
    element_ids: list[strawberry.ID] = strawberry.field(
        description="Keys, cylinders, employees and remote devices, mixed (R8)."
    )


@strawberry.type
class DomainPayload:
    domain: Domain | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MoveToDomainPayload:
    moved: list[Node] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


def _domain_payload(row: Any) -> DomainPayload:
    return DomainPayload(domain=Domain(row=row))


def _moved_payload(moved: list[tuple[str, Any]]) -> MoveToDomainPayload:
    return MoveToDomainPayload(
        moved=[NODES[type_name].graphql_type(row=row) for type_name, row in moved]
    )


@strawberry.type
class DomainMutations:
    @mutation(right="domains.write", description="R8: a new, empty domain.")
    async def create_domain(self, info: Info, input: CreateDomainInput) -> DomainPayload:
        return await run(
            info, DomainPayload,
            lambda r: create_domain(
                r.session, name=input.name, description=input.description,
                administered=r.caller.domain_ids,
            ),
            _domain_payload,
        )

    @mutation(right="domains.write", description="R8: rename a domain or change its description.")
    async def update_domain(self, info: Info, input: UpdateDomainInput) -> DomainPayload:
        return await run(
            info, DomainPayload,
            lambda r: update_domain(
                r.session, r.id(input.domain_id, "Domain", "domainId"),
                name=input.name, description=input.description,
                administered=r.caller.domain_ids,
            ),
            _domain_payload,
        )

    @mutation(
        right="domains.write",
        description="R8: delete an empty domain nobody administers (CONFLICT names what it holds).",
    )
    async def delete_domain(self, info: Info, input: DomainIdInput) -> DeletePayload:
        return await run(
            info, DeletePayload,
            lambda r: delete_domain(
                r.session, r.id(input.domain_id, "Domain", "domainId"),
                administered=r.caller.domain_ids,
            ),
            lambda gone: DeletePayload(deleted_id=strawberry.ID(to_global_id("Domain", gone))),
        )

    @mutation(
        right="domains.write",
        description="R8: move elements into a domain you administer; nothing is reprogrammed.",
    )
    async def move_to_domain(self, info: Info, input: MoveToDomainInput) -> MoveToDomainPayload:
        return await run(
            info, MoveToDomainPayload,
            lambda r: move_to_domain(
                r.session, r.id(input.domain_id, "Domain", "domainId"),
                r.typed_ids(input.element_ids, tuple(MOVABLE), "elementIds"),
                administered=r.caller.domain_ids,
            ),
            _moved_payload,
        )
