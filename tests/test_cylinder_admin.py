"""Cylinders changed by the administration (issue 10 item 6): updateCylinder(securityRelevant)
and reportCylinderDefective (R10, R11, R15, R19)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.access.engine import OPEN
from app.config import Settings
from app.db import Database
from app.events.publish import JOB_EVENTS
from app.events.pubsub import get_pubsub
from app.models import Cylinder, ProgrammingJob, ProgrammingJobStatus
from app.schema.relay import decode_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, superadmin_token
from tests.test_access_and_keys import CHANGE, ISSUE, Site, build_site, program_all_open_jobs
from tests.test_lost_key_areas import outside_one_domain

UPDATE = """
mutation($i: UpdateCylinderInput!) { updateCylinder(input: $i) {
  cylinder { marking securityRelevant status }
  programmingJobs { status cylinder { marking } changes { op key { marking } } }
  warnings { code message } errors { field code message } } }
"""

DEFECTIVE = """
mutation($i: CylinderIdInput!) { reportCylinderDefective(input: $i) {
  cylinder { marking status }
  programmingJobs { id status cylinder { marking } }
  warnings { code message } errors { field code message } } }
"""

LOST = """
mutation($i: ReportKeyLostInput!) { reportKeyLost(input: $i) {
  programmingJobs { cylinder { marking } } errors { field code message } } }
"""

SEARCH = """
query($s: String!) {
  normal: cylinders(filter: {search: $s}) { totalCount }
  advanced: cylinders(filter: {search: $s, advanced: true}) { totalCount }
  byStatus: cylinders(filter: {search: $s, status: [DEFECTIVE]}) { totalCount }
}
"""


async def _open_jobs(database: Database, tenant: NewTenant, cylinder_id: int) -> list[Any]:
    async with database.tenant_session(tenant.tenant_id) as s:
        return list(
            (
                await s.execute(
                    select(ProgrammingJob.id, ProgrammingJob.status).where(
                        ProgrammingJob.cylinder_id == cylinder_id,
                        ProgrammingJob.status.in_(OPEN),
                    )
                )
            ).all()
        )


async def _lost_in_d0_to_d4(gql: GraphQLClient, database: Database, tenant: NewTenant) -> Site:
    """E3-A programmed in D-0..D-4, then lost and deprogrammed from D-0, D-1 (the
    security-relevant ones) only; those jobs carried out."""
    site = await build_site(database, tenant)
    await gql(ISSUE, {"i": {"keyId": site.keys["E3-A"], "employeeId": site.employee}})
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[:5], "add": [site.keys["E3-A"]]}})
    await program_all_open_jobs(database, tenant)
    lost = await gql(
        LOST, {"i": {"keyId": site.keys["E3-A"], "deprogram": True, "securityRelevantOnly": True}}
    )
    assert lost["reportKeyLost"]["errors"] == []
    await program_all_open_jobs(database, tenant)
    return site


# --- updateCylinder(securityRelevant) ---------------------------------------------------


async def test_marking_a_cylinder_security_relevant_needs_no_programming(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: D-5, an ordinary cylinder with a key programmed in it
    site = await build_site(database, tenant)
    await gql(ISSUE, {"i": {"keyId": site.keys["E3-B"], "employeeId": site.employee}})
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[5:], "add": [site.keys["E3-B"]]}})
    await program_all_open_jobs(database, tenant)
    # when
    data = await gql(UPDATE, {"i": {"cylinderId": site.cylinders[5], "securityRelevant": True}})
    # then: marked, no job (its access list is unchanged, R15), nothing to warn about
    result = data["updateCylinder"]
    assert result["errors"] == []
    assert result["cylinder"] == {"marking": "D-5", "securityRelevant": True, "status": "ACTIVE"}
    assert result["programmingJobs"] == [] and result["warnings"] == []
    assert await _open_jobs(database, tenant, site.cylinder_rows[5]) == []
    # and: marking it ordinary again, or leaving the flag out, changes nothing either
    back = await gql(UPDATE, {"i": {"cylinderId": site.cylinders[5], "securityRelevant": False}})
    assert back["updateCylinder"]["cylinder"]["securityRelevant"] is False
    same = await gql(UPDATE, {"i": {"cylinderId": site.cylinders[5]}})
    assert same["updateCylinder"]["cylinder"]["securityRelevant"] is False
    assert same["updateCylinder"]["programmingJobs"] == []


async def test_a_cylinder_that_becomes_security_relevant_keeps_no_lost_key(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: E3-A lost, still in D-2..D-4 (only security-relevant cylinders were chosen)
    site = await _lost_in_d0_to_d4(gql, database, tenant)
    # when: D-3 is marked security-relevant
    data = await gql(UPDATE, {"i": {"cylinderId": site.cylinders[3], "securityRelevant": True}})
    # then: the lost key is deprogrammed from it: a REMOVE job, and the admin is told (R19)
    result = data["updateCylinder"]
    assert result["errors"] == []
    assert result["programmingJobs"] == [
        {
            "status": "PENDING",
            "cylinder": {"marking": "D-3"},
            "changes": [{"op": "REMOVE", "key": {"marking": "E3-A"}}],
        }
    ]
    assert [w["code"] for w in result["warnings"]] == ["LOST_KEYS_WITHDRAWN"]
    assert "E3-A" in result["warnings"][0]["message"]
    # and: no job anywhere else
    for i in (2, 4):
        assert await _open_jobs(database, tenant, site.cylinder_rows[i]) == []
    # when: it is made ordinary again, the lost key does not come back: the job stays
    back = await gql(UPDATE, {"i": {"cylinderId": site.cylinders[3], "securityRelevant": False}})
    assert back["updateCylinder"]["programmingJobs"] == []
    jobs = await _open_jobs(database, tenant, site.cylinder_rows[3])
    assert [status for _, status in jobs] == [ProgrammingJobStatus.PENDING]
    # and: marking it again finds nothing more to withdraw
    again = await gql(UPDATE, {"i": {"cylinderId": site.cylinders[3], "securityRelevant": True}})
    assert again["updateCylinder"]["programmingJobs"] == []
    assert again["updateCylinder"]["warnings"] == []


# --- reportCylinderDefective ------------------------------------------------------------


async def test_a_defective_cylinder_is_hidden_from_normal_search_and_its_open_jobs_cancelled(
    gql: GraphQLClient, database: Database, tenant: NewTenant, settings: Settings
) -> None:
    # given: D-2 with an open job (E3-A to be added), a jobEvents listener
    site = await build_site(database, tenant)
    await gql(ISSUE, {"i": {"keyId": site.keys["E3-A"], "employeeId": site.employee}})
    added = await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[2:3],
                                     "add": [site.keys["E3-A"]]}})
    (job,) = added["changeAuthorizations"]["programmingJobs"]
    async with get_pubsub(settings).subscribe(tenant.tenant_id, JOB_EVENTS) as mailbox:
        # when
        data = await gql(DEFECTIVE, {"i": {"cylinderId": site.cylinders[2]}})
        # then: DEFECTIVE, its open job cancelled and returned
        result = data["reportCylinderDefective"]
        assert result["errors"] == [] and result["warnings"] == []
        assert result["cylinder"] == {"marking": "D-2", "status": "DEFECTIVE"}
        assert result["programmingJobs"] == [
            {"id": job["id"], "status": "CANCELLED", "cylinder": {"marking": "D-2"}}
        ]
        # and: the cancellation is announced on jobEvents (R23)
        messages = await mailbox.next_batch(wait_seconds=5)
    announced = {i for m in messages for i in m["programming_job_ids"]}
    assert decode_id(job["id"], "ProgrammingJob", "id")[1] in announced
    assert await _open_jobs(database, tenant, site.cylinder_rows[2]) == []
    # and: hidden from normal search, shown by advanced search or by its status (R10)
    search = await gql(SEARCH, {"s": "D-2"})
    assert search == {
        "normal": {"totalCount": 0},
        "advanced": {"totalCount": 1},
        "byStatus": {"totalCount": 1},
    }
    # and: later access changes plan no job for it (it cannot be programmed)
    later = await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[2:4],
                                     "add": [site.keys["E3-B"]]}})
    result = later["changeAuthorizations"]
    assert [j["cylinder"]["marking"] for j in result["programmingJobs"]] == ["D-3"]
    assert await _open_jobs(database, tenant, site.cylinder_rows[2]) == []
    # and: reporting it again is a CONFLICT naming the cylinder
    twice = await gql(DEFECTIVE, {"i": {"cylinderId": site.cylinders[2]}})
    assert [(e["code"], e["field"]) for e in twice["reportCylinderDefective"]["errors"]] == [
        ("CONFLICT", "cylinderId")
    ]


LIST = """
mutation($i: ChangeAuthorizationsInput!) { changeAuthorizations(input: $i) {
  programmingJobs { cylinder { marking } } unchangedCylinders { marking }
  skippedCylinders { cylinder { marking status } code message } errors { field code message } } }
"""
ACCESS_LIST = """
query($id: ID!) { node(id: $id) { ... on Cylinder {
  accessList { key { marking } desired programmed } } } }
"""


async def test_the_list_function_names_a_defective_cylinder_skipped_not_unchanged(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: D-2 defective, D-3 and D-4 fine; E3-B already programmed in D-4
    site = await build_site(database, tenant)
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[4:5], "add": [site.keys["E3-B"]]}})
    await program_all_open_jobs(database, tenant)
    assert (await gql(DEFECTIVE, {"i": {"cylinderId": site.cylinders[2]}}))[
        "reportCylinderDefective"
    ]["errors"] == []
    # when: the list function adds E3-B on D-2, D-3 and D-4 (R16)
    data = await gql(LIST, {"i": {"cylinderIds": site.cylinders[2:5], "add": [site.keys["E3-B"]]}})
    # then: a job for D-3, D-4 unchanged, and D-2 skipped with its reason: it cannot be
    # programmed, so it is neither given a job nor said to hold the change (R11, R16)
    result = data["changeAuthorizations"]
    assert result["errors"] == []
    assert result["programmingJobs"] == [{"cylinder": {"marking": "D-3"}}]
    assert result["unchangedCylinders"] == [{"marking": "D-4"}]
    [skipped] = result["skippedCylinders"]
    assert skipped["cylinder"] == {"marking": "D-2", "status": "DEFECTIVE"}
    assert skipped["code"] == "DEFECTIVE"
    assert "D-2" in skipped["message"] and "replacement" in skipped["message"]
    # and: the decision is kept in its desired list, for its replacement (R32)
    shown = await gql(ACCESS_LIST, {"id": site.cylinders[2]})
    assert shown["node"]["accessList"] == [
        {"key": {"marking": "E3-B"}, "desired": True, "programmed": False}
    ]
    # when: the same change again, and taking it back
    again = await gql(LIST, {"i": {"cylinderIds": site.cylinders[2:3], "add": [site.keys["E3-B"]]}})
    back = await gql(
        LIST, {"i": {"cylinderIds": site.cylinders[2:3], "remove": [site.keys["E3-B"]]}}
    )
    # then: skipped each time, never unchanged
    for answer in (again, back):
        result = answer["changeAuthorizations"]
        assert result["unchangedCylinders"] == [] and result["programmingJobs"] == []
        assert [s["cylinder"]["marking"] for s in result["skippedCylinders"]] == ["D-2"]
    assert (await gql(ACCESS_LIST, {"id": site.cylinders[2]}))["node"]["accessList"] == []


async def test_a_job_already_on_a_programming_key_stays_and_is_warned_about(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: D-1's job loaded onto a programming key already
    site = await build_site(database, tenant)
    await gql(ISSUE, {"i": {"keyId": site.keys["E3-A"], "employeeId": site.employee}})
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[1:2], "add": [site.keys["E3-A"]]}})
    async with database.tenant_session(tenant.tenant_id) as s:
        job = await s.scalar(
            select(ProgrammingJob).where(ProgrammingJob.cylinder_id == site.cylinder_rows[1])
        )
        assert job is not None
        job.status = ProgrammingJobStatus.ON_KEY
        await s.commit()
    # when
    data = await gql(DEFECTIVE, {"i": {"cylinderId": site.cylinders[1]}})
    # then: the key keeps it until it reports; the admin is told
    result = data["reportCylinderDefective"]
    assert result["programmingJobs"] == []
    assert [w["code"] for w in result["warnings"]] == ["JOBS_ON_KEY"]
    assert [s for _, s in await _open_jobs(database, tenant, site.cylinder_rows[1])] == [
        ProgrammingJobStatus.ON_KEY
    ]


# --- rights, domains, tenants -----------------------------------------------------------


async def test_cylinder_changes_need_cylinders_write_and_see_only_own_tenant_and_domains(
    gql: GraphQLClient, database: Database, tenant: NewTenant, other_tenant: NewTenant, http: Any
) -> None:
    site = await build_site(database, tenant)
    foreign = await build_site(database, other_tenant)
    limited = await outside_one_domain(database, tenant, http, site.cylinder_rows[4])
    reader = GraphQLClient(
        http, await superadmin_token(database, tenant, rights=["cylinders.read"])
    )
    calls = [
        (UPDATE, "updateCylinder", {"securityRelevant": True}),
        (DEFECTIVE, "reportCylinderDefective", {}),
    ]
    for query, name, extra in calls:
        # another tenant's cylinder, and one outside the caller's domains: NOT_FOUND (R1, R8)
        for client, cylinder in ((gql, foreign.cylinders[3]), (limited, site.cylinders[4])):
            data = await client(query, {"i": {"cylinderId": cylinder, **extra}})
            assert [(e["code"], e["field"]) for e in data[name]["errors"]] == [
                ("NOT_FOUND", "cylinderId")
            ]
        # without cylinders.write: FORBIDDEN naming it (R7)
        data = await reader(query, {"i": {"cylinderId": site.cylinders[3], **extra}})
        errors = data[name]["errors"]
        assert errors[0]["code"] == "FORBIDDEN" and "cylinders.write" in errors[0]["message"]
    # nothing changed
    async with database.tenant_session(other_tenant.tenant_id) as s:
        row = await s.get(Cylinder, foreign.cylinder_rows[3])
        assert row is not None and row.status.name == "ACTIVE" and not row.security_relevant
    async with database.tenant_session(tenant.tenant_id) as s:
        for ident in (site.cylinder_rows[3], site.cylinder_rows[4]):
            row = await s.get(Cylinder, ident)
            assert row is not None and row.status.name == "ACTIVE" and not row.security_relevant
