"""The partner API over HTTP: queries, paging, node ids, isolation (R1, R8), limits, bad input."""

from __future__ import annotations

from typing import Any

import graphql
import pytest
import strawberry.schema.schema

from app.config import Settings
from app.db import Database
from app.models import KeyStatus
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, StatementCounter, superadmin_token
from tests.factories import seed_elements

KEYS_PAGE = """
query($first: Int, $after: String) {
  keys(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { holder { lastName } domain { name } accessProfiles { name } } }
  }
}
"""


async def test_keys_page_costs_a_fixed_number_of_statements_whatever_its_size(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given
    await seed_elements(database, tenant, keys=60)
    await gql("{ tenant { name } }")  # the token's last-used time is fresh now: no write follows
    counted: dict[int, list[str]] = {}
    # when
    for size in (10, 50):
        with StatementCounter(database.app_engine) as counter:
            data = await gql(KEYS_PAGE, {"first": size})
        counted[size] = counter.statements
        assert len(data["keys"]["edges"]) == size
        assert data["keys"]["edges"][0]["node"]["accessProfiles"] == [
            {"name": "Profile 0"},
            {"name": "Profile 1"},
        ]
    # then: the same statements for 10 and 50 keys: no N+1
    assert len(counted[10]) == len(counted[50])
    # authentication (token lookup; on PostgreSQL the tenant setting of its transaction) aside,
    # the query runs exactly: keys page, totalCount, holders, domains, access profiles
    data_statements = [s for s in counted[50] if "api_tokens" not in s and "set_config" not in s]
    assert len(data_statements) == 5, data_statements


async def test_paging_walks_every_key_once_in_marking_order(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    await seed_elements(database, tenant, keys=25)
    seen: list[str] = []
    after = None
    while True:
        data = await gql(
            "query($after: String) { keys(first: 10, after: $after) { totalCount "
            "pageInfo { hasNextPage endCursor } edges { node { marking } } } }",
            {"after": after},
        )
        page = data["keys"]
        assert page["totalCount"] == 25
        seen += [e["node"]["marking"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 25


async def test_another_tenants_keys_are_invisible_everywhere(
    gql: GraphQLClient,
    http: object,
    database: Database,
    tenant: NewTenant,
    other_tenant: NewTenant,
) -> None:
    # R1 on every read path: list, search, node, nodes
    mine = await seed_elements(database, tenant, keys=3, prefix="MINE")
    theirs = await seed_elements(database, other_tenant, keys=3, prefix="THEIRS")
    data = await gql(
        '{ keys(filter: {search: "THEIRS"}) { totalCount } '
        "cylinders { totalCount } employees { totalCount } }"
    )
    assert data["keys"]["totalCount"] == 0
    assert data["cylinders"]["totalCount"] == 10
    assert data["employees"]["totalCount"] == 3
    their_key = to_global_id("Key", theirs.key_ids[0])
    my_key = to_global_id("Key", mine.key_ids[0])
    data = await gql(
        "query($a: ID!, $b: ID!) { node(id: $a) { id } nodes(ids: [$a, $b]) { id } }",
        {"a": their_key, "b": my_key},
    )
    assert data["node"] is None
    assert data["nodes"] == [None, {"id": my_key}]
    their_cylinder = to_global_id("Cylinder", theirs.cylinder_ids[0])
    their_employee = to_global_id("Employee", theirs.employee_ids[0])
    data = await gql(
        "query($c: ID!, $e: ID!) { c: node(id: $c) { id } e: node(id: $e) { id } }",
        {"c": their_cylinder, "e": their_employee},
    )
    assert data == {"c": None, "e": None}


async def test_a_token_limited_to_one_domain_sees_only_that_domain(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # R8: elements of other domains do not exist for it
    seeded = await seed_elements(database, tenant, keys=30)
    token = await superadmin_token(database, tenant, domain_ids=[seeded.second_domain_id])
    data = await gql(
        "{ keys { totalCount edges { node { domain { id } } } } domains { id } }", token=token
    )
    second = to_global_id("Domain", seeded.second_domain_id)
    assert data["keys"]["totalCount"] == 3
    assert {e["node"]["domain"]["id"] for e in data["keys"]["edges"]} == {second}
    assert data["domains"] == [{"id": second}]
    hidden = to_global_id("Key", seeded.key_ids[1])  # key 1 is in the default domain
    assert (await gql("query($i: ID!) { node(id: $i) { id } }", {"i": hidden}, token))[
        "node"
    ] is None


async def test_lost_keys_appear_only_in_advanced_search(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    from app.models import Key

    seeded = await seed_elements(database, tenant, keys=5)
    async with database.tenant_session(tenant.tenant_id) as s:
        key = await s.get(Key, seeded.key_ids[0])
        assert key is not None
        key.status = KeyStatus.LOST
        await s.commit()
    data = await gql(
        "{ normal: keys { totalCount } advanced: keys(filter: {advanced: true}) "
        "{ totalCount } lost: keys(filter: {status: [LOST]}) { totalCount } }"
    )
    assert data == {
        "normal": {"totalCount": 4},
        "advanced": {"totalCount": 5},
        "lost": {"totalCount": 1},
    }


async def test_a_missing_right_is_forbidden_and_named(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    token = await superadmin_token(database, tenant, rights=["employees.read"])
    response = await gql.raw("{ keys { totalCount } }", token=token)
    body = response.json()
    assert body["errors"][0]["message"] == "missing right: keys.read"
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_requests_without_or_with_a_bad_token_are_refused(gql: GraphQLClient) -> None:
    response = await gql.raw("{ keys { totalCount } }", token="")
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    response = await gql.raw("{ keys { totalCount } }", token="nonsense")
    assert response.status_code == 401
    forged = gql.token[:-4] + "AAAA"
    response = await gql.raw("{ keys { totalCount } }", token=forged)
    assert response.status_code == 401


async def test_malformed_queries_and_wrong_types_get_clear_errors_not_500(
    gql: GraphQLClient,
) -> None:
    for query, fragment in [
        ("{ keys { totalCount ", "Syntax Error"),
        ('{ keys(first: "ten") { totalCount } }', "Int cannot represent"),
        ("{ keyz { totalCount } }", "Cannot query field 'keyz'"),
    ]:
        response = await gql.raw(query)
        assert response.status_code in (200, 400)
        assert fragment in response.json()["errors"][0]["message"]
    response = await gql.raw("{ keys(first: 1000) { totalCount } }")
    assert response.json()["errors"][0]["extensions"]["field"] == "first"
    response = await gql.raw('{ keys(after: "garbage") { totalCount } }')
    assert response.json()["errors"][0]["extensions"]["field"] == "after"
    response = await gql.raw('{ node(id: "not-an-id") { id } }')
    assert response.json()["data"] == {"node": None}


async def test_deep_and_expensive_queries_are_refused(gql: GraphQLClient) -> None:
    nested = "id"
    for _ in range(6):
        nested = f"holder {{ keys {{ {nested} }} }}"
    deep = f"{{ keys {{ edges {{ node {{ {nested} }} }} }} }}"
    response = await gql.raw(deep)
    assert "exceeds maximum operation depth" in response.json()["errors"][0]["message"]
    costly = (
        "{ keys(first: 100) { edges { node { authorizations { cylinder { programmingJobs"
        "(first: 100) { edges { node { id } } } } } } } } }"
    )
    response = await gql.raw(costly)
    assert "too expensive" in response.json()["errors"][0]["message"]


async def test_a_query_is_validated_once_however_often_it_comes(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: graphql-core's validation, counted (the limits are validation rules)
    validations: list[str] = []

    def counted(schema: Any, document: Any, rules: Any) -> Any:
        validations.append(graphql.print_ast(document))
        return graphql.validate(schema, document, rules)

    monkeypatch.setattr(strawberry.schema.schema, "validate", counted)
    query = "{ keys(first: 5) { totalCount edges { node { id marking } } } }"

    # when: a partner sends the same query three times, then another one
    for _ in range(3):
        assert "errors" not in (await gql.raw(query)).json()
    assert "errors" not in (await gql.raw("{ myRights }")).json()

    # then: each was validated once, the limits included
    assert len(validations) == 2
    deep = "{ keys { edges { node { " + "holder { keys { " * 6 + "id" + " } }" * 6 + " } } } }"
    for _ in range(2):
        message = (await gql.raw(deep)).json()["errors"][0]["message"]
        assert "exceeds maximum operation depth" in message
    assert len(validations) == 3


async def test_introspection_is_off_outside_debug(gql: GraphQLClient) -> None:
    response = await gql.raw("{ __schema { types { name } } }")
    assert "introspection" in response.json()["errors"][0]["message"].lower()


async def test_tenant_and_rights_describe_the_installation(gql: GraphQLClient) -> None:
    data = await gql(
        "{ tenant { name hostingMode approverFunction flexibleExtensions } "
        "rights { name } roles { name builtin } schedules { name windows { days start end } } "
        "me { id } }"
    )
    assert data["tenant"] == {
        "name": "Acme",
        "hostingMode": "HOSTED",
        "approverFunction": False,
        "flexibleExtensions": False,
    }
    assert {r["name"] for r in data["roles"]} == {
        "Superadmin",
        "Admin",
        "Operator",
        "Auditor",
        "Approver",
    }
    assert data["schedules"][0]["windows"][0]["days"][0] == "SUNDAY"
    assert data["me"] is None  # an API token is no programming key


async def test_graphiql_and_introspection_only_in_debug(
    settings: Settings, database: Database
) -> None:
    import httpx

    from app.web import create_app

    for debug, expected in ((False, 404), (True, 200)):
        app = create_app(settings.model_copy(update={"keywarden_debug": debug}), database)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert (page.status_code == 200 and "graphiql" in page.text.lower()) is (expected == 200)


async def test_oversized_documents_are_refused_by_the_token_limit(gql: GraphQLClient) -> None:
    query = "{ " + " ".join(f"a{i}: tenant {{ name }}" for i in range(600)) + " }"
    response = await gql.raw(query)
    message = response.json()["errors"][0]["message"]
    assert "token" in message.lower() or "aliases" in message.lower()


async def test_an_id_of_another_tenant_in_a_mutation_is_not_found(
    gql: GraphQLClient, database: Database, other_tenant: NewTenant
) -> None:
    from app.models import Extension

    async with database.tenant_session(other_tenant.tenant_id) as s:
        ext = Extension(file_id="f-1", content={}, new_keys=0, new_cylinders=0, clones=0)
        s.add(ext)
        await s.commit()
    data = await gql(
        "mutation($id: ID!) { activateExtension(id: $id) { extension { id } errors { code } } }",
        {"id": to_global_id("Extension", ext.id)},
    )
    assert data["activateExtension"] == {"extension": None, "errors": [{"code": "NOT_FOUND"}]}
    async with database.tenant_session(other_tenant.tenant_id) as s:
        row = await s.get(Extension, ext.id)
        assert row is not None and not row.activated


async def test_keyset_cursors_round_trip_timestamps(database: Database, tenant: NewTenant) -> None:
    from sqlalchemy import select

    from app.db import SerialSession
    from app.models import Employee
    from app.schema.relay import fetch_page

    await seed_elements(database, tenant, keys=5)
    async with database.tenant_session(tenant.tenant_id) as s:
        db = SerialSession(s)
        order = [Employee.created_at, Employee.id]
        first = await fetch_page(db.execute, select(Employee), order, first=2, after=None)
        second = await fetch_page(db.execute, select(Employee), order, first=10,
                                  after=first.cursors[-1])
    assert len(first.rows) + len(second.rows) == 5
    assert not {e.id for e in first.rows} & {e.id for e in second.rows}
