"""Editing and removing cylinder groups through GraphQL (R13, R15, R8, R1).

A cylinder group takes one slot in an E3 key's memory: a cylinder that joins or
leaves the group is reprogrammed, the keys authorised on the group are not (R13).
A group is removed only once no key holds it and no cylinder knows it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.db import Database
from app.models import CylinderGroup, CylinderGroupMember, ProgrammingJob, RemoteJob
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, superadmin_token
from tests.test_access_and_keys import program_all_open_jobs
from tests.test_access_edits import Site, build_site, delete

CREATE = """
mutation($i: CreateCylinderGroupInput!) { createCylinderGroup(input: $i) {
  cylinderGroup { id } errors { field code message } } }
"""
UPDATE = """
mutation($i: UpdateCylinderGroupInput!) { updateCylinderGroup(input: $i) {
  cylinderGroup { name cylinders { marking } }
  programmingJobs { cylinder { marking } changes { op cylinderGroup { name } } }
  errors { field code message } } }
"""
HOLD = """
mutation($i: UpdateKeyInput!) { updateKey(input: $i) { errors { field code message } } }
"""


async def create(client: GraphQLClient, site: Site, name: str, cylinders: list[str]) -> str:
    made = (await client(CREATE, {"i": {"name": name, "cylinderIds": [
        site.cylinder(c) for c in cylinders]}}))["createCylinderGroup"]
    assert made["errors"] == []
    return str(made["cylinderGroup"]["id"])


async def update(client: GraphQLClient, group: str, **fields: Any) -> dict[str, Any]:
    answer = await client(UPDATE, {"i": {"cylinderGroupId": group, **fields}})
    return answer["updateCylinderGroup"]  # type: ignore[no-any-return]


async def counts(database: Database, tenant: NewTenant) -> tuple[int, int, int, int]:
    """Groups, memberships, programming jobs and remote jobs of the tenant."""
    async with database.tenant_session(tenant.tenant_id) as s:
        return tuple([  # type: ignore[return-value]
            await s.scalar(select(func.count()).select_from(model))
            for model in (CylinderGroup, CylinderGroupMember, ProgrammingJob, RemoteJob)
        ])


def changes(payload: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {
        j["cylinder"]["marking"]: [(c["op"], c["cylinderGroup"]["name"]) for c in j["changes"]]
        for j in payload["programmingJobs"]
    }


async def test_cylinders_joining_or_leaving_are_reprogrammed_and_the_keys_are_not(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: "Basement" on C-0 and C-1, held by the E3 key E3-C, all programmed
    site = await build_site(gql, database, tenant)
    group = await create(gql, site, "Basement", ["C-0", "C-1"])
    held = await gql(HOLD, {"i": {"keyId": site.key("E3-C"), "cylinderGroupIds": [group]}})
    assert held["updateKey"]["errors"] == []
    await program_all_open_jobs(database, tenant)
    remote_before = (await counts(database, tenant))[3]
    # when: renamed, C-2 joins and C-0 leaves
    done = await update(gql, group, name="Cellar",
                        cylinderIds=[site.cylinder("C-1"), site.cylinder("C-2")])
    # then: C-2 learns the group, C-0 forgets it, C-1 gets nothing (R13, R15)
    assert done["errors"] == []
    assert done["cylinderGroup"] == {
        "name": "Cellar", "cylinders": [{"marking": "C-1"}, {"marking": "C-2"}]}
    assert changes(done) == {"C-2": [("ADD", "Cellar")], "C-0": [("REMOVE", "Cellar")]}
    # and: the key holding the group is not reprogrammed: one slot, whatever it holds (R13)
    assert (await counts(database, tenant))[3] == remote_before
    # when: the same cylinders again, and a rename alone
    again = await update(gql, group, cylinderIds=[site.cylinder("C-2"), site.cylinder("C-1")])
    renamed = await update(gql, group, name="Basement")
    # then: no job for either
    assert again["errors"] == [] and again["programmingJobs"] == []
    assert renamed["errors"] == [] and renamed["programmingJobs"] == []
    assert renamed["cylinderGroup"]["name"] == "Basement"


async def test_a_bad_change_names_the_field_and_writes_nothing(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant,
    other_tenant: NewTenant,
) -> None:
    # given: "Basement" and "Garage"; the other tenant's cylinders (R1)
    site = await build_site(gql, database, tenant)
    group = await create(gql, site, "Basement", ["C-0"])
    await create(gql, site, "Garage", ["C-1"])
    other = GraphQLClient(http, await superadmin_token(database, other_tenant))
    theirs = await build_site(other, database, other_tenant)
    before = await counts(database, tenant)
    for fields, expected in [
        ({"name": "Garage"}, ("name", "CONFLICT")),
        ({"name": "  "}, ("name", "INVALID")),
        # renamed and a foreign cylinder: the whole change is refused, the name too
        ({"name": "Cellar", "cylinderIds": [site.cylinder("C-1"), theirs.cylinder("C-2")]},
         ("cylinderIds.1", "NOT_FOUND")),
        ({"cylinderIds": [to_global_id("Key", site.keys["E3-A"])]},
         ("cylinderIds.0", "NOT_FOUND")),
    ]:
        # when
        refused = await update(gql, group, **fields)
        # then: the error names the field; the group is as it was
        assert [(e["field"], e["code"]) for e in refused["errors"]] == [expected], fields
        assert refused["cylinderGroup"] is None
    assert await counts(database, tenant) == before
    shown = await gql("query($id: ID!) { node(id: $id) { ... on CylinderGroup { name "
                      "cylinders { marking } } } }", {"id": group})
    assert shown["node"] == {"name": "Basement", "cylinders": [{"marking": "C-0"}]}


async def test_a_domain_admin_sets_only_its_cylinders_and_the_others_stay(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: "Mixed" on C-0 (default domain) and X-0 (Annex); a token limited to Annex (R8)
    site = await build_site(gql, database, tenant)
    group = await create(gql, site, "Mixed", ["C-0", "X-0"])
    await program_all_open_jobs(database, tenant)
    annex = GraphQLClient(http, await superadmin_token(database, tenant, domain_ids=[site.annex]))
    # when: the Annex admin names a default-domain cylinder
    refused = await update(annex, group, cylinderIds=[site.cylinder("C-1")])
    # then: NOT_FOUND, as if it did not exist
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [
        ("cylinderIds.0", "NOT_FOUND")]
    # when: it empties the group as far as it sees it
    emptied = await update(annex, group, cylinderIds=[])
    # then: X-0 leaves, C-0 stays; the jobs it is shown are its own cylinder's
    assert emptied["errors"] == []
    assert changes(emptied) == {"X-0": [("REMOVE", "Mixed")]}
    shown = await gql("query($id: ID!) { node(id: $id) { ... on CylinderGroup { "
                      "cylinders { marking } } } }", {"id": group})
    assert shown["node"] == {"cylinders": [{"marking": "C-0"}]}


async def test_a_group_is_removed_only_once_no_key_holds_it_and_no_cylinder_knows_it(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: "Basement" on C-0, held by E3-C, programmed
    site = await build_site(gql, database, tenant)
    group = await create(gql, site, "Basement", ["C-0"])
    await gql(HOLD, {"i": {"keyId": site.key("E3-C"), "cylinderGroupIds": [group]}})
    await program_all_open_jobs(database, tenant)
    # when: it is removed
    refused = await delete(gql, "deleteCylinderGroup", group)
    # then: CONFLICT naming the key and the cylinder (R13)
    assert refused == {"deletedId": None, "errors": [{
        "field": "id", "code": "CONFLICT",
        "message": "id: the cylinder group 'Basement' is in use by keys authorised on it: E3-C; "
                   "its cylinders: C-0; cylinders still holding it: C-0"}]}
    # when: the key lets go and C-0 leaves, but its job is not carried out yet
    await gql(HOLD, {"i": {"keyId": site.key("E3-C"), "cylinderGroupIds": []}})
    await update(gql, group, cylinderIds=[])
    pending = await delete(gql, "deleteCylinderGroup", group)
    # then: still CONFLICT: C-0 knows it until its job is done (R15)
    assert [e["message"] for e in pending["errors"]] == [
        "id: the cylinder group 'Basement' is in use by cylinders still holding it: C-0; "
        "cylinders with open jobs for it: C-0"]
    # when: C-0 is programmed
    await program_all_open_jobs(database, tenant)
    removed = await delete(gql, "deleteCylinderGroup", group)
    # then: it is gone
    assert removed == {"deletedId": group, "errors": []}
    assert (await gql("query($id: ID!) { node(id: $id) { id } }", {"id": group}))["node"] is None
    assert (await gql("{ cylinderGroups { id } }"))["cylinderGroups"] == []


async def test_another_tenants_group_is_not_found_for_editing_and_removing(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant,
    other_tenant: NewTenant,
) -> None:
    # given: the other tenant's group (R1)
    other = GraphQLClient(http, await superadmin_token(database, other_tenant))
    theirs = await build_site(other, database, other_tenant)
    their_group = await create(other, theirs, "Theirs", ["C-0"])
    for gid in [their_group, to_global_id("CylinderGroup", 10**9),
                to_global_id("KeyGroup", 1)]:
        # when
        edited = await update(gql, gid, name="Mine")
        removed = await delete(gql, "deleteCylinderGroup", gid)
        # then: NOT_FOUND naming the field, exactly like a missing one
        assert [(e["field"], e["code"]) for e in edited["errors"]] == [
            ("cylinderGroupId", "NOT_FOUND")]
        assert [(e["field"], e["code"]) for e in removed["errors"]] == [("id", "NOT_FOUND")]
    # and: nothing of theirs changed
    shown = await other("query($id: ID!) { node(id: $id) { ... on CylinderGroup { name } } }",
                        {"id": their_group})
    assert shown["node"] == {"name": "Theirs"}
