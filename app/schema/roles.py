"""Roles and their rights (R7): create, update and delete, through app.auth.roles."""

from __future__ import annotations

import strawberry

from app.auth.roles import create_role, delete_role, update_role
from app.models import Role as RoleRow
from app.schema.common import DeletePayload, UserError
from app.schema.context import Info
from app.schema.relay import to_global_id
from app.schema.runner import mutation, run
from app.schema.types import Role


@strawberry.input
class CreateRoleInput:
    name: str
    rights: list[str]


@strawberry.input
class UpdateRoleInput:
    role_id: strawberry.ID
    name: str | None = None
    rights: list[str] | None = None


@strawberry.input
class RoleIdInput:
    role_id: strawberry.ID


@strawberry.type
class RolePayload:
    role: Role | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _answer(row: RoleRow) -> RolePayload:
    return RolePayload(role=Role(row=row))


@strawberry.type
class RoleMutations:
    @mutation(right="roles.write", description="R7: a new role with rights the caller holds.")
    async def create_role(self, info: Info, input: CreateRoleInput) -> RolePayload:
        return await run(
            info, RolePayload,
            lambda r: create_role(
                r.session, name=input.name, rights=input.rights, granter=r.caller
            ),
            _answer,
        )

    @mutation(right="roles.write", description="R7: rename a role or change its rights.")
    async def update_role(self, info: Info, input: UpdateRoleInput) -> RolePayload:
        return await run(
            info, RolePayload,
            lambda r: update_role(
                r.session,
                r.id(input.role_id, "Role", "roleId"),
                name=input.name,
                rights=input.rights,
                granter=r.caller,
            ),
            _answer,
        )

    @mutation(right="roles.write", description="R7: remove a role no programming key holds.")
    async def delete_role(self, info: Info, input: RoleIdInput) -> DeletePayload:
        return await run(
            info, DeletePayload,
            lambda r: delete_role(r.session, r.id(input.role_id, "Role", "roleId")),
            lambda role_id: DeletePayload(deleted_id=strawberry.ID(to_global_id("Role", role_id))),
        )
