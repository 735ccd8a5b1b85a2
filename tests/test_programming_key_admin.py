"""Programming keys administered by the tenant (issue 10 item 3): holder, roles and domains
(R5, R7, R8), the main key's PIN reset with its PUK (R5, R6), the e-mails that follow the
holder (R17, R29)."""

from __future__ import annotations

from typing import Any

import graphql
from sqlalchemy import select

from app.auth.rights import BUILTIN_ROLES
from app.config import Settings
from app.db import Database
from app.models import (
    Employee,
    KeyType,
    OutboxMessage,
    ProgrammingKey,
    ProgrammingKeyKind,
    Role,
)
from app.schema import build_schema
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, superadmin_token
from tests.factories import add_domain
from tests.test_approval import ProgrammingKeyAt, add_programming_key, log_in, session_of
from tests.test_programming_keys_jobs import assign, build_site, open_jobs, outbox

UPDATE = """
mutation($i: UpdateProgrammingKeyInput!) {
  updateProgrammingKey(input: $i) {
    programmingKey { marking holder { lastName email } roles { name } domains { name } }
    errors { code field message }
  }
}
"""

RESET = """
mutation($i: ResetMainKeyPinInput!) {
  resetMainKeyPin(input: $i) {
    programmingKey { marking kind }
    errors { code field message }
  }
}
"""

PIN = "583920"
PUK = "90817263"
NEW_PIN = "731952"


async def add_employee(
    database: Database, tenant: NewTenant, last_name: str, email: str | None,
    domain_id: int | None = None,
) -> str:
    async with database.tenant_session(tenant.tenant_id) as s:
        employee = Employee(
            domain_id=domain_id or tenant.default_domain_id,
            first_name="Erika",
            last_name=last_name,
            email=email,
        )
        s.add(employee)
        await s.commit()
        return to_global_id("Employee", employee.id)


async def role(database: Database, tenant: NewTenant, name: str) -> str:
    async with database.tenant_session(tenant.tenant_id) as s:
        role_id = await s.scalar(select(Role.id).where(Role.name == name))
    return to_global_id("Role", role_id)


async def update(gql: GraphQLClient, key: ProgrammingKeyAt | str, **fields: Any) -> dict[str, Any]:
    gid = key if isinstance(key, str) else key.gid
    data = await gql(UPDATE, {"i": {"programmingKeyId": gid, **fields}})
    return data["updateProgrammingKey"]  # type: ignore[no-any-return]


async def reset(gql: GraphQLClient, key: ProgrammingKeyAt, puk: str, new_pin: str = NEW_PIN) -> Any:
    data = await gql(RESET, {"i": {"programmingKeyId": key.gid, "puk": puk, "newPin": new_pin}})
    return data["resetMainKeyPin"]


def errors(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def stored(database: Database, tenant: NewTenant, key: ProgrammingKeyAt) -> ProgrammingKey:
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await s.get(ProgrammingKey, key.id)
    assert row is not None
    return row


async def holder_name(database: Database, tenant: NewTenant, key: ProgrammingKeyAt) -> str:
    row = await stored(database, tenant, key)
    async with database.tenant_session(tenant.tenant_id) as s:
        holder = await s.get(Employee, row.holder_id)
    assert holder is not None
    return holder.last_name


def client(http: Any, token: str) -> GraphQLClient:
    return GraphQLClient(http, token)


# --- holder, roles and domains ---------------------------------------------------------------


async def test_the_new_holder_of_a_programming_key_gets_its_job_mail(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: PN-A with open jobs to carry, held by Petra; and Erika, with an e-mail
    site = await build_site(database, tenant, cylinders=2)
    erika = await add_employee(database, tenant, "Locksmith", " erika@example.com ")
    key = to_global_id("ProgrammingKey", site.sub_key)
    # when: Erika becomes the holder of PN-A (R5)
    changed = await update(gql, key, holderId=erika)
    assert changed["errors"] == []
    assert changed["programmingKey"]["holder"] == {
        "lastName": "Locksmith", "email": " erika@example.com "
    }
    # and jobs are assigned to PN-A
    jobs = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)
    assert (await assign(gql, site.sub_key, jobs))["errors"] == []
    # then: the e-mail goes to Erika, no longer to Petra (R17, R33)
    mails = await outbox(database, site.tenant_id, "programming_jobs_assigned")
    assert [m.recipient for m in mails] == ["erika@example.com"]
    assert "Erika Locksmith" in mails[0].body


async def test_roles_and_domains_are_replaced_and_take_effect_at_the_next_request(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: an Operator sub key in the default domain, and a second domain
    branch = await add_domain(database, tenant, "Branch")
    key = await add_programming_key(database, tenant, "PN-1", roles=("Operator",))
    operator = await session_of(http, tenant, key)
    assert "keys" in await operator("{ keys(first: 1) { edges { node { id } } } }")
    # when: it becomes an Auditor of the branch only
    changed = await update(
        gql, key,
        roleIds=[await role(database, tenant, "Auditor")],
        domainIds=[to_global_id("Domain", branch)],
    )
    # then (R7, R8)
    assert changed["errors"] == []
    assert changed["programmingKey"]["roles"] == [{"name": "Auditor"}]
    assert changed["programmingKey"]["domains"] == [{"name": "Branch"}]
    denied = (await operator.raw(
        'mutation { createEmployee(input: {firstName: "A", lastName: "B"}) '
        "{ errors { code message } } }"
    )).json()
    assert denied["data"]["createEmployee"]["errors"][0]["code"] == "FORBIDDEN"
    assert "roles" in await operator("{ roles { name } }")


async def test_a_role_with_rights_the_caller_lacks_cannot_be_given(
    http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: a caller who may change programming keys and holds the Operator's rights only
    caller = client(http, await superadmin_token(
        database, tenant, rights=["programming_keys.write", *BUILTIN_ROLES["Operator"]]
    ))
    key = await add_programming_key(database, tenant, "PN-1", roles=("Operator",))
    # when: it gives the key the Admin role
    changed = await update(caller, key, roleIds=[await role(database, tenant, "Admin")])
    # then: FORBIDDEN naming rights it lacks (R7), the key keeps its roles
    assert errors(changed) == [("FORBIDDEN", "roleIds")]
    assert "cannot grant a right you do not hold" in changed["errors"][0]["message"]
    assert "keys.write" in changed["errors"][0]["message"]
    # and: a role whose rights it holds is given
    same = await update(caller, key, roleIds=[await role(database, tenant, "Operator")])
    assert same["errors"] == []


async def test_a_key_more_powerful_than_the_caller_cannot_be_changed(
    http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: an Admin (no roles.write, tenant.settings, tokens.write) and a Superadmin sub key
    admin = client(http, await superadmin_token(database, tenant, rights=BUILTIN_ROLES["Admin"]))
    superadmin = await add_programming_key(database, tenant, "PN-S", roles=("Superadmin",))
    main = await add_programming_key(
        database, tenant, "PR-1", kind=ProgrammingKeyKind.MAIN, pin=PIN, puk=PUK
    )
    erika = await add_employee(database, tenant, "Taker", "taker@example.com")
    # when: the Admin hands them to someone else, or takes the Superadmin's role
    taken = await update(admin, superadmin, roleIds=[])
    handed = await update(admin, main, holderId=erika)
    # then: FORBIDDEN naming the rights (R5, R7): the main key cannot be taken over
    assert errors(taken) == errors(handed) == [("FORBIDDEN", "programmingKeyId")]
    assert "roles.write" in handed["errors"][0]["message"]
    assert await holder_name(database, tenant, main) == "PR-1"


async def test_the_main_key_keeps_every_right_without_roles_and_takes_no_domains(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: the main key holding the Superadmin role
    main = await add_programming_key(
        database, tenant, "PR-1", kind=ProgrammingKeyKind.MAIN, roles=("Superadmin",),
        pin=PIN, puk=PUK,
    )
    # when: its roles are all taken and domains are given to it
    stripped = await update(gql, main, roleIds=[])
    domains = await update(gql, main, domainIds=[to_global_id("Domain", tenant.default_domain_id)])
    # then: it still administers everything (R5: it cannot be locked out)
    assert stripped["errors"] == [] and stripped["programmingKey"]["roles"] == []
    assert errors(domains) == [("INVALID", "domainIds")]
    main_session = await session_of(http, tenant, main)
    assert "roles" in await main_session("{ roles { name } }")
    made = await main_session(
        'mutation { createRole(input: {name: "By PR", rights: ["keys.read"]}) '
        "{ errors { code } } }"
    )
    assert made["createRole"]["errors"] == []


async def test_a_sub_key_needs_a_domain_and_known_roles(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    key = await add_programming_key(database, tenant, "PN-1", roles=("Operator",))
    erika = await add_employee(database, tenant, "New", "new@example.com")
    # when
    none = await update(gql, key, domainIds=[])
    unknown = await update(gql, key, holderId=erika, roleIds=[
        await role(database, tenant, "Auditor"), to_global_id("Role", 10**9)
    ])
    # then: nothing half-written
    assert errors(none) == [("INVALID", "domainIds")]
    assert errors(unknown) == [("NOT_FOUND", "roleIds.1")]
    assert await holder_name(database, tenant, key) == "PN-1"


async def test_an_approver_needs_a_holder_with_an_email(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: a key whose holder has no e-mail, and a requesting admin with one
    approver = await add_programming_key(database, tenant, "PN-AP")
    with_mail = await add_employee(database, tenant, "Approving", "approver@example.com")
    without = await add_employee(database, tenant, "Silent", None)
    approver_role = await role(database, tenant, "Approver")
    # when: the Approver role is given (by a Superadmin, who does not hold readout.approve)
    refused = await update(gql, approver, roleIds=[approver_role])
    given = await update(gql, approver, roleIds=[approver_role], holderId=with_mail)
    back = await update(gql, approver, holderId=without)
    # then (R29; FAQ: "An e-mail address in the employee master data is required")
    assert errors(refused) == [("INVALID", "roleIds")]
    assert given["errors"] == []
    assert given["programmingKey"]["roles"] == [{"name": "Approver"}]
    assert errors(back) == [("INVALID", "holderId")]
    # and: an approver staffed before this rule keeps working for other changes
    earlier = await add_programming_key(database, tenant, "PN-OLD", roles=("Approver",))
    moved = await update(
        gql, earlier, domainIds=[to_global_id("Domain", tenant.default_domain_id)]
    )
    assert moved["errors"] == []


async def test_approval_mail_goes_to_the_approvers_new_holder(
    gql: GraphQLClient, http: Any, database: Database
) -> None:
    from tests.conftest import make_tenant
    from tests.test_approval import REQUEST, add_key

    # given: a tenant with the approver function, an admin key and a future approver key
    tenant = await make_tenant(database, "Council", approver_function=True)
    superadmin = client(http, await superadmin_token(database, tenant))
    admin = await add_programming_key(database, tenant, "PN-ADM", roles=("Admin",))
    approver = await add_programming_key(database, tenant, "PN-AP")
    holder = await add_employee(database, tenant, "Judge", "judge@example.com")
    changed = await update(
        superadmin, approver,
        holderId=holder, roleIds=[await role(database, tenant, "Approver")],
    )
    assert changed["errors"] == []
    # when: the admin asks to read a key's audit trail
    _, key_gid = await add_key(database, tenant, KeyType.E3)
    admin_session = await session_of(http, tenant, admin)
    asked = await admin_session(REQUEST, {"i": {"targetId": key_gid, "reason": "break-in"}})
    assert asked["requestReadout"]["errors"] == []
    # then: the approver's new holder is asked (R29)
    async with database.tenant_session(tenant.tenant_id) as s:
        mails = list(await s.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.kind == "readout_requested")
        ))
    assert mails == ["judge@example.com"]


# --- who may (R7, R8) and isolation (R1) -------------------------------------------------------


async def test_programming_keys_are_changed_only_with_the_right(
    http: Any, database: Database, tenant: NewTenant
) -> None:
    auditor = client(http, await superadmin_token(
        database, tenant, rights=BUILTIN_ROLES["Auditor"]
    ))
    key = await add_programming_key(database, tenant, "PN-1")
    main = await add_programming_key(
        database, tenant, "PR-1", kind=ProgrammingKeyKind.MAIN, pin=PIN, puk=PUK
    )
    forbidden = [{
        "code": "FORBIDDEN", "field": None, "message": "missing right: programming_keys.write"
    }]
    assert (await update(auditor, key, roleIds=[]))["errors"] == forbidden
    assert (await reset(auditor, main, PUK))["errors"] == forbidden
    assert (await stored(database, tenant, main)).failed_puk_attempts == 0


async def test_an_administrator_of_one_domain_changes_only_sub_keys_of_that_domain(
    http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: domains A (default) and B; a Superadmin token limited to A (R8)
    b = await add_domain(database, tenant, "B")
    limited = client(http, await superadmin_token(
        database, tenant, domain_ids=[tenant.default_domain_id]
    ))
    in_a = await add_programming_key(database, tenant, "PN-A", roles=("Operator",))
    in_b = await add_programming_key(database, tenant, "PN-B", roles=("Operator",), domain_ids=[b])
    main = await add_programming_key(
        database, tenant, "PR-1", kind=ProgrammingKeyKind.MAIN, pin=PIN, puk=PUK
    )
    holder_a = await add_employee(database, tenant, "InA", "a@example.com")
    holder_b = await add_employee(database, tenant, "InB", "b@example.com", domain_id=b)
    # when / then: its own domain's sub key, with its own domain's employee
    ok = await update(limited, in_a, holderId=holder_a)
    assert ok["errors"] == []
    # an employee of B does not exist for it (R8)
    assert errors(await update(limited, in_a, holderId=holder_b)) == [("NOT_FOUND", "holderId")]
    # nor may it give domain B, change B's key, or the main key
    b_gid = to_global_id("Domain", b)
    assert errors(await update(limited, in_a, domainIds=[b_gid])) == [("FORBIDDEN", "domainIds")]
    assert errors(await update(limited, in_b, roleIds=[])) == [("FORBIDDEN", "programmingKeyId")]
    assert errors(await update(limited, main, holderId=holder_a)) == [
        ("FORBIDDEN", "programmingKeyId")
    ]
    assert errors(await reset(limited, main, PUK)) == [("FORBIDDEN", "programmingKeyId")]


async def test_another_tenants_ids_are_not_found_and_nothing_changes(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given: a programming key here, and a key, employee, role and domain of another tenant
    mine = await add_programming_key(database, tenant, "PN-1", roles=("Operator",))
    theirs = await add_programming_key(
        database, other_tenant, "PR-X", kind=ProgrammingKeyKind.MAIN, pin=PIN, puk=PUK
    )
    employee = await add_employee(database, other_tenant, "Foreign", "f@example.com")
    their_role = await role(database, other_tenant, "Auditor")
    their_domain = to_global_id("Domain", other_tenant.default_domain_id)
    # when / then: NOT_FOUND naming the field, exactly like a missing id (R1)
    assert errors(await update(gql, theirs.gid, roleIds=[])) == [("NOT_FOUND", "programmingKeyId")]
    assert errors(await reset(gql, theirs, PUK)) == [("NOT_FOUND", "programmingKeyId")]
    assert errors(await update(gql, mine, holderId=employee)) == [("NOT_FOUND", "holderId")]
    assert errors(await update(gql, mine, roleIds=[their_role])) == [("NOT_FOUND", "roleIds.0")]
    assert errors(await update(gql, mine, domainIds=[their_domain])) == [
        ("NOT_FOUND", "domainIds.0")
    ]
    assert (await stored(database, other_tenant, theirs)).failed_puk_attempts == 0
    roles = (await gql("query($id: ID!) { node(id: $id) { ... on ProgrammingKey "
                       "{ roles { name } domains { name } } } }", {"id": mine.gid}))["node"]
    assert roles == {"roles": [{"name": "Operator"}], "domains": [{"name": "Default"}]}


# --- the main key's PUK (R5, R6) ---------------------------------------------------------------


async def test_a_locked_main_key_gets_a_new_pin_with_its_puk(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: the main key locked by three wrong PINs
    main = await add_programming_key(
        database, tenant, "PR-1", kind=ProgrammingKeyKind.MAIN, pin=PIN, puk=PUK
    )
    for _ in range(3):
        assert [e["code"] for e in (await log_in(http, tenant, main, "111111"))["errors"]] == [
            "WRONG_PIN"
        ]
    assert "locked" in (await log_in(http, tenant, main))["errors"][0]["message"]
    # when: the PUK sets a new PIN
    done = await reset(gql, main, PUK)
    # then: the key logs in with the new PIN at once, not with the old one (R5)
    assert done == {"programmingKey": {"marking": "PR-1", "kind": "MAIN"}, "errors": []}
    assert (await log_in(http, tenant, main, NEW_PIN))["errors"] == []
    assert [e["code"] for e in (await log_in(http, tenant, main, PIN))["errors"]] == ["WRONG_PIN"]


async def test_wrong_puks_are_counted_and_lock_the_puk(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    main = await add_programming_key(
        database, tenant, "PR-1", kind=ProgrammingKeyKind.MAIN, pin=PIN, puk=PUK
    )
    # when: two wrong PUKs
    first = await reset(gql, main, "12121212")
    second = await reset(gql, main, "12121213")
    # then: counted, and said so (R5: like the PIN)
    assert errors(first) == errors(second) == [("WRONG_PIN", "puk")]
    assert "wrong PUK; 2 attempt(s) left" in first["errors"][0]["message"]
    assert (await stored(database, tenant, main)).failed_puk_attempts == 2
    # when: the third: locked, and then even the right PUK is refused unchecked
    third = await reset(gql, main, "12121214")
    assert "too many wrong PUKs: locked until" in third["errors"][0]["message"]
    right = await reset(gql, main, PUK)
    assert errors(right) == [("WRONG_PIN", "puk")]
    assert "locked until" in right["errors"][0]["message"]
    # and the PIN is untouched by the PUK's lock: the key still logs in with its PIN
    row = await stored(database, tenant, main)
    assert row.locked_until is None and row.puk_locked_until is not None
    assert (await log_in(http, tenant, main))["errors"] == []


async def test_a_trivial_new_pin_is_refused_before_the_puk_is_tried(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    main = await add_programming_key(
        database, tenant, "PR-1", kind=ProgrammingKeyKind.MAIN, pin=PIN, puk=PUK
    )
    refused = await reset(gql, main, "00000000", new_pin="1234")
    assert errors(refused) == [("INVALID", "newPin")]
    assert (await stored(database, tenant, main)).failed_puk_attempts == 0


async def test_only_the_main_key_has_a_puk(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    sub = await add_programming_key(database, tenant, "PN-1", puk=PUK)
    refused = await reset(gql, sub, PUK)
    assert errors(refused) == [("INVALID", "programmingKeyId")]
    assert "main key's PIN (R6)" in refused["errors"][0]["message"]


def test_no_field_ever_shows_a_pin_or_puk() -> None:
    # given: the served schema's output types
    sdl = graphql.build_schema(build_schema(Settings(), introspection=True).as_str())
    shown = {
        f"{name}.{field}"
        for name, kind in sdl.type_map.items()
        if isinstance(kind, graphql.GraphQLObjectType) and name != "Mutation"
        for field in kind.fields
        if "pin" in field.lower() or "puk" in field.lower()
    }
    # then: only a main key's new PUK, once, as the first PIN step creates it (R5, R37)
    assert shown == {"FirstPinPayload.puk"}
