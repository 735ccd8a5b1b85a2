"""Tenant settings (R14, R29) and a sub key's new PIN with the main key's PIN (R5, R6)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.auth.pins import verify_pin
from app.auth.rights import BUILTIN_ROLES
from app.db import Database
from app.models import ProgrammingKey, ProgrammingKeyKind, utcnow
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, make_tenant, superadmin_token
from tests.factories import add_domain
from tests.test_approval import ProgrammingKeyAt, add_programming_key, log_in

SETTINGS = """
mutation($i: UpdateTenantSettingsInput!) {
  updateTenantSettings(input: $i) {
    tenant { approverFunction flexibleExtensions }
    errors { code field message }
  }
}
"""

CHANGE_PIN = """
mutation($i: ChangeSubKeyPinInput!) {
  changeSubKeyPin(input: $i) {
    programmingKey { marking kind }
    errors { code field message }
  }
}
"""

MAIN_PIN = "583920"
MAIN_PUK = "90817263"
OLD_PIN = "246813"
NEW_PIN = "731952"


async def tenant_settings(gql: GraphQLClient) -> dict[str, Any]:
    return (await gql("{ tenant { approverFunction flexibleExtensions } }"))["tenant"]  # type: ignore[no-any-return]


# --- tenant settings ---------------------------------------------------------------------


async def test_flexible_extensions_can_be_switched_on_and_off(gql: GraphQLClient) -> None:
    # when
    on = await gql(SETTINGS, {"i": {"flexibleExtensions": True}})
    # then (R14)
    assert on["updateTenantSettings"] == {
        "tenant": {"approverFunction": False, "flexibleExtensions": True},
        "errors": [],
    }
    off = await gql(SETTINGS, {"i": {"flexibleExtensions": False}})
    assert off["updateTenantSettings"]["tenant"]["flexibleExtensions"] is False
    assert (await tenant_settings(gql))["flexibleExtensions"] is False


async def test_the_approver_function_can_never_be_changed_and_nothing_is_half_written(
    gql: GraphQLClient,
) -> None:
    # when: switching the approver function on, together with flexible extensions
    changed = await gql(SETTINGS, {"i": {"approverFunction": True, "flexibleExtensions": True}})
    # then: IMMUTABLE on that field (R29), and flexible extensions untouched
    payload = changed["updateTenantSettings"]
    assert payload["tenant"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("IMMUTABLE", "approverFunction")
    ]
    assert await tenant_settings(gql) == {"approverFunction": False, "flexibleExtensions": False}


async def test_the_approver_functions_current_value_is_accepted(
    database: Database, http: Any
) -> None:
    # given: a tenant created with the approver function
    tenant = await make_tenant(database, "Council Corp", approver_function=True)
    client = GraphQLClient(http, await superadmin_token(database, tenant))
    # when: the same value is sent (as a settings form would), and switching it off
    same = await client(SETTINGS, {"i": {"approverFunction": True, "flexibleExtensions": True}})
    off = await client(SETTINGS, {"i": {"approverFunction": False}})
    # then
    assert same["updateTenantSettings"] == {
        "tenant": {"approverFunction": True, "flexibleExtensions": True},
        "errors": [],
    }
    assert [e["code"] for e in off["updateTenantSettings"]["errors"]] == ["IMMUTABLE"]
    assert (await tenant_settings(client))["approverFunction"] is True


async def test_tenant_settings_need_the_right(
    http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: an Admin's rights, which exclude tenant.settings (R7)
    admin = GraphQLClient(
        http, await superadmin_token(database, tenant, rights=BUILTIN_ROLES["Admin"])
    )
    # when
    body = (await admin.raw(SETTINGS, {"i": {"flexibleExtensions": True}})).json()
    # then
    assert body["data"]["updateTenantSettings"] == {
        "tenant": None,
        "errors": [
            {"code": "FORBIDDEN", "field": None, "message": "missing right: tenant.settings"}
        ],
    }


async def test_another_tenants_settings_are_untouched(
    gql: GraphQLClient, database: Database, other_tenant: NewTenant, http: Any
) -> None:
    # when: this tenant switches flexible extensions on
    await gql(SETTINGS, {"i": {"flexibleExtensions": True}})
    # then: the other tenant still has them off (R1)
    other = GraphQLClient(http, await superadmin_token(database, other_tenant))
    assert (await tenant_settings(other))["flexibleExtensions"] is False


# --- the sub key's PIN (R6) -------------------------------------------------------------


async def main_and_sub(
    database: Database, tenant: NewTenant
) -> tuple[ProgrammingKeyAt, ProgrammingKeyAt]:
    """The tenant's main key (PR, with a PUK) and a sub key (PN) with the old PIN."""
    main = await add_programming_key(
        database, tenant, "PR-1", kind=ProgrammingKeyKind.MAIN, pin=MAIN_PIN, puk=MAIN_PUK
    )
    sub = await add_programming_key(database, tenant, "PN-1", roles=("Operator",), pin=OLD_PIN)
    return main, sub


async def change_pin(
    gql: GraphQLClient, sub: ProgrammingKeyAt, main_pin: str, new_pin: str = NEW_PIN
) -> dict[str, Any]:
    data = await gql(
        CHANGE_PIN, {"i": {"subKeyId": sub.gid, "mainKeyPin": main_pin, "newPin": new_pin}}
    )
    return data["changeSubKeyPin"]  # type: ignore[no-any-return]


async def stored_key(database: Database, tenant: NewTenant, key_id: int) -> ProgrammingKey:
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await s.scalar(select(ProgrammingKey).where(ProgrammingKey.id == key_id))
        assert row is not None
        return row


async def test_a_sub_keys_pin_changes_with_the_main_keys_pin(
    gql: GraphQLClient, database: Database, tenant: NewTenant, http: Any
) -> None:
    # given
    _, sub = await main_and_sub(database, tenant)
    # when
    changed = await change_pin(gql, sub, MAIN_PIN)
    # then: the new PIN logs in, the old one no longer does (R6)
    assert changed == {"programmingKey": {"marking": "PN-1", "kind": "SUB"}, "errors": []}
    assert (await log_in(http, tenant, sub, NEW_PIN))["errors"] == []
    old = await log_in(http, tenant, sub, OLD_PIN)
    assert [e["code"] for e in old["errors"]] == ["WRONG_PIN"]


async def test_a_new_pin_clears_the_sub_keys_lock(
    gql: GraphQLClient, database: Database, tenant: NewTenant, http: Any
) -> None:
    # given: a sub key locked after wrong PINs
    _, sub = await main_and_sub(database, tenant)
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await s.scalar(select(ProgrammingKey).where(ProgrammingKey.id == sub.id))
        assert row is not None
        row.failed_pin_attempts = 3
        row.locked_until = utcnow() + timedelta(minutes=15)
        await s.commit()
    # when
    assert (await change_pin(gql, sub, MAIN_PIN))["errors"] == []
    # then
    stored = await stored_key(database, tenant, sub.id)
    assert (stored.failed_pin_attempts, stored.locked_until) == (0, None)
    assert (await log_in(http, tenant, sub, NEW_PIN))["errors"] == []


async def test_a_wrong_main_key_pin_counts_and_three_lock_the_main_key(
    gql: GraphQLClient, database: Database, tenant: NewTenant, http: Any
) -> None:
    # given
    main, sub = await main_and_sub(database, tenant)
    # when: three wrong main-key PINs
    wrong = [await change_pin(gql, sub, "111222") for _ in range(3)]
    # then: each refused on mainKeyPin, counted although the change failed (R5)
    for payload in wrong:
        assert payload["programmingKey"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("WRONG_PIN", "mainKeyPin")]
    assert "locked until" in wrong[2]["errors"][0]["message"]
    stored = await stored_key(database, tenant, main.id)
    assert stored.failed_pin_attempts == 3 and stored.locked_until is not None
    # when: the right PIN now
    locked = await change_pin(gql, sub, MAIN_PIN)
    # then: refused while locked; the sub key keeps its old PIN; the main key cannot log in
    assert [e["code"] for e in locked["errors"]] == ["WRONG_PIN"]
    assert (await log_in(http, tenant, sub, OLD_PIN))["errors"] == []
    assert [e["code"] for e in (await log_in(http, tenant, main))["errors"]] == ["WRONG_PIN"]


async def test_the_main_keys_puk_is_not_accepted_in_place_of_its_pin(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given
    _, sub = await main_and_sub(database, tenant)
    # when
    with_puk = await change_pin(gql, sub, MAIN_PUK)
    # then (R6: the main key's PIN, not a PUK)
    assert [(e["code"], e["field"]) for e in with_puk["errors"]] == [("WRONG_PIN", "mainKeyPin")]


async def test_a_trivial_new_pin_is_refused_without_spending_an_attempt(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given
    main, sub = await main_and_sub(database, tenant)
    # when: a run, a repeated digit, too short (R37: no guessable PINs)
    refused = [await change_pin(gql, sub, "000000", new) for new in ("123456", "7777", "12")]
    # then: refused on newPin, the main key's PIN not even checked
    for payload in refused:
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID", "newPin")]
    assert (await stored_key(database, tenant, main.id)).failed_pin_attempts == 0


async def test_only_sub_and_submaster_keys_get_a_pin_this_way(
    gql: GraphQLClient, database: Database, tenant: NewTenant, http: Any
) -> None:
    # given
    main, _ = await main_and_sub(database, tenant)
    submaster = await add_programming_key(
        database, tenant, "PSM-1", kind=ProgrammingKeyKind.SUBMASTER, pin=OLD_PIN
    )
    # when
    on_main = await change_pin(gql, main, MAIN_PIN)
    on_submaster = await change_pin(gql, submaster, MAIN_PIN)
    # then
    assert [(e["code"], e["field"]) for e in on_main["errors"]] == [("INVALID", "subKeyId")]
    assert on_submaster["errors"] == []
    assert (await log_in(http, tenant, submaster, NEW_PIN))["errors"] == []


async def test_another_tenants_sub_key_is_not_found(
    gql: GraphQLClient, database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given: this tenant's main key, and a sub key of another tenant
    await main_and_sub(database, tenant)
    foreign = await add_programming_key(database, other_tenant, "PN-X", pin=OLD_PIN)
    # when
    changed = await change_pin(gql, foreign, MAIN_PIN)
    # then (R1)
    assert [(e["code"], e["field"]) for e in changed["errors"]] == [("NOT_FOUND", "subKeyId")]
    stored = await stored_key(database, other_tenant, foreign.id)
    assert stored.pin_hash is not None and verify_pin(stored.pin_hash, OLD_PIN)


async def test_changing_a_pin_needs_the_right(
    http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: an Operator's rights (R7)
    _, sub = await main_and_sub(database, tenant)
    operator = GraphQLClient(
        http, await superadmin_token(database, tenant, rights=BUILTIN_ROLES["Operator"])
    )
    # when
    body = (
        await operator.raw(
            CHANGE_PIN, {"i": {"subKeyId": sub.gid, "mainKeyPin": MAIN_PIN, "newPin": NEW_PIN}}
        )
    ).json()
    # then
    assert body["data"]["changeSubKeyPin"]["errors"] == [
        {"code": "FORBIDDEN", "field": None, "message": "missing right: programming_keys.write"}
    ]


async def test_an_administrator_of_one_domain_changes_only_pins_of_that_domains_sub_keys(
    http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: domains A (default) and B; a Superadmin token limited to A (R8); the main key,
    # a sub key of A, a sub key of B only, and a submaster key (every domain, R5)
    main, in_a = await main_and_sub(database, tenant)
    b = await add_domain(database, tenant, "B")
    in_b = await add_programming_key(
        database, tenant, "PN-B", roles=("Operator",), pin=OLD_PIN, domain_ids=[b]
    )
    submaster = await add_programming_key(
        database, tenant, "PSM-1", kind=ProgrammingKeyKind.SUBMASTER, pin=OLD_PIN
    )
    limited = GraphQLClient(
        http, await superadmin_token(database, tenant, domain_ids=[tenant.default_domain_id])
    )
    # when: it changes the PINs of B's sub key and of the submaster key, with the right PIN
    foreign = await change_pin(limited, in_b, MAIN_PIN)
    every_domain = await change_pin(limited, submaster, MAIN_PIN)
    # then: refused on subKeyId as updateProgrammingKey refuses them (R8); no PIN changes,
    # and the main key's PIN is not even checked, so no try is spent (R6)
    for refused in (foreign, every_domain):
        assert refused["programmingKey"] is None
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [("FORBIDDEN", "subKeyId")]
    for key in (in_b, submaster):
        stored = await stored_key(database, tenant, key.id)
        assert stored.pin_hash is not None and verify_pin(stored.pin_hash, OLD_PIN)
    assert (await stored_key(database, tenant, main.id)).failed_pin_attempts == 0
    # and: a wrong main-key PIN for B's key is refused the same way, uncounted
    assert [e["code"] for e in (await change_pin(limited, in_b, "111222"))["errors"]] == [
        "FORBIDDEN"
    ]
    assert (await stored_key(database, tenant, main.id)).failed_pin_attempts == 0
    # when / then: its own domain's sub key gets the new PIN
    assert (await change_pin(limited, in_a, MAIN_PIN))["errors"] == []
    assert (await log_in(http, tenant, in_a, NEW_PIN))["errors"] == []
