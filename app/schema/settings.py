"""Tenant settings (R14, R29) and a sub programming key's new PIN (R6): the mutations.

The domain operations are app.tenants.settings and app.auth.programming_keys.
"""

from __future__ import annotations

import strawberry

from app.auth.pins import PinRejected
from app.auth.programming_keys import change_sub_key_pin
from app.rate_limits import PIN_PER_ADDRESS, PIN_PER_KEY, Hit
from app.schema.common import UserError
from app.schema.context import Info
from app.schema.runner import mutation, run
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
    @mutation(
        right="tenant.settings",
        description="R14, R29: flexible extensions; the approver function can never change.",
    )
    async def update_tenant_settings(
        self, info: Info, input: UpdateTenantSettingsInput
    ) -> TenantPayload:
        return await run(
            info, TenantPayload,
            lambda r: update_tenant_settings(
                r.session,
                flexible_extensions=input.flexible_extensions,
                approver_function=input.approver_function,
            ),
            lambda row: TenantPayload(tenant=TenantType(row=row)),
        )

    @mutation(
        right="programming_keys.write",
        description="R6: a sub key's new PIN, authorised by the main key's PIN.",
    )
    async def change_sub_key_pin(
        self, info: Info, input: ChangeSubKeyPinInput
    ) -> ProgrammingKeyPayload:
        return await run(
            info, ProgrammingKeyPayload,
            lambda r: change_sub_key_pin(
                r.session,
                sub_key_id=r.id(input.sub_key_id, "ProgrammingKey", "subKeyId"),
                caller=r.caller,
                main_key_pin=input.main_key_pin,
                new_pin=input.new_pin,
            ),
            lambda row: ProgrammingKeyPayload(programming_key=ProgrammingKeyType(row=row)),
            keeps=(PinRejected,),  # the wrong PIN counts (and may lock the main key) (R6)
            limits=(Hit(PIN_PER_ADDRESS), Hit(PIN_PER_KEY, input.sub_key_id)),
        )
