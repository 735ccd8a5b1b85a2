"""Programming jobs on programming keys over GraphQL (R15, R17): assign, load, report.

The scenario of the FAQ "Assigning programming tasks to other programming keys":
jobs are assigned to a PN/PSM, whose holder is told by e-mail; the jobs are
loaded onto the key at the desk or at a remote device (key firmware ≥ 12.3,
device firmware ≥ 5), with an e-mail listing the cylinders; after programming
the key reports back, the jobs are cleared from it and a final e-mail says
whether all were done. More than 30 jobs on one key is allowed but warned.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.access.engine import reconcile
from app.db import Database
from app.models import (
    AuditEvent,
    Cylinder,
    CylinderStatus,
    DirectAuthorization,
    Domain,
    Employee,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    OutboxMessage,
    ProgrammingJob,
    ProgrammingJobStatus,
    ProgrammingKey,
    ProgrammingKeyDomain,
    ProgrammingKeyKind,
    RemoteDevice,
    RemoteDeviceKind,
    Schedule,
)
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, make_tenant, superadmin_token

ASSIGN = """
mutation($i: AssignProgrammingJobsInput!) {
  assignProgrammingJobs(input: $i) {
    programmingJobs { id status assignee { marking } cylinder { marking } }
    warnings { code message }
    errors { field code message }
  }
}
"""

LOAD = """
mutation($i: LoadProgrammingJobsInput!) {
  loadProgrammingJobs(input: $i) {
    programmingKey { marking firmwareVersion }
    loadedCount
    jobs {
      programmingJob { id status }
      cylinder { marking securityRelevant }
      fullReprogram
      changes { op keyUid groupId }
      accessList { op keyUid groupId }
    }
    errors { field code message }
  }
}
"""

REPORT = """
mutation($i: ReportProgrammingResultsInput!) {
  reportProgrammingResults(input: $i) {
    programmingJobs { id status cylinder { marking } }
    returnedJobs { id status assignee { marking } cylinder { marking } }
    newProgrammingJobs { id status assignee { marking } cylinder { marking }
                         changes { op key { marking } } }
    openCylinders { marking }
    allCompleted
    auditEventsStored
    errors { field code message }
  }
}
"""

CYLINDER = """
query($id: ID!) {
  node(id: $id) {
    ... on Cylinder {
      marking needsReprogramming
      accessList { key { marking } desired programmed }
      programmingJobs { edges { node { status } } }
    }
  }
}
"""


@dataclass
class Site:
    """A tenant's locking system with open jobs, and the programming keys to carry them."""

    tenant_id: str
    cylinders: list[int]  # domain A (the default domain), one open job each
    cylinders_b: list[int]  # domain B, one open job each
    key_id: int  # the user key authorised on every cylinder (domain A)
    key_uid: str
    sub_key: int  # PN-A: a sub key administering domain A, held by someone with an e-mail
    sub_key_b: int  # PN-B: a sub key administering domain B only
    domain_b: int
    holder_email: str

    def jobs_of(self, rows: dict[int, int], cylinder_ids: list[int]) -> list[str]:
        return [to_global_id("ProgrammingJob", rows[c]) for c in cylinder_ids]


async def build_site(
    database: Database,
    tenant: NewTenant,
    *,
    cylinders: int = 5,
    security_relevant: tuple[int, ...] = (),
    key_firmware: str = "12.3",
) -> Site:
    """Cylinders with a key authorised directly on each, reconciled into one open job each."""
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        domain_b = Domain(name=f"B {secrets.token_hex(3)}")
        holder = Employee(
            domain_id=tenant.default_domain_id,
            first_name="Petra",
            last_name="Programmer",
            email=f"petra.{secrets.token_hex(3)}@example.com",
        )
        s.add_all([domain_b, holder])
        await s.flush()
        cyls = [
            Cylinder(
                domain_id=tenant.default_domain_id,
                marking=f"C-{i:03d}",
                uid=secrets.token_hex(8),
                status=CylinderStatus.ACTIVE,
                security_relevant=i in security_relevant,
            )
            for i in range(cylinders)
        ]
        cyls_b = [
            Cylinder(
                domain_id=domain_b.id,
                marking=f"B-{i:03d}",
                uid=secrets.token_hex(8),
                status=CylinderStatus.ACTIVE,
            )
            for i in range(2)
        ]
        key = Key(
            domain_id=tenant.default_domain_id,
            marking="K-1",
            uid=secrets.token_hex(8),
            type=KeyType.E3,
            generation=KeyGeneration.GEN2,
            firmware_version="16.3.7",
            status=KeyStatus.ISSUED,
            schedule_id=schedule,
        )
        sub = ProgrammingKey(
            marking="PN-A",
            uid=secrets.token_hex(8),
            kind=ProgrammingKeyKind.SUB,
            firmware_version=key_firmware,
            holder_id=holder.id,
            public_key=os.urandom(32),
        )
        sub_b = ProgrammingKey(
            marking="PN-B",
            uid=secrets.token_hex(8),
            kind=ProgrammingKeyKind.SUB,
            firmware_version="12.3",
            public_key=os.urandom(32),
        )
        s.add_all([*cyls, *cyls_b, key, sub, sub_b])
        await s.flush()
        s.add_all(
            [
                ProgrammingKeyDomain(programming_key_id=sub.id, domain_id=tenant.default_domain_id),
                ProgrammingKeyDomain(programming_key_id=sub_b.id, domain_id=domain_b.id),
                *(DirectAuthorization(cylinder_id=c.id, key_id=key.id) for c in cyls + cyls_b),
            ]
        )
        await s.flush()
        await reconcile(s, [c.id for c in cyls + cyls_b])
        await s.commit()
        return Site(
            tenant.tenant_id,
            [c.id for c in cyls],
            [c.id for c in cyls_b],
            key.id,
            key.uid,
            sub.id,
            sub_b.id,
            domain_b.id,
            holder.email or "",
        )


async def open_jobs(database: Database, tenant_id: str) -> dict[int, int]:
    """The open job of each cylinder: cylinder id -> job id."""
    async with database.tenant_session(tenant_id) as s:
        rows = (await s.execute(select(ProgrammingJob.cylinder_id, ProgrammingJob.id))).all()
    return {cylinder_id: job_id for cylinder_id, job_id in rows}


async def outbox(database: Database, tenant_id: str, kind: str) -> list[OutboxMessage]:
    async with database.tenant_session(tenant_id) as s:
        stmt = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        return list(await s.scalars(stmt))


def pk(ident: int) -> str:
    return to_global_id("ProgrammingKey", ident)


def cyl(ident: int) -> str:
    return to_global_id("Cylinder", ident)


async def assign(gql: GraphQLClient, key: int, job_gids: list[str]) -> dict[str, Any]:
    data = await gql(ASSIGN, {"i": {"programmingKeyId": pk(key), "jobIds": job_gids}})
    return data["assignProgrammingJobs"]  # type: ignore[no-any-return]


async def load(gql: GraphQLClient, key: int, **extra: Any) -> dict[str, Any]:
    data = await gql(LOAD, {"i": {"programmingKeyId": pk(key), **extra}})
    return data["loadProgrammingJobs"]  # type: ignore[no-any-return]


async def report(
    gql: GraphQLClient, key: int, results: list[dict[str, Any]], token: str | None = None
) -> dict[str, Any]:
    data = await gql(REPORT, {"i": {"programmingKeyId": pk(key), "results": results}}, token)
    return data["reportProgrammingResults"]  # type: ignore[no-any-return]


async def add_device(database: Database, tenant: NewTenant, firmware: str) -> str:
    async with database.tenant_session(tenant.tenant_id) as s:
        device = RemoteDevice(
            domain_id=tenant.default_domain_id,
            name=f"Wall {firmware}",
            kind=RemoteDeviceKind.WALL,
            serial=secrets.token_hex(6),
            firmware_version=firmware,
            bootloader_version="1.0",
        )
        s.add(device)
        await s.commit()
        return to_global_id("RemoteDevice", device.id)


# --- assigning ------------------------------------------------------------------------


async def test_assigning_31_jobs_to_a_sub_key_warns_too_many_and_mails_its_holder(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: 31 cylinders with an open job each
    site = await build_site(database, tenant, cylinders=31)
    jobs = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)
    # when: 30 jobs are assigned to PN-A
    first = await assign(gql, site.sub_key, jobs[:30])
    # then: they are assigned, without a warning (the FAQ recommends at most 30)
    assert first["errors"] == [] and first["warnings"] == []
    assert {(j["status"], j["assignee"]["marking"]) for j in first["programmingJobs"]} == {
        ("ASSIGNED", "PN-A")
    }
    # when: the 31st
    second = await assign(gql, site.sub_key, jobs[30:])
    # then: allowed, but warned against
    assert second["errors"] == []
    assert [w["code"] for w in second["warnings"]] == ["TOO_MANY_JOBS"]
    assert "31" in second["warnings"][0]["message"]
    assert second["programmingJobs"][0]["cylinder"]["marking"] == "C-030"
    # and the holder was told twice that cylinder programming is available (R33)
    mails = await outbox(database, site.tenant_id, "programming_jobs_assigned")
    assert [m.recipient for m in mails] == [site.holder_email] * 2
    assert "PN-A" in mails[0].subject
    assert "C-000" in mails[0].body and "C-029" in mails[0].body
    assert "C-030" in mails[1].body and "carries 31" in mails[1].body


async def test_reassigning_moves_jobs_and_only_open_jobs_can_be_assigned(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: two jobs assigned to PN-A, one of them already loaded onto it
    site = await build_site(database, tenant, cylinders=2)
    jobs = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)
    await assign(gql, site.sub_key, [jobs[0]])
    await load(gql, site.sub_key)
    await assign(gql, site.sub_key, [jobs[1]])
    async with database.tenant_session(site.tenant_id) as s:
        psm = ProgrammingKey(
            marking="PSM-1",
            uid=secrets.token_hex(8),
            kind=ProgrammingKeyKind.SUBMASTER,
            firmware_version="12.3",
            public_key=os.urandom(32),
        )
        s.add(psm)
        await s.commit()
    # when: the assigned job is given to the submaster key (it administers every domain)
    moved = await assign(gql, psm.id, [jobs[1]])
    # then: it moved; the submaster key's holder is unknown, so no e-mail and no error
    assert moved["errors"] == []
    assert moved["programmingJobs"][0]["assignee"]["marking"] == "PSM-1"
    # when: the job on PN-A is assigned elsewhere
    refused = await assign(gql, psm.id, [jobs[1], jobs[0]])
    # then: refused naming it, and nothing moved (one transaction)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("jobIds.1", "CONFLICT")]
    assert "ON_KEY" in refused["errors"][0]["message"]
    # and an unknown programming key is named too
    unknown = await assign(gql, 999_999, [jobs[1]])
    assert [(e["field"], e["code"]) for e in unknown["errors"]] == [
        ("programmingKeyId", "NOT_FOUND")
    ]


async def test_a_sub_key_limited_to_domain_b_cannot_be_assigned_jobs_on_cylinders_of_domain_a(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: open jobs in domain B and in domain A
    site = await build_site(database, tenant, cylinders=1)
    rows = await open_jobs(database, site.tenant_id)
    job_b = site.jobs_of(rows, site.cylinders_b[:1])[0]
    job_a = site.jobs_of(rows, site.cylinders)[0]
    # when: PN-B (domain B only) is given both
    refused = await assign(gql, site.sub_key_b, [job_b, job_a])
    # then: the job on domain A's cylinder is refused by its place in the input (R8)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("jobIds.1", "INVALID")]
    assert "C-000" in refused["errors"][0]["message"]
    # and nothing was assigned, not even the job in domain B
    data = await gql(
        "query($id: ID!) { node(id: $id) "
        "{ ... on ProgrammingJob { status assignee { marking } } } }",
        {"id": job_b},
    )
    assert data["node"] == {"status": "PENDING", "assignee": None}
    # when: only the job in domain B
    done = await assign(gql, site.sub_key_b, [job_b])
    # then: it is assigned
    assert done["errors"] == []
    assert done["programmingJobs"][0]["assignee"] == {"marking": "PN-B"}


async def test_assigning_needs_the_right_to_assign_jobs(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a token that may read jobs but not assign them
    site = await build_site(database, tenant, cylinders=1)
    jobs = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)
    token = await superadmin_token(database, tenant, rights=["jobs.read", "cylinders.read"])
    # when
    data = await gql(
        ASSIGN, {"i": {"programmingKeyId": pk(site.sub_key), "jobIds": jobs}}, token=token
    )
    # then: a UserError naming the right (R7)
    errors = data["assignProgrammingJobs"]["errors"]
    assert [(e["code"], e["message"]) for e in errors] == [
        ("FORBIDDEN", "missing right: jobs.assign")
    ]


# --- loading onto the key ----------------------------------------------------------------


async def test_loading_through_graphql_naming_a_wall_device_is_refused_the_device_loads_itself(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    """R17 (issue 10 item 11): an API call cannot put jobs on a key sitting in a wall device;
    the device loads it through the signed device protocol (tests/test_remote_programming.py)."""
    # given: PN-A with an assigned job and a wall device
    site = await build_site(database, tenant, cylinders=1)
    jobs = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)
    await assign(gql, site.sub_key, jobs)
    device = await add_device(database, tenant, "5.0.2")
    # when
    refused = await load(gql, site.sub_key, deviceId=device, keyFirmwareVersion="12.3")
    # then: INVALID naming deviceId; nothing loaded, no e-mail
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("deviceId", "INVALID")]
    assert "device protocol" in refused["errors"][0]["message"]
    async with database.tenant_session(tenant.tenant_id) as s:
        statuses = list(await s.scalars(
            select(ProgrammingJob.status).where(ProgrammingJob.assignee_id == site.sub_key)))
    assert statuses == [ProgrammingJobStatus.ASSIGNED]
    assert not await outbox(database, site.tenant_id, "programming_jobs_loaded")


async def test_loading_at_the_desk_has_no_firmware_minimum(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: PN-A with firmware 11.8 and a job assigned to it
    site = await build_site(database, tenant, cylinders=1, key_firmware="11.8")
    jobs = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)
    await assign(gql, site.sub_key, jobs)
    # when: the holder loads it in Keywarden at the desk (FAQ: the minimums are the remote
    # device's)
    loaded = await load(gql, site.sub_key)
    # then
    assert loaded["errors"] == []
    assert [j["programmingJob"]["status"] for j in loaded["jobs"]] == ["ON_KEY"]


# --- the report ------------------------------------------------------------------------------


async def test_the_report_closes_jobs_keeps_the_audit_trail_and_says_what_is_left(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: five jobs loaded onto PN-A
    site = await build_site(database, tenant, cylinders=5, security_relevant=(4,))
    rows = await open_jobs(database, site.tenant_id)
    jobs = site.jobs_of(rows, site.cylinders)
    await assign(gql, site.sub_key, jobs)
    await load(gql, site.sub_key)
    t0 = datetime(2024, 5, 6, 7, 30, tzinfo=UTC)
    trail = [
        {"at": t0.isoformat(), "keyUid": site.key_uid, "result": "DENIED_NOT_AUTHORIZED"},
        {"at": (t0 + timedelta(minutes=5)).isoformat(), "keyUid": "F0REIGN", "result": "GRANTED"},
    ]
    results = [
        {"jobId": jobs[0], "outcome": "DONE", "auditEvents": trail},
        {"jobId": jobs[1], "outcome": "DONE"},
        {"jobId": jobs[2], "outcome": "ABORTED"},
        {"jobId": jobs[3], "outcome": "FAILED", "auditEvents": trail[:1]},
    ]
    # when: the key reports four of them (C-004 was not visited)
    done = await report(gql, site.sub_key, results)
    # then: the reported jobs are closed
    assert done["errors"] == []
    assert [(j["cylinder"]["marking"], j["status"]) for j in done["programmingJobs"]] == [
        ("C-000", "DONE"),
        ("C-001", "DONE"),
        ("C-002", "FAILED"),
        ("C-003", "FAILED"),
    ]
    # and the audit events read before rewriting are stored (R15: nothing lost)
    assert done["auditEventsStored"] == 3
    # and the job not reported is cleared from the key: assigned to it again
    assert done["returnedJobs"] == [
        {
            "id": jobs[4],
            "status": "ASSIGNED",
            "assignee": {"marking": "PN-A"},
            "cylinder": {"marking": "C-004"},
        }
    ]
    # and the broken-off job leaves a full reprogramming job, the failed one its change again
    new = {j["cylinder"]["marking"]: j for j in done["newProgrammingJobs"]}
    assert set(new) == {"C-002", "C-003"}
    assert {j["status"] for j in new.values()} == {"PENDING"}
    assert new["C-003"]["changes"] == [{"op": "ADD", "key": {"marking": "K-1"}}]
    assert done["allCompleted"] is False
    assert [c["marking"] for c in done["openCylinders"]] == ["C-004", "C-002", "C-003"]
    # and the cylinders show it
    programmed = (await gql(CYLINDER, {"id": cyl(site.cylinders[0])}))["node"]
    assert programmed["accessList"] == [
        {"key": {"marking": "K-1"}, "desired": True, "programmed": True}
    ]
    assert programmed["needsReprogramming"] is False
    aborted = (await gql(CYLINDER, {"id": cyl(site.cylinders[2])}))["node"]
    assert aborted["needsReprogramming"] is True
    failed = (await gql(CYLINDER, {"id": cyl(site.cylinders[3])}))["node"]
    assert failed["accessList"][0]["programmed"] is False
    assert sorted(e["node"]["status"] for e in failed["programmingJobs"]["edges"]) == [
        "FAILED",
        "PENDING",
    ]
    # and the load e-mail, then the final e-mail to the holder says what is left (R17)
    (mail,) = await outbox(database, site.tenant_id, "programming_jobs_report")
    assert mail.recipient == site.holder_email
    assert "3 cylinder(s) still to program" in mail.subject
    assert "Done: 2" in mail.body and "Failed: 1" in mail.body
    assert "Aborted (key pulled too early; the cylinder needs a full reprogramming): 1" in (
        mail.body
    )
    assert mail.body.index("C-004 (security-relevant)") < mail.body.index("C-002")


async def test_a_report_sent_twice_stores_nothing_twice(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a job on PN-A, reported with the cylinder's trail
    site = await build_site(database, tenant, cylinders=2)
    jobs = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)
    await assign(gql, site.sub_key, jobs[:1])
    await load(gql, site.sub_key)
    t0 = datetime(2024, 5, 6, 7, 30, tzinfo=UTC)
    trail = [
        {"at": (t0 + timedelta(minutes=i)).isoformat(), "keyUid": site.key_uid, "result": "GRANTED"}
        for i in range(3)
    ]
    results = [{"jobId": jobs[0], "outcome": "DONE", "auditEvents": trail}]
    assert (await report(gql, site.sub_key, results))["auditEventsStored"] == 3
    # when: the same report comes again (the device did not get the answer)
    again = await report(gql, site.sub_key, results)
    # then: refused, as the job is no longer on the key, and nothing is stored twice
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("results.0.jobId", "CONFLICT")]
    async with database.tenant_session(site.tenant_id) as s:
        assert await s.scalar(select(func.count()).select_from(AuditEvent)) == 3
    assert len(await outbox(database, site.tenant_id, "programming_jobs_report")) == 1


async def test_events_read_again_at_the_next_visit_are_stored_once(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a job that failed after the cylinder's trail (two events) was read out
    site = await build_site(database, tenant, cylinders=1)
    jobs = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)
    await assign(gql, site.sub_key, jobs)
    await load(gql, site.sub_key)
    t0 = datetime(2024, 5, 6, 7, 30, tzinfo=UTC)
    trail = [
        {"at": (t0 + timedelta(minutes=i)).isoformat(), "keyUid": "F0REIGN", "result": "GRANTED"}
        for i in range(3)
    ]
    failed = await report(
        gql, site.sub_key, [{"jobId": jobs[0], "outcome": "FAILED", "auditEvents": trail[:2]}]
    )
    (retry,) = failed["newProgrammingJobs"]
    # when: the new job is carried out and the trail, now with a third event, read again
    await assign(gql, site.sub_key, [retry["id"]])
    await load(gql, site.sub_key)
    done = await report(
        gql, site.sub_key, [{"jobId": retry["id"], "outcome": "DONE", "auditEvents": trail}]
    )
    # then: only the new event is stored; the cylinder's trail holds each event once
    assert done["errors"] == [] and done["auditEventsStored"] == 1
    assert done["allCompleted"] is True
    data = await gql(
        "query($c: ID!) { auditEvents(filter: {cylinderId: $c}) { totalCount } }",
        {"c": cyl(site.cylinders[0])},
    )
    assert data["auditEvents"]["totalCount"] == 3
    mails = await outbox(database, site.tenant_id, "programming_jobs_report")
    assert mails[-1].subject == "All programming jobs of programming key PN-A are completed"


async def test_a_report_naming_a_job_not_on_the_key_changes_nothing(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: one job on PN-A, one only assigned
    site = await build_site(database, tenant, cylinders=2)
    jobs = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)
    await assign(gql, site.sub_key, jobs[:1])
    await load(gql, site.sub_key)
    await assign(gql, site.sub_key, jobs[1:])
    event = {"at": "2024-05-06T07:30:00+00:00", "keyUid": site.key_uid, "result": "GRANTED"}
    # when: the report names both
    refused = await report(
        gql,
        site.sub_key,
        [
            {"jobId": jobs[0], "outcome": "DONE", "auditEvents": [event]},
            {"jobId": jobs[1], "outcome": "DONE"},
        ],
    )
    # then: refused naming the second; the first is still on the key, no event stored
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("results.1.jobId", "CONFLICT")]
    loaded = await load(gql, site.sub_key)
    assert [j["programmingJob"]["status"] for j in loaded["jobs"]] == ["ON_KEY", "ON_KEY"]
    async with database.tenant_session(site.tenant_id) as s:
        assert await s.scalar(select(func.count()).select_from(AuditEvent)) == 0
    # and an event time without its UTC offset is refused, naming it
    naive = {**event, "at": "2024-05-06T07:30:00"}
    bad = await report(
        gql, site.sub_key, [{"jobId": jobs[0], "outcome": "DONE", "auditEvents": [event, naive]}]
    )
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [
        ("results.0.auditEvents.1.at", "INVALID")
    ]


async def test_reporting_needs_the_right_to_program_cylinders(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a job on PN-A, and an Operator-like token (no cylinders.program)
    site = await build_site(database, tenant, cylinders=1)
    jobs = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)
    await assign(gql, site.sub_key, jobs)
    await load(gql, site.sub_key)
    token = await superadmin_token(database, tenant, rights=["jobs.read", "cylinders.read"])
    # when
    refused = await report(gql, site.sub_key, [{"jobId": jobs[0], "outcome": "DONE"}], token)
    loading = (await gql(LOAD, {"i": {"programmingKeyId": pk(site.sub_key)}}, token))[
        "loadProgrammingJobs"
    ]
    # then
    assert [(e["code"], e["message"]) for e in refused["errors"]] == [
        ("FORBIDDEN", "missing right: cylinders.program")
    ]
    assert [e["code"] for e in loading["errors"]] == ["FORBIDDEN"]


async def test_a_report_by_an_administrator_of_one_domain_keeps_keys_of_other_domains(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a job on a cylinder of domain B for a key of domain A, loaded onto PN-B,
    # and a token administering domain B only
    site = await build_site(database, tenant, cylinders=1)
    job_b = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders_b[:1])
    await assign(gql, site.sub_key_b, job_b)
    token = await superadmin_token(database, tenant, domain_ids=[site.domain_b])
    loaded = (await gql(LOAD, {"i": {"programmingKeyId": pk(site.sub_key_b)}}, token))[
        "loadProgrammingJobs"
    ]
    # then: the key of the other domain is named by its UID all the same
    assert loaded["jobs"][0]["changes"] == [{"op": "ADD", "keyUid": site.key_uid, "groupId": None}]
    # when: the domain-B administrator reports it done
    done = await report(gql, site.sub_key_b, [{"jobId": job_b[0], "outcome": "DONE"}], token)
    # then: the key stays in the cylinder: programmed, and no job removes it (R8 partitions
    # administration, not access)
    assert done["errors"] == [] and done["newProgrammingJobs"] == []
    async with database.tenant_session(site.tenant_id) as s:
        statuses = list(
            await s.scalars(
                select(ProgrammingJob.status).where(
                    ProgrammingJob.cylinder_id == site.cylinders_b[0]
                )
            )
        )
    assert [s.value for s in statuses] == ["DONE"]


# --- isolation (R1) ------------------------------------------------------------------------


async def test_job_ids_of_another_tenant_are_not_found_and_stay_untouched(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: another tenant with an open job, and our own programming key
    other = await make_tenant(database, f"Other {secrets.token_hex(3)}")
    theirs = await build_site(database, other, cylinders=1)
    their_job = theirs.jobs_of(await open_jobs(database, other.tenant_id), theirs.cylinders)
    ours = await build_site(database, tenant, cylinders=1)
    # when: we name their job, and their programming key
    as_job = await assign(gql, ours.sub_key, their_job)
    as_key = await assign(gql, theirs.sub_key, their_job)
    as_report = await report(gql, ours.sub_key, [{"jobId": their_job[0], "outcome": "DONE"}])
    # then: none of it exists for us
    assert [(e["field"], e["code"]) for e in as_job["errors"]] == [("jobIds.0", "NOT_FOUND")]
    assert [(e["field"], e["code"]) for e in as_key["errors"]] == [
        ("programmingKeyId", "NOT_FOUND")
    ]
    assert [(e["field"], e["code"]) for e in as_report["errors"]] == [
        ("results.0.jobId", "NOT_FOUND")
    ]
    async with database.tenant_session(other.tenant_id) as s:
        job = await s.scalar(select(ProgrammingJob))
    assert job is not None and job.status.value == "PENDING" and job.assignee_id is None


async def test_a_cylinder_group_membership_travels_on_the_programming_key_by_its_group(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a cylinder with an open job joins a cylinder group (R13: the cylinder learns it)
    site = await build_site(database, tenant, cylinders=1)
    made = await gql(
        "mutation($i: CreateCylinderGroupInput!) { createCylinderGroup(input: $i) "
        "{ cylinderGroup { id } errors { code } } }",
        {"i": {"name": "Basement", "cylinderIds": [cyl(site.cylinders[0])]}},
    )
    group_gid = made["createCylinderGroup"]["cylinderGroup"]["id"]
    jobs = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)
    assert (await assign(gql, site.sub_key, jobs))["errors"] == []
    # when: the jobs are loaded onto the programming key
    data = await gql(
        "mutation($i: LoadProgrammingJobsInput!) { loadProgrammingJobs(input: $i) "
        "{ jobs { changes { op keyUid groupId cylinderGroupId } } errors { code } } }",
        {"i": {"programmingKeyId": pk(site.sub_key)}},
    )
    # then: the change names the group, so the cylinder can store its membership
    (job,) = data["loadProgrammingJobs"]["jobs"]
    assert {"op": "ADD", "keyUid": None, "groupId": None, "cylinderGroupId": group_gid} in job[
        "changes"
    ]
