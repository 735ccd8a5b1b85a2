"""The audit trail export, /export/audit-events.csv (R28; issue 12 item 8): the filter of
``auditEvents`` as query parameters, newest first, streamed, within tenant (R1) and
domains (R8)."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from app.audit.service import ReadEvent
from app.audit.trail import EXPORT_PAGE
from app.db import Database
from app.models import AccessResult, AuditEvent, AuditSource, Cylinder
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, StatementCounter, make_tenant, superadmin_token
from tests.test_audit_trail import T0, build_place, gid, store, trail_of_two_cylinders

HEADER = ["at", "key", "cylinder", "result"]


async def export(
    gql: GraphQLClient, params: dict[str, Any] | list[tuple[str, str]], token: str | None = None
) -> list[list[str]]:
    response = await gql.http.get(
        "/export/audit-events.csv", params=params, headers=gql.headers(token)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == HEADER
    return rows[1:]


async def test_the_export_lists_every_visible_event_newest_first_as_the_employee_export_does(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: four events, a cylinder whose marking a spreadsheet would run as a formula,
    # and a withheld readout (R29)
    place = await trail_of_two_cylinders(database, tenant)
    async with database.tenant_session(place.tenant_id) as s:
        (await s.get_one(Cylinder, place.cylinder_b)).marking = "=1+1"
        s.add(
            AuditEvent(
                at=T0 + timedelta(hours=9),
                source=AuditSource.CYLINDER,
                cylinder_id=place.cylinder_a,
                result=AccessResult.GRANTED,
                withheld=True,
            )
        )
        await s.commit()
    # when
    rows = await export(gql, {})
    # then: newest first, times in UTC, markings (none for the foreign key), the formula
    # neutralised, the withheld event left out
    assert rows == [
        ["2024-03-01T11:00:00+00:00", "KEY-B", "'=1+1", "GRANTED"],
        ["2024-03-01T10:00:00+00:00", "", "CYL-A", "DENIED_BLOCKED"],
        ["2024-03-01T09:00:00+00:00", "KEY-A", "CYL-A", "DENIED_SCHEDULE"],
        ["2024-03-01T08:00:00+00:00", "KEY-A", "CYL-A", "GRANTED"],
    ]


async def test_the_export_is_filtered_like_the_audit_events_query(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given
    place = await trail_of_two_cylinders(database, tenant)

    async def results(params: dict[str, Any] | list[tuple[str, str]]) -> list[tuple[str, ...]]:
        return [(key, cylinder, result) for _, key, cylinder, result in await export(gql, params)]

    # when / then: each condition, and several at once
    assert await results({"keyId": gid("Key", place.key_a)}) == [
        ("KEY-A", "CYL-A", "DENIED_SCHEDULE"),
        ("KEY-A", "CYL-A", "GRANTED"),
    ]
    assert await results({"cylinderId": gid("Cylinder", place.cylinder_b)}) == [
        ("KEY-B", "CYL-B", "GRANTED")
    ]
    assert await results([("result", "DENIED_BLOCKED"), ("result", "DENIED_SCHEDULE")]) == [
        ("", "CYL-A", "DENIED_BLOCKED"),
        ("KEY-A", "CYL-A", "DENIED_SCHEDULE"),
    ]
    assert await results(
        {"from": (T0 + timedelta(hours=1)).isoformat(), "until": "2024-03-01T12:00:00+02:00"}
    ) == [("", "CYL-A", "DENIED_BLOCKED"), ("KEY-A", "CYL-A", "DENIED_SCHEDULE")]
    assert await results(
        {"cylinderId": gid("Cylinder", place.cylinder_a), "result": "GRANTED"}
    ) == [("KEY-A", "CYL-A", "GRANTED")]


async def test_another_tenants_events_never_appear_and_its_ids_read_like_missing_ones(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: both tenants have audit trails
    await trail_of_two_cylinders(database, tenant)
    theirs = await trail_of_two_cylinders(
        database, await make_tenant(database, f"Other {secrets.token_hex(3)}")
    )
    # when
    everything = await export(gql, {})
    by_their_cylinder = await export(gql, {"cylinderId": gid("Cylinder", theirs.cylinder_a)})
    by_their_key = await export(gql, {"keyId": gid("Key", theirs.key_a)})
    by_no_key = await export(gql, {"keyId": gid("Key", 10**9)})
    # then: only ours (R1); their ids find nothing, exactly like an id of nothing
    assert len(everything) == 4
    assert by_their_cylinder == by_their_key == by_no_key == []


async def test_an_administrator_of_one_domain_exports_only_events_of_its_cylinders_and_keys(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: key B (domain B) also opened cylinder A (default domain)
    place = await trail_of_two_cylinders(database, tenant)
    await store(
        database,
        place.tenant_id,
        [ReadEvent(T0 + timedelta(hours=4), AccessResult.GRANTED, place.key_b_uid)],
        cylinder_id=place.cylinder_a,
    )
    token = await superadmin_token(database, tenant, domain_ids=[place.domain_b])
    # when
    rows = await export(gql, {}, token=token)
    # then: key B's events; cylinder A's marking stays unknown to them (R8)
    assert [row[1:] for row in rows] == [["KEY-B", "", "GRANTED"], ["KEY-B", "CYL-B", "GRANTED"]]


async def test_the_export_needs_a_credential_and_the_right_to_read_audit_trails(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given
    token = await superadmin_token(database, tenant, rights=["keys.read", "cylinders.read"])
    # when
    anonymous = await gql.http.get("/export/audit-events.csv")
    without_right = await gql.http.get("/export/audit-events.csv", headers=gql.headers(token))
    posted = await gql.http.post("/export/audit-events.csv", headers=gql.headers())
    # then
    assert anonymous.status_code == 401
    assert without_right.status_code == 403
    assert without_right.json()["errors"][0]["message"] == "missing right: audit.read"
    assert posted.status_code == 405


async def test_a_bad_parameter_is_refused_naming_it(gql: GraphQLClient) -> None:
    cases: list[tuple[list[tuple[str, str]], str]] = [
        ([("keyId", "nonsense")], "keyId"),
        ([("keyId", gid("Cylinder", 1))], "keyId"),
        ([("cylinderId", gid("Key", 1))], "cylinderId"),
        ([("result", "OPENED")], "result"),
        ([("from", "yesterday")], "from"),
        ([("until", "2024-03-01T08:00:00")], "until"),
        ([("until", "2024-03-01T08:00:00Z"), ("until", "2024-03-02T08:00:00Z")], "until"),
        ([("keyid", gid("Key", 1))], "keyid"),
    ]
    for params, name in cases:
        # when
        response = await gql.http.get(
            "/export/audit-events.csv", params=params, headers=gql.headers()
        )
        # then
        assert response.status_code == 400, params
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "INVALID"
        assert error["message"].startswith(f"{name}: "), error


async def test_a_large_export_is_read_page_by_page_never_whole(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: 20,000 events on one cylinder, one second apart
    place = await build_place(database, tenant)
    count = 20_000
    async with database.tenant_session(place.tenant_id) as s:
        await s.execute(
            insert(AuditEvent),
            [
                {
                    "tenant_id": place.tenant_id,
                    "at": T0 + timedelta(seconds=i),
                    "source": AuditSource.CYLINDER,
                    "cylinder_id": place.cylinder_a,
                    "key_uid": place.key_a_uid,
                    "key_id": place.key_a,
                    "result": AccessResult.GRANTED,
                }
                for i in range(count)
            ],
        )
        await s.commit()
    # when
    with StatementCounter(database.app_engine) as counter:
        rows = await export(gql, {"cylinderId": gid("Cylinder", place.cylinder_a)})
    # then: every event once, newest first ...
    assert len(rows) == count
    assert rows[0][0] == (T0 + timedelta(seconds=count - 1)).isoformat()
    assert rows[-1][0] == T0.isoformat()
    assert len({row[0] for row in rows}) == count
    # ... read by one bounded statement per page of events
    reads = [s for s in counter.statements if "FROM audit_events" in s]
    assert len(reads) == count // EXPORT_PAGE + 1
    assert all("LIMIT" in s for s in reads)
