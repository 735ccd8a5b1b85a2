"""Editing access objects through GraphQL: schedules, access profiles, key groups (R12–R15, R8).

The jobs an edit causes are exactly the difference it makes to desired access
(R15): a cylinder added to a profile gets ADD jobs for the keys holding the
profile, one removed gets REMOVE jobs, an unchanged list gets none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import delete as delete_rows
from sqlalchemy import select

from app.access.engine import open_job_changes
from app.config import Settings
from app.db import Database
from app.events.publish import JOB_EVENTS
from app.events.pubsub import get_pubsub
from app.ids import decode_id
from app.models import (
    AccessChangeOp,
    AccessProfile,
    AccessProfileCylinder,
    Employee,
    EmployeeAccessProfile,
    Key,
    KeyGroup,
    KeyStatus,
    KeyType,
    ProgrammingJob,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
    Schedule,
)
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, StatementCounter, superadmin_token
from tests.factories import add_domain, default_schedule, new_cylinder, new_key, new_profile
from tests.harness import patience
from tests.test_access_and_keys import program_all_open_jobs

ADD, REMOVE = AccessChangeOp.ADD, AccessChangeOp.REMOVE

UPDATE_PROFILE = """
mutation($i: UpdateAccessProfileInput!) { updateAccessProfile(input: $i) {
  accessProfile { name extensionIntervalHours schedule { name } cylinders { marking } }
  programmingJobs { id status cylinder { marking } changes { op key { marking } } }
  errors { field code message } } }
"""
UPDATE_SCHEDULE = """
mutation($i: UpdateScheduleInput!) { updateSchedule(input: $i) {
  schedule { name windows { days start end } }
  remoteJobs { id kind status key { marking } }
  errors { field code message } } }
"""
UPDATE_GROUP = """
mutation($i: UpdateKeyGroupInput!) { updateKeyGroup(input: $i) {
  keyGroup { name keys { marking } }
  programmingJobs { cylinder { marking } changes { op key { marking } } }
  remoteJobs { kind key { marking } }
  errors { field code message } } }
"""
ISSUE = """
mutation($i: IssueKeyInput!) { issueKey(input: $i) { errors { field code message } } }
"""


@dataclass
class Site:
    """A profile "Offices" on C-0 and C-1, held by key E3-A itself and by E2-B's holder;
    E3-C is issued without it; X-0 is a cylinder of the second domain "Annex"."""

    tenant: NewTenant
    cylinders: dict[str, int]
    keys: dict[str, int]
    profile: int
    annex: int

    def cylinder(self, marking: str) -> str:
        return to_global_id("Cylinder", self.cylinders[marking])

    def key(self, marking: str) -> str:
        return to_global_id("Key", self.keys[marking])

    @property
    def profile_gid(self) -> str:
        return to_global_id("AccessProfile", self.profile)


async def build_site(gql: GraphQLClient, database: Database, tenant: NewTenant) -> Site:
    annex = await add_domain(database, tenant, "Annex")
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await default_schedule(s)
        cylinders = [new_cylinder(tenant.default_domain_id, f"C-{i}") for i in range(4)]
        cylinders.append(new_cylinder(annex, "X-0"))
        keys = [
            new_key(tenant.default_domain_id, marking, schedule, type=type_)
            for marking, type_ in [("E3-A", KeyType.E3), ("E2-B", KeyType.E2),
                                   ("E3-C", KeyType.E3), ("E1-D", KeyType.E1)]
        ]
        people = [
            Employee(domain_id=tenant.default_domain_id, employee_number=f"00{i}",
                     first_name=first, last_name="Holder")
            for i, first in enumerate(["Ida", "Bob", "Cem", "Dora"])
        ]
        s.add_all([*cylinders, *keys, *people])
        profile = await new_profile(s, "Offices", schedule, cylinders[:2])
        s.add(EmployeeAccessProfile(employee_id=people[1].id, access_profile_id=profile.id))
        await s.commit()
        site = Site(tenant, {c.marking: c.id for c in cylinders},
                    {k.marking: k.id for k in keys}, profile.id, annex)
        holders = {
            k.marking: to_global_id("Employee", p.id) for k, p in zip(keys, people, strict=True)
        }
    for marking, profiles in [("E3-A", [site.profile_gid]), ("E2-B", []), ("E3-C", []),
                              ("E1-D", [])]:
        issued = await gql(ISSUE, {"i": {"keyId": site.key(marking),
                                         "employeeId": holders[marking],
                                         "accessProfileIds": profiles}})
        assert issued["issueKey"]["errors"] == []
    await program_all_open_jobs(database, tenant)
    return site


async def open_jobs(database: Database, site: Site) -> dict[str, set[tuple[AccessChangeOp, str]]]:
    """Every open job's changes, by cylinder marking and key marking."""
    markings = {v: k for k, v in site.keys.items()}
    cylinders = {v: k for k, v in site.cylinders.items()}
    async with database.tenant_session(site.tenant.tenant_id) as s:
        found = await open_job_changes(s)
    return {
        cylinders[c]: {(op, markings[ident]) for op, (kind, ident) in changes if kind == "key"}
        for c, changes in found.items()
    }


def job_changes(payload: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    return {
        j["cylinder"]["marking"]: {(c["op"], c["key"]["marking"]) for c in j["changes"]}
        for j in payload["programmingJobs"]
    }


async def create_group(client: GraphQLClient, name: str, keys: list[str]) -> str:
    made = await client(
        "mutation($i: CreateKeyGroupInput!) { createKeyGroup(input: $i) { keyGroup { id } } }",
        {"i": {"name": name, "keyIds": keys}})
    return str(made["createKeyGroup"]["keyGroup"]["id"])


# --- access profiles -----------------------------------------------------------------------


async def test_cylinder_added_to_a_profile_gets_add_jobs_for_exactly_the_keys_holding_it(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: "Offices" on C-0, C-1, held by E3-A (its own) and E2-B (its holder's), all programmed
    site = await build_site(gql, database, tenant)
    assert await open_jobs(database, site) == {}
    # when: C-2 joins the profile (R13)
    data = await gql(UPDATE_PROFILE, {"i": {
        "accessProfileId": site.profile_gid,
        "cylinderIds": [site.cylinder("C-0"), site.cylinder("C-1"), site.cylinder("C-2")]}})
    result = data["updateAccessProfile"]
    # then: one job, on C-2, adding exactly the two holders' keys; nothing elsewhere (R15)
    assert result["errors"] == []
    assert job_changes(result) == {"C-2": {("ADD", "E3-A"), ("ADD", "E2-B")}}
    assert await open_jobs(database, site) == {"C-2": {(ADD, "E3-A"), (ADD, "E2-B")}}
    assert [c["marking"] for c in result["accessProfile"]["cylinders"]] == ["C-0", "C-1", "C-2"]


async def test_cylinder_removed_from_a_profile_gets_remove_jobs_and_an_unchanged_list_none(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    site = await build_site(gql, database, tenant)
    # when: C-0 leaves the profile
    removed = (await gql(UPDATE_PROFILE, {"i": {
        "accessProfileId": site.profile_gid, "cylinderIds": [site.cylinder("C-1")]}}
    ))["updateAccessProfile"]
    # then: REMOVE jobs on C-0 for both holders, nothing else (R15)
    assert job_changes(removed) == {"C-0": {("REMOVE", "E3-A"), ("REMOVE", "E2-B")}}
    assert await open_jobs(database, site) == {"C-0": {(REMOVE, "E3-A"), (REMOVE, "E2-B")}}
    # when: the same list is given again, and once more after the jobs were carried out
    again = (await gql(UPDATE_PROFILE, {"i": {
        "accessProfileId": site.profile_gid, "cylinderIds": [site.cylinder("C-1")]}}
    ))["updateAccessProfile"]
    await program_all_open_jobs(database, site.tenant)
    done = (await gql(UPDATE_PROFILE, {"i": {
        "accessProfileId": site.profile_gid, "cylinderIds": [site.cylinder("C-1")]}}
    ))["updateAccessProfile"]
    # then: no job either time, and nothing left open
    assert again["programmingJobs"] == [] and done["programmingJobs"] == []
    assert await open_jobs(database, site) == {}


async def test_a_cylinder_added_then_removed_before_programming_leaves_no_job(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    site = await build_site(gql, database, tenant)
    both = [site.cylinder("C-0"), site.cylinder("C-1")]
    added = (await gql(UPDATE_PROFILE, {"i": {
        "accessProfileId": site.profile_gid, "cylinderIds": [*both, site.cylinder("C-3")]}}
    ))["updateAccessProfile"]
    assert list(job_changes(added)) == ["C-3"]
    # when: taken back before anyone programmed it
    back = (await gql(UPDATE_PROFILE, {"i": {
        "accessProfileId": site.profile_gid, "cylinderIds": both}}))["updateAccessProfile"]
    # then: the job is cancelled, nothing is left to do (R15)
    assert back["programmingJobs"] == []
    assert await open_jobs(database, site) == {}
    async with database.tenant_session(tenant.tenant_id) as s:
        job = await s.get(ProgrammingJob, decode_id(
            added["programmingJobs"][0]["id"], "ProgrammingJob", "id")[1])
        assert job is not None and job.status.name == "CANCELLED"


async def test_profile_jobs_are_announced_on_job_events(
    gql: GraphQLClient, database: Database, tenant: NewTenant, settings: Settings
) -> None:
    site = await build_site(gql, database, tenant)
    async with get_pubsub(settings).subscribe(tenant.tenant_id, JOB_EVENTS) as mailbox:
        # when: C-2 joins the profile
        result = (await gql(UPDATE_PROFILE, {"i": {
            "accessProfileId": site.profile_gid,
            "cylinderIds": [site.cylinder("C-0"), site.cylinder("C-1"), site.cylinder("C-2")]}}
        ))["updateAccessProfile"]
        announced = await mailbox.next_batch(wait_seconds=patience(2))
    # then: jobEvents subscribers hear of exactly the job in the payload (R15, R23)
    [job] = result["programmingJobs"]
    assert [m["programming_job_ids"] for m in announced] == [
        [decode_id(job["id"], "ProgrammingJob", "id")[1]]
    ]


async def test_profile_name_schedule_and_interval_change_without_any_job(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    site = await build_site(gql, database, tenant)
    made = await gql(
        "mutation($i: CreateScheduleInput!) { createSchedule(input: $i) { schedule { id } } }",
        {"i": {"name": "Days",
               "windows": [{"days": ["MONDAY"], "start": "07:00", "end": "19:00"}]}},
    )
    schedule = made["createSchedule"]["schedule"]["id"]
    # when: name, schedule and interval change, cylinders not given
    data = await gql(UPDATE_PROFILE, {"i": {
        "accessProfileId": site.profile_gid, "name": "  Offices 2 ", "scheduleId": schedule,
        "extensionIntervalHours": 24}})
    result = data["updateAccessProfile"]
    # then: all three changed, the cylinders stayed, no job: cylinders hold no schedule (R12),
    # the interval applies at the next revalidation (R14)
    assert result["errors"] == [] and result["programmingJobs"] == []
    assert result["accessProfile"] == {
        "name": "Offices 2", "extensionIntervalHours": 24, "schedule": {"name": "Days"},
        "cylinders": [{"marking": "C-0"}, {"marking": "C-1"}]}
    assert await open_jobs(database, site) == {}
    # when: the interval is cleared with an explicit null, and left alone when not given
    cleared = await gql(UPDATE_PROFILE, {"i": {"accessProfileId": site.profile_gid,
                                               "extensionIntervalHours": None}})
    kept = await gql(UPDATE_PROFILE, {"i": {"accessProfileId": site.profile_gid, "name": "O"}})
    assert cleared["updateAccessProfile"]["accessProfile"]["extensionIntervalHours"] is None
    assert kept["updateAccessProfile"]["accessProfile"]["extensionIntervalHours"] is None


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"name": " "}, "name", "INVALID"),
        ({"name": "Taken"}, "name", "CONFLICT"),
        ({"extensionIntervalHours": 0}, "extensionIntervalHours", "INVALID"),
        ({"cylinderIds": ["C-2", "nope"]}, "cylinderIds.1", "NOT_FOUND"),
        ({"cylinderIds": ["C-2", "missing"]}, "cylinderIds.1", "NOT_FOUND"),
        ({"scheduleId": "missing"}, "scheduleId", "NOT_FOUND"),
    ],
)
async def test_a_bad_profile_change_names_the_field_and_writes_nothing(
    change: dict[str, Any], field: str, code: str,
    gql: GraphQLClient, database: Database, tenant: NewTenant,
) -> None:
    site = await build_site(gql, database, tenant)
    async with database.tenant_session(tenant.tenant_id) as s:
        s.add(AccessProfile(name="Taken", schedule_id=await s.scalar(
            select(Schedule.id).where(Schedule.is_default))))
        await s.commit()
    ids = {"C-2": site.cylinder("C-2"), "nope": "nope",
           "missing": to_global_id("Cylinder", 10**9)}
    if "cylinderIds" in change:
        change = {"cylinderIds": [ids[c] for c in change["cylinderIds"]], "name": "Renamed"}
    if change.get("scheduleId") == "missing":
        change = {"scheduleId": to_global_id("Schedule", 10**9), "name": "Renamed"}
    # when
    data = await gql(UPDATE_PROFILE, {"i": {"accessProfileId": site.profile_gid, **change}})
    # then: the error names the field; the profile and the jobs are as they were
    result = data["updateAccessProfile"]
    assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, code)]
    assert result["accessProfile"] is None
    async with database.tenant_session(tenant.tenant_id) as s:
        profile = await s.get(AccessProfile, site.profile)
        assert profile is not None and profile.name == "Offices"
        assert profile.extension_interval_hours is None
    assert await open_jobs(database, site) == {}


# --- schedules -----------------------------------------------------------------------------


CREATE_SCHEDULE = """
mutation($i: CreateScheduleInput!) { createSchedule(input: $i) {
  schedule { id } errors { field } } }
"""
WEEKDAYS = {"days": ["MONDAY", "TUESDAY"], "start": "08:00", "end": "17:00"}


async def schedule_for(
    gql: GraphQLClient, database: Database, site: Site, name: str, markings: list[str],
    *, profile: bool = False,
) -> str:
    """A new schedule carried by these keys (and by "Offices" with ``profile``); its id."""
    schedule = (await gql(CREATE_SCHEDULE, {"i": {"name": name, "windows": [WEEKDAYS]}})
                )["createSchedule"]["schedule"]["id"]
    schedule_id = decode_id(schedule, "Schedule", "id")[1]
    async with database.tenant_session(site.tenant.tenant_id) as s:
        rows = [await s.get(Key, site.keys[m]) for m in markings]
        if profile:
            rows.append(await s.get(AccessProfile, site.profile))
        for row in rows:
            assert row is not None
            row.schedule_id = schedule_id
        await s.commit()
    return str(schedule)


async def test_new_windows_reach_every_issued_key_carrying_the_schedule_and_no_cylinder(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: "Office hours" carried by E3-A and E2-B (issued) and by an E3 key in stock
    site = await build_site(gql, database, tenant)
    schedule = await schedule_for(gql, database, site, "Office hours", ["E3-A", "E2-B"])
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule_id = decode_id(schedule, "Schedule", "id")[1]
        s.add(new_key(tenant.default_domain_id, "E3-STOCK", schedule_id))
        await s.commit()
    # when: its windows change (R12)
    late = {"days": ["MONDAY"], "start": "10:00", "end": "20:00"}
    data = await gql(UPDATE_SCHEDULE, {"i": {"scheduleId": schedule, "windows": [late]}})
    result = data["updateSchedule"]
    # then: each issued key carrying it gets a SCHEDULE remote job with the new windows (R18);
    # cylinders hold no time windows, so no programming job
    assert result["errors"] == []
    assert result["schedule"]["windows"] == [late]
    assert sorted((j["kind"], j["key"]["marking"]) for j in result["remoteJobs"]) == [
        ("SCHEDULE", "E2-B"), ("SCHEDULE", "E3-A")]
    async with database.tenant_session(tenant.tenant_id) as s:
        jobs = list(await s.scalars(select(RemoteJob).where(
            RemoteJob.kind == RemoteJobKind.SCHEDULE, RemoteJob.key_id.in_(
                [site.keys["E3-A"], site.keys["E2-B"]]))))
        assert {j.payload["deliverAt"] for j in jobs} == {"remote", "desk"}
        assert all(j.payload["windows"] == [late] for j in jobs)
    assert await open_jobs(database, site) == {}
    # when: the same windows are given again
    again = await gql(UPDATE_SCHEDULE, {"i": {"scheduleId": schedule, "windows": [late]}})
    # then: nothing to carry
    assert again["updateSchedule"]["remoteJobs"] == []


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"windows": []}, "windows", "INVALID"),
        ({"windows": [WEEKDAYS, {"days": [], "start": "08:00", "end": "09:00"}]},
         "windows.1.days", "INVALID"),
        ({"windows": [{"days": ["MONDAY"], "start": "8:00", "end": "09:00"}]},
         "windows.0.start", "INVALID"),
        ({"windows": [{"days": ["MONDAY"], "start": "18:00", "end": "09:00"}]},
         "windows.0.end", "INVALID"),
        ({"name": "Always"}, "name", "CONFLICT"),
        ({"name": ""}, "name", "INVALID"),
    ],
)
async def test_a_bad_schedule_change_names_the_field_and_index_and_writes_nothing(
    change: dict[str, Any], field: str, code: str, gql: GraphQLClient
) -> None:
    schedule = (await gql(CREATE_SCHEDULE, {"i": {"name": "Shifts", "windows": [WEEKDAYS]}})
                )["createSchedule"]["schedule"]["id"]
    data = await gql(UPDATE_SCHEDULE, {"i": {"scheduleId": schedule, **change}})
    assert [(e["field"], e["code"]) for e in data["updateSchedule"]["errors"]] == [(field, code)]
    shown = await gql("query($id: ID!) { node(id: $id) { ... on Schedule { name windows "
                      "{ days start end } } } }", {"id": schedule})
    assert shown["node"] == {"name": "Shifts", "windows": [WEEKDAYS]}


async def test_the_default_schedule_is_fixed(gql: GraphQLClient, database: Database,
                                             tenant: NewTenant) -> None:
    async with database.tenant_session(tenant.tenant_id) as s:
        default = await s.scalar(select(Schedule.id).where(Schedule.is_default))
    data = await gql(UPDATE_SCHEDULE, {"i": {"scheduleId": to_global_id("Schedule", default),
                                             "windows": [WEEKDAYS]}})
    # then: E1 keys, which have no clock, hold "Always" (R12)
    assert [(e["field"], e["code"]) for e in data["updateSchedule"]["errors"]] == [
        ("scheduleId", "IMMUTABLE")]


async def test_new_windows_cost_the_same_statements_for_3_or_300_keys_carrying_them(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: "Few" carried by 3 issued keys, "Many" by 300 (E3 and E2 mixed, R18)
    schedules: dict[int, str] = {}
    for n, name in ((3, "Few"), (300, "Many")):
        schedule = (await gql(CREATE_SCHEDULE, {"i": {"name": name, "windows": [WEEKDAYS]}}))[
            "createSchedule"
        ]["schedule"]["id"]
        schedules[n] = schedule
        async with database.tenant_session(tenant.tenant_id) as s:
            s.add_all(
                new_key(
                    tenant.default_domain_id,
                    f"{name}-{i:03d}",
                    decode_id(schedule, "Schedule", "id")[1],
                    type=KeyType.E3 if i % 2 else KeyType.E2,
                    status=KeyStatus.ISSUED,
                )
                for i in range(n)
            )
            await s.commit()
    await gql("{ tenant { name } }")  # the token's last-used time is fresh now
    for windows in (
        {"days": ["MONDAY"], "start": "10:00", "end": "20:00"},
        {"days": ["FRIDAY"], "start": "06:00", "end": "12:00"},
    ):
        counted: dict[int, int] = {}
        for n, schedule in schedules.items():
            # when: its windows change (the first time the jobs are made, then brought up to date)
            with StatementCounter(database.app_engine) as counter:
                data = await gql(
                    UPDATE_SCHEDULE, {"i": {"scheduleId": schedule, "windows": [windows]}}
                )
            counted[n] = counter.count
            # then: every key carrying it has one SCHEDULE job with the new windows
            result = data["updateSchedule"]
            assert result["errors"] == []
            assert len(result["remoteJobs"]) == n
            async with database.tenant_session(tenant.tenant_id) as s:
                jobs = list(
                    await s.scalars(
                        select(RemoteJob).where(
                            RemoteJob.kind == RemoteJobKind.SCHEDULE,
                            RemoteJob.id.in_(
                                [
                                    decode_id(j["id"], "RemoteJob", "id")[1]
                                    for j in result["remoteJobs"]
                                ]
                            ),
                        )
                    )
                )
            assert len(jobs) == n and all(j.payload["windows"] == [windows] for j in jobs)
        # and: as many statements for 300 keys as for 3 (no statement per key)
        assert counted[3] == counted[300], counted


# --- key groups ----------------------------------------------------------------------------


async def test_key_leaving_a_group_gets_its_own_line_back_and_joining_drops_it(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: group "Night" with E3-A and E3-C, authorised on C-0, where E3-A also has
    # its own line through "Offices"; everything programmed
    site = await build_site(gql, database, tenant)
    group = await create_group(gql, "Night", [site.key("E3-A"), site.key("E3-C")])
    changed = await gql(
        "mutation($i: ChangeAuthorizationsInput!) { changeAuthorizations(input: $i) "
        "{ errors { field } } }", {"i": {"cylinderIds": [site.cylinder("C-0")], "add": [group]}})
    assert changed["changeAuthorizations"]["errors"] == []
    await program_all_open_jobs(database, tenant)
    # when: E3-A leaves the group
    left = (await gql(UPDATE_GROUP, {"i": {"keyGroupId": group, "keyIds": [site.key("E3-C")]}})
            )["updateKeyGroup"]
    # then: its key memory forgets the group, and C-0 needs its own line again (R13, R15)
    assert left["errors"] == []
    assert [k["marking"] for k in left["keyGroup"]["keys"]] == ["E3-C"]
    assert left["remoteJobs"] == [{"kind": "AUTHORIZATIONS", "key": {"marking": "E3-A"}}]
    assert job_changes(left) == {"C-0": {("ADD", "E3-A")}}
    assert await open_jobs(database, site) == {"C-0": {(ADD, "E3-A")}}
    await program_all_open_jobs(database, tenant)
    # when: it joins again, renamed in the same call
    joined = (await gql(UPDATE_GROUP, {"i": {"keyGroupId": group, "name": "Late",
                                             "keyIds": [site.key("E3-C"), site.key("E3-A")]}})
              )["updateKeyGroup"]
    # then: the group covers it on C-0, so its own line is removed (R20)
    assert joined["keyGroup"]["name"] == "Late"
    assert job_changes(joined) == {"C-0": {("REMOVE", "E3-A")}}
    assert [j["key"]["marking"] for j in joined["remoteJobs"]] == ["E3-A"]
    # when: the same members are given again
    same = (await gql(UPDATE_GROUP, {"i": {"keyGroupId": group,
                                           "keyIds": [site.key("E3-A"), site.key("E3-C")]}})
            )["updateKeyGroup"]
    # then: no job of either kind
    assert same["programmingJobs"] == [] and same["remoteJobs"] == []


async def test_only_e3_keys_join_a_group_and_the_error_names_the_index(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    site = await build_site(gql, database, tenant)
    group = await create_group(gql, "Night", [site.key("E3-A")])
    data = await gql(UPDATE_GROUP, {"i": {"keyGroupId": group, "name": "Other",
                                          "keyIds": [site.key("E3-C"), site.key("E2-B")]}})
    assert [(e["field"], e["code"]) for e in data["updateKeyGroup"]["errors"]] == [
        ("keyIds.1", "UNSUPPORTED_KEY_TYPE")]
    shown = await gql("query($id: ID!) { node(id: $id) { ... on KeyGroup { name keys "
                      "{ marking } } } }", {"id": group})
    assert shown["node"] == {"name": "Night", "keys": [{"marking": "E3-A"}]}


# --- rights, tenants, domains --------------------------------------------------------------


async def test_editing_access_objects_needs_access_write(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: an Operator-like token without access.write (R7)
    site = await build_site(gql, database, tenant)
    operator = GraphQLClient(http, await superadmin_token(
        database, tenant, rights=["cylinders.read", "keys.read", "jobs.read"]))
    data = await operator(UPDATE_PROFILE, {"i": {"accessProfileId": site.profile_gid,
                                                 "cylinderIds": [site.cylinder("C-2")]}})
    assert data["updateAccessProfile"]["errors"] == [
        {"field": None, "code": "FORBIDDEN", "message": "missing right: access.write"}]
    assert await open_jobs(database, site) == {}


async def test_another_tenants_objects_are_not_found_naming_the_field(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant,
    other_tenant: NewTenant,
) -> None:
    # given: a site in each tenant (R1)
    site = await build_site(gql, database, tenant)
    other_gql = GraphQLClient(http, await superadmin_token(database, other_tenant))
    theirs = await build_site(other_gql, database, other_tenant)
    their_group = await create_group(other_gql, "Theirs", [theirs.key("E3-A")])
    async with database.tenant_session(other_tenant.tenant_id) as s:
        their_schedule = await s.scalar(select(Schedule.id).where(Schedule.is_default))
    calls = [
        (UPDATE_PROFILE, "updateAccessProfile",
         {"accessProfileId": theirs.profile_gid}, "accessProfileId"),
        (UPDATE_PROFILE, "updateAccessProfile",
         {"accessProfileId": site.profile_gid,
          "cylinderIds": [site.cylinder("C-2"), theirs.cylinder("C-2")]}, "cylinderIds.1"),
        (UPDATE_PROFILE, "updateAccessProfile",
         {"accessProfileId": site.profile_gid,
          "scheduleId": to_global_id("Schedule", their_schedule)}, "scheduleId"),
        (UPDATE_SCHEDULE, "updateSchedule",
         {"scheduleId": to_global_id("Schedule", their_schedule), "name": "Mine"}, "scheduleId"),
        (UPDATE_GROUP, "updateKeyGroup", {"keyGroupId": their_group, "name": "Mine"},
         "keyGroupId"),
    ]
    for query, name, variables, field in calls:
        # when
        result = (await gql(query, {"i": variables}))[name]
        # then: NOT_FOUND naming the field, as for an id that does not exist
        assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, "NOT_FOUND")], name
    assert await open_jobs(database, site) == {}
    assert await open_jobs(database, theirs) == {}


async def test_a_domain_admin_names_only_its_cylinders_and_keeps_the_others_in_the_profile(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: a token limited to the domain "Annex" (R8)
    site = await build_site(gql, database, tenant)
    annex = GraphQLClient(http, await superadmin_token(database, tenant, domain_ids=[site.annex]))
    # when: it names a cylinder of the default domain
    hidden = await annex(UPDATE_PROFILE, {"i": {
        "accessProfileId": site.profile_gid, "cylinderIds": [site.cylinder("C-0")]}})
    # then: that cylinder does not exist for it
    assert [(e["field"], e["code"]) for e in hidden["updateAccessProfile"]["errors"]] == [
        ("cylinderIds.0", "NOT_FOUND")]
    # when: it sets the profile's cylinders to its own X-0
    data = await annex(UPDATE_PROFILE, {"i": {
        "accessProfileId": site.profile_gid, "cylinderIds": [site.cylinder("X-0")]}})
    result = data["updateAccessProfile"]
    # then: X-0 is added with its jobs; C-0 and C-1, which it does not see, stay in the profile
    assert result["errors"] == []
    assert [j["cylinder"]["marking"] for j in result["programmingJobs"]] == ["X-0"]
    async with database.tenant_session(tenant.tenant_id) as s:
        cylinders = set(await s.scalars(select(AccessProfileCylinder.cylinder_id).where(
            AccessProfileCylinder.access_profile_id == site.profile)))
    assert cylinders == {site.cylinders[m] for m in ("C-0", "C-1", "X-0")}
    assert await open_jobs(database, site) == {"X-0": {(ADD, "E3-A"), (ADD, "E2-B")}}
    # and: keys of other domains do not exist for it either
    group = await create_group(gql, "Night", [site.key("E3-A")])
    keys = await annex(UPDATE_GROUP, {"i": {"keyGroupId": group, "keyIds": [site.key("E3-C")]}})
    assert [(e["field"], e["code"]) for e in keys["updateKeyGroup"]["errors"]] == [
        ("keyIds.0", "NOT_FOUND")]
    # when: it empties the group: E3-A, which it does not see, stays a member
    emptied = await annex(UPDATE_GROUP, {"i": {"keyGroupId": group, "keyIds": []}})
    assert emptied["updateKeyGroup"]["errors"] == []
    shown = await gql("query($id: ID!) { node(id: $id) { ... on KeyGroup { keys { marking } } } }",
                      {"id": group})
    assert shown["node"] == {"keys": [{"marking": "E3-A"}]}


# --- removing ------------------------------------------------------------------------------


DELETE = """
mutation($i: DeleteInput!) { %s(input: $i) { deletedId errors { field code message } } }
"""


async def delete(client: GraphQLClient, mutation: str, gid: str) -> dict[str, Any]:
    return (await client(DELETE % mutation, {"i": {"id": gid}}))[mutation]  # type: ignore[no-any-return]


async def test_a_schedule_in_use_is_a_conflict_naming_its_profiles_and_keys(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: "Shifts" used by the profile "Offices" and by the keys E3-A and E3-C
    site = await build_site(gql, database, tenant)
    schedule = await schedule_for(gql, database, site, "Shifts", ["E3-C", "E3-A"], profile=True)
    async with database.tenant_session(tenant.tenant_id) as s:
        default = await s.scalar(select(Schedule.id).where(Schedule.is_default))
    # when: it is removed
    refused = await delete(gql, "deleteSchedule", schedule)
    # then: CONFLICT naming who uses it (every key must keep a schedule, R12)
    assert refused == {"deletedId": None, "errors": [{
        "field": "id", "code": "CONFLICT",
        "message": "id: the schedule 'Shifts' is in use by access profiles: Offices; "
                   "keys: E3-A, E3-C"}]}
    # when: nothing uses it any more
    async with database.tenant_session(tenant.tenant_id) as s:
        for row in [await s.get(AccessProfile, site.profile),
                    *[await s.get(Key, site.keys[m]) for m in ("E3-A", "E3-C")]]:
            row.schedule_id = default  # type: ignore[union-attr]
        await s.commit()
    removed = await delete(gql, "deleteSchedule", schedule)
    # then: it is gone
    assert removed == {"deletedId": schedule, "errors": []}
    assert (await gql("query($id: ID!) { node(id: $id) { id } }", {"id": schedule}))["node"] is None
    # and: the default schedule is never removed
    fixed = await delete(gql, "deleteSchedule", to_global_id("Schedule", default))
    assert [(e["field"], e["code"]) for e in fixed["errors"]] == [("id", "IMMUTABLE")]


async def test_a_profile_held_by_keys_or_employees_is_a_conflict_naming_them(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: "Offices", held by the key E3-A and by Bob Holder (E2-B's holder)
    site = await build_site(gql, database, tenant)
    # when: it is removed
    refused = await delete(gql, "deleteAccessProfile", site.profile_gid)
    # then: CONFLICT naming them (R13)
    assert refused["errors"] == [{
        "field": "id", "code": "CONFLICT",
        "message": "id: the access profile 'Offices' is in use by keys: E3-A; "
                   "employees: Holder, Bob"}]
    # when: nobody holds it any more (Bob's profiles go first: updateKey reconciles both)
    async with database.tenant_session(tenant.tenant_id) as s:
        await s.execute(delete_rows(EmployeeAccessProfile))
        await s.commit()
    updated = await gql(
        "mutation($i: UpdateKeyInput!) { updateKey(input: $i) { errors { field } } }",
        {"i": {"keyId": site.key("E3-A"), "accessProfileIds": []}})
    assert updated["updateKey"]["errors"] == []
    await program_all_open_jobs(database, tenant)
    removed = await delete(gql, "deleteAccessProfile", site.profile_gid)
    # then: it is gone, and removing it changed no cylinder: it granted nothing (R15)
    assert removed == {"deletedId": site.profile_gid, "errors": []}
    assert await open_jobs(database, site) == {}
    async with database.tenant_session(tenant.tenant_id) as s:
        assert await s.get(AccessProfile, site.profile) is None


async def test_a_key_group_is_removed_only_once_no_cylinder_authorises_or_holds_it(
    gql: GraphQLClient, database: Database, tenant: NewTenant, settings: Settings
) -> None:
    # given: "Night" with E3-A and E3-C, authorised and programmed on C-0
    site = await build_site(gql, database, tenant)
    group = await create_group(gql, "Night", [site.key("E3-A"), site.key("E3-C")])
    change = ("mutation($i: ChangeAuthorizationsInput!) { changeAuthorizations(input: $i) "
              "{ errors { field } } }")
    await gql(change, {"i": {"cylinderIds": [site.cylinder("C-0")], "add": [group]}})
    await program_all_open_jobs(database, tenant)
    # when: it is removed while C-0 authorises it
    authorised = await delete(gql, "deleteKeyGroup", group)
    # then: CONFLICT naming the cylinder (R13)
    assert [e["message"] for e in authorised["errors"]] == [
        "id: the key group 'Night' is in use by cylinders authorising it: C-0; "
        "cylinders still holding it: C-0"]
    # when: its authorization is removed, but not yet programmed
    await gql(change, {"i": {"cylinderIds": [site.cylinder("C-0")], "remove": [group]}})
    pending = await delete(gql, "deleteKeyGroup", group)
    # then: still CONFLICT: C-0 holds it until its job is carried out (R15)
    assert [e["message"] for e in pending["errors"]] == [
        "id: the key group 'Night' is in use by cylinders still holding it: C-0; "
        "cylinders with open jobs for it: C-0"]
    await program_all_open_jobs(database, tenant)
    # when: C-0 no longer holds it
    async with get_pubsub(settings).subscribe(tenant.tenant_id, JOB_EVENTS) as mailbox:
        removed = await delete(gql, "deleteKeyGroup", group)
        announced = await mailbox.next_batch(wait_seconds=patience(2))
    # then: it is gone; its members' key memories forget it through remote jobs,
    # announced on jobEvents (R18)
    assert removed == {"deletedId": group, "errors": []}
    async with database.tenant_session(tenant.tenant_id) as s:
        jobs = list(await s.scalars(select(RemoteJob).where(
            RemoteJob.kind == RemoteJobKind.AUTHORIZATIONS,
            RemoteJob.status == RemoteJobStatus.PENDING)))
        assert await s.scalar(select(KeyGroup.id)) is None
    assert sorted(j.key_id for j in jobs) == sorted([site.keys["E3-A"], site.keys["E3-C"]])
    assert all(j.payload["keyGroups"] == [] for j in jobs)
    remote_ids = {i for m in announced for i in m["remote_job_ids"]}
    assert {j.id for j in jobs} <= remote_ids


async def test_removing_answers_not_found_for_other_tenants_and_other_types(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant,
    other_tenant: NewTenant,
) -> None:
    # given: the other tenant's profile, group and schedule (R1)
    other_gql = GraphQLClient(http, await superadmin_token(database, other_tenant))
    theirs = await build_site(other_gql, database, other_tenant)
    their_group = await create_group(other_gql, "Theirs", [theirs.key("E3-A")])
    their_schedule = (await other_gql(CREATE_SCHEDULE, {"i": {"name": "Theirs",
                                                              "windows": [WEEKDAYS]}})
                      )["createSchedule"]["schedule"]["id"]
    for mutation, gid in [("deleteSchedule", their_schedule),
                          ("deleteAccessProfile", theirs.profile_gid),
                          ("deleteKeyGroup", their_group),
                          ("deleteSchedule", theirs.profile_gid),
                          ("deleteKeyGroup", to_global_id("KeyGroup", 10**9))]:
        # when
        answer = await delete(gql, mutation, gid)
        # then: NOT_FOUND naming the field, and nothing removed
        assert answer["deletedId"] is None
        assert [(e["field"], e["code"]) for e in answer["errors"]] == [("id", "NOT_FOUND")]
    shown = await other_gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                            {"ids": [their_schedule, theirs.profile_gid, their_group]})
    assert all(n is not None for n in shown["nodes"])


async def test_a_domain_admin_is_told_of_users_it_cannot_see_without_their_names(
    gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    # given: "Offices" held by a default-domain key and employee; a token limited to Annex (R8)
    site = await build_site(gql, database, tenant)
    annex = GraphQLClient(http, await superadmin_token(database, tenant, domain_ids=[site.annex]))
    # when
    refused = await delete(annex, "deleteAccessProfile", site.profile_gid)
    # then: CONFLICT, with the users counted, not named
    assert refused["errors"] == [{
        "field": "id", "code": "CONFLICT",
        "message": "id: the access profile 'Offices' is in use by keys: 1 outside your "
                   "domains; employees: 1 outside your domains"}]
