"""Login with a programming key (R5) and API tokens (R9)."""

from __future__ import annotations

import base64
import binascii
import uuid

import strawberry

from app.auth.login import complete_login, create_challenge, login_message, logout
from app.auth.pins import PinRejected
from app.auth.sign_in_links import link_tenant, use_sign_in_link
from app.auth.tokens import create_api_token, revoke_api_token
from app.browser_session import clear_session_cookie, set_session_cookie
from app.errors import INVALID, NOT_FOUND, DomainError
from app.rate_limits import CODE_PER_ADDRESS, LOGIN_PER_ADDRESS, LOGIN_PER_KEY, PIN_PER_ADDRESS, Hit
from app.schema.common import UserError
from app.schema.context import Info
from app.schema.relay import parse_global_id
from app.schema.runner import NO_CREDENTIAL, SIGNED_IN, Run, mutation, run


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


@strawberry.input
class SignInWithLinkInput:
    link: str = strawberry.field(description="The code of a one-time sign-in link.")


@strawberry.type
class SignInPayload:
    signed_in: bool = strawberry.field(
        default=False,
        description="The browser now holds its session in an HttpOnly cookie; no token is shown.",
    )
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
        raise DomainError(NOT_FOUND, f"{field}: no such tenant", field) from exc


def hand_session_to_browser(info: Info, token: str) -> None:
    """Put a new login session's token into the browser's HttpOnly cookie (issue 11, R5)."""
    context = info.context
    max_age = context.settings.session_hours * 3600
    set_session_cookie(context.response, context.request, token, max_age)


def _link_tenant(link: str) -> str:
    tenant_id = link_tenant(link)
    if tenant_id is None:
        raise DomainError(INVALID, "this sign-in link is malformed: copy all of it", "link")
    return tenant_id


def signature_bytes(value: str) -> bytes:
    """A base64 signature as given in an input; INVALID on ``signature`` when it is not."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DomainError(INVALID, "signature: not base64", "signature") from exc


@strawberry.type
class AuthMutations:
    @mutation(right="tokens.write", description="R9: a token for partners and scripts, shown once.")
    async def create_api_token(self, info: Info, input: CreateApiTokenInput) -> ApiTokenPayload:
        return await run(
            info, ApiTokenPayload,
            lambda r: create_api_token(
                r.session,
                name=input.name,
                rights=input.rights,
                domain_ids=r.optional_ids(input.domain_ids, "Domain", "domainIds"),
                creator=r.caller,
                created_by_id=r.caller.programming_key_id,
            ),
            lambda made: ApiTokenPayload(token=made[1]),
        )

    @mutation(right="tokens.write")
    async def revoke_api_token(
        self, info: Info, input: RevokeApiTokenInput
    ) -> RevokeApiTokenPayload:
        return await run(
            info, RevokeApiTokenPayload,
            lambda r: revoke_api_token(r.session, r.id(input.token_id, "ApiToken", "tokenId")),
            lambda _: RevokeApiTokenPayload(revoked=True),
        )

    @mutation(right=NO_CREDENTIAL, description="R5: step 1 of a programming-key login.")
    async def request_login_challenge(
        self, info: Info, input: RequestLoginChallengeInput
    ) -> LoginChallengePayload:
        async def action(r: Run) -> LoginChallengePayload:
            nonce = (await create_challenge(r.session, input.marking)).nonce
            message = base64.b64encode(login_message(r.tenant_id, nonce)).decode()
            return LoginChallengePayload(challenge=nonce, message=message)

        return await run(
            info, LoginChallengePayload, action, tenant=lambda: tenant_uuid(input.tenant_id),
            limits=(
                Hit(LOGIN_PER_ADDRESS),
                Hit(LOGIN_PER_KEY, f"{input.tenant_id}/{input.marking}"),
            ),
        )

    @mutation(
        right=NO_CREDENTIAL,
        description="R5: step 2: the key's signature and the PIN give a session.",
    )
    async def complete_login(self, info: Info, input: CompleteLoginInput) -> LoginPayload:
        return await run(
            info, LoginPayload,
            lambda r: complete_login(
                r.session,
                challenge_nonce=input.challenge,
                signature=signature_bytes(input.signature),
                pin=input.pin,
                session_hours=r.settings.session_hours,
            ),
            lambda made: LoginPayload(token=made[1]),
            tenant=lambda: tenant_uuid(input.tenant_id),
            keeps=(PinRejected,),  # the failed attempt (and any lock-out) must stick (R5, R6)
            # Per key, wrong PINs lock the key (R5); per address, tries are limited.
            limits=(Hit(PIN_PER_ADDRESS),),
        )

    @mutation(
        right=NO_CREDENTIAL,
        description="Sign the browser in with a one-time sign-in link (keywarden demo prints "
        "one); the session goes into an HttpOnly cookie.",
    )
    async def sign_in_with_link(self, info: Info, input: SignInWithLinkInput) -> SignInPayload:
        async def action(r: Run) -> SignInPayload:
            _, token = await use_sign_in_link(
                r.session, input.link, session_hours=r.settings.session_hours
            )
            r.after_commit(lambda: hand_session_to_browser(info, token))
            return SignInPayload(signed_in=True)

        return await run(
            info, SignInPayload, action, tenant=lambda: _link_tenant(input.link),
            limits=(Hit(CODE_PER_ADDRESS),),
        )

    @mutation(
        right=SIGNED_IN,
        description="End the session of the token (or browser cookie) that calls it.",
    )
    async def logout(self, info: Info) -> LogoutPayload:
        context = info.context
        if context.response is not None:
            clear_session_cookie(context.response, context.request)
        return await run(
            info, LogoutPayload,
            lambda r: logout(r.session, context.credential or ""),
            lambda done: LogoutPayload(logged_out=done),
        )


@strawberry.type
class AuthQuery:
    @strawberry.field(
        description="The rights the caller holds (R7): what the web manager's menus follow."
    )
    def my_rights(self, info: Info) -> list[str]:
        return sorted(info.context.require_any().rights)
