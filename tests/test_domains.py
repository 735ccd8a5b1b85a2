"""Domains over GraphQL (R8; issue 10 item 2): create, rename, delete, move elements.

A tenant partitions its locking system into domains for delegated administration.
Deleting a domain still in use is CONFLICT naming what it holds and who administers
it; the default domain cannot be deleted. Moving keys, cylinders, employees and
remote devices between domains is one transaction, reprograms nothing (no job is
created), and needs a caller who administers both the source and the target domain.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.auth.principal import SESSION_KIND
from app.auth.tokens import new_token, token_hash
from app.config import Settings
from app.db import Database
from app.domains.service import delete_domain, move_to_domain
from app.errors import CONFLICT, NOT_FOUND, DomainError
from app.migrate import HERE, upgrade
from app.models import (
    AccessEntry,
    ApiToken,
    Bridge,
    Cylinder,
    Domain,
    Employee,
    Key,
    LoginSession,
    ProgrammingJob,
    ProgrammingKeyDomain,
    ProgrammingKeyRole,
    RemoteJob,
    Role,
    utcnow,
)
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, StatementCounter, superadmin_token
from tests.factories import add_domain, seed_elements
from tests.test_programming_keys_jobs import add_device, build_site

CREATE = """
mutation($i: CreateDomainInput!) {
  createDomain(input: $i) { domain { id name description } errors { field code message } }
}
"""
UPDATE = """
mutation($i: UpdateDomainInput!) {
  updateDomain(input: $i) { domain { id name description } errors { field code message } }
}
"""
DELETE = """
mutation($i: DomainIdInput!) {
  deleteDomain(input: $i) { deletedId errors { field code message } }
}
"""
MOVE = """
mutation($i: MoveToDomainInput!) {
  moveToDomain(input: $i) {
    moved {
      __typename id
      ... on Key { marking domain { name } holder { lastName } }
      ... on Cylinder { marking domain { name } }
      ... on Employee { lastName domain { name } }
      ... on RemoteDevice { name domain { name } }
    }
    errors { field code message }
  }
}
"""
DOMAINS = "{ domains { id name description } }"


def gid(type_name: str, ident: int) -> str:
    return to_global_id(type_name, ident)


async def domain_of(database: Database, tenant: NewTenant, model: Any, ident: int) -> int:
    async with database.tenant_session(tenant.tenant_id) as s:
        return int(await s.scalar(select(model.domain_id).where(model.id == ident)))


async def create(gql: GraphQLClient, token: str | None = None, **fields: Any) -> dict[str, Any]:
    return (await gql(CREATE, {"i": fields}, token))["createDomain"]  # type: ignore[no-any-return]


async def update(gql: GraphQLClient, token: str | None = None, **fields: Any) -> dict[str, Any]:
    return (await gql(UPDATE, {"i": fields}, token))["updateDomain"]  # type: ignore[no-any-return]


async def delete(gql: GraphQLClient, domain_gid: str, token: str | None = None) -> dict[str, Any]:
    data = await gql(DELETE, {"i": {"domainId": domain_gid}}, token)
    return data["deleteDomain"]  # type: ignore[no-any-return]


async def move(
    gql: GraphQLClient, domain_gid: str, element_gids: list[str], token: str | None = None
) -> dict[str, Any]:
    data = await gql(MOVE, {"i": {"domainId": domain_gid, "elementIds": element_gids}}, token)
    return data["moveToDomain"]  # type: ignore[no-any-return]


async def sub_key_session(
    database: Database, tenant: NewTenant, programming_key_id: int, role: str
) -> str:
    """A login session of a sub programming key holding ``role`` (its domains are its own)."""
    token = new_token(SESSION_KIND, tenant.tenant_id)
    async with database.tenant_session(tenant.tenant_id) as s:
        role_id = await s.scalar(select(Role.id).where(Role.name == role))
        s.add(ProgrammingKeyRole(programming_key_id=programming_key_id, role_id=role_id))
        s.add(
            LoginSession(
                programming_key_id=programming_key_id,
                secret_hash=token_hash(token),
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        await s.commit()
    return token


# --- create, rename, delete ---------------------------------------------------------


async def test_a_tenant_creates_a_domain_and_renames_and_describes_it(gql: GraphQLClient) -> None:
    # when: a domain is created (R8)
    created = await create(gql, name="  North wing ", description="Labs and offices")
    # then: it is there, its name trimmed
    assert created["errors"] == []
    domain = created["domain"]
    assert (domain["name"], domain["description"]) == ("North wing", "Labs and offices")
    assert domain in (await gql(DOMAINS))["domains"]
    # when: renamed, its description left as it is
    renamed = await update(gql, domainId=domain["id"], name="North")
    # then
    assert renamed == {
        "domain": {"id": domain["id"], "name": "North", "description": "Labs and offices"},
        "errors": [],
    }
    # when: the description is emptied
    cleared = await update(gql, domainId=domain["id"], description="")
    # then: it is removed, the name stays
    assert cleared["domain"] == {"id": domain["id"], "name": "North", "description": None}


@pytest.mark.parametrize(
    ("name", "code"),
    [("", "INVALID"), ("   ", "INVALID"), ("x" * 201, "INVALID"), ("default", "CONFLICT")],
)
async def test_a_domain_needs_a_name_no_other_domain_has_whatever_its_case(
    gql: GraphQLClient, name: str, code: str
) -> None:
    # given: the tenant's "Default" domain (R8)
    before = (await gql(DOMAINS))["domains"]
    # when
    created = await create(gql, name=name)
    # then: the error names the field, nothing is created
    assert created["domain"] is None
    assert [(e["field"], e["code"]) for e in created["errors"]] == [("name", code)]
    assert (await gql(DOMAINS))["domains"] == before


async def test_renaming_a_domain_to_another_domains_name_is_a_conflict(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given
    north = await add_domain(database, tenant, "North")
    await add_domain(database, tenant, "South")
    # when
    renamed = await update(gql, domainId=gid("Domain", north), name="SOUTH")
    same = await update(gql, domainId=gid("Domain", north), name="north")
    # then: another domain's name is taken, a domain's own name (in another case) is not
    assert [(e["field"], e["code"]) for e in renamed["errors"]] == [("name", "CONFLICT")]
    assert same["errors"] == [] and same["domain"]["name"] == "north"


async def test_an_empty_domain_nobody_administers_is_deleted(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given
    empty = gid("Domain", await add_domain(database, tenant, "Empty"))
    # when
    deleted = await delete(gql, empty)
    # then: gone from the list and from node(id)
    assert deleted == {"deletedId": empty, "errors": []}
    assert empty not in [d["id"] for d in (await gql(DOMAINS))["domains"]]
    assert (await gql("query($id: ID!) { node(id: $id) { id } }", {"id": empty}))["node"] is None


async def test_the_default_domain_can_be_renamed_but_not_deleted(
    gql: GraphQLClient, tenant: NewTenant
) -> None:
    # given: the domain every element starts in (R8)
    default = gid("Domain", tenant.default_domain_id)
    # when
    deleted = await delete(gql, default)
    renamed = await update(gql, domainId=default, name="Headquarters")
    # then
    assert deleted["deletedId"] is None
    assert [(e["field"], e["code"]) for e in deleted["errors"]] == [("domainId", "IMMUTABLE")]
    assert renamed["domain"]["name"] == "Headquarters"


async def test_deleting_a_domain_that_holds_elements_is_a_conflict_naming_them_with_counts(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a domain holding two keys, a cylinder, an employee, a wall device and a bridge
    seeded = await seed_elements(database, tenant, keys=20, cylinders=1)  # keys 0, 10 in it
    second = seeded.second_domain_id
    async with database.tenant_session(tenant.tenant_id) as s:
        (await s.get(Cylinder, seeded.cylinder_ids[0])).domain_id = second  # type: ignore[union-attr]
        (await s.get(Employee, seeded.employee_ids[0])).domain_id = second  # type: ignore[union-attr]
        s.add(Bridge(domain_id=second, name="Desk at the gate"))
        await s.commit()
    device = await add_device(database, tenant, "5.0")
    assert (await move(gql, gid("Domain", second), [device]))["errors"] == []
    # when
    deleted = await delete(gql, gid("Domain", second))
    # then: CONFLICT says what it holds, counted; nothing is deleted
    assert deleted["deletedId"] is None
    (error,) = deleted["errors"]
    assert (error["field"], error["code"]) == ("domainId", "CONFLICT")
    assert (
        "holds 2 keys, 1 cylinder, 1 employee, 1 remote device, 1 site bridge" in error["message"]
    )
    assert gid("Domain", second) in [d["id"] for d in (await gql(DOMAINS))["domains"]]


async def test_deleting_a_domain_programming_keys_or_api_tokens_administer_is_a_conflict(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: an empty domain administered by a sub key and a live API token (a revoked one
    # no longer administers anything)
    site = await build_site(database, tenant, cylinders=1)
    domain_b = gid("Domain", site.domain_b)
    async with database.tenant_session(tenant.tenant_id) as s:
        for c in site.cylinders_b:
            await s.delete(await s.get(Cylinder, c))
        await s.commit()
    await superadmin_token(database, tenant, name="Script B", domain_ids=[site.domain_b])
    await superadmin_token(database, tenant, name="Old", domain_ids=[site.domain_b])
    async with database.tenant_session(tenant.tenant_id) as s:
        old = await s.scalar(select(ApiToken).where(ApiToken.name == "Old"))
        assert old is not None
        old.revoked_at = utcnow()
        await s.commit()
    # when
    refused = await delete(gql, domain_b)
    # then: CONFLICT names who administers it, counted
    (error,) = refused["errors"]
    assert (error["field"], error["code"]) == ("domainId", "CONFLICT")
    assert "administered by 1 programming key (PN-B)" in error["message"]
    assert "administered by 1 API token (Script B)" in error["message"]
    assert "Old" not in error["message"] and "holds" not in error["message"]
    # when: the key and the token no longer administer it
    async with database.tenant_session(tenant.tenant_id) as s:
        await s.delete(await s.get(ProgrammingKeyDomain, (site.sub_key_b, site.domain_b)))
        token = await s.scalar(select(ApiToken).where(ApiToken.name == "Script B"))
        assert token is not None
        token.domain_ids = [tenant.default_domain_id]
        await s.commit()
    # then: it can be deleted
    assert await delete(gql, domain_b) == {"deletedId": domain_b, "errors": []}


async def test_another_tenants_domain_is_not_found_like_a_missing_one(
    gql: GraphQLClient, database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given: a domain of another tenant, and an id no domain has (R1)
    theirs = gid("Domain", await add_domain(database, other_tenant, "Theirs"))
    missing = gid("Domain", 10**9)
    key = gid("Key", (await seed_elements(database, tenant, keys=1, cylinders=0)).key_ids[0])
    for domain_gid in (theirs, missing, gid("Key", 1)):
        # when
        answers = [
            await update(gql, domainId=domain_gid, name="Mine now"),
            await delete(gql, domain_gid),
            await move(gql, domain_gid, [key]),
        ]
        # then
        for answer in answers:
            assert [(e["field"], e["code"]) for e in answer["errors"]] == [
                ("domainId", "NOT_FOUND")
            ]
    async with database.tenant_session(other_tenant.tenant_id) as s:
        assert await s.scalar(select(Domain.name).where(Domain.name == "Theirs")) == "Theirs"


# --- moving elements ----------------------------------------------------------------


async def test_moving_keys_cylinders_employees_and_devices_reprograms_nothing(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: cylinders with open programming jobs, the key they are for, its holder's
    # colleague and a wall device, all in domain A (R8, R15)
    site = await build_site(database, tenant, cylinders=3)
    device = await add_device(database, tenant, "5.0")
    async with database.tenant_session(tenant.tenant_id) as s:
        employee = await s.scalar(select(Employee.id).where(Employee.last_name == "Programmer"))
    assert employee is not None

    async def jobs_and_access() -> tuple[list[Any], list[Any], list[Any]]:
        async with database.tenant_session(tenant.tenant_id) as s:
            jobs = (
                await s.execute(
                    select(ProgrammingJob.id, ProgrammingJob.cylinder_id, ProgrammingJob.status)
                    .order_by(ProgrammingJob.id)
                )
            ).all()
            remote = (await s.execute(select(RemoteJob.id, RemoteJob.status))).all()
            access = (
                await s.execute(
                    select(
                        AccessEntry.cylinder_id, AccessEntry.key_id,
                        AccessEntry.desired, AccessEntry.programmed,
                    ).order_by(AccessEntry.cylinder_id, AccessEntry.key_id)
                )
            ).all()
        return list(jobs), list(remote), list(access)

    before = await jobs_and_access()
    assert len(before[0]) == 3 + 2  # one open job per cylinder of A and B
    elements = [
        gid("Cylinder", site.cylinders[0]), gid("Key", site.key_id),
        gid("Employee", employee), device, gid("Cylinder", site.cylinders[1]),
    ]
    # when: all of them move to domain B in one call
    moved = await move(gql, gid("Domain", site.domain_b), elements)
    # then: every one is in B, answered in the order given
    assert moved["errors"] == []
    assert [(m["__typename"], m["id"]) for m in moved["moved"]] == [
        ("Cylinder", elements[0]), ("Key", elements[1]), ("Employee", elements[2]),
        ("RemoteDevice", elements[3]), ("Cylinder", elements[4]),
    ]
    b_name = (await gql("query($id: ID!) { node(id: $id) { ... on Domain { name } } }",
                        {"id": gid("Domain", site.domain_b)}))["node"]["name"]
    assert {m["domain"]["name"] for m in moved["moved"]} == {b_name}
    for model, ident in [(Cylinder, site.cylinders[0]), (Key, site.key_id),
                         (Employee, employee), (Cylinder, site.cylinders[1])]:
        assert await domain_of(database, tenant, model, ident) == site.domain_b
    # and: no programming or remote job was created, changed or cancelled, no access
    # list changed: moving needs no reprogramming (R8)
    assert await jobs_and_access() == before


async def test_a_move_is_all_or_nothing_and_names_the_element_not_found_by_its_index(
    gql: GraphQLClient, database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given: our key and cylinder, another tenant's cylinder, a schedule's id, garbage
    ours = await seed_elements(database, tenant, keys=1, cylinders=1)
    theirs = await seed_elements(database, other_tenant, keys=0, cylinders=1)
    key, cylinder = gid("Key", ours.key_ids[0]), gid("Cylinder", ours.cylinder_ids[0])
    target = gid("Domain", await add_domain(database, tenant, "Target"))
    key_domain = await domain_of(database, tenant, Key, ours.key_ids[0])
    for wrong in (
        gid("Cylinder", theirs.cylinder_ids[0]), gid("Cylinder", 10**9),
        gid("Schedule", 1), gid("Domain", ours.second_domain_id), "not-an-id",
    ):
        # when: the wrong id comes third
        answer = await move(gql, target, [key, cylinder, wrong])
        # then: NOT_FOUND names it by its index, and nothing moved (R1)
        assert answer["moved"] == []
        assert [(e["field"], e["code"]) for e in answer["errors"]] == [
            ("elementIds.2", "NOT_FOUND")
        ]
        assert await domain_of(database, tenant, Key, ours.key_ids[0]) == key_domain
        assert (
            await domain_of(database, tenant, Cylinder, ours.cylinder_ids[0])
            == tenant.default_domain_id
        )
    async with database.tenant_session(other_tenant.tenant_id) as s:
        theirs_domain = await s.scalar(
            select(Cylinder.domain_id).where(Cylinder.id == theirs.cylinder_ids[0])
        )
    assert theirs_domain == other_tenant.default_domain_id


async def test_moving_nothing_is_invalid_and_an_element_named_twice_moves_once(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given
    ours = await seed_elements(database, tenant, keys=1, cylinders=0)
    target = gid("Domain", ours.second_domain_id)
    key = gid("Key", ours.key_ids[0])
    # when
    nothing = await move(gql, target, [])
    twice = await move(gql, target, [key, key])
    # then
    assert [(e["field"], e["code"]) for e in nothing["errors"]] == [("elementIds", "INVALID")]
    assert [m["id"] for m in twice["moved"]] == [key]


async def test_an_api_token_limited_to_domains_moves_only_between_them(
    http: Any, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a token of an Admin for domains A and B; a third domain C (R8, R9)
    seeded = await seed_elements(database, tenant, keys=1, cylinders=2)
    a, b = tenant.default_domain_id, seeded.second_domain_id
    c = await add_domain(database, tenant, "C")
    async with database.tenant_session(tenant.tenant_id) as s:
        (await s.get(Cylinder, seeded.cylinder_ids[1])).domain_id = c  # type: ignore[union-attr]
        await s.commit()
    in_a, in_c = gid("Cylinder", seeded.cylinder_ids[0]), gid("Cylinder", seeded.cylinder_ids[1])
    token = await superadmin_token(database, tenant, domain_ids=[a, b])
    # when: from A to B
    allowed = await move(gql, gid("Domain", b), [in_a], token)
    # then
    assert allowed["errors"] == []
    assert await domain_of(database, tenant, Cylinder, seeded.cylinder_ids[0]) == b
    # when: an element of C, or into C
    from_c = await move(gql, gid("Domain", a), [in_a, in_c], token)
    into_c = await move(gql, gid("Domain", c), [in_a], token)
    # then: C does not exist for the token; nothing moved
    assert [(e["field"], e["code"]) for e in from_c["errors"]] == [("elementIds.1", "NOT_FOUND")]
    assert [(e["field"], e["code"]) for e in into_c["errors"]] == [("domainId", "NOT_FOUND")]
    assert await domain_of(database, tenant, Cylinder, seeded.cylinder_ids[0]) == b
    assert await domain_of(database, tenant, Cylinder, seeded.cylinder_ids[1]) == c


async def test_a_sub_key_moves_only_within_its_own_domains(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: PN-B, a sub key with the Admin role that administers domain B only (R5, R8)
    site = await build_site(database, tenant, cylinders=1)
    token = await sub_key_session(database, tenant, site.sub_key_b, "Admin")
    c = gid("Domain", await add_domain(database, tenant, "C"))
    in_a, in_b = gid("Cylinder", site.cylinders[0]), gid("Cylinder", site.cylinders_b[0])
    # when: an element of A into B, an element of B into the default domain A
    from_a = await move(gql, gid("Domain", site.domain_b), [in_a], token)
    into_a = await move(gql, gid("Domain", tenant.default_domain_id), [in_b], token)
    # then: both are outside its domains
    assert [(e["field"], e["code"]) for e in from_a["errors"]] == [("elementIds.0", "NOT_FOUND")]
    assert [(e["field"], e["code"]) for e in into_a["errors"]] == [("domainId", "NOT_FOUND")]
    # when: it creates a domain, renames its own, renames another
    created = await create(gql, token, name="Mine")
    renamed = await update(gql, token, domainId=gid("Domain", site.domain_b), name="B wing")
    other = await update(gql, token, domainId=c, name="Not mine")
    # then: creating is for administrators of every domain; another domain does not exist
    assert [(e["field"], e["code"]) for e in created["errors"]] == [(None, "FORBIDDEN")]
    assert renamed["errors"] == [] and renamed["domain"]["name"] == "B wing"
    assert [(e["field"], e["code"]) for e in other["errors"]] == [("domainId", "NOT_FOUND")]
    a = tenant.default_domain_id
    assert await domain_of(database, tenant, Cylinder, site.cylinders[0]) == a
    assert await domain_of(database, tenant, Cylinder, site.cylinders_b[0]) == site.domain_b


async def test_the_service_checks_the_source_domain_itself(
    database: Database, tenant: NewTenant
) -> None:
    # given: a session that is not domain-scoped, and a caller administering domain B only
    seeded = await seed_elements(database, tenant, keys=0, cylinders=1)
    b = seeded.second_domain_id
    async with database.tenant_session(tenant.tenant_id) as s:
        # when: a cylinder of the default domain is moved into B
        with pytest.raises(DomainError) as refused:
            await move_to_domain(
                s, b, [("Cylinder", seeded.cylinder_ids[0])], administered=frozenset({b})
            )
    # then: the source domain is checked by the rule, not only by the session's scope (R8)
    assert (refused.value.code, refused.value.field) == (NOT_FOUND, "elementIds.0")


async def test_moved_elements_cost_the_same_statements_for_3_or_30(
    app: Any, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: 30 keys with holders and 30 cylinders
    seeded = await seed_elements(database, tenant, keys=30, cylinders=30)
    target = gid("Domain", seeded.second_domain_id)

    async def statements(n: int) -> int:
        elements = [gid("Key", k) for k in seeded.key_ids[:n]]
        elements += [gid("Cylinder", c) for c in seeded.cylinder_ids[:n]]
        with StatementCounter(database.app_engine) as counter:
            answer = await move(gql, target, elements)
        assert len(answer["moved"]) == 2 * n
        return counter.count

    await gql(DOMAINS)  # the token's last use is written once a minute: not in the count
    # when / then: moving (and answering with each one's domain and holder) costs the same
    assert await statements(3) == await statements(30)


async def test_built_in_admins_may_administer_domains_operators_may_not() -> None:
    # given / then: the right moveToDomain and the domain mutations declare (R7)
    from app.auth.rights import BUILTIN_ROLES

    holders = {name for name, rights in BUILTIN_ROLES.items() if "domains.write" in rights}
    assert holders == {"Superadmin", "Admin"}


def test_built_in_roles_of_existing_tenants_get_the_right_by_migration(tmp_path: Path) -> None:
    # given: a database one migration before the right existed, with a tenant whose built-in
    # roles were made then, and a role of its own (SQLite; the migration is plain SQL) (R7)
    settings = Settings(var_dir=tmp_path)
    (migration,) = (HERE / "versions").glob("*_domains_write_right.py")
    upgrade(settings, f"{migration.name.split('_')[0]}-1")
    before = {"Superadmin": ["domains.read", "keys.read"], "Admin": ["domains.read"],
              "Operator": ["domains.read"], "Own": ["domains.read"]}
    with sqlite3.connect(tmp_path / "keywarden.db") as db:
        db.execute(
            "INSERT INTO tenants VALUES ('t1', 'Old', 'HOSTED', 0, 0, 0, x'00',"
            " '2026-01-01 00:00:00')"
        )
        db.executemany(
            "INSERT INTO roles (name, builtin, rights, tenant_id) VALUES (?, ?, ?, 't1')",
            [(name, name != "Own", json.dumps(rights)) for name, rights in before.items()],
        )
    # when
    upgrade(settings)
    # then: built-in Superadmin and Admin hold it, nothing else changed
    with sqlite3.connect(tmp_path / "keywarden.db") as db:
        rows = db.execute("SELECT name, rights FROM roles").fetchall()
    after = {name: json.loads(rights) for name, rights in rows}
    assert after == {
        "Superadmin": ["domains.read", "keys.read", "domains.write"],
        "Admin": ["domains.read", "domains.write"],
        "Operator": ["domains.read"],
        "Own": ["domains.read"],
    }


async def test_a_delete_waits_for_a_move_into_the_domain_and_then_finds_it_in_use(
    database: Database, tenant: NewTenant
) -> None:
    # given: a move into an empty domain, not yet committed (R8)
    seeded = await seed_elements(database, tenant, keys=0, cylinders=1)
    empty = await add_domain(database, tenant, "Empty")
    async with database.tenant_session(tenant.tenant_id) as moving:
        await move_to_domain(
            moving, empty, [("Cylinder", seeded.cylinder_ids[0])], administered=None
        )

        async def delete_it() -> None:
            async with database.tenant_session(tenant.tenant_id) as deleting:
                await delete_domain(deleting, empty, administered=None)
                await deleting.commit()

        # when: the domain is deleted meanwhile
        deleting = asyncio.create_task(delete_it())
        await asyncio.sleep(0.5)
        # then: the delete waits for the move
        assert not deleting.done()
        await moving.commit()
    # and: then finds the domain holding the cylinder
    with pytest.raises(DomainError) as refused:
        await deleting
    assert refused.value.code == CONFLICT and "holds 1 cylinder" in refused.value.message
    assert await domain_of(database, tenant, Cylinder, seeded.cylinder_ids[0]) == empty


async def test_a_move_waits_for_the_delete_of_its_target_and_then_does_not_find_it(
    database: Database, tenant: NewTenant
) -> None:
    # given: a domain being deleted, not yet committed (R8)
    seeded = await seed_elements(database, tenant, keys=0, cylinders=1)
    doomed = await add_domain(database, tenant, "Doomed")
    async with database.tenant_session(tenant.tenant_id) as deleting:
        await delete_domain(deleting, doomed, administered=None)

        async def move_into_it() -> None:
            async with database.tenant_session(tenant.tenant_id) as moving:
                cylinder = ("Cylinder", seeded.cylinder_ids[0])
                await move_to_domain(moving, doomed, [cylinder], administered=None)
                await moving.commit()

        # when: a cylinder is moved into it meanwhile
        moving = asyncio.create_task(move_into_it())
        await asyncio.sleep(0.5)
        # then: the move waits for the delete
        assert not moving.done()
        await deleting.commit()
    # and: then finds no such domain; the cylinder stays where it was
    with pytest.raises(DomainError) as refused:
        await moving
    assert (refused.value.code, refused.value.field) == (NOT_FOUND, "domainId")
    assert (
        await domain_of(database, tenant, Cylinder, seeded.cylinder_ids[0])
        == tenant.default_domain_id
    )
