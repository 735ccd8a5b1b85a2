"""The programming jobs of one key (R15, R19): what the web manager's key card lists as the
key's open jobs, through ``programmingJobs(filter: {keyId})``; never another tenant's (R1)
or another domain's (R8), at the same statements for few or many jobs."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select, update

from app.db import Database
from app.models import Cylinder, Domain, Key
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, StatementCounter, make_tenant, superadmin_token
from tests.test_access_and_keys import (
    CHANGE,
    ISSUE,
    LOST,
    build_site,
    program_all_open_jobs,
)

KEY_JOBS = """
query($k: ID!, $status: [ProgrammingJobStatus!], $first: Int) {
  programmingJobs(filter: {keyId: $k, status: $status}, first: $first) {
    totalCount
    edges { node { status cylinder { marking } changes { op key { marking } } } }
  }
}
"""


def _jobs(data: dict[str, object]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    edges = data["programmingJobs"]["edges"]  # type: ignore[index]
    return sorted(
        (
            e["node"]["cylinder"]["marking"],
            e["node"]["status"],
            [(c["op"], c["key"]["marking"]) for c in e["node"]["changes"] if c["key"]],
        )
        for e in edges
    )


async def test_the_jobs_of_a_key_are_those_that_add_or_remove_it(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: E3-A added to D-0 and D-1, E3-B to D-1 and D-2 (jobs on D-1 carry both)
    site = await build_site(database, tenant)
    a, b = site.keys["E3-A"], site.keys["E3-B"]
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[:2], "add": [a]}})
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[1:3], "add": [b]}})
    # when
    data = await gql(KEY_JOBS, {"k": a})
    # then: the jobs that add E3-A, and only those
    assert data["programmingJobs"]["totalCount"] == 2
    assert [(cyl, ops) for cyl, _, ops in _jobs(data)] == [
        ("D-0", [("ADD", "E3-A")]),
        ("D-1", [("ADD", "E3-A"), ("ADD", "E3-B")]),
    ]
    b_only = await gql(KEY_JOBS, {"k": b})
    assert [cyl for cyl, _, _ in _jobs(b_only)] == ["D-1", "D-2"]

    # when: programmed, then the key is issued and reported lost (R19)
    await program_all_open_jobs(database, tenant)
    assert (await gql(KEY_JOBS, {"k": a, "status": ["PENDING"]}))["programmingJobs"][
        "totalCount"
    ] == 0
    await gql(ISSUE, {"i": {"keyId": a, "employeeId": site.employee}})
    lost = await gql(LOST, {"i": {"keyId": a, "deprogram": True}})
    assert lost["reportKeyLost"]["errors"] == []
    # then: its open jobs are the deprogramming jobs, the done ones are still listed
    open_jobs = await gql(KEY_JOBS, {"k": a, "status": ["PENDING", "ASSIGNED", "ON_KEY"]})
    assert _jobs(open_jobs) == [
        ("D-0", "PENDING", [("REMOVE", "E3-A")]),
        ("D-1", "PENDING", [("REMOVE", "E3-A")]),
    ]
    assert (await gql(KEY_JOBS, {"k": a}))["programmingJobs"]["totalCount"] == 4


async def test_a_cylinder_id_is_refused_naming_the_filter_field_and_an_unknown_key_has_none(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    site = await build_site(database, tenant)
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[:1], "add": [site.keys["E3-A"]]}})
    response = await gql.raw(KEY_JOBS, {"k": site.cylinders[0]})
    body = response.json()
    assert body["data"] is None
    assert "filter.keyId" in body["errors"][0]["message"]
    async with database.tenant_session(tenant.tenant_id) as s:
        newest = await s.scalar(select(func.max(Key.id)))
    unknown = await gql(KEY_JOBS, {"k": to_global_id("Key", (newest or 0) + 1000)})
    assert unknown["programmingJobs"]["totalCount"] == 0


async def test_the_jobs_of_another_tenants_key_are_never_listed(
    gql: GraphQLClient, database: Database, tenant: NewTenant, http: object
) -> None:
    # given: a key of tenant Acme with open jobs
    site = await build_site(database, tenant)
    a = site.keys["E3-A"]
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[:2], "add": [a]}})
    # when: another tenant asks for that key's jobs (R1)
    other = await make_tenant(database, "Other Corp")
    outsider = GraphQLClient(http, await superadmin_token(database, other))
    data = await outsider(KEY_JOBS, {"k": a})
    # then: none
    assert data["programmingJobs"] == {"totalCount": 0, "edges": []}
    # and: the owner still sees them
    assert (await gql(KEY_JOBS, {"k": a}))["programmingJobs"]["totalCount"] == 2


async def test_a_key_outside_the_callers_domains_names_no_job(
    gql: GraphQLClient, database: Database, tenant: NewTenant, http: object
) -> None:
    # given: a default-domain key with open jobs on two cylinders of the Annex domain
    site = await build_site(database, tenant)
    a = site.keys["E3-A"]
    async with database.tenant_session(tenant.tenant_id) as s:
        annex = Domain(name=f"Annex {secrets.token_hex(3)}")
        s.add(annex)
        await s.flush()
        await s.execute(
            update(Cylinder)
            .where(Cylinder.id.in_(site.cylinder_rows[:2]))
            .values(domain_id=annex.id)
        )
        await s.commit()
        annex_id = annex.id
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[:2], "add": [a]}})
    # when: a caller administering only the Annex asks for the key's jobs (R8)
    limited = GraphQLClient(http, await superadmin_token(database, tenant, domain_ids=[annex_id]))
    everything = await limited("{ programmingJobs { totalCount } }")
    data = await limited(KEY_JOBS, {"k": a})
    # then: it sees the Annex's jobs, but the key does not exist for it, so it names none
    assert everything["programmingJobs"]["totalCount"] == 2
    assert data["programmingJobs"] == {"totalCount": 0, "edges": []}


async def test_a_keys_jobs_cost_the_same_statements_for_few_or_many(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: E3-A on 2 cylinders, E3-B on all 6 (each job also names E3-C)
    site = await build_site(database, tenant)
    a, b, c = site.keys["E3-A"], site.keys["E3-B"], site.keys["E3-C"]
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[:2], "add": [a, c]}})
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders, "add": [b, c]}})
    await gql(KEY_JOBS, {"k": a})
    counts = {}
    for key, n in ((a, 2), (b, 6)):
        with StatementCounter(database.app_engine) as counter:
            data = await gql(KEY_JOBS, {"k": key})
        assert len(data["programmingJobs"]["edges"]) == n
        counts[n] = counter.count
    # then: no statement per job (N+1)
    assert counts[2] == counts[6]
