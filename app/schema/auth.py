"""Login with a programming key (R5) and API tokens (R9)."""

from __future__ import annotations

import base64
import binascii
import uuid

import strawberry

from app.auth.login import complete_login, create_challenge, logout
from app.auth.pins import PinRejected
from app.auth.tokens import create_api_token, revoke_api_token
from app.errors import DomainError
from app.schema.common import UserError
from app.schema.context import Info
from app.schema.relay import decode_id, parse_global_id


@strawberry.input
class CreateApiTokenInput:
    name: str
    rights: list[str]
    domain_ids: list[strawberry.ID] | None = None


@strawberry.type
class ApiTokenPayload:
    token: str | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeApiTokenInput:
    token_id: strawberry.ID


@strawberry.type
class RevokeApiTokenPayload:
    revoked: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RequestLoginChallengeInput:
    tenant_id: strawberry.ID
    marking: str


@strawberry.type
class LoginChallengePayload:
    challenge: str | None = None
    message: str | None = strawberry.field(
        default=None, description="The exact bytes (base64) the programming key must sign."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CompleteLoginInput:
    tenant_id: strawberry.ID
    challenge: str
    signature: str = strawberry.field(description="base64 Ed25519 signature over the message")
    pin: str


@strawberry.type
class LoginPayload:
    token: str | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LogoutPayload:
    logged_out: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


def tenant_uuid(value: str, field: str = "tenantId") -> str:
    """A tenant id as given at login: the raw uuid or its global id."""
    parsed = parse_global_id(value)
    raw = parsed[1] if parsed and parsed[0] == "Tenant" else value
    try:
        return str(uuid.UUID(raw))
    except ValueError as exc:
        raise DomainError("NOT_FOUND", f"{field}: no such tenant", field) from exc


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="R9: a token for partners and scripts, shown once.")
    async def create_api_token(self, info: Info, input: CreateApiTokenInput) -> ApiTokenPayload:
        principal = info.context.require("tokens.write")
        try:
            domain_ids = (
                None
                if input.domain_ids is None
                else [
                    decode_id(d, "Domain", f"domainIds.{i}")[1]
                    for i, d in enumerate(input.domain_ids)
                ]
            )
            async with info.context.write() as session:
                _, secret = await create_api_token(
                    session,
                    name=input.name,
                    rights=input.rights,
                    domain_ids=domain_ids,
                    creator=principal,
                    created_by_id=principal.programming_key_id,
                )
        except DomainError as exc:
            return ApiTokenPayload(errors=[UserError.from_domain(exc)])
        return ApiTokenPayload(token=secret)

    @strawberry.mutation
    async def revoke_api_token(
        self, info: Info, input: RevokeApiTokenInput
    ) -> RevokeApiTokenPayload:
        info.context.require("tokens.write")
        try:
            _, token_id = decode_id(input.token_id, "ApiToken", "tokenId")
            async with info.context.write() as session:
                await revoke_api_token(session, token_id)
        except DomainError as exc:
            return RevokeApiTokenPayload(errors=[UserError.from_domain(exc)])
        return RevokeApiTokenPayload(revoked=True)

    @strawberry.mutation(description="R5: step 1 of a programming-key login.")
    async def request_login_challenge(
        self, info: Info, input: RequestLoginChallengeInput
    ) -> LoginChallengePayload:
        from app.auth.login import login_message

        try:
            tenant_id = tenant_uuid(input.tenant_id)
            async with info.context.database.tenant_session(tenant_id) as session:
                challenge = await create_challenge(session, input.marking)
                nonce = challenge.nonce
                await session.commit()
        except DomainError as exc:
            return LoginChallengePayload(errors=[UserError.from_domain(exc)])
        message = base64.b64encode(login_message(tenant_id, nonce)).decode()
        return LoginChallengePayload(challenge=nonce, message=message)

    @strawberry.mutation(description="R5: step 2: the key's signature and the PIN give a session.")
    async def complete_login(self, info: Info, input: CompleteLoginInput) -> LoginPayload:
        try:
            tenant_id = tenant_uuid(input.tenant_id)
            try:
                signature = base64.b64decode(input.signature, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise DomainError("INVALID", "signature: not base64", "signature") from exc
            async with info.context.database.tenant_session(tenant_id) as session:
                try:
                    _, token = await complete_login(
                        session,
                        challenge_nonce=input.challenge,
                        signature=signature,
                        pin=input.pin,
                        session_hours=info.context.settings.session_hours,
                    )
                except PinRejected:
                    await session.commit()  # the failed attempt (and any lock-out) must stick
                    raise
                await session.commit()
        except DomainError as exc:
            return LoginPayload(errors=[UserError.from_domain(exc)])
        return LoginPayload(token=token)

    @strawberry.mutation
    async def logout(self, info: Info) -> LogoutPayload:
        info.context.require_any()
        token = info.context.request.headers["authorization"].partition(" ")[2].strip()
        async with info.context.write() as session:
            done = await logout(session, token)
        return LogoutPayload(logged_out=done)
