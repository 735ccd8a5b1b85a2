"""Changing and removing employees through the API (issue 10 item 4; R1, R4, R7, R8, R13, R15)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from app.access.engine import open_job_changes
from app.auth.rights import BUILTIN_ROLES
from app.config import Settings
from app.db import Database
from app.events import JOB_EVENTS, JobChanged, events_from_message, get_pubsub
from app.models import (
    AccessChangeOp,
    AccessProfile,
    Employee,
    EmployeeAccessProfile,
    Key,
    KeyStatus,
    KeyType,
    ProgrammingKey,
    ProgrammingKeyKind,
    Schedule,
)
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, StatementCounter, superadmin_token
from tests.factories import add_domain, default_schedule, new_cylinder, new_key, new_profile

UPDATE = """
mutation($input: UpdateEmployeeInput!) {
  updateEmployee(input: $input) {
    employee { employeeNumber firstName lastName email department phone accessProfiles { name } }
    programmingJobs { id status cylinder { marking } changes { op key { marking } } }
    errors { field code message }
  }
}
"""

DELETE = """
mutation($input: EmployeeIdInput!) {
  deleteEmployee(input: $input) { deletedId errors { field code message } }
}
"""


@dataclass
class Office:
    """Two cylinders in an "Office" profile, a third outside it; Ada holds key K-1, Bob none."""

    cylinder_ids: list[int]
    profile: str
    ada: str
    bob: str
    key_id: int
    ada_id: int
    bob_id: int


async def office(database: Database, tenant: NewTenant, *, key_domain: int | None = None) -> Office:
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule_id = await default_schedule(s)
        cylinders = [new_cylinder(tenant.default_domain_id, f"C-{i}") for i in (1, 2, 3)]
        ada = Employee(
            domain_id=tenant.default_domain_id, employee_number="001", first_name="Ada",
            last_name="Lovelace",
        )
        bob = Employee(
            domain_id=tenant.default_domain_id, employee_number="002", first_name="Bob",
            last_name="Babbage", email="bob@example.org",
        )
        s.add_all([*cylinders, ada, bob])
        profile = await new_profile(s, "Office", schedule_id, cylinders[:2])
        key = new_key(
            key_domain or tenant.default_domain_id,
            "K-1",
            schedule_id,
            type=KeyType.E2,
            firmware_version="12.3.0",
            status=KeyStatus.ISSUED,
            holder_id=ada.id,
        )
        s.add(key)
        await s.commit()
        return Office(
            [c.id for c in cylinders],
            to_global_id("AccessProfile", profile.id),
            to_global_id("Employee", ada.id),
            to_global_id("Employee", bob.id),
            key.id,
            ada.id,
            bob.id,
        )


async def employee_row(database: Database, tenant: NewTenant, employee_id: int) -> Employee | None:
    async with database.tenant_session(tenant.tenant_id) as s:
        return await s.get(Employee, employee_id)


async def profiles_of(database: Database, tenant: NewTenant, employee_id: int) -> set[int]:
    async with database.tenant_session(tenant.tenant_id) as s:
        return set(
            await s.scalars(
                select(EmployeeAccessProfile.access_profile_id).where(
                    EmployeeAccessProfile.employee_id == employee_id
                )
            )
        )


async def open_changes(database: Database, tenant: NewTenant) -> dict[int, set[object]]:
    async with database.tenant_session(tenant.tenant_id) as s:
        return dict(await open_job_changes(s))


# --- updateEmployee: access profiles and the jobs they imply (R13, R15) -----------------


async def test_an_employees_profile_reaches_every_key_they_hold_through_programming_jobs(
    gql: GraphQLClient, database: Database, settings: Settings, tenant: NewTenant
) -> None:
    # given: Ada holds K-1; the Office profile holds C-1 and C-2
    o = await office(database, tenant)
    async with get_pubsub(settings).subscribe(tenant.tenant_id, JOB_EVENTS) as mailbox:
        # when: Ada gets the profile
        data = await gql(UPDATE, {"input": {"employeeId": o.ada, "accessProfileIds": [o.profile]}})
        heard = [
            e for m in await mailbox.next_batch(wait_seconds=1) for e in events_from_message(m)
        ]
    # then: one job per cylinder of the profile adds her key (R13, R15), announced on jobEvents
    answer = data["updateEmployee"]
    assert answer["errors"] == []
    assert answer["employee"]["accessProfiles"] == [{"name": "Office"}]
    jobs = answer["programmingJobs"]
    assert sorted(j["cylinder"]["marking"] for j in jobs) == ["C-1", "C-2"]
    assert all(j["changes"] == [{"op": "ADD", "key": {"marking": "K-1"}}] for j in jobs)
    assert all(j["status"] == "PENDING" for j in jobs)
    announced = {
        to_global_id("ProgrammingJob", e.programming_job_id)
        for e in heard
        if isinstance(e, JobChanged) and e.programming_job_id is not None
    }
    assert announced == {j["id"] for j in jobs}
    key_subject = ("key", o.key_id)
    assert await open_changes(database, tenant) == {
        o.cylinder_ids[0]: {(AccessChangeOp.ADD, key_subject)},
        o.cylinder_ids[1]: {(AccessChangeOp.ADD, key_subject)},
    }


async def test_taking_the_profile_back_before_programming_cancels_its_jobs(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: Ada's profile created two jobs, not yet programmed
    o = await office(database, tenant)
    await gql(UPDATE, {"input": {"employeeId": o.ada, "accessProfileIds": [o.profile]}})
    # when: the profile is taken back
    data = await gql(UPDATE, {"input": {"employeeId": o.ada, "accessProfileIds": []}})
    # then: jobs = desired - programmed = nothing (R15)
    assert data["updateEmployee"]["errors"] == []
    assert data["updateEmployee"]["employee"]["accessProfiles"] == []
    assert data["updateEmployee"]["programmingJobs"] == []
    assert await open_changes(database, tenant) == {}


async def test_giving_the_same_profiles_again_creates_no_job(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    o = await office(database, tenant)
    await gql(UPDATE, {"input": {"employeeId": o.ada, "accessProfileIds": [o.profile]}})
    before = await open_changes(database, tenant)
    data = await gql(UPDATE, {"input": {"employeeId": o.ada, "accessProfileIds": [o.profile]}})
    assert data["updateEmployee"]["programmingJobs"] == []
    assert await open_changes(database, tenant) == before  # R15: no duplicate


async def test_a_profile_for_an_employee_without_keys_creates_no_job(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    o = await office(database, tenant)
    data = await gql(UPDATE, {"input": {"employeeId": o.bob, "accessProfileIds": [o.profile]}})
    assert data["updateEmployee"]["employee"]["accessProfiles"] == [{"name": "Office"}]
    assert data["updateEmployee"]["programmingJobs"] == []
    assert await open_changes(database, tenant) == {}


async def test_a_key_in_a_domain_the_caller_does_not_administer_still_gets_its_jobs(
    http: object, database: Database, tenant: NewTenant
) -> None:
    # given: Ada is in the default domain, her key in another; the caller administers only
    # the default domain. Domains partition administration, not access (R8).
    annex = await add_domain(database, tenant, "Annex")
    o = await office(database, tenant, key_domain=annex)
    token = await superadmin_token(database, tenant, domain_ids=[tenant.default_domain_id])
    # when
    data = await GraphQLClient(http, token)(
        UPDATE, {"input": {"employeeId": o.ada, "accessProfileIds": [o.profile]}}
    )
    # then
    assert data["updateEmployee"]["errors"] == []
    assert len(await open_changes(database, tenant)) == 2


async def test_access_profiles_need_the_right_to_change_key_configuration(
    http: object, database: Database, tenant: NewTenant
) -> None:
    # given: an Operator may change employees but not key configuration (R7)
    o = await office(database, tenant)
    operator = GraphQLClient(
        http, await superadmin_token(database, tenant, rights=BUILTIN_ROLES["Operator"])
    )
    # when: the same call changes a name and gives a profile
    data = await operator(
        UPDATE,
        {"input": {"employeeId": o.ada, "firstName": "Augusta", "accessProfileIds": [o.profile]}},
    )
    # then: refused, naming the right; nothing written
    assert data["updateEmployee"]["errors"] == [
        {"field": None, "code": "FORBIDDEN", "message": "missing right: keys.write"}
    ]
    row = await employee_row(database, tenant, o.ada_id)
    assert row is not None and row.first_name == "Ada"
    assert await profiles_of(database, tenant, o.ada_id) == set()
    # and without the profiles the Operator may change the name
    data = await operator(UPDATE, {"input": {"employeeId": o.ada, "firstName": "Augusta"}})
    assert data["updateEmployee"]["employee"]["firstName"] == "Augusta"


# --- updateEmployee: fields (R4) ----------------------------------------------------------


async def test_only_the_given_fields_change_and_null_clears_an_optional_one(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    o = await office(database, tenant)
    data = await gql(
        UPDATE,
        {"input": {"employeeId": o.bob, "email": None, "department": "  Engines ",
                   "employeeNumber": "0002"}},
    )
    assert data["updateEmployee"] == {
        "employee": {
            "employeeNumber": "0002",  # R4: leading zeros are kept
            "firstName": "Bob",
            "lastName": "Babbage",
            "email": None,
            "department": "Engines",
            "phone": None,
            "accessProfiles": [],
        },
        "programmingJobs": [],
        "errors": [],
    }


async def test_bad_fields_are_refused_naming_the_field_and_nothing_is_written(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    o = await office(database, tenant)
    cases = [
        ({"email": "bob at example"}, "email", "INVALID"),
        ({"firstName": "   "}, "firstName", "INVALID"),
        ({"lastName": None}, "lastName", "INVALID"),
        ({"phone": "1\n2"}, "phone", "INVALID"),
        ({"employeeNumber": "001"}, "employeeNumber", "CONFLICT"),  # Ada's number (R4)
    ]
    for fields, field, code in cases:
        data = await gql(
            UPDATE, {"input": {"employeeId": o.bob, "department": "Engines", **fields}}
        )
        errors = data["updateEmployee"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], fields
        assert data["updateEmployee"]["employee"] is None
    row = await employee_row(database, tenant, o.bob_id)
    assert row is not None and (row.department, row.email) == (None, "bob@example.org")


async def test_an_employee_number_taken_in_a_domain_the_caller_cannot_see_is_a_conflict(
    http: object, database: Database, tenant: NewTenant
) -> None:
    # given: employee numbers are unique per tenant, across domains (R4, R8)
    annex = await add_domain(database, tenant, "Annex")
    o = await office(database, tenant)
    async with database.tenant_session(tenant.tenant_id) as s:
        s.add(Employee(domain_id=annex, employee_number="900", first_name="Hid", last_name="Den"))
        await s.commit()
    token = await superadmin_token(database, tenant, domain_ids=[tenant.default_domain_id])
    # when
    data = await GraphQLClient(http, token)(
        UPDATE, {"input": {"employeeId": o.bob, "employeeNumber": "900"}}
    )
    # then
    assert [(e["field"], e["code"]) for e in data["updateEmployee"]["errors"]] == [
        ("employeeNumber", "CONFLICT")
    ]


# --- deleteEmployee (R4, R5) -------------------------------------------------------------


async def test_an_employee_who_holds_a_key_cannot_be_deleted_and_the_key_is_named(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    o = await office(database, tenant)
    data = await gql(DELETE, {"input": {"employeeId": o.ada}})
    assert data["deleteEmployee"] == {
        "deletedId": None,
        "errors": [
            {
                "field": "employeeId",
                "code": "CONFLICT",
                "message": "employeeId: Ada Lovelace holds key(s) K-1 (return them first)",
            }
        ],
    }
    assert await employee_row(database, tenant, o.ada_id) is not None


async def test_keys_in_domains_the_caller_cannot_see_are_counted_not_named(
    http: object, database: Database, tenant: NewTenant
) -> None:
    annex = await add_domain(database, tenant, "Annex")
    o = await office(database, tenant, key_domain=annex)
    token = await superadmin_token(database, tenant, domain_ids=[tenant.default_domain_id])
    data = await GraphQLClient(http, token)(DELETE, {"input": {"employeeId": o.ada}})
    assert data["deleteEmployee"]["errors"][0]["message"] == (
        "employeeId: Ada Lovelace holds key(s) 1 outside your domains (return them first)"
    )


async def test_the_holder_of_a_programming_key_cannot_be_deleted(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: Bob holds no key but is the holder of a programming key: its job and approval
    # e-mails go to him (R17, R29)
    o = await office(database, tenant)
    async with database.tenant_session(tenant.tenant_id) as s:
        s.add(
            ProgrammingKey(
                marking="PN-7", uid=secrets.token_hex(8), kind=ProgrammingKeyKind.SUB,
                firmware_version="12.3.0", holder_id=o.bob_id, public_key=secrets.token_bytes(32),
            )
        )
        await s.commit()
    # when
    data = await gql(DELETE, {"input": {"employeeId": o.bob}})
    # then
    assert data["deleteEmployee"]["errors"] == [
        {
            "field": "employeeId",
            "code": "CONFLICT",
            "message": "employeeId: Bob Babbage is the holder of programming key(s) PN-7 "
            "(give them another holder first)",
        }
    ]
    assert await employee_row(database, tenant, o.bob_id) is not None


async def test_an_employee_without_keys_is_deleted_with_their_profiles(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    o = await office(database, tenant)
    await gql(UPDATE, {"input": {"employeeId": o.bob, "accessProfileIds": [o.profile]}})
    data = await gql(DELETE, {"input": {"employeeId": o.bob}})
    assert data["deleteEmployee"] == {"deletedId": o.bob, "errors": []}
    assert await employee_row(database, tenant, o.bob_id) is None
    assert await profiles_of(database, tenant, o.bob_id) == set()
    again = await gql(DELETE, {"input": {"employeeId": o.bob}})
    assert again["deleteEmployee"]["errors"][0]["code"] == "NOT_FOUND"


async def test_deleting_the_holder_of_a_lost_key_releases_the_key_and_its_profile_access(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: Ada's key opens the Office through her profile (jobs open), then it is lost
    # without deprogramming, so it stays in the cylinders' desired lists (R19)
    o = await office(database, tenant)
    await gql(UPDATE, {"input": {"employeeId": o.ada, "accessProfileIds": [o.profile]}})
    key_gid = to_global_id("Key", o.key_id)
    await gql(
        "mutation($k: ID!) { reportKeyLost(input: {keyId: $k, deprogram: false}) "
        "{ errors { code } } }",
        {"k": key_gid},
    )
    assert len(await open_changes(database, tenant)) == 2
    # when: Ada leaves
    data = await gql(DELETE, {"input": {"employeeId": o.ada}})
    # then: the lost key has no holder; the access it had through her profile is gone (R15)
    assert data["deleteEmployee"] == {"deletedId": o.ada, "errors": []}
    async with database.tenant_session(tenant.tenant_id) as s:
        key = await s.get(Key, o.key_id)
        assert key is not None and key.holder_id is None and key.status == KeyStatus.LOST
    assert await open_changes(database, tenant) == {}


# --- rights, domains and tenants (R1, R7, R8) --------------------------------------------


async def test_changing_or_deleting_employees_needs_the_right(
    http: object, database: Database, tenant: NewTenant
) -> None:
    o = await office(database, tenant)
    auditor = GraphQLClient(
        http, await superadmin_token(database, tenant, rights=BUILTIN_ROLES["Auditor"])
    )
    forbidden = {"field": None, "code": "FORBIDDEN", "message": "missing right: employees.write"}
    data = await auditor(UPDATE, {"input": {"employeeId": o.bob, "firstName": "Robert"}})
    assert data["updateEmployee"]["errors"] == [forbidden]
    data = await auditor(DELETE, {"input": {"employeeId": o.bob}})
    assert data["deleteEmployee"]["errors"] == [forbidden]
    assert await employee_row(database, tenant, o.bob_id) is not None


async def test_an_employee_outside_the_callers_domains_does_not_exist_for_it(
    http: object, database: Database, tenant: NewTenant
) -> None:
    # given: a caller that administers only the annex (R8)
    annex = await add_domain(database, tenant, "Annex")
    o = await office(database, tenant)
    outsider = GraphQLClient(http, await superadmin_token(database, tenant, domain_ids=[annex]))
    # when / then: exactly like a missing employee
    for query, name, variables in (
        (UPDATE, "updateEmployee", {"employeeId": o.bob, "firstName": "Robert"}),
        (DELETE, "deleteEmployee", {"employeeId": o.bob}),
    ):
        data = await outsider(query, {"input": variables})
        assert [(e["field"], e["code"]) for e in data[name]["errors"]] == [
            ("employeeId", "NOT_FOUND")
        ]
    row = await employee_row(database, tenant, o.bob_id)
    assert row is not None and row.first_name == "Bob"


async def test_another_tenants_employee_or_profile_is_not_found(
    gql: GraphQLClient, database: Database, tenant: NewTenant, other_tenant: NewTenant
) -> None:
    # given: Acme's caller, and the other tenant's employees and profile (R1)
    mine = await office(database, tenant)
    theirs = await office(database, other_tenant)
    cases = [
        (UPDATE, "updateEmployee", {"employeeId": theirs.bob, "firstName": "X"}, "employeeId"),
        (DELETE, "deleteEmployee", {"employeeId": theirs.bob}, "employeeId"),
        (
            UPDATE,
            "updateEmployee",
            {"employeeId": mine.ada, "accessProfileIds": [theirs.profile]},
            "accessProfileIds.0",
        ),
    ]
    for query, name, variables, field in cases:
        data = await gql(query, {"input": variables})
        assert [(e["field"], e["code"]) for e in data[name]["errors"]] == [(field, "NOT_FOUND")]
    row = await employee_row(database, other_tenant, theirs.bob_id)
    assert row is not None and row.first_name == "Bob"
    assert await profiles_of(database, tenant, mine.ada_id) == set()


# --- Employee.accessProfiles (R13) ---------------------------------------------------------

EMPLOYEES = "query($n: Int) { employees(first: $n) { edges { node { accessProfiles { name } } } } }"


async def test_employee_access_profiles_cost_the_same_statements_for_3_and_30_employees(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: 30 employees with two profiles each
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule_id = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        profiles = [AccessProfile(name=f"P{i}", schedule_id=schedule_id) for i in range(2)]
        people = [
            Employee(domain_id=tenant.default_domain_id, first_name="E", last_name=f"{i:02d}")
            for i in range(30)
        ]
        s.add_all(profiles + people)
        await s.flush()
        s.add_all(
            EmployeeAccessProfile(employee_id=e.id, access_profile_id=p.id)
            for e in people
            for p in profiles
        )
        await s.commit()
    await gql("{ tenant { name } }")  # the token's last-used time is fresh now
    counted: dict[int, int] = {}
    for n in (3, 30):
        # when
        with StatementCounter(database.app_engine) as counter:
            data = await gql(EMPLOYEES, {"n": n})
        counted[n] = counter.count
        # then
        edges = data["employees"]["edges"]
        assert len(edges) == n
        assert all(e["node"]["accessProfiles"] == [{"name": "P0"}, {"name": "P1"}] for e in edges)
    assert counted[3] == counted[30]
