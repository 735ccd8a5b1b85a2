"""Tenant settings (R14, R29) and a sub programming key's new PIN (R6): the mutations.

The domain operations are app.tenants.settings and app.auth.programming_keys.
"""

from __future__ import annotations

import strawberry

from app.auth.pins import PinRejected
from app.auth.programming_keys import change_sub_key_pin
from app.errors import DomainError
from app.schema.common import UserError
from app.schema.context import Info
from app.schema.relay import decode_id
from app.schema.types import ProgrammingKey as ProgrammingKeyType
from app.schema.types import Tenant as TenantType
from app.tenants.settings import update_tenant_settings


@strawberry.input
class UpdateTenantSettingsInput:
    flexible_extensions: bool | None = None
    approver_function: bool | None = None


@strawberry.type
class TenantPayload:
    tenant: TenantType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ChangeSubKeyPinInput:
    sub_key_id: strawberry.ID
    main_key_pin: str
    new_pin: str


@strawberry.type
class ProgrammingKeyPayload:
    programming_key: ProgrammingKeyType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SettingsMutations:
    @strawberry.mutation(
        description="R14, R29: flexible extensions; the approver function can never change."
    )
    async def update_tenant_settings(
        self, info: Info, input: UpdateTenantSettingsInput
    ) -> TenantPayload:
        info.context.require("tenant.settings")
        try:
            async with info.context.write() as session:
                row = await update_tenant_settings(
                    session,
                    flexible_extensions=input.flexible_extensions,
                    approver_function=input.approver_function,
                )
        except DomainError as exc:
            return TenantPayload(errors=[UserError.from_domain(exc)])
        return TenantPayload(tenant=TenantType(row=row))

    @strawberry.mutation(description="R6: a sub key's new PIN, authorised by the main key's PIN.")
    async def change_sub_key_pin(
        self, info: Info, input: ChangeSubKeyPinInput
    ) -> ProgrammingKeyPayload:
        info.context.require("programming_keys.write")
        try:
            _, sub_key_id = decode_id(input.sub_key_id, "ProgrammingKey", "subKeyId")
            async with info.context.write() as session:
                try:
                    row = await change_sub_key_pin(
                        session,
                        sub_key_id=sub_key_id,
                        main_key_pin=input.main_key_pin,
                        new_pin=input.new_pin,
                    )
                except PinRejected:
                    await session.commit()  # the wrong PIN counts (and may lock the main key)
                    raise
        except DomainError as exc:
            return ProgrammingKeyPayload(errors=[UserError.from_domain(exc)])
        return ProgrammingKeyPayload(programming_key=ProgrammingKeyType(row=row))
