"""The dashboard query (issue 12 item 1): aggregates counted in SQL, never another tenant's
rows (R1), only the caller's domains (R8), each part null without its right (R7)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.access.blocking_list import MAX_BLOCKED_KEYS, WARN_BLOCKED_KEYS, issue_blocking_list
from app.auth.rights import BUILTIN_ROLES
from app.db import Database
from app.models import (
    AccessResult,
    AuditEvent,
    AuditSource,
    CylinderStatus,
    Domain,
    Employee,
    KeyStatus,
    ProgrammingJob,
    ProgrammingJobStatus,
    RemoteDevice,
    RemoteDeviceKind,
    utcnow,
)
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, StatementCounter, make_tenant, superadmin_token
from tests.factories import add_domain, default_schedule, new_cylinder, new_key

DASHBOARD = """
{
  dashboard {
    keyCount cylinderCount employeeCount offlineDevices
    waitingJobs { domain { name } waiting }
    expiringKeys { count first { id marking validity { validUntil } } }
    blockingList { keys limit warnAt }
    auditEventsPerDay { day events }
  }
}
"""


@dataclass
class Site:
    """What ``seed`` wrote, per domain: the figures the dashboard must report."""

    second_domain_id: int
    second_domain: str


async def seed(database: Database, tenant: NewTenant, n: int = 1, tag: str = "") -> Site:
    """``n`` times the same mix in the default domain "A" and, once, in a second domain "B".

    Per ``n`` in A: 4 keys in use, 1 lost, 1 defective, 2 of the keys running out within
    24 hours (one already expired besides); 3 cylinders and 1 defective; 2 employees; 3
    open jobs and 1 done; 2 devices offline and 1 online; 2 audit events now, 1 ten days
    ago, 1 withheld and 1 older than 30 days. B: 1 key running out, 1 cylinder with 1 open
    job, 1 employee, 1 offline device, 1 audit event now.
    """
    now = utcnow()
    b = await add_domain(database, tenant, f"B {secrets.token_hex(3)}")
    a = tenant.default_domain_id
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await default_schedule(s)
        for i in range(n):
            keys = [
                new_key(a, f"{tag}A-{i}-ok", schedule),
                new_key(
                    a,
                    f"{tag}A-{i}-soon",
                    schedule,
                    always_valid=False,
                    valid_until=now + timedelta(hours=3),
                ),
                new_key(
                    a,
                    f"{tag}A-{i}-later",
                    schedule,
                    always_valid=False,
                    valid_until=now + timedelta(hours=23),
                ),
                new_key(
                    a,
                    f"{tag}A-{i}-past",
                    schedule,
                    always_valid=False,
                    valid_until=now - timedelta(hours=1),
                ),
                new_key(
                    a,
                    f"{tag}A-{i}-lost",
                    schedule,
                    status=KeyStatus.LOST,
                    always_valid=False,
                    valid_until=now + timedelta(hours=2),
                ),
                new_key(a, f"{tag}A-{i}-broken", schedule, status=KeyStatus.DEFECTIVE),
            ]
            cylinders = [new_cylinder(a, f"{tag}CA-{i}-{j}") for j in range(3)]
            cylinders.append(new_cylinder(a, f"{tag}CA-{i}-x", status=CylinderStatus.DEFECTIVE))
            s.add_all(keys + cylinders)
            await s.flush()
            s.add_all(
                [
                    ProgrammingJob(cylinder_id=cylinders[0].id),
                    ProgrammingJob(
                        cylinder_id=cylinders[1].id, status=ProgrammingJobStatus.ASSIGNED
                    ),
                    ProgrammingJob(cylinder_id=cylinders[2].id, status=ProgrammingJobStatus.ON_KEY),
                    ProgrammingJob(cylinder_id=cylinders[0].id, status=ProgrammingJobStatus.DONE),
                    *(_device(a, online=False) for _ in range(2)),
                    _device(a, online=True),
                    _event(now, cylinder_id=cylinders[0].id),
                    _event(now, key_id=keys[0].id),
                    _event(now - timedelta(days=10), cylinder_id=cylinders[1].id),
                    _event(now, cylinder_id=cylinders[1].id, withheld=True),
                    _event(now - timedelta(days=31), cylinder_id=cylinders[1].id),
                ]
            )
            s.add_all(_employee(a, f"{tag}A{i}-{j}") for j in range(2))
        key_b = new_key(
            b, f"{tag}B-soon", schedule, always_valid=False, valid_until=now + timedelta(hours=1)
        )
        cylinder_b = new_cylinder(b, f"{tag}CB")
        s.add_all([key_b, cylinder_b, _employee(b, f"{tag}B"), _device(b, online=False)])
        await s.flush()
        s.add_all([ProgrammingJob(cylinder_id=cylinder_b.id), _event(now, key_id=key_b.id)])
        await issue_blocking_list(s)
        await s.commit()
    async with database.tenant_session(tenant.tenant_id) as s:
        domain = await s.get(Domain, b)
        assert domain is not None
    return Site(b, domain.name)


def _device(domain_id: int, *, online: bool) -> RemoteDevice:
    return RemoteDevice(
        domain_id=domain_id,
        name=f"Wall {secrets.token_hex(3)}",
        kind=RemoteDeviceKind.WALL,
        serial=secrets.token_hex(6),
        firmware_version="2.0.0",
        bootloader_version="1.0.0",
        online=online,
    )


def _event(at: datetime, **fields: object) -> AuditEvent:
    source = AuditSource.CYLINDER if "cylinder_id" in fields else AuditSource.KEY
    return AuditEvent(at=at, source=source, result=AccessResult.GRANTED, **fields)


def _employee(domain_id: int, number: str) -> Employee:
    return Employee(
        domain_id=domain_id, employee_number=number, first_name="Ida", last_name=f"Holder {number}"
    )


def _today() -> str:
    return utcnow().date().isoformat()


async def test_the_dashboard_counts_a_seeded_tenant(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given
    site = await seed(database, tenant)
    # when
    board = (await gql(DASHBOARD))["dashboard"]
    # then: lost and defective elements are left out (R10)
    assert (board["keyCount"], board["cylinderCount"], board["employeeCount"]) == (5, 4, 3)
    assert board["offlineDevices"] == 3
    waiting = {row["domain"]["name"]: row["waiting"] for row in board["waitingJobs"]}
    assert waiting == {"Default": 3, site.second_domain: 1}
    # and: the keys running out soonest first, the expired, lost and always-valid ones not
    assert board["expiringKeys"]["count"] == 3
    assert [k["marking"] for k in board["expiringKeys"]["first"]] == [
        "B-soon",
        "A-0-soon",
        "A-0-later",
    ]
    assert board["blockingList"] == {
        "keys": 1,
        "limit": MAX_BLOCKED_KEYS,
        "warnAt": WARN_BLOCKED_KEYS,
    }
    # and: 30 UTC days, oldest first, every day listed; withheld and older events not counted
    days = board["auditEventsPerDay"]
    assert len(days) == 30 and days[-1]["day"] == _today()
    assert [d["day"] for d in days] == sorted(d["day"] for d in days)
    ten_days_ago = (utcnow() - timedelta(days=10)).date().isoformat()
    by_day = {d["day"]: d["events"] for d in days}
    assert by_day[ten_days_ago] == 1
    assert by_day[_today()] == 3
    assert sum(by_day.values()) == 4


async def test_the_dashboard_never_counts_another_tenants_rows(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: everything seeded in another tenant, nothing in this one
    other = await make_tenant(database, "Other")
    await seed(database, other, n=2)
    # when
    board = (await gql(DASHBOARD))["dashboard"]
    # then (R1)
    assert (board["keyCount"], board["cylinderCount"], board["employeeCount"]) == (0, 0, 0)
    assert board["offlineDevices"] == 0 and board["waitingJobs"] == []
    assert board["expiringKeys"] == {"count": 0, "first": []}
    assert board["blockingList"]["keys"] == 0
    assert sum(d["events"] for d in board["auditEventsPerDay"]) == 0


async def test_a_caller_limited_to_a_domain_sees_only_its_figures(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a Superadmin token limited to the second domain (R8)
    site = await seed(database, tenant)
    token = await superadmin_token(
        database, tenant, name="B only", domain_ids=[site.second_domain_id]
    )
    # when
    board = (await gql(DASHBOARD, token=token))["dashboard"]
    # then
    assert (board["keyCount"], board["cylinderCount"], board["employeeCount"]) == (1, 1, 1)
    assert board["offlineDevices"] == 1
    assert board["waitingJobs"] == [{"domain": {"name": site.second_domain}, "waiting": 1}]
    assert [k["marking"] for k in board["expiringKeys"]["first"]] == ["B-soon"]
    assert sum(d["events"] for d in board["auditEventsPerDay"]) == 1
    # and: the blocking list is the tenant's, lost keys of every domain (R21)
    assert board["blockingList"]["keys"] == 1


async def test_each_part_is_null_without_the_right_that_reads_it(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: an Operator (no devices, blocking list or audit rights) and an Approver (R29)
    await seed(database, tenant)
    operator = await superadmin_token(database, tenant, name="op", rights=BUILTIN_ROLES["Operator"])
    approver = await superadmin_token(database, tenant, name="ap", rights=BUILTIN_ROLES["Approver"])
    # when
    as_operator = (await gql(DASHBOARD, token=operator))["dashboard"]
    response = await gql.raw(DASHBOARD, token=approver)
    # then: no error, just the parts the caller may not read left null
    assert as_operator["keyCount"] == 5 and as_operator["waitingJobs"]
    assert as_operator["offlineDevices"] is None
    assert as_operator["blockingList"] is None
    assert as_operator["auditEventsPerDay"] is None
    body = response.json()
    assert "errors" not in body
    assert all(value is None for value in body["data"]["dashboard"].values())


async def test_an_anonymous_caller_gets_no_dashboard(gql: GraphQLClient) -> None:
    # when
    response = await gql.raw(DASHBOARD, token="")
    # then
    body = response.json()
    assert body.get("errors") and not body.get("data")


async def test_the_dashboard_costs_the_same_statements_for_little_or_much_data(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given
    await gql("{ tenant { name } }")  # the token's last-used time is fresh now: no write follows
    counted: dict[int, int] = {}
    seeded = 0
    for size in (1, 8):
        await seed(database, tenant, n=size - seeded, tag=f"s{size}-")
        seeded = size
        # when
        with StatementCounter(database.app_engine) as counter:
            board = (await gql(DASHBOARD))["dashboard"]
        counted[size] = counter.count
        assert board["expiringKeys"]["count"] > 0
    # then
    assert counted[1] == counted[8]
