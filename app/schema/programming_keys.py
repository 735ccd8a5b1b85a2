"""Programming keys (R5–R8): holder, roles and domains; the main key's PIN by its PUK; a
factory-delivered key's first PIN. The domain operations are app.auth.programming_keys."""

from __future__ import annotations

import strawberry

from app.auth.pins import PinRejected
from app.auth.programming_keys import reset_main_key_pin, set_first_pin, update_programming_key
from app.rate_limits import PIN_PER_ADDRESS, PIN_PER_KEY, Hit
from app.schema.auth import signature_bytes, tenant_uuid
from app.schema.common import UserError
from app.schema.context import Info
from app.schema.runner import NO_CREDENTIAL, mutation, run
from app.schema.settings import ProgrammingKeyPayload
from app.schema.types import ProgrammingKey


@strawberry.input
class UpdateProgrammingKeyInput:
    programming_key_id: strawberry.ID
    holder_id: strawberry.ID | None = None
    role_ids: list[strawberry.ID] | None = None
    domain_ids: list[strawberry.ID] | None = None


@strawberry.input
class ResetMainKeyPinInput:
    programming_key_id: strawberry.ID
    puk: str
    new_pin: str


@strawberry.input
class SetFirstPinInput:
    tenant_id: strawberry.ID
    challenge: str = strawberry.field(description="From requestLoginChallenge.")
    signature: str = strawberry.field(description="base64 Ed25519 signature over the message")
    new_pin: str


@strawberry.type
class FirstPinPayload:
    marking: str | None = None
    puk: str | None = strawberry.field(
        default=None,
        description="A main key's new PUK when it had none: shown this once, never again.",
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ProgrammingKeyMutations:
    @mutation(
        right="programming_keys.write",
        description="R5, R7, R8: a programming key's holder (gets its e-mails), roles, domains.",
    )
    async def update_programming_key(
        self, info: Info, input: UpdateProgrammingKeyInput
    ) -> ProgrammingKeyPayload:
        return await run(
            info, ProgrammingKeyPayload,
            lambda r: update_programming_key(
                r.session,
                r.id(input.programming_key_id, "ProgrammingKey", "programmingKeyId"),
                caller=r.caller,
                holder_id=r.optional_id(input.holder_id, "Employee", "holderId"),
                role_ids=r.optional_ids(input.role_ids, "Role", "roleIds"),
                domain_ids=r.optional_ids(input.domain_ids, "Domain", "domainIds"),
            ),
            lambda row: ProgrammingKeyPayload(programming_key=ProgrammingKey(row=row)),
        )

    @mutation(
        right="programming_keys.write",
        description="R5, R6: the main key's new PIN, authorised by its PUK.",
    )
    async def reset_main_key_pin(
        self, info: Info, input: ResetMainKeyPinInput
    ) -> ProgrammingKeyPayload:
        return await run(
            info, ProgrammingKeyPayload,
            lambda r: reset_main_key_pin(
                r.session,
                r.id(input.programming_key_id, "ProgrammingKey", "programmingKeyId"),
                caller=r.caller,
                puk=input.puk,
                new_pin=input.new_pin,
            ),
            lambda row: ProgrammingKeyPayload(programming_key=ProgrammingKey(row=row)),
            keeps=(PinRejected,),  # a wrong PUK counts, like a wrong PIN (R5)
            limits=(Hit(PIN_PER_ADDRESS), Hit(PIN_PER_KEY, input.programming_key_id)),
        )

    @mutation(
        right=NO_CREDENTIAL,
        description="R5, R31: a factory-delivered key without a PIN gets one from its holder, "
        "who signs a login challenge with it; then completeLogin works.",
    )
    async def set_first_pin(self, info: Info, input: SetFirstPinInput) -> FirstPinPayload:
        return await run(
            info, FirstPinPayload,
            lambda r: set_first_pin(
                r.session,
                challenge_nonce=input.challenge,
                signature=signature_bytes(input.signature),
                new_pin=input.new_pin,
            ),
            lambda made: FirstPinPayload(marking=made[0].marking, puk=made[1]),
            tenant=lambda: tenant_uuid(input.tenant_id),
            limits=(Hit(PIN_PER_ADDRESS),),
        )
