"""Roles and rights (R7): a tenant creates, edits and removes its own roles (issue 10 item 1)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.auth.rights import BUILTIN_ROLES
from app.auth.roles import create_role
from app.db import Database
from app.errors import CONFLICT
from app.models import Domain, Role
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, superadmin_token
from tests.factories import refused_second_writer
from tests.test_approval import add_programming_key, session_of

CREATE = """
mutation($i: CreateRoleInput!) {
  createRole(input: $i) { role { id name builtin rights } errors { code field message } }
}
"""

UPDATE = """
mutation($i: UpdateRoleInput!) {
  updateRole(input: $i) { role { id name builtin rights } errors { code field message } }
}
"""

DELETE = """
mutation($i: RoleIdInput!) {
  deleteRole(input: $i) { deletedId errors { code field message } }
}
"""

ROLES = "{ roles { name builtin rights } }"


async def roles_of(gql: GraphQLClient) -> dict[str, list[str]]:
    return {r["name"]: r["rights"] for r in (await gql(ROLES))["roles"]}


async def create(gql: GraphQLClient, name: str, rights: list[str]) -> dict[str, Any]:
    return (await gql(CREATE, {"i": {"name": name, "rights": rights}}))["createRole"]  # type: ignore[no-any-return]


async def role_gid(database: Database, tenant: NewTenant, name: str) -> str:
    async with database.tenant_session(tenant.tenant_id) as s:
        role_id = await s.scalar(select(Role.id).where(Role.name == name))
    assert role_id is not None
    return to_global_id("Role", role_id)


def errors(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


# --- what a role does -------------------------------------------------------------------


async def test_a_new_roles_rights_are_what_its_holders_may_do(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: a tenant's own role "Locksmith" that may see keys, held by a sub key
    made = await create(gql, "  Locksmith ", ["keys.read", "keys.read", "cylinders.read"])
    assert made["errors"] == []
    assert made["role"]["name"] == "Locksmith"
    assert made["role"]["builtin"] is False
    assert made["role"]["rights"] == ["cylinders.read", "keys.read"]
    key = await add_programming_key(database, tenant, "PN-7", roles=("Locksmith",))
    locksmith = await session_of(http, tenant, key)
    # then: the holder may do what the role grants, and nothing else (R7)
    assert (await locksmith("{ keys(first: 1) { edges { node { id } } } }"))["keys"]
    denied = (await locksmith.raw("{ employees(first: 1) { edges { node { id } } } }")).json()
    assert "employees.read" in denied["errors"][0]["message"]
    # when: the role gains employees.read
    updated = (
        await gql(UPDATE, {"i": {"roleId": made["role"]["id"], "rights": [
            "keys.read", "cylinders.read", "employees.read"
        ]}})
    )["updateRole"]
    # then: the same session may read employees from its next request on
    assert updated["errors"] == []
    assert updated["role"]["rights"] == ["cylinders.read", "employees.read", "keys.read"]
    assert "employees" in await locksmith("{ employees(first: 1) { edges { node { id } } } }")


async def test_a_role_can_be_renamed_and_its_rights_left_as_they_are(gql: GraphQLClient) -> None:
    made = await create(gql, "Night shift", ["keys.read"])
    # when
    renamed = (await gql(UPDATE, {"i": {"roleId": made["role"]["id"], "name": "Late shift"}}))
    # then
    assert renamed["updateRole"]["role"]["name"] == "Late shift"
    assert (await roles_of(gql))["Late shift"] == ["keys.read"]
    assert "Night shift" not in await roles_of(gql)


async def test_a_role_nobody_holds_is_deleted(gql: GraphQLClient) -> None:
    made = await create(gql, "Temporary", ["keys.read"])
    # when
    deleted = (await gql(DELETE, {"i": {"roleId": made["role"]["id"]}}))["deleteRole"]
    # then
    assert deleted == {"deletedId": made["role"]["id"], "errors": []}
    assert "Temporary" not in await roles_of(gql)
    again = (await gql(DELETE, {"i": {"roleId": made["role"]["id"]}}))["deleteRole"]
    assert errors(again) == [("NOT_FOUND", "roleId")]


# --- the rules ----------------------------------------------------------------------------


async def test_unknown_rights_are_invalid_naming_the_right_and_nothing_is_written(
    gql: GraphQLClient,
) -> None:
    # when
    made = await create(gql, "Typo", ["keys.read", "keys.fly", "doors.open"])
    # then (R7)
    assert made["role"] is None
    assert errors(made) == [("INVALID", "rights")]
    assert "doors.open" in made["errors"][0]["message"]
    assert "keys.fly" in made["errors"][0]["message"]
    assert "Typo" not in await roles_of(gql)


async def test_an_update_with_an_unknown_right_changes_nothing(gql: GraphQLClient) -> None:
    made = await create(gql, "Careful", ["keys.read"])
    # when: renamed and given an unknown right in one call
    updated = (
        await gql(UPDATE, {"i": {
            "roleId": made["role"]["id"], "name": "Renamed", "rights": ["keys.read", "nope"]
        }})
    )["updateRole"]
    # then: no half-written change
    assert errors(updated) == [("INVALID", "rights")]
    assert "nope" in updated["errors"][0]["message"]
    assert (await roles_of(gql))["Careful"] == ["keys.read"]


@pytest.mark.parametrize("name", list(BUILTIN_ROLES))
async def test_built_in_roles_are_immutable(
    gql: GraphQLClient, database: Database, tenant: NewTenant, name: str
) -> None:
    gid = await role_gid(database, tenant, name)
    # when
    updated = (await gql(UPDATE, {"i": {"roleId": gid, "rights": ["keys.read"]}}))["updateRole"]
    renamed = (await gql(UPDATE, {"i": {"roleId": gid, "name": "Mine"}}))["updateRole"]
    deleted = (await gql(DELETE, {"i": {"roleId": gid}}))["deleteRole"]
    # then (R7)
    assert errors(updated) == errors(renamed) == errors(deleted) == [("IMMUTABLE", "roleId")]
    assert (await roles_of(gql))[name] == BUILTIN_ROLES[name]


async def test_a_role_still_held_cannot_be_deleted_and_the_error_names_the_holders(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    made = await create(gql, "Facility", ["keys.read"])
    await add_programming_key(database, tenant, "PN-2", roles=("Facility",))
    await add_programming_key(database, tenant, "PN-1", roles=("Facility", "Operator"))
    # when
    deleted = (await gql(DELETE, {"i": {"roleId": made["role"]["id"]}}))["deleteRole"]
    # then: CONFLICT naming the programming keys by marking (R7)
    assert errors(deleted) == [("CONFLICT", "roleId")]
    assert "PN-1, PN-2" in deleted["errors"][0]["message"]
    assert "Facility" in await roles_of(gql)


async def test_the_conflict_summarises_many_holders(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    made = await create(gql, "Crowd", ["keys.read"])
    for i in range(7):
        await add_programming_key(database, tenant, f"PN-{i}", roles=("Crowd",))
    deleted = (await gql(DELETE, {"i": {"roleId": made["role"]["id"]}}))["deleteRole"]
    assert "PN-0, PN-1, PN-2, PN-3, PN-4 and 2 more" in deleted["errors"][0]["message"]


async def test_names_are_unique_whatever_the_case(gql: GraphQLClient) -> None:
    await create(gql, "Gatekeeper", ["keys.read"])
    # when: a built-in name and a taken one in other case, and an empty name
    admin = await create(gql, "admin", ["keys.read"])
    taken = await create(gql, "GATEKEEPER", ["keys.read"])
    empty = await create(gql, "   ", ["keys.read"])
    long = await create(gql, "x" * 101, ["keys.read"])
    # then
    assert errors(admin) == errors(taken) == [("CONFLICT", "name")]
    assert errors(empty) == errors(long) == [("INVALID", "name")]
    other = await create(gql, "Other", ["keys.read"])
    renamed = (
        await gql(UPDATE, {"i": {"roleId": other["role"]["id"], "name": "gatekeeper"}})
    )["updateRole"]
    assert errors(renamed) == [("CONFLICT", "name")]
    same = (await gql(UPDATE, {"i": {"roleId": other["role"]["id"], "name": "OTHER"}}))
    assert same["updateRole"]["role"]["name"] == "OTHER"


async def test_a_name_taken_meanwhile_by_another_transaction_is_a_conflict(
    database: Database, tenant: NewTenant
) -> None:
    # given: a role "Night" created in a transaction not yet committed
    # when: another transaction creates a role of the same name meanwhile
    refused = await refused_second_writer(database, tenant, lambda s: create_role(
        s, name="Night", rights=["keys.read"], granter=None))
    # then: it is a CONFLICT naming the field, not a server error (R7)
    assert (refused.code, refused.field) == (CONFLICT, "name")
    async with database.tenant_session(tenant.tenant_id) as s:
        assert list(await s.scalars(select(Role.name).where(Role.name == "Night"))) == ["Night"]


async def test_a_role_needs_a_right(gql: GraphQLClient) -> None:
    made = await create(gql, "Empty", [])
    assert errors(made) == [("INVALID", "rights")]
    kept = await create(gql, "Kept", ["keys.read"])
    emptied = (await gql(UPDATE, {"i": {"roleId": kept["role"]["id"], "rights": []}}))
    assert errors(emptied["updateRole"]) == [("INVALID", "rights")]


# --- who may (R7, R8) ---------------------------------------------------------------------


async def test_a_right_is_granted_only_by_someone_who_holds_it(
    http: Any, database: Database, tenant: NewTenant, gql: GraphQLClient
) -> None:
    # given: a caller who may write roles and holds keys.read, not keys.write
    delegate = GraphQLClient(
        http,
        await superadmin_token(database, tenant, rights=["roles.write", "roles.read", "keys.read"]),
    )
    # when: it creates a role with keys.write
    made = await create(delegate, "Escalation", ["keys.read", "keys.write"])
    # then: FORBIDDEN naming the right (R7)
    assert errors(made) == [("FORBIDDEN", "rights")]
    assert made["errors"][0]["message"] == "cannot grant a right you do not hold: keys.write"
    # and: a role holding keys.write already (made by a Superadmin) may be renamed by it and
    # keep that right, but it cannot add another right it lacks
    full = await create(gql, "Keys", ["keys.write"])
    kept = (
        await delegate(UPDATE, {"i": {
            "roleId": full["role"]["id"], "name": "Key admin", "rights": ["keys.write", "keys.read"]
        }})
    )["updateRole"]
    assert kept["errors"] == []
    assert kept["role"]["rights"] == ["keys.read", "keys.write"]
    added = (
        await delegate(UPDATE, {"i": {
            "roleId": full["role"]["id"], "rights": ["keys.write", "employees.write"]
        }})
    )["updateRole"]
    assert errors(added) == [("FORBIDDEN", "rights")]
    assert "employees.write" in added["errors"][0]["message"]
    assert "keys.write" not in added["errors"][0]["message"]


async def test_roles_are_changed_only_with_the_right(
    http: Any, database: Database, tenant: NewTenant, gql: GraphQLClient
) -> None:
    made = await create(gql, "Guarded", ["keys.read"])
    # given: an Admin, whose role lacks roles.write
    admin = GraphQLClient(
        http, await superadmin_token(database, tenant, rights=BUILTIN_ROLES["Admin"])
    )
    forbidden = [
        {"code": "FORBIDDEN", "field": None, "message": "missing right: roles.write"}
    ]
    # when / then
    assert (await create(admin, "Mine", ["keys.read"]))["errors"] == forbidden
    updated = await admin(UPDATE, {"i": {"roleId": made["role"]["id"], "name": "Mine"}})
    assert updated["updateRole"]["errors"] == forbidden
    deleted = await admin(DELETE, {"i": {"roleId": made["role"]["id"]}})
    assert deleted["deleteRole"]["errors"] == forbidden
    assert set(await roles_of(gql)) == set(BUILTIN_ROLES) | {"Guarded"}


async def test_a_caller_limited_to_some_domains_cannot_change_roles(
    http: Any, database: Database, tenant: NewTenant, gql: GraphQLClient
) -> None:
    # given: a second domain, and a Superadmin token limited to the default domain (R8)
    async with database.tenant_session(tenant.tenant_id) as s:
        s.add(Domain(name="Branch"))
        await s.commit()
    made = await create(gql, "Shared", ["keys.read"])
    limited = GraphQLClient(
        http, await superadmin_token(database, tenant, domain_ids=[tenant.default_domain_id])
    )
    # when: a role's rights would reach keys of the other domain too
    created = await create(limited, "Local", ["keys.read"])
    updated = await limited(UPDATE, {"i": {"roleId": made["role"]["id"], "rights": ["jobs.read"]}})
    deleted = await limited(DELETE, {"i": {"roleId": made["role"]["id"]}})
    # then
    assert errors(created) == [("FORBIDDEN", None)]
    assert "every domain" in created["errors"][0]["message"]
    assert errors(updated["updateRole"]) == errors(deleted["deleteRole"]) == [("FORBIDDEN", None)]
    assert (await roles_of(gql))["Shared"] == ["keys.read"]
    assert "Local" not in await roles_of(gql)


async def test_another_tenants_role_is_not_found_and_untouched(
    gql: GraphQLClient, http: Any, database: Database, other_tenant: NewTenant
) -> None:
    # given: a role of another tenant
    other = GraphQLClient(http, await superadmin_token(database, other_tenant))
    theirs = await create(other, "Theirs", ["keys.read"])
    gid = theirs["role"]["id"]
    # when: this tenant edits and deletes it by its id
    updated = (await gql(UPDATE, {"i": {"roleId": gid, "name": "Ours"}}))["updateRole"]
    deleted = (await gql(DELETE, {"i": {"roleId": gid}}))["deleteRole"]
    # then: NOT_FOUND exactly like a missing id (R1), and the role is as it was
    missing = (
        await gql(UPDATE, {"i": {"roleId": to_global_id("Role", 10**9), "name": "Ours"}})
    )["updateRole"]
    assert errors(updated) == errors(deleted) == errors(missing) == [("NOT_FOUND", "roleId")]
    assert (await roles_of(other))["Theirs"] == ["keys.read"]
    assert "Theirs" not in await roles_of(gql)
    # and the same name is free in this tenant
    assert (await create(gql, "Theirs", ["keys.read"]))["errors"] == []


async def test_an_id_of_another_type_is_not_found(gql: GraphQLClient, tenant: NewTenant) -> None:
    wrong = to_global_id("Domain", tenant.default_domain_id)
    deleted = (await gql(DELETE, {"i": {"roleId": wrong}}))["deleteRole"]
    assert errors(deleted) == [("NOT_FOUND", "roleId")]
