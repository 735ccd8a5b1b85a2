"""Rate limits on what can be guessed or flooded (issue 14 item 4; R5, R37): login challenges
and PIN tries per key and per address, codes, failed tokens, device requests; in memory for
the embedded default, shared through Redis when it is configured."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import SecretStr, ValidationError
from sqlalchemy import func, select

from app.auth.login import login_message
from app.auth.pins import hash_pin
from app.config import Settings
from app.db import Database
from app.devices.protocol import request_path, sign_request
from app.models import DeviceNonce, LoginChallenge, ProgrammingKey, ProgrammingKeyKind
from app.models.base import utcnow
from app.rate_limits import LOGIN_PER_KEY, Hit, RateLimited, RateLimiter
from app.tenants.service import NewTenant
from app.web import create_app
from tests.conftest import superadmin_token
from tests.processes import reachable_redis
from tests.test_devices import add_device
from tests.test_quiet_heartbeat import current_list_version

PIN = "482913"

CHALLENGE = """mutation($t: ID!, $m: String!) {
  requestLoginChallenge(input: {tenantId: $t, marking: $m}) {
    challenge message errors { code field message retryAfterSeconds }
  }
}"""
COMPLETE = """mutation($t: ID!, $c: String!, $s: String!, $p: String!) {
  completeLogin(input: {tenantId: $t, challenge: $c, signature: $s, pin: $p}) {
    token errors { code message retryAfterSeconds }
  }
}"""


async def _client(settings: Settings, database: Database, **limits: Any) -> httpx.AsyncClient:
    app = create_app(settings.model_copy(update=limits), database)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def strict(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The API with small limits, so that a test reaches them in a few requests."""
    async with await _client(
        settings,
        database,
        rate_login_per_key="3/minute",
        rate_login_per_address="5/minute",
        rate_pin_per_address="2/minute",
        rate_code_per_address="2/minute",
        rate_token_failures_per_address="3/minute",
        rate_device_requests="2/minute",
        rate_device_failures_per_address="4/minute",
    ) as client:
        yield client


async def _programming_key(
    database: Database, tenant: NewTenant, marking: str
) -> Ed25519PrivateKey:
    private = Ed25519PrivateKey.generate()
    async with database.tenant_session(tenant.tenant_id) as s:
        s.add(
            ProgrammingKey(
                marking=marking,
                uid=f"UID-{marking}",
                kind=ProgrammingKeyKind.MAIN,
                firmware_version="10.2",
                public_key=private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
                pin_hash=hash_pin(PIN),
            )
        )
        await s.commit()
    return private


async def _gql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    data: dict[str, Any] | None = response.json()["data"]
    assert data is not None, response.text
    return next(iter(data.values()))


async def _challenges(database: Database, tenant: NewTenant) -> int:
    async with database.tenant_session(tenant.tenant_id) as s:
        return int(await s.scalar(select(func.count()).select_from(LoginChallenge)) or 0)


async def test_login_challenges_are_limited_per_key_and_per_address_and_refusals_write_nothing(
    strict: httpx.AsyncClient, database: Database, tenant: NewTenant
) -> None:
    # given
    for marking in ("PR-1", "PN-2"):
        await _programming_key(database, tenant, marking)

    # when: four challenges for one key, then two for another, from one address
    first = [await _gql(strict, CHALLENGE, t=tenant.tenant_id, m="PR-1") for _ in range(4)]
    second = [await _gql(strict, CHALLENGE, t=tenant.tenant_id, m="PN-2") for _ in range(2)]

    # then: three per key, five tries per address (a refused try counts as one); the
    # refused ones say when to try again
    assert [bool(p["challenge"]) for p in first] == [True, True, True, False]
    assert [bool(p["challenge"]) for p in second] == [True, False]
    per_key, per_address = first[3]["errors"][0], second[1]["errors"][0]
    assert per_key["code"] == per_address["code"] == "RATE_LIMITED"
    assert "this programming key" in per_key["message"]
    assert "your address" in per_address["message"]
    assert 0 < per_key["retryAfterSeconds"] <= 60
    assert await _challenges(database, tenant) == 4


async def test_pin_tries_are_limited_per_address_before_the_pin_is_checked(
    strict: httpx.AsyncClient, database: Database, tenant: NewTenant
) -> None:
    # given
    private = await _programming_key(database, tenant, "PR-1")

    async def attempt(pin: str) -> dict[str, Any]:
        challenge = (await _gql(strict, CHALLENGE, t=tenant.tenant_id, m="PR-1"))["challenge"]
        signature = private.sign(login_message(tenant.tenant_id, challenge))
        return await _gql(
            strict, COMPLETE, t=tenant.tenant_id, c=challenge,
            s=base64.b64encode(signature).decode(), p=pin,
        )

    # when: two wrong PINs, then the right one
    wrong = [await attempt("999999") for _ in range(2)]
    right = await attempt(PIN)

    # then: the third try is refused without checking it, and did not count as wrong
    assert [p["errors"][0]["code"] for p in wrong] == ["WRONG_PIN", "WRONG_PIN"]
    assert right["token"] is None and right["errors"][0]["code"] == "RATE_LIMITED"
    async with database.tenant_session(tenant.tenant_id) as s:
        key = (await s.scalars(select(ProgrammingKey))).one()
        assert key.failed_pin_attempts == 2


async def test_sign_in_links_and_enrolment_codes_share_a_limit_per_address(
    strict: httpx.AsyncClient, tenant: NewTenant
) -> None:
    # when: codes guessed, alternating between sign-in links and bridge enrolment
    link = "mutation($l: String!) { signInWithLink(input: {link: $l}) { errors { code } } }"
    enrol = """mutation($t: String!) { enrolBridge(input: {tenantId: $t, code: "AAAA-BBBB",
      publicKey: "AAAA", agentVersion: "1.0"}) { errors { code } } }"""
    answers = [
        await _gql(strict, link, l=f"{tenant.tenant_id}.guess"),
        await _gql(strict, enrol, t=tenant.tenant_id),
        await _gql(strict, link, l=f"{tenant.tenant_id}.guess"),
        await _gql(strict, enrol, t=tenant.tenant_id),
    ]

    # then
    codes = [a["errors"][0]["code"] for a in answers]
    assert "RATE_LIMITED" not in codes[:2]
    assert codes[2:] == ["RATE_LIMITED", "RATE_LIMITED"]


async def test_an_address_that_keeps_sending_bad_tokens_is_refused_with_retry_after(
    strict: httpx.AsyncClient, database: Database, tenant: NewTenant
) -> None:
    # given
    good = await superadmin_token(database, tenant)
    query = {"query": "{ myRights }"}

    # when: three guessed tokens, then a fourth and the real one
    guesses = [
        await strict.post("/graphql", json=query, headers={"Authorization": f"Bearer kw_{i}"})
        for i in range(4)
    ]
    after = await strict.post("/graphql", json=query, headers={"Authorization": f"Bearer {good}"})

    # then: the address waits, whatever it sends
    assert [g.status_code for g in guesses] == [401, 401, 401, 429]
    assert int(guesses[3].headers["Retry-After"]) > 0
    extensions = guesses[3].json()["errors"][0]["extensions"]
    assert extensions == {"code": "RATE_LIMITED",
                          "retryAfterSeconds": int(guesses[3].headers["Retry-After"])}
    assert after.status_code == 429


async def test_a_device_is_limited_on_its_own_requests_and_forged_ones_do_not_count(
    strict: httpx.AsyncClient, database: Database, tenant: NewTenant
) -> None:
    # given: a wall device, and an attacker sending in its name with another key
    key, forger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    await add_device(database, tenant, key)
    version = await current_list_version(database, tenant)

    async def heartbeat(signer: Ed25519PrivateKey, serial: str = "WPD-0001") -> httpx.Response:
        path = request_path(tenant.tenant_id, serial, "heartbeat")
        body = json.dumps({"blockingListVersion": version}).encode()
        headers = sign_request(signer, "POST", path, body, now=utcnow())
        return await strict.post(
            path, content=body, headers={**headers, "Content-Type": "application/json"}
        )

    # when
    forged = [await heartbeat(forger) for _ in range(2)]
    own = [await heartbeat(key) for _ in range(3)]

    # then: the forgeries were refused and left the device its two requests a minute
    assert [r.status_code for r in forged] == [401, 401]
    assert [r.status_code for r in own] == [200, 200, 429]
    assert int(own[2].headers["Retry-After"]) > 0
    assert own[2].json()["error"]["code"] == "RATE_LIMITED"
    assert own[2].json()["error"]["retryAfter"] == int(own[2].headers["Retry-After"])
    async with database.tenant_session(tenant.tenant_id) as s:
        used = await s.scalar(select(func.count()).select_from(DeviceNonce))
    assert used == 2  # the refused request claimed no nonce: nothing was written

    # and: an address that keeps failing is refused before its signatures are checked
    more = [await heartbeat(forger, "WPD-0099") for _ in range(3)]
    assert [r.status_code for r in more] == [401, 401, 429]


async def test_with_redis_every_process_shares_one_count(settings: Settings) -> None:
    # given: two servers' limiters on one Redis (two processes of a deployment)
    redis_url = reachable_redis()
    shared = settings.model_copy(
        update={
            "redis_url": SecretStr(redis_url),
            "queue_namespace": f"keywarden-test-{uuid.uuid4().hex[:12]}",
            "rate_login_per_key": "3/minute",
        }
    )
    one, two = RateLimiter(shared), RateLimiter(shared)
    hit = Hit(LOGIN_PER_KEY, "tenant/PR-1")

    # when: the hits alternate between them
    for limiter in (one, two, one):
        await limiter.hit([hit], "127.0.0.1")

    # then: the fourth is over the limit, on either
    with pytest.raises(RateLimited) as refused:
        await two.hit([hit], "127.0.0.1")
    assert refused.value.retry_after > 0


def test_a_limit_that_is_not_a_rate_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(KEYWARDEN_RATE_PIN_PER_ADDRESS="many")
    assert "KEYWARDEN_RATE_PIN_PER_ADDRESS" in str(refused.value)
    assert "10/minute" in str(refused.value)
