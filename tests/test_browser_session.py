"""The web manager's browser session (issue 11, R5): one-time sign-in links, the HttpOnly
session cookie, the CSRF header on cookie-authenticated POSTs, the WebSocket's cookie and
Origin, and sign-out that ends the session on the server."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app.auth.sign_in_links import LINK_TTL, create_sign_in_link
from app.browser_session import CSRF_HEADER, SESSION_COOKIE
from app.db import Database
from app.ids import to_global_id
from app.models import LoginSession, ProgrammingKey, ProgrammingKeyKind, SignInLink, utcnow
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient
from tests.harness import patience
from tests.test_bridges import (
    FINISH_LOGIN,
    START_LOGIN,
    enrolled,
    next_command,
    report,
)
from tests.test_bridges import _programming_key as programming_key_in_desk
from tests.test_subscriptions import PROTOCOL, WAIT, GraphQLSocket, LiveServer, live

__all__ = ["live"]

SIGN_IN = """
mutation($i: SignInWithLinkInput!) { signInWithLink(input: $i) {
  signedIn errors { field code message } } }
"""
VIEWER = "query { tenant { name } me { marking } myRights }"
LOGOUT = "mutation { logout { loggedOut errors { code } } }"
CSRF = {CSRF_HEADER: "1"}


async def _main_key(database: Database, tenant: NewTenant, marking: str = "PR-0001") -> int:
    async with database.tenant_session(tenant.tenant_id) as s:
        key = ProgrammingKey(
            marking=marking, uid=hashlib.sha256(marking.encode()).hexdigest()[:16],
            kind=ProgrammingKeyKind.MAIN, firmware_version="12.3", public_key=b"\0" * 32,
        )
        s.add(key)
        await s.commit()
        return key.id


async def _link(database: Database, tenant: NewTenant, marking: str = "PR-0001", **kw: Any) -> str:
    async with database.tenant_session(tenant.tenant_id) as s:
        code = await create_sign_in_link(s, marking, **kw)
        await s.commit()
        return code


async def _browser(app: Any, base_url: str = "http://test") -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as c:
        yield c


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A browser: no Authorization header, a cookie jar."""
    async for client in _browser(app):
        yield client


async def _post(client: httpx.AsyncClient, query: str, variables: Any = None, **kw: Any) -> Any:
    return await client.post("/graphql", json={"query": query, "variables": variables or {}}, **kw)


async def _signed_in(client: httpx.AsyncClient, code: str) -> httpx.Response:
    response = await _post(client, SIGN_IN, {"i": {"link": code}}, headers=CSRF)
    assert response.status_code == 200, response.text
    return response


def _set_cookie(response: httpx.Response) -> str:
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    assert len(cookies) == 1, cookies
    return cookies[0]


# --- one-time sign-in links -------------------------------------------------------------


async def test_a_sign_in_link_puts_the_session_into_an_httponly_strict_cookie_never_the_body(
    browser: httpx.AsyncClient, database: Database, tenant: NewTenant
) -> None:
    # given: a link for the main key
    await _main_key(database, tenant)
    code = await _link(database, tenant)
    # when: the browser signs in with it
    response = await _signed_in(browser, code)
    # then: the session is in a cookie scripts cannot read and other sites never send
    assert response.json()["data"]["signInWithLink"] == {"signedIn": True, "errors": []}
    cookie = _set_cookie(response)
    assert cookie.startswith(f"{SESSION_COOKIE}=kw_s_")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert "secure" not in attributes  # plain HTTP (development); see the HTTPS test
    assert "kw_s_" not in response.text
    # and: the cookie authenticates the next requests as the key, with its rights (R7)
    viewer = (await _post(browser, VIEWER, headers=CSRF)).json()["data"]
    assert viewer["me"]["marking"] == "PR-0001"
    assert "keys.read" in viewer["myRights"] and "readout.approve" not in viewer["myRights"]


async def test_over_https_the_session_cookie_is_secure(
    app: Any, database: Database, tenant: NewTenant
) -> None:
    await _main_key(database, tenant)
    async for client in _browser(app, "https://keywarden.example"):
        response = await _signed_in(client, await _link(database, tenant))
        assert "secure" in {p.strip().lower() for p in _set_cookie(response).split(";")}


async def test_over_https_every_answer_carries_hsts_and_every_answer_nosniff(app: Any) -> None:
    # when
    async for client in _browser(app, "https://keywarden.example"):
        secure = [await client.get(path) for path in ("/", "/health", "/graphql/x")]
        answered = await _post(client, VIEWER, headers=CSRF)
    async for client in _browser(app):
        plain = await client.get("/health")

    # then: pages, API answers and errors alike (R37)
    hsts = "max-age=31536000; includeSubDomains"
    for response in [*secure, answered]:
        assert response.headers["strict-transport-security"] == hsts
    assert "strict-transport-security" not in plain.headers
    # and: no answer, over either, is ever sniffed into another type
    for response in [*secure, answered, plain]:
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_session_cookie_planted_before_sign_in_is_never_adopted(
    app: Any, browser: httpx.AsyncClient, database: Database, tenant: NewTenant
) -> None:
    # given: an attacker planted a cookie of its choosing in the victim's browser
    await _main_key(database, tenant)
    planted = "kw_s_" + "A" * 43
    browser.cookies.set(SESSION_COOKIE, planted)

    # when: the victim signs in
    response = await _signed_in(browser, await _link(database, tenant))

    # then: the server made a session of its own; the planted value stays worthless
    made = _set_cookie(response).split(";")[0].split("=", 1)[1]
    assert made != planted
    async for attacker in _browser(app):
        attacker.cookies.set(SESSION_COOKIE, planted)
        viewer = (await _post(attacker, VIEWER, headers=CSRF)).json()
        assert viewer["data"] is None or viewer["data"].get("me") is None


async def test_a_sign_in_link_works_once_stored_hashed(
    browser: httpx.AsyncClient, http: httpx.AsyncClient, database: Database, tenant: NewTenant
) -> None:
    # given: a link, signed in with once
    await _main_key(database, tenant)
    code = await _link(database, tenant)
    await _signed_in(browser, code)
    # when: it is used again (another browser)
    again = (await _signed_in(http, code)).json()["data"]["signInWithLink"]
    # then: refused on the field, and no cookie set
    assert again["signedIn"] is False
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("link", "INVALID")]
    # and: the database holds only the secret's hash
    secret = code.split(".", 1)[1]
    async with database.tenant_session(tenant.tenant_id) as s:
        stored = (await s.scalars(select(SignInLink.secret_hash))).all()
    assert stored == [hashlib.sha256(secret.encode()).hexdigest()]


async def test_an_expired_malformed_or_other_tenants_link_signs_nobody_in(
    http: httpx.AsyncClient, database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given: an expired link, and a link whose tenant part names another tenant (R1)
    await _main_key(database, tenant)
    expired = await _link(database, tenant, now=utcnow() - LINK_TTL - timedelta(seconds=1))
    fresh = await _link(database, tenant)
    moved = other_tenant.tenant_id.replace("-", "") + "." + fresh.split(".", 1)[1]
    for code in (expired, moved, "not-a-link", ""):
        # when: each is used
        response = await _signed_in(http, code)
        # then: INVALID on the link field, no session
        answer = response.json()["data"]["signInWithLink"]
        assert answer["signedIn"] is False, code
        assert [(e["field"], e["code"]) for e in answer["errors"]] == [("link", "INVALID")]
        assert "set-cookie" not in response.headers
    async with database.tenant_session(tenant.tenant_id) as s:
        assert (await s.scalars(select(LoginSession))).all() == []


async def test_a_link_for_an_unknown_key_cannot_be_made(
    database: Database, tenant: NewTenant
) -> None:
    from app.errors import DomainError

    async with database.tenant_session(tenant.tenant_id) as s:
        with pytest.raises(DomainError) as refused:
            await create_sign_in_link(s, "PR-9999")
    assert (refused.value.code, refused.value.field) == ("NOT_FOUND", "marking")


# --- through a site bridge's desk (R5) ------------------------------------------------


async def test_a_bridge_login_for_the_browser_sets_the_cookie_and_shows_no_token(
    live: LiveServer, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: an online bridge, and a programming key whose private half is in its desk
    key_id, uid, private = await programming_key_in_desk(database, tenant)
    agent = await enrolled(gql, tenant)
    socket = await agent.listening(live, database)
    async with httpx.AsyncClient(base_url=live.http_url) as browser:
        start = {"tenantId": tenant.tenant_id, "bridgeId": agent.bridge_gid, "pin": "482913"}
        started = (await _post(browser, START_LOGIN, {"i": start}, headers=CSRF)).json()
        started = started["data"]["startBridgeLogin"]
        # when: the key signs, and the web manager polls asking for the cookie
        command = await next_command(socket)
        message = base64.b64decode(command["payload"]["message"])
        signature = base64.b64encode(private.sign(message)).decode()
        await report(socket, "sign", command["id"], result={"uid": uid, "signature": signature})
        finish = {"loginId": started["loginId"], "secret": started["secret"], "useCookie": True}
        response = await _post(browser, FINISH_LOGIN, {"i": finish}, headers=CSRF)
        # then: DONE, the token only in the HttpOnly cookie, which signs the browser in as the key
        answer = response.json()["data"]["finishBridgeLogin"]
        assert (answer["status"], answer["token"]) == ("DONE", None)
        assert "kw_s_" not in response.text
        assert "httponly" in _set_cookie(response).lower()
        viewer = (await _post(browser, "query { me { id } }", headers=CSRF)).json()["data"]
        assert viewer["me"]["id"] == to_global_id("ProgrammingKey", key_id)
    await socket.close()


# --- CSRF: every POST the cookie authenticates carries the header ---------------------


async def test_a_cookie_authenticated_post_without_the_csrf_header_is_refused(
    browser: httpx.AsyncClient, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a signed-in browser
    await _main_key(database, tenant)
    await _signed_in(browser, await _link(database, tenant))
    # when: a POST goes out with the cookie but without the header (what a foreign form sends)
    forged = await _post(browser, LOGOUT)
    # then: 403 CSRF, and the session still holds
    assert forged.status_code == 403
    assert forged.json()["errors"][0]["extensions"]["code"] == "CSRF"
    assert (await _post(browser, VIEWER, headers=CSRF)).json()["data"]["me"] is not None
    # and: bearer tokens (partners, scripts) need no header
    assert (await gql("query { tenant { name } }"))["tenant"]["name"] == "Acme"


async def test_a_stale_cookie_counts_as_no_credential(
    browser: httpx.AsyncClient, database: Database, tenant: NewTenant
) -> None:
    browser.cookies.set(SESSION_COOKIE, "kw_s_" + "0" * 32 + "_" + "A" * 43)
    response = await _post(browser, VIEWER, headers=CSRF)
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- sign-out ------------------------------------------------------------------------


async def test_sign_out_ends_the_session_on_the_server_and_clears_the_cookie(
    browser: httpx.AsyncClient, http: httpx.AsyncClient, database: Database, tenant: NewTenant
) -> None:
    # given: a signed-in browser, and a copy of its cookie
    await _main_key(database, tenant)
    await _signed_in(browser, await _link(database, tenant))
    stolen = browser.cookies[SESSION_COOKIE]
    # when: it signs out
    response = await _post(browser, LOGOUT, headers=CSRF)
    # then: the cookie is cleared and the session revoked, so the copy opens nothing either
    assert response.json()["data"]["logout"] == {"loggedOut": True, "errors": []}
    assert 'max-age=0' in _set_cookie(response).lower()
    assert SESSION_COOKIE not in browser.cookies
    http.cookies.set(SESSION_COOKIE, stolen)
    after = (await _post(http, VIEWER, headers=CSRF)).json()
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    async with database.tenant_session(tenant.tenant_id) as s:
        session = (await s.scalars(select(LoginSession))).one()
    assert session.revoked_at is not None


# --- the WebSocket: the same cookie, and this server's pages only ---------------------


async def _cookie_of_live(live: LiveServer, code: str) -> str:
    async with httpx.AsyncClient(base_url=live.http_url) as client:
        response = await _signed_in(client, code)
        return str(response.cookies[SESSION_COOKIE])


async def test_the_websocket_is_authenticated_by_the_session_cookie(
    live: LiveServer, database: Database, tenant: NewTenant
) -> None:
    # given: a session cookie from a sign-in link
    await _main_key(database, tenant)
    cookie = await _cookie_of_live(live, await _link(database, tenant))
    origin = live.http_url
    # when: the page opens the WebSocket with the cookie and no token
    conn = await connect(
        live.ws_url, subprotocols=[PROTOCOL],  # type: ignore[list-item]
        additional_headers={"Cookie": f"{SESSION_COOKIE}={cookie}", "Origin": origin},
        open_timeout=patience(WAIT),
    )
    socket = GraphQLSocket(conn)
    await conn.send(json.dumps({"type": "connection_init", "payload": {}}))
    # then: acknowledged, as the key (R5)
    await socket.acknowledged()
    await socket.close()


async def test_a_websocket_from_a_foreign_origin_is_refused_before_it_opens(
    live: LiveServer, database: Database, tenant: NewTenant
) -> None:
    # given: the browser's session cookie, riding along with another site's page
    await _main_key(database, tenant)
    cookie = await _cookie_of_live(live, await _link(database, tenant))
    # when: that page opens the WebSocket
    with pytest.raises(InvalidStatus) as refused:
        await connect(
            live.ws_url, subprotocols=[PROTOCOL],  # type: ignore[list-item]
            additional_headers={
                "Cookie": f"{SESSION_COOKIE}={cookie}", "Origin": "https://evil.example",
            },
            open_timeout=patience(WAIT),
        )
    # then: the upgrade is refused with 403
    assert refused.value.response.status_code == 403


async def test_a_websocket_without_cookie_or_token_is_closed(live: LiveServer) -> None:
    socket = await GraphQLSocket.open(live.ws_url, None)
    assert await socket.closed_with() == 4403
