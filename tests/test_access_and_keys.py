"""FAQ scenarios through GraphQL: issue, list function, lost key, copy, flexible extensions
(R11–R20)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from app.access.engine import JobOutcome, record_programming
from app.db import Database
from app.models import (
    Cylinder,
    CylinderStatus,
    Employee,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    ProgrammingJob,
    ProgrammingJobStatus,
    Schedule,
    Tenant,
)
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient


@dataclass
class Site:
    cylinders: list[str]  # global ids
    cylinder_rows: list[int]
    keys: dict[str, str]  # marking -> global id
    employee: str


async def build_site(database: Database, tenant: NewTenant) -> Site:
    """Six cylinders (the first two security-relevant), in-stock keys of each type, one employee."""
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        cylinders = [
            Cylinder(
                domain_id=tenant.default_domain_id,
                marking=f"D-{i}",
                uid=secrets.token_hex(6),
                status=CylinderStatus.ACTIVE,
                security_relevant=i < 2,
            )
            for i in range(6)
        ]
        specs = [
            ("E3-A", KeyType.E3),
            ("E3-B", KeyType.E3),
            ("E3-C", KeyType.E3),
            ("E2-A", KeyType.E2),
            ("E1-A", KeyType.E1),
        ]
        keys = [
            Key(
                domain_id=tenant.default_domain_id,
                marking=m,
                uid=secrets.token_hex(6),
                type=t,
                generation=KeyGeneration.GEN2,
                firmware_version="16.3.7",
                status=KeyStatus.IN_STOCK,
                schedule_id=schedule,
            )
            for m, t in specs
        ]
        employee = Employee(
            domain_id=tenant.default_domain_id,
            first_name="Ida",
            last_name="Key",
            employee_number="0100",
        )
        s.add_all([*cylinders, *keys, employee])
        await s.commit()
        return Site(
            [to_global_id("Cylinder", c.id) for c in cylinders],
            [c.id for c in cylinders],
            {k.marking: to_global_id("Key", k.id) for k in keys},
            to_global_id("Employee", employee.id),
        )


async def program_all_open_jobs(database: Database, tenant: NewTenant) -> None:
    """The programming key visits every cylinder and reports each job DONE."""
    async with database.tenant_session(tenant.tenant_id) as s:
        jobs = list(
            await s.scalars(
                select(ProgrammingJob).where(
                    ProgrammingJob.status.in_([ProgrammingJobStatus.PENDING])
                )
            )
        )
        for job in jobs:
            job.status = ProgrammingJobStatus.ON_KEY
        await s.flush()
        for job in jobs:
            await record_programming(s, job, JobOutcome.DONE)
        await s.commit()


CHANGE = """
mutation($i: ChangeAuthorizationsInput!) { changeAuthorizations(input: $i) {
  programmingJobs { id status cylinder { marking } changes { op key { marking } group { name } } }
  unchangedCylinders { marking } warnings { code } errors { field code message } } }
"""

ISSUE = """
mutation($i: IssueKeyInput!) { issueKey(input: $i) {
  key { status holder { lastName } auditReadoutEnabled validity { alwaysValid validUntil }
        authorizations { via cylinder { marking } programmed effectiveExtensionIntervalHours } }
  programmingJobs { cylinder { marking } changes { op key { marking } } }
  remoteJobs { kind status } warnings { code } errors { field code message } } }
"""


async def test_list_function_creates_jobs_only_where_needed_and_names_the_unchanged(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: key E3-A already programmed in cylinder D-0
    site = await build_site(database, tenant)
    key = site.keys["E3-A"]
    first = await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[:1], "add": [key]}})
    assert len(first["changeAuthorizations"]["programmingJobs"]) == 1
    await program_all_open_jobs(database, tenant)
    # when: the list function adds it on D-0, D-1, D-2
    data = await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[:3], "add": [key]}})
    result = data["changeAuthorizations"]
    # then: jobs for D-1 and D-2 only; D-0 reported unchanged (R16)
    assert sorted(j["cylinder"]["marking"] for j in result["programmingJobs"]) == ["D-1", "D-2"]
    assert result["unchangedCylinders"] == [{"marking": "D-0"}]
    assert all(
        j["changes"] == [{"op": "ADD", "key": {"marking": "E3-A"}, "group": None}]
        for j in result["programmingJobs"]
    )
    # when: reverted before anyone programmed it
    back = await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[1:3], "remove": [key]}})
    # then: the jobs are cancelled, nothing left to do (R15)
    assert back["changeAuthorizations"]["programmingJobs"] == []
    jobs = await gql("{ programmingJobs(filter: {status: [PENDING, ASSIGNED]}) { totalCount } }")
    assert jobs["programmingJobs"]["totalCount"] == 0


async def test_list_function_errors_name_the_field_and_write_nothing(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    site = await build_site(database, tenant)
    bad = await gql(
        CHANGE,
        {"i": {"cylinderIds": site.cylinders[:2], "add": [site.keys["E3-A"], site.cylinders[0]]}},
    )
    assert bad["changeAuthorizations"]["errors"][0]["field"] == "add.1"
    unknown = await gql(
        CHANGE,
        {"i": {"cylinderIds": [to_global_id("Cylinder", 999999)], "add": [site.keys["E3-A"]]}},
    )
    assert unknown["changeAuthorizations"]["errors"][0] == {
        "field": "cylinderIds.0",
        "code": "NOT_FOUND",
        "message": unknown["changeAuthorizations"]["errors"][0]["message"],
    }
    jobs = await gql("{ programmingJobs { totalCount } }")
    assert jobs["programmingJobs"]["totalCount"] == 0


async def _profile(gql: GraphQLClient, name: str, cylinders: list[str], hours: int | None) -> str:
    data = await gql(
        "mutation($i: CreateAccessProfileInput!) { createAccessProfile(input: $i) "
        "{ accessProfile { id } errors { field message } } }",
        {"i": {"name": name, "cylinderIds": cylinders, "extensionIntervalHours": hours}},
    )
    assert data["createAccessProfile"]["errors"] == []
    return str(data["createAccessProfile"]["accessProfile"]["id"])


async def test_issuing_an_e3_key_creates_programming_and_remote_jobs(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    site = await build_site(database, tenant)
    profile = await _profile(gql, "Offices", site.cylinders[2:4], None)
    data = await gql(
        ISSUE,
        {
            "i": {
                "keyId": site.keys["E3-A"],
                "employeeId": site.employee,
                "accessProfileIds": [profile],
                "extensionIntervalHours": 168,
            }
        },
    )
    result = data["issueKey"]
    assert result["errors"] == []
    assert result["key"]["status"] == "ISSUED"
    assert result["key"]["auditReadoutEnabled"] is True  # approver function off (R29)
    assert sorted(j["cylinder"]["marking"] for j in result["programmingJobs"]) == ["D-2", "D-3"]
    assert sorted(j["kind"] for j in result["remoteJobs"]) == [
        "AUTHORIZATIONS",
        "SCHEDULE",
        "VALIDITY",
    ]
    assert {(a["via"], a["programmed"]) for a in result["key"]["authorizations"]} == {
        ("profile:Offices", False)
    }
    again = await gql(ISSUE, {"i": {"keyId": site.keys["E3-A"], "employeeId": site.employee}})
    assert again["issueKey"]["errors"][0]["code"] == "CONFLICT"


async def test_e1_and_e2_keys_refuse_what_they_cannot_hold(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    site = await build_site(database, tenant)
    e1 = await gql(
        ISSUE,
        {
            "i": {
                "keyId": site.keys["E1-A"],
                "employeeId": site.employee,
                "validity": {"alwaysValid": False, "validUntil": "2027-01-01T00:00:00Z"},
            }
        },
    )
    assert e1["issueKey"]["errors"][0]["code"] == "UNSUPPORTED_KEY_TYPE"
    assert e1["issueKey"]["errors"][0]["field"] == "validity"
    e2 = await gql(
        ISSUE,
        {
            "i": {
                "keyId": site.keys["E2-A"],
                "employeeId": site.employee,
                "extensionIntervalHours": 24,
            }
        },
    )
    assert e2["issueKey"]["errors"][0]["field"] == "extensionIntervalHours"
    ok = await gql(
        ISSUE,
        {
            "i": {
                "keyId": site.keys["E2-A"],
                "employeeId": site.employee,
                "validity": {
                    "alwaysValid": False,
                    "validFrom": "2026-01-01T00:00:00Z",
                    "validUntil": "2027-01-01T00:00:00Z",
                },
            }
        },
    )
    assert ok["issueKey"]["errors"] == []
    assert sorted(j["kind"] for j in ok["issueKey"]["remoteJobs"]) == ["SCHEDULE", "VALIDITY"]
    # a key can never be saved without a schedule or validity (R12)
    data = await gql(
        "query($k: ID!) { node(id: $k) { ... on Key { schedule { name } "
        "validity { alwaysValid validFrom } } } }",
        {"k": site.keys["E2-A"]},
    )
    assert data["node"]["schedule"]["name"] == "Always"


async def test_an_unknown_schedule_is_named_scheduleId_on_issue_and_update(
    gql: GraphQLClient, database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given: a schedule id that names nothing here (unknown, and another tenant's: R1)
    site = await build_site(database, tenant)
    async with database.tenant_session(other_tenant.tenant_id) as s:
        theirs = await s.scalar(select(Schedule.id).where(Schedule.is_default))
    for unknown in (to_global_id("Schedule", 10**9), to_global_id("Schedule", theirs)):
        # when: issuing a key with it, and updating an issued key with it
        issued = await gql(
            ISSUE,
            {"i": {"keyId": site.keys["E3-A"], "employeeId": site.employee, "scheduleId": unknown}},
        )
        updated = await gql(
            "mutation($i: UpdateKeyInput!) { updateKey(input: $i) "
            "{ key { schedule { name } } errors { field code } } }",
            {"i": {"keyId": site.keys["E3-B"], "scheduleId": unknown}},
        )
        # then: NOT_FOUND on the single-id field itself, not on a list entry (scheduleId.0)
        assert issued["issueKey"]["errors"] == [
            {
                "field": "scheduleId",
                "code": "NOT_FOUND",
                "message": issued["issueKey"]["errors"][0]["message"],
            }
        ]
        assert updated["updateKey"] == {
            "key": None,
            "errors": [{"field": "scheduleId", "code": "NOT_FOUND"}],
        }


async def test_flexible_extension_interval_is_never_longer_than_the_keys(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # FAQ: the key's interval (35 days) is the maximum; an inner profile has 24 h (R14)
    site = await build_site(database, tenant)
    outer = await _profile(gql, "Fence", site.cylinders[:1], None)
    inner = await _profile(gql, "Labs", site.cylinders[1:2], 24)
    longer = await _profile(gql, "Annex", site.cylinders[2:3], 2000)
    query = (
        "query($k: ID!) { node(id: $k) { ... on Key { authorizations { via "
        "effectiveExtensionIntervalHours } } } }"
    )
    await gql(
        ISSUE,
        {
            "i": {
                "keyId": site.keys["E3-A"],
                "employeeId": site.employee,
                "accessProfileIds": [outer, inner, longer],
                "extensionIntervalHours": 840,
            }
        },
    )

    async def intervals() -> dict[str, Any]:
        data = await gql(query, {"k": site.keys["E3-A"]})
        return {
            a["via"]: a["effectiveExtensionIntervalHours"] for a in data["node"]["authorizations"]
        }

    assert await intervals() == {"profile:Fence": 840, "profile:Labs": 840, "profile:Annex": 840}
    async with database.tenant_session(tenant.tenant_id) as s:
        await s.execute(update(Tenant).values(flexible_extensions=True))
        await s.commit()
    assert await intervals() == {"profile:Fence": 840, "profile:Labs": 24, "profile:Annex": 840}


LOST = """
mutation($i: ReportKeyLostInput!) { reportKeyLost(input: $i) {
  key { status } programmingJobs { cylinder { marking securityRelevant }
  changes { op key { marking } } } remoteJobs { kind } warnings { code }
  errors { field code message } } }
"""


async def test_a_lost_key_is_blocked_and_removed_from_every_cylinder_security_first(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: an issued E3 key programmed in four cylinders, two of them security-relevant
    site = await build_site(database, tenant)
    await gql(ISSUE, {"i": {"keyId": site.keys["E3-A"], "employeeId": site.employee}})
    await gql(
        CHANGE,
        {
            "i": {
                "cylinderIds": [site.cylinders[i] for i in (4, 0, 3, 1)],
                "add": [site.keys["E3-A"]],
            }
        },
    )
    await program_all_open_jobs(database, tenant)
    # when
    data = await gql(LOST, {"i": {"keyId": site.keys["E3-A"], "deprogram": True}})
    result = data["reportKeyLost"]
    # then: LOST, a removal job per cylinder that holds it, security-relevant ones first (R19)
    assert result["errors"] == []
    assert result["key"]["status"] == "LOST"
    markings = [j["cylinder"]["marking"] for j in result["programmingJobs"]]
    assert sorted(markings[:2]) == ["D-0", "D-1"] and sorted(markings[2:]) == ["D-3", "D-4"]
    assert all(
        j["changes"] == [{"op": "REMOVE", "key": {"marking": "E3-A"}}]
        for j in result["programmingJobs"]
    )
    # and: it is on the blocking list, hidden from normal search, shown by advanced search
    async with database.tenant_session(tenant.tenant_id) as s:
        uid = await s.scalar(select(Key.uid).where(Key.marking == "E3-A"))
    blocking = await gql("{ blockingList { version keyUids signature } }")
    assert uid in blocking["blockingList"]["keyUids"]
    search = await gql(
        '{ normal: keys(filter: {search: "E3-A"}) { totalCount } '
        'advanced: keys(filter: {search: "E3-A", advanced: true}) { totalCount } }'
    )
    assert search == {"normal": {"totalCount": 0}, "advanced": {"totalCount": 1}}
    # and: its waiting remote jobs are cancelled (whoever finds it gets no extension); a BLOCK
    # job waits in case the key turns up at a device (R18)
    assert result["remoteJobs"] == [{"kind": "BLOCK"}]
    jobs = await gql(
        "query($k: ID!) { node(id: $k) { ... on Key { remoteJobs { edges { node "
        "{ kind status } } } } } }",
        {"k": site.keys["E3-A"]},
    )
    edges = jobs["node"]["remoteJobs"]["edges"]
    statuses = {(e["node"]["kind"], e["node"]["status"]) for e in edges}
    assert statuses == {
        ("VALIDITY", "CANCELLED"),
        ("SCHEDULE", "CANCELLED"),
        ("AUTHORIZATIONS", "CANCELLED"),
        ("BLOCK", "PENDING"),
    }
    twice = await gql(LOST, {"i": {"keyId": site.keys["E3-A"], "deprogram": True}})
    assert twice["reportKeyLost"]["errors"][0]["code"] == "CONFLICT"


COPY = """
mutation($i: CopyKeyConfigurationInput!) { copyKeyConfiguration(input: $i) {
  key { marking } copied { what detail } programmingJobs { cylinder { marking } }
  errors { field code message } } }
"""


async def test_copying_a_lost_keys_configuration_onto_a_replacement(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    site = await build_site(database, tenant)
    profile = await _profile(gql, "Floor 1", site.cylinders[2:4], None)
    await gql(
        ISSUE,
        {
            "i": {
                "keyId": site.keys["E3-A"],
                "employeeId": site.employee,
                "accessProfileIds": [profile],
                "extensionIntervalHours": 72,
            }
        },
    )
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[:1], "add": [site.keys["E3-A"]]}})
    await program_all_open_jobs(database, tenant)
    await gql(LOST, {"i": {"keyId": site.keys["E3-A"], "deprogram": True}})
    # when: a dry run onto E3-B shows what will be copied and writes nothing (R20)
    dry = await gql(
        COPY,
        {"i": {"sourceKeyId": site.keys["E3-A"], "targetKeyId": site.keys["E3-B"], "dryRun": True}},
    )
    copied = {(c["what"], c["detail"]) for c in dry["copyKeyConfiguration"]["copied"]}
    assert {
        ("schedule", "Always"),
        ("validity", "always valid"),
        ("validation", "every 72 h"),
        ("accessProfile", "Floor 1"),
        ("authorization", "cylinder D-0"),
    } <= copied
    assert dry["copyKeyConfiguration"]["programmingJobs"] == []
    # then: applied, the replacement gets jobs on the profile's and the direct cylinders
    done = await gql(
        COPY, {"i": {"sourceKeyId": site.keys["E3-A"], "targetKeyId": site.keys["E3-B"]}}
    )
    markings = sorted(
        j["cylinder"]["marking"] for j in done["copyKeyConfiguration"]["programmingJobs"]
    )
    assert markings == ["D-0", "D-2", "D-3"]
    # and: E3 functions cannot go onto an E2 key
    refused = await gql(
        COPY, {"i": {"sourceKeyId": site.keys["E3-A"], "targetKeyId": site.keys["E2-A"]}}
    )
    assert refused["copyKeyConfiguration"]["errors"][0]["code"] == "UNSUPPORTED_KEY_TYPE"


async def test_a_key_added_to_a_group_already_programmed_needs_no_cylinder_job(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # FAQ: "If the E3 key group has already been programmed into the cylinders, no cylinder
    # programming is required" (R20)
    site = await build_site(database, tenant)
    group = await gql(
        "mutation($i: CreateKeyGroupInput!) { createKeyGroup(input: $i) "
        "{ keyGroup { id } errors { code } } }",
        {"i": {"name": "Facility", "keyIds": [site.keys["E3-A"]]}},
    )
    group_id = group["createKeyGroup"]["keyGroup"]["id"]
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[:4], "add": [group_id]}})
    await program_all_open_jobs(database, tenant)
    added = await gql(
        "mutation($i: AddKeysToGroupInput!) { addKeysToGroup(input: $i) "
        "{ remoteJobs { kind } errors { code } } }",
        {"i": {"keyGroupId": group_id, "keyIds": [site.keys["E3-C"]]}},
    )
    assert added["addKeysToGroup"]["remoteJobs"] == [{"kind": "AUTHORIZATIONS"}]
    jobs = await gql("{ programmingJobs(filter: {status: [PENDING]}) { totalCount } }")
    assert jobs["programmingJobs"]["totalCount"] == 0
    # copying a key's direct authorizations onto a member of a programmed group: no jobs either
    await gql(CHANGE, {"i": {"cylinderIds": site.cylinders[:2], "add": [site.keys["E3-B"]]}})
    await program_all_open_jobs(database, tenant)
    copy = await gql(
        COPY, {"i": {"sourceKeyId": site.keys["E3-B"], "targetKeyId": site.keys["E3-C"]}}
    )
    assert copy["copyKeyConfiguration"]["programmingJobs"] == []
    e2 = await gql(
        "mutation($i: CreateKeyGroupInput!) { createKeyGroup(input: $i) "
        "{ errors { field code } } }",
        {"i": {"name": "Mixed", "keyIds": [site.keys["E3-B"], site.keys["E2-A"]]}},
    )
    assert e2["createKeyGroup"]["errors"] == [{"field": "keyIds.1", "code": "UNSUPPORTED_KEY_TYPE"}]


async def test_schedules_are_validated_with_the_field_named(gql: GraphQLClient) -> None:
    create = (
        "mutation($i: CreateScheduleInput!) { createSchedule(input: $i) "
        "{ schedule { name windows { days start end } } errors { field code } } }"
    )
    good = await gql(
        create,
        {
            "i": {
                "name": "Office",
                "windows": [{"days": ["MONDAY", "FRIDAY"], "start": "07:00", "end": "19:00"}],
            }
        },
    )
    assert good["createSchedule"]["schedule"]["windows"][0]["days"] == ["MONDAY", "FRIDAY"]
    for windows, field in (
        ([], "windows"),
        ([{"days": [], "start": "07:00", "end": "08:00"}], "windows.0.days"),
        ([{"days": ["MONDAY"], "start": "7am", "end": "08:00"}], "windows.0.start"),
        ([{"days": ["MONDAY"], "start": "09:00", "end": "08:00"}], "windows.0.end"),
    ):
        bad = await gql(create, {"i": {"name": f"x{field}", "windows": windows}})
        assert bad["createSchedule"]["errors"][0]["field"] == field
    dup = await gql(
        create,
        {
            "i": {
                "name": "Office",
                "windows": [{"days": ["MONDAY"], "start": "07:00", "end": "19:00"}],
            }
        },
    )
    assert dup["createSchedule"]["errors"] == [{"field": "name", "code": "CONFLICT"}]


async def test_return_and_defective(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    site = await build_site(database, tenant)
    profile = await _profile(gql, "Desk", site.cylinders[:1], None)
    await gql(
        ISSUE,
        {
            "i": {
                "keyId": site.keys["E3-A"],
                "employeeId": site.employee,
                "accessProfileIds": [profile],
            }
        },
    )
    await program_all_open_jobs(database, tenant)
    returned = await gql(
        "mutation($i: KeyIdInput!) { returnKey(input: $i) { key { status "
        "holder { id } accessProfiles { name } } programmingJobs "
        "{ changes { op } } errors { code } } }",
        {"i": {"keyId": site.keys["E3-A"]}},
    )
    assert returned["returnKey"]["key"] == {
        "status": "IN_STOCK",
        "holder": None,
        "accessProfiles": [],
    }
    assert returned["returnKey"]["programmingJobs"] == [{"changes": [{"op": "REMOVE"}]}]
    broken = await gql(
        "mutation($i: KeyIdInput!) { reportKeyDefective(input: $i) { key "
        "{ status } warnings { code } errors { code } } }",
        {"i": {"keyId": site.keys["E3-B"]}},
    )
    assert broken["reportKeyDefective"]["key"]["status"] == "DEFECTIVE"
    assert broken["reportKeyDefective"]["warnings"] == [{"code": "REPLACEMENT_PROPOSED"}]


async def test_cylinder_groups_reprogram_cylinders_not_keys(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # R13: a cylinder group takes one slot in an E3 key's memory; adding a cylinder to the
    # group reprograms the cylinder, not the keys
    site = await build_site(database, tenant)
    made = await gql(
        "mutation($i: CreateCylinderGroupInput!) { createCylinderGroup(input: $i) "
        "{ cylinderGroup { id cylinders { marking } } programmingJobs { cylinder { marking } "
        "changes { op cylinderGroup { name } } } errors { code } } }",
        {"i": {"name": "Basement", "cylinderIds": site.cylinders[:2]}},
    )
    group = made["createCylinderGroup"]
    assert [c["marking"] for c in group["cylinderGroup"]["cylinders"]] == ["D-0", "D-1"]
    assert sorted(j["cylinder"]["marking"] for j in group["programmingJobs"]) == ["D-0", "D-1"]
    assert group["programmingJobs"][0]["changes"] == [
        {"op": "ADD", "cylinderGroup": {"name": "Basement"}}
    ]
    await program_all_open_jobs(database, tenant)
    group_id = group["cylinderGroup"]["id"]
    # when: an E3 key is issued with the group
    issued = await gql(
        ISSUE,
        {
            "i": {
                "keyId": site.keys["E3-A"],
                "employeeId": site.employee,
                "cylinderGroupIds": [group_id],
            }
        },
    )
    result = issued["issueKey"]
    # then: no cylinder job, the key's memory learns the group
    assert result["errors"] == [] and result["programmingJobs"] == []
    assert "AUTHORIZATIONS" in {j["kind"] for j in result["remoteJobs"]}
    assert {
        (a["via"], a["cylinder"]["marking"], a["programmed"])
        for a in result["key"]["authorizations"]
    } == {("cylinderGroup:Basement", "D-0", True), ("cylinderGroup:Basement", "D-1", True)}
    # when: a cylinder joins the group: one job for that cylinder only
    joined = await gql(
        "mutation($i: ChangeCylinderGroupMembersInput!) { changeCylinderGroupMembers(input: $i) "
        "{ programmingJobs { cylinder { marking } } errors { code } } }",
        {"i": {"cylinderGroupId": group_id, "add": [site.cylinders[2]]}},
    )
    assert joined["changeCylinderGroupMembers"]["programmingJobs"] == [
        {"cylinder": {"marking": "D-2"}}
    ]
    # and: E2 keys hold no cylinder groups
    e2 = await gql(
        ISSUE,
        {
            "i": {
                "keyId": site.keys["E2-A"],
                "employeeId": site.employee,
                "cylinderGroupIds": [group_id],
            }
        },
    )
    assert e2["issueKey"]["errors"][0]["code"] == "UNSUPPORTED_KEY_TYPE"


async def test_nested_job_pages_cost_the_same_statements_for_few_or_many_cylinders(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # no N+1: each cylinder's programmingJobs page and count load together
    from tests.conftest import StatementCounter

    site = await build_site(database, tenant)
    for key in ("E3-A", "E3-B", "E3-C"):
        await gql(CHANGE, {"i": {"cylinderIds": site.cylinders, "add": [site.keys[key]]}})
    query = (
        "query($n: Int) { cylinders(first: $n) { edges { node { marking "
        "programmingJobs(first: 1) { totalCount pageInfo { hasNextPage } "
        "edges { node { changes { op } } } } } } } }"
    )
    await gql(query, {"n": 1})
    counts = {}
    for n in (2, 6):
        with StatementCounter(database.app_engine) as counter:
            data = await gql(query, {"n": n})
        counts[n] = counter.count
        pages = [e["node"]["programmingJobs"] for e in data["cylinders"]["edges"]]
        assert len(pages) == n
        assert all(p["totalCount"] == 1 and len(p["edges"]) == 1 for p in pages)
        assert all(not p["pageInfo"]["hasNextPage"] for p in pages)
    assert counts[2] == counts[6]
