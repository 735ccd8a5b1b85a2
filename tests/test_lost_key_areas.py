"""A lost key deprogrammed by area (issue 10 item 7; R19, FAQ: "a lost key should be
deprogrammed of security-relevant areas depending on the authorisation"), and the blocking
list's capacity warning in the answer (issue 10 item 8; R11)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from app.db import Database
from app.models import (
    Cylinder,
    Domain,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    ProgrammingJob,
    ProgrammingJobStatus,
    Schedule,
)
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, superadmin_token
from tests.test_access_and_keys import CHANGE, ISSUE, Site, build_site, program_all_open_jobs

LOST = """
mutation($i: ReportKeyLostInput!) { reportKeyLost(input: $i) {
  key { status }
  programmingJobs { cylinder { marking } changes { op key { marking } } }
  warnings { code message } errors { field code message } } }
"""


async def _programmed_everywhere(gql: GraphQLClient, database: Database, tenant: NewTenant) -> Site:
    """E3-A issued and programmed in D-0..D-4 (D-0 and D-1 security-relevant)."""
    site = await build_site(database, tenant)
    await gql(ISSUE, {"i": {"keyId": site.keys["E3-A"], "employeeId": site.employee}})
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[:5], "add": [site.keys["E3-A"]]}})
    await program_all_open_jobs(database, tenant)
    return site


async def _blocked_uids(gql: GraphQLClient) -> list[str]:
    return list((await gql("{ blockingList { keyUids } }"))["blockingList"]["keyUids"])


async def _key_uid(database: Database, tenant: NewTenant, marking: str) -> str:
    async with database.tenant_session(tenant.tenant_id) as s:
        uid = await s.scalar(select(Key.uid).where(Key.marking == marking))
    assert uid is not None
    return uid


def _jobs(result: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {j["cylinder"]["marking"]: j["changes"] for j in result["programmingJobs"]}


async def outside_one_domain(
    database: Database, tenant: NewTenant, http: Any, cylinder_id: int
) -> GraphQLClient:
    """A Superadmin client of the default domain only, and the cylinder moved to another (R8)."""
    async with database.tenant_session(tenant.tenant_id) as s:
        annex = Domain(name="Annex")
        s.add(annex)
        await s.flush()
        hidden = await s.get(Cylinder, cylinder_id)
        assert hidden is not None
        hidden.domain_id = annex.id
        await s.commit()
    return GraphQLClient(
        http, await superadmin_token(database, tenant, domain_ids=[tenant.default_domain_id])
    )


async def test_a_lost_key_is_deprogrammed_only_from_the_chosen_cylinders_and_blocked_everywhere(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: E3-A programmed in five cylinders
    site = await _programmed_everywhere(gql, database, tenant)
    # when: it is reported lost, deprogrammed from D-2 and D-4 only
    data = await gql(
        LOST,
        {
            "i": {
                "keyId": site.keys["E3-A"],
                "deprogram": True,
                "cylinderIds": [site.cylinders[2], site.cylinders[4]],
            }
        },
    )
    result = data["reportKeyLost"]
    # then: REMOVE jobs there and nowhere else (R19)
    assert result["errors"] == []
    assert result["key"]["status"] == "LOST"
    remove = [{"op": "REMOVE", "key": {"marking": "E3-A"}}]
    assert _jobs(result) == {"D-2": remove, "D-4": remove}
    # and: the admin is told it stays in the three others, kept out there by the blocking list
    assert [w["code"] for w in result["warnings"]] == ["PARTLY_DEPROGRAMMED"]
    assert "3 other cylinder(s)" in result["warnings"][0]["message"]
    # and: the key is on the blocking list in any case
    assert await _key_uid(database, tenant, "E3-A") in await _blocked_uids(gql)
    # and: the open jobs of the tenant are exactly those two (no job for D-0, D-1, D-3)
    async with database.tenant_session(tenant.tenant_id) as s:
        open_jobs = list(
            await s.scalars(
                select(ProgrammingJob.cylinder_id).where(
                    ProgrammingJob.status == ProgrammingJobStatus.PENDING
                )
            )
        )
    assert sorted(open_jobs) == sorted([site.cylinder_rows[2], site.cylinder_rows[4]])


async def test_a_lost_key_is_deprogrammed_from_security_relevant_cylinders_only(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: E3-A programmed in D-0..D-4, of which D-0 and D-1 are security-relevant
    site = await _programmed_everywhere(gql, database, tenant)
    # when
    data = await gql(
        LOST, {"i": {"keyId": site.keys["E3-A"], "deprogram": True, "securityRelevantOnly": True}}
    )
    result = data["reportKeyLost"]
    # then: removal jobs only on the security-relevant cylinders
    assert result["errors"] == []
    remove = [{"op": "REMOVE", "key": {"marking": "E3-A"}}]
    assert _jobs(result) == {"D-0": remove, "D-1": remove}
    assert [w["code"] for w in result["warnings"]] == ["PARTLY_DEPROGRAMMED"]
    assert await _key_uid(database, tenant, "E3-A") in await _blocked_uids(gql)
    # and: a later change of the cylinder's access (another key added to D-0) does not bring
    # the lost key back into D-0's desired list
    later = await gql(
        CHANGE, {"i": {"cylinderIds": site.cylinders[:1], "add": [site.keys["E3-B"]]}}
    )
    changes = later["changeAuthorizations"]["programmingJobs"][0]["changes"]
    assert {c["op"] + ":" + c["key"]["marking"] for c in changes} == {"REMOVE:E3-A", "ADD:E3-B"}


async def test_security_relevant_only_false_deprograms_everywhere(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    site = await _programmed_everywhere(gql, database, tenant)
    data = await gql(
        LOST,
        {"i": {"keyId": site.keys["E3-A"], "deprogram": True, "securityRelevantOnly": False}},
    )
    result = data["reportKeyLost"]
    assert sorted(_jobs(result)) == ["D-0", "D-1", "D-2", "D-3", "D-4"]
    assert result["warnings"] == []


async def test_both_choices_or_a_choice_without_deprogramming_is_invalid_and_writes_nothing(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    site = await _programmed_everywhere(gql, database, tenant)
    key = site.keys["E3-A"]
    cases = [
        ({"deprogram": True, "cylinderIds": site.cylinders[:1], "securityRelevantOnly": True},
         "securityRelevantOnly"),
        ({"deprogram": False, "cylinderIds": site.cylinders[:1]}, "cylinderIds"),
        ({"deprogram": False, "securityRelevantOnly": True}, "securityRelevantOnly"),
        ({"deprogram": True, "cylinderIds": []}, "cylinderIds"),
    ]
    for given, field in cases:
        data = await gql(LOST, {"i": {"keyId": key, **given}})
        errors = data["reportKeyLost"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [("INVALID", field)], given
    # nothing was written: the key is still issued, not on the blocking list, no jobs
    async with database.tenant_session(tenant.tenant_id) as s:
        key_row = await s.scalar(select(Key).where(Key.marking == "E3-A"))
        assert key_row is not None and key_row.status == KeyStatus.ISSUED
        assert await s.scalar(
            select(ProgrammingJob.id).where(ProgrammingJob.status == ProgrammingJobStatus.PENDING)
        ) is None


async def test_other_tenants_and_other_domains_cylinders_are_not_found_naming_cylinder_ids(
    gql: GraphQLClient, database: Database, tenant: NewTenant, other_tenant: NewTenant, http: Any
) -> None:
    # given: E3-A programmed here; a cylinder of another tenant; a cylinder of a domain the
    # caller does not administer (R1, R8)
    site = await _programmed_everywhere(gql, database, tenant)
    foreign = await build_site(database, other_tenant)
    limited = await outside_one_domain(database, tenant, http, site.cylinder_rows[5])
    for client, cylinder in ((gql, foreign.cylinders[0]), (limited, site.cylinders[5])):
        data = await client(
            LOST,
            {"i": {"keyId": site.keys["E3-A"], "deprogram": True,
                   "cylinderIds": [site.cylinders[0], cylinder]}},
        )
        errors = data["reportKeyLost"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", "cylinderIds.1")]
    # and: a caller without keys.write is refused before anything is read (R7)
    reader = GraphQLClient(http, await superadmin_token(database, tenant, rights=["keys.read"]))
    data = await reader(
        LOST, {"i": {"keyId": site.keys["E3-A"], "deprogram": True, "securityRelevantOnly": True}}
    )
    assert data["reportKeyLost"]["errors"][0]["code"] == "FORBIDDEN"
    assert "keys.write" in data["reportKeyLost"]["errors"][0]["message"]


async def _lost_keys(database: Database, tenant: NewTenant, count: int) -> None:
    """``count`` keys already lost (as if reported earlier)."""
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        assert schedule is not None
        s.add_all(
            Key(
                domain_id=tenant.default_domain_id,
                marking=f"GONE-{i:04d}",
                uid=secrets.token_hex(8),
                type=KeyType.E1,
                generation=KeyGeneration.GEN2,
                firmware_version="12.3.0",
                status=KeyStatus.LOST,
                schedule_id=schedule,
            )
            for i in range(count)
        )
        await s.commit()


async def test_the_blocking_list_nearing_capacity_warns_in_the_answer(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: 2,698 keys lost already (R11: a cylinder holds at most 3,000; warn from 2,700)
    site = await build_site(database, tenant)
    await _lost_keys(database, tenant, 2698)
    # when: the 2,699th is reported lost, no warning; the 2,700th, the warning comes back
    below = await gql(LOST, {"i": {"keyId": site.keys["E3-B"], "deprogram": True}})
    assert below["reportKeyLost"]["warnings"] == []
    at = await gql(LOST, {"i": {"keyId": site.keys["E3-C"], "deprogram": True}})
    # then
    warnings = at["reportKeyLost"]["warnings"]
    assert [w["code"] for w in warnings] == ["BLOCKING_LIST_NEARLY_FULL"]
    assert "2700" in warnings[0]["message"] and "3000" in warnings[0]["message"]


async def test_a_lost_key_of_another_tenant_is_not_found(
    gql: GraphQLClient, database: Database, other_tenant: NewTenant
) -> None:
    foreign = await build_site(database, other_tenant)
    data = await gql(LOST, {"i": {"keyId": foreign.keys["E3-A"], "deprogram": True,
                                  "securityRelevantOnly": True}})
    assert [(e["code"], e["field"]) for e in data["reportKeyLost"]["errors"]] == [
        ("NOT_FOUND", "keyId")
    ]
