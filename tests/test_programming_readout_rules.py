"""Readout rules are not bypassed by programming (issue 10 item 10; R15 vs R29).

A programming visit reads the cylinder's audit trail before rewriting it, so that nothing
is lost (R15). With the approver function on, that trail is stored but shown to nobody
until a readout of the cylinder is approved (R29); with it off, whoever may read audit
trails reads it at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.db import Database
from app.models import AuditEvent, ReadoutRequest, ReadoutStatus
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, superadmin_token
from tests.test_approval import decide, request, staff_council
from tests.test_programming_keys_jobs import (
    Site,
    assign,
    build_site,
    cyl,
    load,
    open_jobs,
    report,
)

TRAIL = """
query($c: ID!) {
  auditEvents(filter: {cylinderId: $c}) { totalCount edges { node { at result } } }
  node(id: $c) { ... on Cylinder { auditTrail { totalCount edges { node { at } } } } }
}
"""

T0 = datetime(2026, 5, 6, 7, 30, tzinfo=UTC)


def events(count: int) -> list[dict[str, Any]]:
    """The first ``count`` events of the cylinder's trail (a foreign key tried it)."""
    return [
        {"at": (T0 + timedelta(minutes=i)).isoformat(), "keyUid": "F0REIGN", "result": "GRANTED"}
        for i in range(count)
    ]


async def visit(
    gql: GraphQLClient, site: Site, job_gid: str, outcome: str, trail: list[dict[str, Any]]
) -> dict[str, Any]:
    """PN-A carries the job to the cylinder, reads its trail and reports."""
    await assign(gql, site.sub_key, [job_gid])
    await load(gql, site.sub_key)
    done = await report(
        gql, site.sub_key, [{"jobId": job_gid, "outcome": outcome, "auditEvents": trail}]
    )
    assert done["errors"] == []
    return done


async def shown(client: GraphQLClient, cylinder_gid: str) -> tuple[int, int]:
    """How many events of the cylinder ``auditEvents`` and ``Cylinder.auditTrail`` show."""
    data = await client(TRAIL, {"c": cylinder_gid})
    listed, nested = data["auditEvents"], data["node"]["auditTrail"]
    assert len(listed["edges"]) == listed["totalCount"]
    assert len(nested["edges"]) == nested["totalCount"]
    return listed["totalCount"], nested["totalCount"]


async def test_a_programming_visits_readout_is_withheld_until_a_readout_is_approved(
    database: Database, http: Any
) -> None:
    # given: the approver function on, a cylinder with an open job on it
    council = await staff_council(database, http, "Works Council Ltd")
    gql = GraphQLClient(http, await superadmin_token(database, council.tenant))
    site = await build_site(database, council.tenant, cylinders=1)
    cylinder = cyl(site.cylinders[0])
    (job,) = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)
    # when: the programming visit reads two events, then the programming fails
    failed = await visit(gql, site, job, "FAILED", events(2))
    # then: they are stored (nothing is lost, R15) but nobody reads them: not the admin with
    # audit.read, not a Superadmin token (R29)
    assert failed["auditEventsStored"] == 2
    async with database.tenant_session(council.tenant.tenant_id) as s:
        assert len(list(await s.scalars(select(AuditEvent)))) == 2
    assert await shown(council.admin, cylinder) == (0, 0)
    assert await shown(gql, cylinder) == (0, 0)

    # when: a readout of the cylinder is asked for: awaiting approval, still nothing; rejected,
    # still nothing
    rejected = (await request(council.admin, cylinder, "Door forced on 5 May"))["readoutRequest"]
    assert await shown(council.admin, cylinder) == (0, 0)
    assert (await decide(council.approver, rejected["id"], False))["errors"] == []
    assert await shown(council.admin, cylinder) == (0, 0)
    # when: another request is approved by the Approver
    approved = (await request(council.admin, cylinder, "Police inquiry 17/26"))["readoutRequest"]
    assert (await decide(council.approver, approved["id"], True))["errors"] == []
    # then: what the visit read can be read
    assert await shown(council.admin, cylinder) == (2, 2)

    # when: the next visit reads the trail again (a third event meanwhile) under the approved
    # request: shown, and the request is carried out (DONE)
    (retry,) = failed["newProgrammingJobs"]
    again = await visit(gql, site, retry["id"], "FAILED", events(3))
    assert again["auditEventsStored"] == 1
    assert await shown(council.admin, cylinder) == (3, 3)
    async with database.tenant_session(council.tenant.tenant_id) as s:
        rows = await s.execute(select(ReadoutRequest.reason, ReadoutRequest.status))
        statuses = dict(rows.all())
    assert statuses == {
        "Door forced on 5 May": ReadoutStatus.REJECTED,
        "Police inquiry 17/26": ReadoutStatus.DONE,
    }
    # and: the approval was used up: a later visit's new event is withheld again
    (last,) = again["newProgrammingJobs"]
    final = await visit(gql, site, last["id"], "DONE", events(4))
    assert final["auditEventsStored"] == 1
    assert await shown(council.admin, cylinder) == (3, 3)


async def test_without_the_approver_function_a_visits_readout_is_read_with_audit_read(
    gql: GraphQLClient, database: Database, tenant: NewTenant, http: Any
) -> None:
    # given: the approver function off (the tenant fixture's default)
    site = await build_site(database, tenant, cylinders=1)
    cylinder = cyl(site.cylinders[0])
    (job,) = site.jobs_of(await open_jobs(database, site.tenant_id), site.cylinders)
    # when
    await visit(gql, site, job, "DONE", events(2))
    # then: read at once by whoever holds audit.read, and by nobody else (R7)
    reader = GraphQLClient(
        http, await superadmin_token(database, tenant, rights=["audit.read", "cylinders.read"])
    )
    assert await shown(reader, cylinder) == (2, 2)
    other = GraphQLClient(http, await superadmin_token(database, tenant, rights=["cylinders.read"]))
    refused = await other.raw(
        "query($c: ID!) { auditEvents(filter: {cylinderId: $c}) { totalCount } }", {"c": cylinder}
    )
    assert "audit.read" in str(refused.json()["errors"])
