"""Tenant settings (R14, R29) and a sub programming key's new PIN (R6).

The two domain operations are plain functions at the top (no GraphQL in them);
the mutations below translate inputs, payloads and errors.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.pins import PinRejected, check_pin, hash_pin, validate_new_pin
from app.errors import DomainError
from app.models import (
    ProgrammingKey,
    ProgrammingKeyKind,
    ProgrammingKeyStatus,
    Tenant,
    utcnow,
)
from app.schema.common import UserError
from app.schema.context import Info
from app.schema.relay import decode_id
from app.schema.types import ProgrammingKey as ProgrammingKeyType
from app.schema.types import Tenant as TenantType

# --- domain operations ----------------------------------------------------------------


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
        raise DomainError("NOT_FOUND", "no such tenant")
    if approver_function is not None and approver_function != tenant.approver_function:
        raise DomainError(
            "IMMUTABLE",
            "the approver function is chosen when the tenant is created; it can never be "
            "changed (R29)",
            "approverFunction",
        )
    if flexible_extensions is not None:
        tenant.flexible_extensions = flexible_extensions
    await session.flush()
    return tenant


SUB_KINDS = (ProgrammingKeyKind.SUB, ProgrammingKeyKind.SUBMASTER)


async def change_sub_key_pin(
    session: AsyncSession,
    *,
    sub_key_id: int,
    main_key_pin: str,
    new_pin: str,
    now: datetime | None = None,
) -> ProgrammingKey:
    """Give a sub or submaster programming key a new PIN, authorised by the main key's PIN (R6).

    The target must be a SUB or SUBMASTER key of the tenant (NOT_FOUND, INVALID
    on ``subKeyId``); the new PIN must follow the PIN rules (INVALID on
    ``newPin``). ``main_key_pin`` is the PIN of the tenant's main key (PR) — a
    PUK is not accepted in its place — checked with ``check_pin``: a wrong one is
    counted against the main key, which is locked after three (WRONG_PIN on
    ``mainKeyPin``). After a :class:`PinRejected` the caller must commit the
    count, not roll it back; nothing else is written before the check. On
    success the sub key's failed attempts and lock are cleared. The caller
    commits. PINs are never logged.
    """
    now = now or utcnow()
    sub_key = await session.scalar(select(ProgrammingKey).where(ProgrammingKey.id == sub_key_id))
    if sub_key is None:
        raise DomainError("NOT_FOUND", "subKeyId: no such ProgrammingKey", "subKeyId")
    if sub_key.kind not in SUB_KINDS:
        raise DomainError(
            "INVALID",
            "subKeyId: only a sub or submaster key's PIN is changed with the main key's PIN (R6)",
            "subKeyId",
        )
    validate_new_pin(new_pin, "newPin")
    main_key = await session.scalar(
        select(ProgrammingKey)
        .where(
            ProgrammingKey.kind == ProgrammingKeyKind.MAIN,
            ProgrammingKey.status == ProgrammingKeyStatus.ACTIVE,
        )
        .order_by(ProgrammingKey.id)
        .limit(1)
    )
    if main_key is None:
        raise DomainError(
            "CONFLICT", "the tenant has no active main programming key to authorise this", None
        )
    await check_pin(session, main_key, main_key_pin, now=now, field="mainKeyPin")
    sub_key.pin_hash = hash_pin(new_pin)
    sub_key.failed_pin_attempts = 0
    sub_key.locked_until = None
    await session.flush()
    return sub_key


# --- GraphQL -------------------------------------------------------------------------


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
