"""Audit trails (R28): stored once per event, listed newest first, never beyond tenant (R1)
or domains (R8)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.audit.service import ReadEvent, store_audit_events
from app.db import Database
from app.errors import DomainError
from app.models import (
    AccessResult,
    AuditEvent,
    AuditSource,
    Cylinder,
    CylinderStatus,
    Domain,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    Schedule,
)
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, StatementCounter, make_tenant, superadmin_token

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)

EVENTS = """
query($filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { at result key { marking } cylinder { marking } } }
  }
}
"""


@dataclass
class Place:
    """Two domains, each with a cylinder and a key."""

    tenant_id: str
    domain_b: int
    cylinder_a: int
    cylinder_b: int
    key_a: int
    key_b: int
    key_a_uid: str
    key_b_uid: str
    cylinder_b_uid: str


async def build_place(database: Database, tenant: NewTenant) -> Place:
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        domain_b = Domain(name=f"B {secrets.token_hex(3)}")
        s.add(domain_b)
        await s.flush()

        def cylinder(marking: str, domain: int) -> Cylinder:
            return Cylinder(
                domain_id=domain,
                marking=marking,
                uid=secrets.token_hex(8),
                status=CylinderStatus.ACTIVE,
            )

        def key(marking: str, domain: int) -> Key:
            return Key(
                domain_id=domain,
                marking=marking,
                uid=secrets.token_hex(8),
                type=KeyType.E2,
                generation=KeyGeneration.GEN2,
                firmware_version="12.3",
                status=KeyStatus.ISSUED,
                schedule_id=schedule,
            )

        ca, cb = cylinder("CYL-A", tenant.default_domain_id), cylinder("CYL-B", domain_b.id)
        ka, kb = key("KEY-A", tenant.default_domain_id), key("KEY-B", domain_b.id)
        s.add_all([ca, cb, ka, kb])
        await s.commit()
        return Place(
            tenant.tenant_id, domain_b.id, ca.id, cb.id, ka.id, kb.id, ka.uid, kb.uid, cb.uid
        )


async def store(
    database: Database,
    tenant_id: str,
    events: list[ReadEvent],
    *,
    cylinder_id: int | None = None,
    key_id: int | None = None,
    domain_ids: list[int] | None = None,
) -> int:
    source = AuditSource.CYLINDER if cylinder_id is not None else AuditSource.KEY
    async with database.tenant_session(tenant_id, domain_ids) as s:
        stored = await store_audit_events(
            s, source=source, cylinder_id=cylinder_id, key_id=key_id, events=events
        )
        await s.commit()
    return len(stored.stored)


async def trail_of_two_cylinders(database: Database, tenant: NewTenant) -> Place:
    """Cylinder A: key A granted, key A refused by schedule, a foreign key blocked; then
    cylinder B: key B granted; an hour apart each, from T0."""
    place = await build_place(database, tenant)
    await store(
        database,
        place.tenant_id,
        [
            ReadEvent(T0, AccessResult.GRANTED, place.key_a_uid),
            ReadEvent(T0 + timedelta(hours=1), AccessResult.DENIED_SCHEDULE, place.key_a_uid),
            ReadEvent(T0 + timedelta(hours=2), AccessResult.DENIED_BLOCKED, "F0REIGN"),
        ],
        cylinder_id=place.cylinder_a,
    )
    await store(
        database,
        place.tenant_id,
        [ReadEvent(T0 + timedelta(hours=3), AccessResult.GRANTED, place.key_b_uid)],
        cylinder_id=place.cylinder_b,
    )
    return place


def gid(type_name: str, ident: int) -> str:
    return to_global_id(type_name, ident)


# --- storing --------------------------------------------------------------------------


async def test_a_cylinder_trail_names_keys_of_every_domain_and_keeps_foreign_keys_by_uid(
    database: Database, tenant: NewTenant
) -> None:
    # given: a cylinder of domain A, read out by someone administering domain A only
    place = await build_place(database, tenant)
    trail = [
        ReadEvent(T0, AccessResult.GRANTED, key_uid=place.key_b_uid),
        ReadEvent(T0 + timedelta(minutes=1), AccessResult.DENIED_NOT_AUTHORIZED, "F0REIGN"),
        ReadEvent(T0 + timedelta(minutes=1), AccessResult.DENIED_NOT_AUTHORIZED, "F0REIGN"),
    ]
    # when
    stored = await store(
        database,
        place.tenant_id,
        trail,
        cylinder_id=place.cylinder_a,
        domain_ids=[tenant.default_domain_id],
    )
    # then: the key of domain B is resolved, the foreign key kept by its UID, the repeat dropped
    assert stored == 2
    async with database.tenant_session(place.tenant_id) as s:
        rows = list(await s.scalars(select(AuditEvent).order_by(AuditEvent.at)))
    assert [(r.key_id, r.key_uid, r.cylinder_id, r.source) for r in rows] == [
        (place.key_b, place.key_b_uid, place.cylinder_a, AuditSource.CYLINDER),
        (None, "F0REIGN", place.cylinder_a, AuditSource.CYLINDER),
    ]
    # when: the trail is read again with one more event, the times in another offset
    later = [
        ReadEvent(e.at.astimezone(datetime.now().astimezone().tzinfo), e.result, e.key_uid)
        for e in trail
    ] + [ReadEvent(T0 + timedelta(minutes=2), AccessResult.GRANTED, place.key_a_uid)]
    # then: only the new event is stored
    assert await store(database, place.tenant_id, later, cylinder_id=place.cylinder_a) == 1


async def test_a_key_trail_names_the_cylinders_it_met(
    database: Database, tenant: NewTenant
) -> None:
    # given: key A's trail with a cylinder of domain B and an unknown cylinder
    place = await build_place(database, tenant)
    trail = [
        ReadEvent(T0, AccessResult.GRANTED, cylinder_uid=place.cylinder_b_uid),
        ReadEvent(T0, AccessResult.DENIED_SCHEDULE, cylinder_uid="UNKNOWN"),
    ]
    # when: stored twice
    first = await store(database, place.tenant_id, trail, key_id=place.key_a)
    second = await store(database, place.tenant_id, trail, key_id=place.key_a)
    # then
    assert (first, second) == (2, 0)
    async with database.tenant_session(place.tenant_id) as s:
        rows = list(await s.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [(r.source, r.key_id, r.key_uid, r.cylinder_id) for r in rows] == [
        (AuditSource.KEY, place.key_a, place.key_a_uid, place.cylinder_b),
        (AuditSource.KEY, place.key_a, place.key_a_uid, None),
    ]


async def test_an_event_time_without_utc_offset_is_refused_naming_it(
    database: Database, tenant: NewTenant
) -> None:
    place = await build_place(database, tenant)
    naive = [
        ReadEvent(T0, AccessResult.GRANTED),
        ReadEvent(datetime(2024, 1, 1), AccessResult.GRANTED),
    ]
    with pytest.raises(DomainError) as refused:
        await store(database, place.tenant_id, naive, cylinder_id=place.cylinder_a)
    assert (refused.value.code, refused.value.field) == ("INVALID", "auditEvents.1.at")


# --- listing ---------------------------------------------------------------------------


async def test_audit_events_are_listed_newest_first_page_by_page(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: seven events, two of them at the same moment
    place = await build_place(database, tenant)
    times = [T0 + timedelta(minutes=m) for m in (0, 5, 5, 9, 12, 20, 31)]
    await store(
        database,
        place.tenant_id,
        [ReadEvent(at, AccessResult.GRANTED, f"UID{i}") for i, at in enumerate(times)],
        cylinder_id=place.cylinder_a,
    )
    # when: walked three at a time
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data = (await gql(EVENTS, {"first": 3, "after": after}))["auditEvents"]
        pages += 1
        seen += [e["node"]["at"] for e in data["edges"]]
        assert data["totalCount"] == 7
        assert data["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    # then: every event once, newest first (R28)
    assert pages == 3
    expected = sorted(times, reverse=True)
    assert [datetime.fromisoformat(at) for at in seen] == expected
    # and a cursor that is not one of this list is refused
    response = await gql.raw(EVENTS, {"after": "bm90LWEtY3Vyc29y"})
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID"


async def test_audit_events_are_filtered_by_key_cylinder_result_and_time(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: events of both cylinders, by key A, key B and a foreign key
    place = await trail_of_two_cylinders(database, tenant)

    async def listed(filter: dict[str, object]) -> list[tuple[str | None, str]]:
        data = (await gql(EVENTS, {"filter": filter}))["auditEvents"]
        return [
            ((e["node"]["key"] or {}).get("marking"), e["node"]["cylinder"]["marking"])
            for e in data["edges"]
        ]

    # when / then
    assert await listed({"keyId": gid("Key", place.key_a)}) == [
        ("KEY-A", "CYL-A"),
        ("KEY-A", "CYL-A"),
    ]
    assert await listed({"cylinderId": gid("Cylinder", place.cylinder_b)}) == [("KEY-B", "CYL-B")]
    assert await listed({"result": ["DENIED_BLOCKED", "DENIED_SCHEDULE"]}) == [
        (None, "CYL-A"),
        ("KEY-A", "CYL-A"),
    ]
    window = {
        "from": (T0 + timedelta(hours=1)).isoformat(),
        "until": (T0 + timedelta(hours=2)).isoformat(),
    }
    assert await listed(window) == [(None, "CYL-A"), ("KEY-A", "CYL-A")]
    naive = await gql.raw(EVENTS, {"filter": {"from": "2024-03-01T08:00:00"}})
    assert naive.json()["errors"][0]["extensions"] == {"code": "INVALID", "field": "filter.from"}


async def test_an_administrator_of_one_domain_sees_only_events_of_its_cylinders_and_keys(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: events on cylinder A (by key A, by key B, by a foreign key) and on cylinder B
    place = await build_place(database, tenant)
    await store(
        database,
        place.tenant_id,
        [
            ReadEvent(T0, AccessResult.GRANTED, place.key_a_uid),
            ReadEvent(T0 + timedelta(minutes=1), AccessResult.GRANTED, place.key_b_uid),
            ReadEvent(T0 + timedelta(minutes=2), AccessResult.DENIED_NOT_AUTHORIZED, "F0REIGN"),
        ],
        cylinder_id=place.cylinder_a,
    )
    await store(
        database,
        place.tenant_id,
        [ReadEvent(T0 + timedelta(minutes=3), AccessResult.GRANTED, "F0REIGN")],
        cylinder_id=place.cylinder_b,
    )
    token = await superadmin_token(database, tenant, domain_ids=[place.domain_b])
    # when: someone administering domain B lists the audit events
    data = (await gql(EVENTS, {}, token=token))["auditEvents"]
    # then: the event on cylinder B, and key B's event on cylinder A, whose cylinder they
    # cannot see (R8)
    assert [
        ((e["node"]["key"] or {}).get("marking"), (e["node"]["cylinder"] or {}).get("marking"))
        for e in data["edges"]
    ] == [(None, "CYL-B"), ("KEY-B", None)]
    assert data["totalCount"] == 2


async def test_audit_events_of_another_tenant_never_appear(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: both tenants have audit events
    ours = await build_place(database, tenant)
    other = await make_tenant(database, f"Other {secrets.token_hex(3)}")
    theirs = await build_place(database, other)
    await store(
        database,
        ours.tenant_id,
        [ReadEvent(T0, AccessResult.GRANTED, ours.key_a_uid)],
        cylinder_id=ours.cylinder_a,
    )
    await store(
        database,
        theirs.tenant_id,
        [
            ReadEvent(T0, AccessResult.GRANTED, theirs.key_a_uid),
            ReadEvent(T0, AccessResult.DENIED_BLOCKED, ours.key_a_uid),
        ],
        cylinder_id=theirs.cylinder_a,
    )
    # when: we list everything, then filter on their cylinder and key
    everything = (await gql(EVENTS, {}))["auditEvents"]
    by_their_cylinder = (
        await gql(EVENTS, {"filter": {"cylinderId": gid("Cylinder", theirs.cylinder_a)}})
    )["auditEvents"]
    by_their_key = (await gql(EVENTS, {"filter": {"keyId": gid("Key", theirs.key_a)}}))[
        "auditEvents"
    ]
    # then: only ours (R1); our key's UID read in their cylinder is theirs, not ours
    assert everything["totalCount"] == 1
    assert everything["edges"][0]["node"]["cylinder"] == {"marking": "CYL-A"}
    assert by_their_cylinder["totalCount"] == 0 and by_their_cylinder["edges"] == []
    assert by_their_key["totalCount"] == 0
    async with database.tenant_session(theirs.tenant_id) as s:
        foreign = await s.scalar(
            select(AuditEvent).where(AuditEvent.result == AccessResult.DENIED_BLOCKED)
        )
    assert foreign is not None and foreign.key_id is None and foreign.key_uid == ours.key_a_uid


async def test_audit_events_need_the_right_to_read_audit_trails(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    token = await superadmin_token(database, tenant, rights=["keys.read", "cylinders.read"])
    response = await gql.raw(EVENTS, {}, token=token)
    assert response.json()["errors"][0]["message"] == "missing right: audit.read"


async def test_a_page_of_audit_events_costs_a_fixed_number_of_statements(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: 60 events on 6 cylinders by 12 keys
    place = await build_place(database, tenant)
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        cylinders = [
            Cylinder(
                domain_id=tenant.default_domain_id,
                marking=f"N-{i}",
                uid=secrets.token_hex(8),
                status=CylinderStatus.ACTIVE,
            )
            for i in range(6)
        ]
        keys = [
            Key(
                domain_id=tenant.default_domain_id,
                marking=f"NK-{i}",
                uid=secrets.token_hex(8),
                type=KeyType.E2,
                generation=KeyGeneration.GEN2,
                firmware_version="12.3",
                status=KeyStatus.ISSUED,
                schedule_id=schedule,
            )
            for i in range(12)
        ]
        s.add_all(cylinders + keys)
        await s.commit()
    for c, cylinder in enumerate(cylinders):
        await store(
            database,
            place.tenant_id,
            [
                ReadEvent(T0 + timedelta(minutes=c * 10 + i), AccessResult.GRANTED, k.uid)
                for i, k in enumerate(keys[:10])
            ],
            cylinder_id=cylinder.id,
        )
    query = (
        "query($first: Int) { auditEvents(first: $first) "
        "{ edges { node { key { marking } cylinder { marking } } } } }"
    )
    await gql("{ tenant { name } }")  # the token's last-used time is fresh now: no write follows
    counted: dict[int, list[str]] = {}
    # when
    for size in (10, 50):
        with StatementCounter(database.app_engine) as counter:
            data = await gql(query, {"first": size})
        counted[size] = counter.statements
        assert len(data["auditEvents"]["edges"]) == size
        assert all(e["node"]["key"] and e["node"]["cylinder"] for e in data["auditEvents"]["edges"])
    # then: the page, its keys, its cylinders — whatever the page size (no N+1)
    assert len(counted[10]) == len(counted[50])
    data_statements = [s for s in counted[50] if "api_tokens" not in s and "set_config" not in s]
    assert len(data_statements) == 3, data_statements


async def test_trails_of_a_list_of_cylinders_cost_the_same_statements_for_few_or_many(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: 6 cylinders, each with 4 events, the newest last
    async with database.tenant_session(tenant.tenant_id) as s:
        cylinders = [
            Cylinder(
                domain_id=tenant.default_domain_id,
                marking=f"T-{i}",
                uid=secrets.token_hex(8),
                status=CylinderStatus.ACTIVE,
            )
            for i in range(6)
        ]
        s.add_all(cylinders)
        await s.commit()
    for c, cylinder in enumerate(cylinders):
        events = [
            ReadEvent(T0 + timedelta(minutes=c * 10 + i), AccessResult.GRANTED, f"K{c}{i}")
            for i in range(4)
        ]
        await store(database, tenant.tenant_id, events, cylinder_id=cylinder.id)
    query = (
        "query($n: Int) { cylinders(first: $n) { edges { node { marking "
        "auditTrail(first: 2) { totalCount pageInfo { hasNextPage endCursor } "
        "edges { node { at } } } } } } }"
    )
    await gql(query, {"n": 1})  # the token's last-used time is fresh now: no write follows
    counts = {}
    for n in (2, 6):
        # when: the first page of each cylinder's trail is asked for in one list
        with StatementCounter(database.app_engine) as counter:
            data = await gql(query, {"n": n})
        counts[n] = counter.count
        trails = [e["node"]["auditTrail"] for e in data["cylinders"]["edges"]]
        # then: each holds its own two newest events, with the count and a next page
        assert len(trails) == n
        assert all(t["totalCount"] == 4 and t["pageInfo"]["hasNextPage"] for t in trails)
        for trail in trails:
            times = [e["node"]["at"] for e in trail["edges"]]
            assert len(times) == 2 and times == sorted(times, reverse=True)
    # and the statements do not grow with the number of cylinders (no N+1)
    assert counts[2] == counts[6]
    # and the next page of one trail continues where its first page ended (keyset)
    first = data["cylinders"]["edges"][0]["node"]
    by_marking = {c.marking: c.id for c in cylinders}
    rest = await gql(
        "query($id: ID!, $after: String) { node(id: $id) { ... on Cylinder { "
        "auditTrail(first: 5, after: $after) { edges { node { at } } } } } }",
        {
            "id": gid("Cylinder", by_marking[first["marking"]]),
            "after": first["auditTrail"]["pageInfo"]["endCursor"],
        },
    )
    older = [e["node"]["at"] for e in rest["node"]["auditTrail"]["edges"]]
    newest = [e["node"]["at"] for e in first["auditTrail"]["edges"]]
    assert len(older) == 2 and max(older) < min(newest)
