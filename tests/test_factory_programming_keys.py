"""Factory-delivered programming keys log in (issue 10 item 3) and the PR owner hears of a new
extension (issue 10 item 12): the PIN from the factory's letter or a first PIN set by the key's
holder (R5, R31); the extension e-mail to the main key's holder (R31, FAQ)."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from app.auth.pins import hash_pin
from app.db import Database
from app.errors import DomainError
from app.factory.extension_file import make_extension_file
from app.models import Extension, OutboxMessage, ProgrammingKey, ProgrammingKeyKind
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from hardware.sim.programming_key import SimulatedProgrammingKey, SimulatorState
from tests.conftest import GraphQLClient
from tests.test_approval import ProgrammingKeyAt, add_programming_key, log_in

PIN = "583920"
PUK = "90817263"
NEW_PIN = "731952"

IMPORT = """
mutation($input: ImportFileInput!) {
  importExtension(input: $input) { extension { id } errors { field code message } }
}
"""

ACTIVATE = "mutation($id: ID!) { activateExtension(id: $id) { errors { code } } }"

FIRST_PIN = """
mutation($i: SetFirstPinInput!) {
  setFirstPin(input: $i) { marking puk errors { code field message } }
}
"""

RESET = """
mutation($i: ResetMainKeyPinInput!) {
  resetMainKeyPin(input: $i) { programmingKey { marking } errors { code field message } }
}
"""


def chip(marking: str) -> SimulatedProgrammingKey:
    return SimulatorState.new_key(marking, secrets.token_hex(8).upper())


def entry(key: SimulatedProgrammingKey, kind: str = "SUB", **secrets_: str) -> dict[str, Any]:
    """The factory's record of a programming key, with its chip's public key."""
    return {
        "marking": key.marking,
        "uid": key.uid,
        "kind": kind,
        "firmwareVersion": "12.3.0",
        "publicKey": key.public_key.hex(),
        **secrets_,
    }


async def deliver(
    client: GraphQLClient,
    vendor: Ed25519PrivateKey,
    *entries: dict[str, Any],
    activate: bool = True,
) -> dict[str, Any]:
    """Import (and activate) the factory's extension with these programming keys (R31)."""
    data = make_extension_file(
        programming_keys=list(entries), signing_key=vendor, order_number="ORD-PK"
    )
    response = await client.upload(IMPORT, {"input": {"file": None}}, "variables.input.file", data)
    imported = response.json()["data"]["importExtension"]
    if activate and imported["extension"]:
        activated = await client(ACTIVATE, {"id": imported["extension"]["id"]})
        assert activated["activateExtension"]["errors"] == []
    return imported  # type: ignore[no-any-return]


async def key_at(
    database: Database, tenant: NewTenant, key: SimulatedProgrammingKey, pin: str
) -> ProgrammingKeyAt:
    async with database.tenant_session(tenant.tenant_id) as s:
        row_id = await s.scalar(select(ProgrammingKey.id).where(ProgrammingKey.uid == key.uid))
    assert row_id is not None
    return ProgrammingKeyAt(row_id, to_global_id("ProgrammingKey", row_id), key, pin)


async def first_pin(
    http: Any, tenant: NewTenant, key: SimulatedProgrammingKey, new_pin: str = NEW_PIN,
    signer: SimulatedProgrammingKey | None = None,
) -> dict[str, Any]:
    """The holder's first PIN: the key signs a login challenge, the new PIN goes with it."""
    anonymous = GraphQLClient(http, None)
    challenge = (await anonymous(
        "mutation($i: RequestLoginChallengeInput!) { requestLoginChallenge(input: $i) "
        "{ challenge errors { code field message } } }",
        {"i": {"tenantId": tenant.tenant_id, "marking": key.marking}},
    ))["requestLoginChallenge"]
    if challenge["challenge"] is None:
        return challenge  # type: ignore[no-any-return]
    signature = (signer or key).sign_login(tenant.tenant_id, challenge["challenge"])
    data = await anonymous(FIRST_PIN, {"i": {
        "tenantId": tenant.tenant_id,
        "challenge": challenge["challenge"],
        "signature": base64.b64encode(signature).decode(),
        "newPin": new_pin,
    }})
    return data["setFirstPin"]  # type: ignore[no-any-return]


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e.get("field")) for e in payload["errors"]]


# --- the PIN from the factory's letter ------------------------------------------------------


async def test_a_factory_key_with_the_letters_pin_and_puk_logs_in_and_resets_with_the_puk(
    client: GraphQLClient, http: Any, database: Database, trusting: NewTenant,
    vendor: Ed25519PrivateKey,
) -> None:
    # given: the factory's main key, its PIN and PUK on the letter, their hashes in the file
    pr = chip("PR-F1")
    await deliver(client, vendor, entry(
        pr, "MAIN", pinHash=hash_pin(PIN), pukHash=hash_pin(PUK)
    ))
    main = await key_at(database, trusting, pr, PIN)
    # when / then: it logs in with the letter's PIN (R5)
    assert (await log_in(http, trusting, main))["errors"] == []
    # and the letter's PUK gives it a new PIN (R5, R6)
    reset = await client(
        RESET, {"i": {"programmingKeyId": main.gid, "puk": PUK, "newPin": NEW_PIN}}
    )
    assert reset["resetMainKeyPin"]["errors"] == []
    assert (await log_in(http, trusting, main, NEW_PIN))["errors"] == []
    # and no PIN hash is kept with the stored file (R37)
    async with database.tenant_session(trusting.tenant_id) as s:
        content = await s.scalar(select(Extension.content))
    assert content is not None
    assert set(content["programmingKeys"][0]) == {
        "marking", "uid", "kind", "firmwareVersion", "publicKey"
    }


async def test_a_file_with_a_pin_that_is_not_a_slow_hash_is_invalid(
    vendor: Ed25519PrivateKey,
) -> None:
    for secrets_, path in (
        ({"pinHash": "583920"}, "payload.programmingKeys[0].pinHash"),
        ({"pukHash": hash_pin(PUK)}, "payload.programmingKeys[0].pukHash"),  # a SUB key
    ):
        try:
            make_extension_file(
                programming_keys=[entry(chip("PN-F"), **secrets_)],
                signing_key=vendor, order_number="ORD-X",
            )
        except DomainError as exc:
            assert (exc.code, exc.field) == ("INVALID", "file")
            assert exc.message.startswith(path)
        else:
            raise AssertionError(f"{secrets_} was accepted")


# --- the first PIN, set by the key's holder -------------------------------------------------


async def test_a_factory_key_without_a_pin_gets_its_first_pin_from_its_holder(
    client: GraphQLClient, http: Any, database: Database, trusting: NewTenant,
    vendor: Ed25519PrivateKey,
) -> None:
    # given: a sub key delivered without a PIN, activated
    pn = chip("PN-F1")
    await deliver(client, vendor, entry(pn))
    key = await key_at(database, trusting, pn, NEW_PIN)
    # then: it cannot log in yet
    refused = await log_in(http, trusting, key, "583920")
    assert refused["errors"][0]["message"] == "this programming key has no PIN yet"
    # when: its holder sets the first PIN, the key signing a challenge (R5)
    made = await first_pin(http, trusting, pn)
    # then: completeLogin works with it; a sub key gets no PUK
    assert made == {"marking": "PN-F1", "puk": None, "errors": []}
    assert (await log_in(http, trusting, key))["errors"] == []
    # and a second "first" PIN is refused: a PIN is changed with the main key's PIN (R6)
    again = await first_pin(http, trusting, pn, "975318")
    assert codes(again) == [("CONFLICT", "challenge")]
    assert (await log_in(http, trusting, key))["errors"] == []


async def test_a_main_key_without_a_puk_gets_one_with_its_first_pin_shown_once(
    client: GraphQLClient, http: Any, database: Database, trusting: NewTenant,
    vendor: Ed25519PrivateKey,
) -> None:
    pr = chip("PR-F2")
    await deliver(client, vendor, entry(pr, "MAIN"))
    # when
    made = await first_pin(http, trusting, pr)
    # then: a PUK, eight digits, shown this once (R5)
    assert made["errors"] == [] and made["marking"] == "PR-F2"
    puk = made["puk"]
    assert puk is not None and len(puk) == 8 and puk.isdigit()
    # and it works: the main key's PIN reset by it
    main = await key_at(database, trusting, pr, NEW_PIN)
    reset = await client(
        RESET, {"i": {"programmingKeyId": main.gid, "puk": puk, "newPin": "246813"}}
    )
    assert reset["resetMainKeyPin"]["errors"] == []
    assert (await log_in(http, trusting, main, "246813"))["errors"] == []


async def test_the_first_pin_needs_the_keys_own_signature_and_an_active_key(
    client: GraphQLClient, http: Any, database: Database, trusting: NewTenant,
    vendor: Ed25519PrivateKey,
) -> None:
    # given: a key not yet activated, and an activated one
    waiting, active = chip("PN-W"), chip("PN-A")
    await deliver(client, vendor, entry(waiting), activate=False)
    await deliver(client, vendor, entry(active))
    # when: the waiting key tries, and another chip signs for the active one
    not_active = await first_pin(http, trusting, waiting)
    forged = await first_pin(http, trusting, active, signer=chip("PN-EVIL"))
    trivial = await first_pin(http, trusting, active, "1111")
    # then: nothing set
    assert codes(not_active) == [("INVALID", "marking")]
    assert codes(forged) == [("BAD_SIGNATURE", "signature")]
    assert codes(trivial) == [("INVALID", "newPin")]
    async with database.tenant_session(trusting.tenant_id) as s:
        hashes = list(await s.scalars(select(ProgrammingKey.pin_hash)))
    assert hashes == [None, None]


async def test_a_key_with_a_pin_cannot_take_a_first_pin(
    http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: a key issued with a PIN
    key = await add_programming_key(database, tenant, "PN-1", pin=PIN)
    # when: its chip signs a "first" PIN
    again = await first_pin(http, tenant, key.chip)
    # then: CONFLICT; the PIN is unchanged (R6)
    assert codes(again) == [("CONFLICT", "challenge")]
    assert (await log_in(http, tenant, key))["errors"] == []


async def test_the_first_pin_of_another_tenants_key_is_not_found(
    http: Any, database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given: a key of the other tenant without a PIN
    key = await add_programming_key(database, other_tenant, "PN-O", pin=PIN)
    async with database.tenant_session(other_tenant.tenant_id) as s:
        row = await s.get(ProgrammingKey, key.id)
        assert row is not None
        row.pin_hash = None
        await s.commit()
    anonymous = GraphQLClient(http, None)
    # when: its marking is named in this tenant
    made = await first_pin(http, tenant, key.chip)
    # and its own tenant's challenge, signed, is sent naming this tenant
    challenge = (await anonymous(
        "mutation($i: RequestLoginChallengeInput!) { requestLoginChallenge(input: $i) "
        "{ challenge } }",
        {"i": {"tenantId": other_tenant.tenant_id, "marking": "PN-O"}},
    ))["requestLoginChallenge"]["challenge"]
    signature = key.chip.sign_login(other_tenant.tenant_id, challenge)
    crossed = (await anonymous(FIRST_PIN, {"i": {
        "tenantId": tenant.tenant_id,
        "challenge": challenge,
        "signature": base64.b64encode(signature).decode(),
        "newPin": NEW_PIN,
    }}))["setFirstPin"]
    # then: neither finds it (R1), and it still has no PIN
    assert codes(made) == [("NOT_FOUND", "marking")]
    assert codes(crossed) == [("INVALID", "challenge")]
    async with database.tenant_session(other_tenant.tenant_id) as s:
        assert await s.scalar(select(ProgrammingKey.pin_hash)) is None


# --- the PR owner hears of a new extension (item 12) ------------------------------------------


async def test_the_main_keys_holder_is_told_of_a_new_extension_as_well_as_admins(
    client: GraphQLClient, database: Database, trusting: NewTenant, vendor: Ed25519PrivateKey,
) -> None:
    # given: the main key's holder (no role), an Admin, an Operator, and a Superadmin whose
    # holder has the PR owner's address (one e-mail per address)
    await add_programming_key(
        database, trusting, "PR-1", kind=ProgrammingKeyKind.MAIN, email="owner@example.com"
    )
    await add_programming_key(
        database, trusting, "PN-A", roles=("Admin",), email="admin@example.com"
    )
    await add_programming_key(
        database, trusting, "PN-S", roles=("Superadmin",), email=" owner@example.com"
    )
    await add_programming_key(
        database, trusting, "PN-O", roles=("Operator",), email="op@example.com"
    )
    # when
    await deliver(client, vendor, entry(chip("PN-NEW")), activate=False)
    # then (R31, FAQ: "You as the PR owner ... will receive an e-mail")
    async with database.tenant_session(trusting.tenant_id) as s:
        recipients = list(await s.scalars(
            select(OutboxMessage.recipient)
            .where(OutboxMessage.kind == "extension_imported")
            .order_by(OutboxMessage.recipient)
        ))
    assert recipients == ["admin@example.com", "owner@example.com"]
