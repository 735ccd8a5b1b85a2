"""Secrets never leak (issue 14 item 6; R37): every flow that handles a PIN, PUK, API token,
session token, enrolment code or sign-in link runs with logging at DEBUG in both the text and
the JSON format; then the captured log, the error answers and every text and binary column
of the database are searched for each secret's value."""

from __future__ import annotations

import base64
import io
import logging
import logging.config
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import LargeBinary, String, Text, select

from app.auth.login import login_message
from app.auth.pins import hash_pin
from app.auth.sign_in_links import create_sign_in_link
from app.config import Settings
from app.db import Database
from app.logs import server_logging_config
from app.models import ProgrammingKey, ProgrammingKeyKind
from app.models.base import Base
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from hardware.logconfig import JsonFormatter
from tests.conftest import GraphQLClient

# Eight digits each: no chance to turn up by coincidence among the stored values.
PIN, WRONG_PIN, NEW_PIN, PUK = "48291375", "73519462", "61938427", "90817263"


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Everything logged meanwhile through the server's own logging set-up at DEBUG
    (``KEYWARDEN_LOG_LEVEL=DEBUG``), as text lines and as JSON lines."""
    captured = io.StringIO()
    config = server_logging_config(Settings(KEYWARDEN_LOG_LEVEL="DEBUG"))
    config["handlers"]["stderr"]["stream"] = captured
    config["formatters"]["json"] = {"()": JsonFormatter}
    config["handlers"]["json"] = {**config["handlers"]["stderr"], "formatter": "json"}
    config["root"]["handlers"] = ["stderr", "json"]
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    levels = {name: logging.getLogger(name).level for name in config["loggers"]}
    logging.config.dictConfig(config)
    try:
        yield captured
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.setLevel(before[0])
        for handler in before[1]:
            root.addHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def _main_key(database: Database, tenant: NewTenant) -> tuple[int, Ed25519PrivateKey]:
    private = Ed25519PrivateKey.generate()
    async with database.tenant_session(tenant.tenant_id) as s:
        key = ProgrammingKey(
            marking="PR-9001",
            uid="UID-PR-9001",
            kind=ProgrammingKeyKind.MAIN,
            firmware_version="10.2",
            public_key=private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
            pin_hash=hash_pin(PIN),
            puk_hash=hash_pin(PUK),
        )
        s.add(key)
        await s.flush()
        await s.commit()
        return key.id, private


async def _stored_values(database: Database, tenant: NewTenant) -> str:
    """Every text and binary value of the tenant's rows and of every table without a tenant,
    as the owner sees them (RLS aside); bytes as they are (latin-1), so that a secret stored
    as bytes is found too. Other tenants' rows are left out: the suite shares one database,
    and among the digits other tests store an eight-digit PIN turns up by chance."""
    found: list[str] = []
    async with database.owner_engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [
                c for c in table.columns if isinstance(c.type, String | Text | LargeBinary)
            ]
            if not columns:
                continue
            stmt = select(*columns)
            if "tenant_id" in table.c:
                stmt = stmt.where(table.c.tenant_id == tenant.tenant_id)
            for row in await connection.execute(stmt):
                for value in row:
                    if isinstance(value, bytes):
                        found.append(value.decode("latin-1"))
                    elif value is not None:
                        found.append(str(value))
    return "\n".join(found)


async def test_no_secret_reaches_a_log_an_error_answer_or_a_plain_column(
    gql: GraphQLClient, database: Database, tenant: NewTenant, debug_log: io.StringIO
) -> None:
    key_id, private = await _main_key(database, tenant)
    errors: list[str] = []
    secrets: dict[str, str] = {"PIN": PIN, "wrong PIN": WRONG_PIN, "new PIN": NEW_PIN, "PUK": PUK}

    async def call(query: str, **variables: Any) -> dict[str, Any]:
        response = await gql.raw(query, variables)
        body: dict[str, Any] = response.json()
        if response.status_code != 200 or body.get("errors"):
            errors.append(response.text)
        payload: dict[str, Any] = next(iter(body["data"].values()))
        if payload.get("errors"):
            errors.append(str(payload["errors"]))
        return payload

    # an API token: made, used, and a guessed one refused
    made = await call(
        "mutation($n: String!) { createApiToken(input: {name: $n, rights: [\"keys.read\"]}) "
        "{ token errors { code message } } }",
        n="partner",
    )
    secrets["API token"] = made["token"]
    assert (await gql.raw("{ myRights }", token=made["token"])).status_code == 200
    guessed = await gql.raw("{ myRights }", token=made["token"][:-4] + "AAAA")
    errors.append(guessed.text)

    # a login: a wrong PIN, then the right one, which hands out a session token
    login = """mutation($t: ID!, $c: String!, $s: String!, $p: String!) {
      completeLogin(input: {tenantId: $t, challenge: $c, signature: $s, pin: $p})
      { token errors { code message field } } }"""
    for pin in (WRONG_PIN, PIN):
        challenge = (
            await call(
                "mutation($t: ID!) { requestLoginChallenge(input: {tenantId: $t, "
                'marking: "PR-9001"}) { challenge errors { code message } } }',
                t=tenant.tenant_id,
            )
        )["challenge"]
        signature = base64.b64encode(private.sign(login_message(tenant.tenant_id, challenge)))
        done = await call(login, t=tenant.tenant_id, c=challenge, s=signature.decode(), p=pin)
    secrets["session token"] = done["token"]

    # the PUK: a wrong one, then the right one with a new PIN
    reset = """mutation($k: ID!, $u: String!, $p: String!) {
      resetMainKeyPin(input: {programmingKeyId: $k, puk: $u, newPin: $p})
      { errors { code message field } } }"""
    key_gid = to_global_id("ProgrammingKey", key_id)
    await call(reset, k=key_gid, u="11112222", p=NEW_PIN)
    await call(reset, k=key_gid, u=PUK, p=NEW_PIN)

    # a bridge enrolment code: a wrong one, then the right one
    enrolment = await call(
        'mutation { createBridgeEnrolment(input: {name: "Front desk"}) '
        "{ code errors { code message } } }"
    )
    secrets["enrolment code"] = enrolment["code"]
    public = base64.b64encode(
        Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    ).decode()
    enrol = """mutation($t: String!, $c: String!, $k: String!) {
      enrolBridge(input: {tenantId: $t, code: $c, publicKey: $k}) { errors { code message } } }"""
    await call(enrol, t=tenant.tenant_id, c=enrolment["code"][::-1], k=public)
    await call(enrol, t=tenant.tenant_id, c=enrolment["code"], k=public)

    # a one-time sign-in link: used once, then again
    async with database.tenant_session(tenant.tenant_id) as s:
        link = await create_sign_in_link(s, "PR-9001")
        await s.commit()
    secrets["sign-in link"] = link.split(".", 1)[1]
    sign_in = (
        "mutation($l: String!) { signInWithLink(input: {link: $l}) { errors { code message } } }"
    )
    for _ in range(2):
        await call(sign_in, l=link)

    # then: every flow left its mark in the log, and no secret is anywhere
    logged, stored = debug_log.getvalue(), await _stored_values(database, tenant)
    answered = "\n".join(errors)
    assert "WRONG_PIN" in answered and "PUK" in answered, answered
    assert logging.getLogger().level == logging.DEBUG
    assert " INFO keywarden.request: " in logged and '"logger": "keywarden.request"' in logged
    # nor the values a statement carries (personal data among them)
    assert "UID-PR-9001" not in logged
    leaks = [
        f"{name} in {where}"
        for name, value in secrets.items()
        for where, text in (("the log", logged), ("an error", answered), ("the database", stored))
        if value in text
    ]
    assert leaks == []
