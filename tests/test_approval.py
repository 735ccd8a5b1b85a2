"""The approver function (R29): readout requests, a second key's decision, the history (R38)."""

from __future__ import annotations

import base64
import csv
import io
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.approval.service import approver_history_csv
from app.auth.pins import hash_pin
from app.db import Database
from app.models import (
    Cylinder,
    CylinderStatus,
    Domain,
    Employee,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    OutboxMessage,
    ProgrammingKey,
    ProgrammingKeyDomain,
    ProgrammingKeyKind,
    ProgrammingKeyRole,
    RemoteJob,
    RemoteJobKind,
    Role,
    Schedule,
)
from app.schema.relay import decode_id, to_global_id
from app.tenants.service import NewTenant
from hardware.sim.programming_key import SimulatedProgrammingKey, SimulatorState
from tests.conftest import GraphQLClient, make_tenant, superadmin_token

PIN = "583920"

REQUEST = """
mutation($i: RequestReadoutInput!) {
  requestReadout(input: $i) {
    readoutRequest {
      id status reason requestedAt decidedAt decisionNote
      requestedBy { marking } decidedBy { marking }
      target { ... on Key { marking } ... on Cylinder { marking } }
    }
    errors { code field message }
  }
}
"""

DECIDE = """
mutation($i: DecideReadoutInput!) {
  decideReadout(input: $i) {
    readoutRequest { id status decidedAt decisionNote decidedBy { marking } }
    errors { code field message }
  }
}
"""

HISTORY = """
{ readoutRequests { id status reason requestedAt decidedAt decisionNote
                    requestedBy { marking } decidedBy { marking } } }
"""


# --- helpers (also used by test_settings_and_pins) ------------------------------------


@dataclass(frozen=True)
class ProgrammingKeyAt:
    """A programming key registered in a tenant, with its simulated chip and PIN."""

    id: int
    gid: str
    chip: SimulatedProgrammingKey
    pin: str


async def add_programming_key(
    database: Database,
    tenant: NewTenant,
    marking: str,
    *,
    kind: ProgrammingKeyKind = ProgrammingKeyKind.SUB,
    roles: tuple[str, ...] = (),
    email: str | None = None,
    pin: str = PIN,
    puk: str | None = None,
    domain_ids: list[int] | None = None,
) -> ProgrammingKeyAt:
    """A programming key issued to a new employee (with ``email``), with roles and domains."""
    chip = SimulatorState.new_key(marking, secrets.token_hex(8).upper())
    async with database.tenant_session(tenant.tenant_id) as s:
        holder = Employee(
            domain_id=tenant.default_domain_id,
            first_name="Holder",
            last_name=marking,
            email=email,
        )
        s.add(holder)
        await s.flush()
        row = ProgrammingKey(
            marking=marking,
            uid=chip.uid,
            kind=kind,
            firmware_version="12.3.0",
            holder_id=holder.id,
            public_key=chip.public_key,
            pin_hash=hash_pin(pin),
            puk_hash=hash_pin(puk) if puk else None,
        )
        s.add(row)
        await s.flush()
        for name in roles:
            role_id = await s.scalar(select(Role.id).where(Role.name == name))
            s.add(ProgrammingKeyRole(programming_key_id=row.id, role_id=role_id))
        for domain_id in [tenant.default_domain_id] if domain_ids is None else domain_ids:
            s.add(ProgrammingKeyDomain(programming_key_id=row.id, domain_id=domain_id))
        await s.commit()
        return ProgrammingKeyAt(row.id, to_global_id("ProgrammingKey", row.id), chip, pin)


async def log_in(
    http: Any, tenant: NewTenant, key: ProgrammingKeyAt, pin: str | None = None
) -> dict[str, Any]:
    """The completeLogin payload of a login with ``key`` (its chip signs) and ``pin``."""
    anonymous = GraphQLClient(http, None)
    challenge = (
        await anonymous(
            "mutation($i: RequestLoginChallengeInput!) { requestLoginChallenge(input: $i) "
            "{ challenge errors { code } } }",
            {"i": {"tenantId": tenant.tenant_id, "marking": key.chip.marking}},
        )
    )["requestLoginChallenge"]["challenge"]
    signature = base64.b64encode(key.chip.sign_login(tenant.tenant_id, challenge)).decode()
    return (  # type: ignore[no-any-return]
        await anonymous(
            "mutation($i: CompleteLoginInput!) { completeLogin(input: $i) "
            "{ token errors { code field message } } }",
            {
                "i": {
                    "tenantId": tenant.tenant_id,
                    "challenge": challenge,
                    "signature": signature,
                    "pin": key.pin if pin is None else pin,
                }
            },
        )
    )["completeLogin"]


async def session_of(http: Any, tenant: NewTenant, key: ProgrammingKeyAt) -> GraphQLClient:
    """A GraphQL client logged in with ``key`` (R5)."""
    login = await log_in(http, tenant, key)
    assert login["errors"] == [], login
    return GraphQLClient(http, login["token"])


async def add_key(
    database: Database, tenant: NewTenant, key_type: KeyType, domain_id: int | None = None
) -> tuple[int, str]:
    """A user key of ``key_type``; its id and global id."""
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule_id = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        row = Key(
            domain_id=domain_id or tenant.default_domain_id,
            marking=f"K-{secrets.token_hex(4)}",
            uid=secrets.token_hex(8),
            type=key_type,
            generation=KeyGeneration.GEN2,
            firmware_version="16.3.7",
            status=KeyStatus.ISSUED,
            schedule_id=schedule_id,
        )
        s.add(row)
        await s.commit()
        return row.id, to_global_id("Key", row.id)


async def add_cylinder(database: Database, tenant: NewTenant) -> tuple[int, str]:
    async with database.tenant_session(tenant.tenant_id) as s:
        row = Cylinder(
            domain_id=tenant.default_domain_id,
            marking=f"C-{secrets.token_hex(4)}",
            uid=secrets.token_hex(8),
            status=CylinderStatus.ACTIVE,
        )
        s.add(row)
        await s.commit()
        return row.id, to_global_id("Cylinder", row.id)


async def outbox(database: Database, tenant: NewTenant, kind: str) -> list[OutboxMessage]:
    async with database.tenant_session(tenant.tenant_id) as s:
        return list(
            await s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == kind)
                .order_by(OutboxMessage.recipient)
            )
        )


async def readout_jobs(database: Database, tenant: NewTenant, key_id: int) -> list[RemoteJob]:
    async with database.tenant_session(tenant.tenant_id) as s:
        return list(
            await s.scalars(
                select(RemoteJob).where(
                    RemoteJob.key_id == key_id, RemoteJob.kind == RemoteJobKind.AUDIT_READOUT
                )
            )
        )


@dataclass
class StaffCouncil:
    """A tenant with the approver function: an admin (main key) and an Approver (sub key)."""

    tenant: NewTenant
    admin: GraphQLClient
    approver: GraphQLClient
    approver_key: ProgrammingKeyAt


async def staff_council(database: Database, http: Any, name: str) -> StaffCouncil:
    tenant = await make_tenant(database, name, approver_function=True)
    admin = await add_programming_key(
        database, tenant, "PR-1", kind=ProgrammingKeyKind.MAIN, email="admin@acme.example"
    )
    approver = await add_programming_key(
        database, tenant, "PN-APPROVER", roles=("Approver",), email="council@acme.example"
    )
    return StaffCouncil(
        tenant,
        await session_of(http, tenant, admin),
        await session_of(http, tenant, approver),
        approver,
    )


async def request(client: GraphQLClient, target_id: str, reason: str) -> dict[str, Any]:
    data = await client(REQUEST, {"i": {"targetId": target_id, "reason": reason}})
    return data["requestReadout"]  # type: ignore[no-any-return]


async def decide(
    client: GraphQLClient, request_id: str, approve: bool, note: str | None = None
) -> dict[str, Any]:
    data = await client(DECIDE, {"i": {"requestId": request_id, "approve": approve, "note": note}})
    return data["decideReadout"]  # type: ignore[no-any-return]


# --- the FAQ's flow -------------------------------------------------------------------


async def test_with_the_approver_function_a_second_key_approves_and_the_history_keeps_it(
    database: Database, http: Any
) -> None:
    # given: the approver function on, an E3 key, the admin's main key and an Approver
    council = await staff_council(database, http, "Staff Council Corp")
    key_id, key_gid = await add_key(database, council.tenant, KeyType.E3)
    # when: the admin asks to read the key's trail, saying why
    asked = await request(council.admin, key_gid, "Break-in on 3 May, door 12")
    # then: it awaits approval and the Approver is told by e-mail (R29, R33)
    assert asked["errors"] == []
    pending = asked["readoutRequest"]
    assert pending["status"] == "AWAITING_APPROVAL"
    assert pending["requestedBy"] == {"marking": "PR-1"}
    assert pending["decidedBy"] is None and pending["decidedAt"] is None
    mails = await outbox(database, council.tenant, "readout_requested")
    assert [m.recipient for m in mails] == ["council@acme.example"]
    assert "Break-in on 3 May, door 12" in mails[0].body
    assert await readout_jobs(database, council.tenant, key_id) == []

    # when: the Approver sees it among the jobs for approval and approves it
    listed = await council.approver(
        HISTORY.replace("readoutRequests", "readoutRequests(status: [AWAITING_APPROVAL])")
    )
    assert [r["id"] for r in listed["readoutRequests"]] == [pending["id"]]
    decided = await decide(council.approver, pending["id"], True, "Approved for the inquiry")
    # then: approved by that key; the readout waits for the key's next remote device (R18)
    assert decided["errors"] == []
    assert decided["readoutRequest"]["status"] == "APPROVED"
    assert decided["readoutRequest"]["decidedBy"] == {"marking": "PN-APPROVER"}
    jobs = await readout_jobs(database, council.tenant, key_id)
    assert len(jobs) == 1
    assert jobs[0].payload["readoutRequestId"] == decode_id(pending["id"], "ReadoutRequest", "")[1]
    told = await outbox(database, council.tenant, "readout_decided")
    assert [m.recipient for m in told] == ["admin@acme.example"]
    assert "approved" in told[0].subject

    # then: the history says who asked, who decided, when and why (R29)
    history = (await council.admin(HISTORY))["readoutRequests"]
    assert history == [
        {
            "id": pending["id"],
            "status": "APPROVED",
            "reason": "Break-in on 3 May, door 12",
            "requestedAt": pending["requestedAt"],
            "decidedAt": decided["readoutRequest"]["decidedAt"],
            "decisionNote": "Approved for the inquiry",
            "requestedBy": {"marking": "PR-1"},
            "decidedBy": {"marking": "PN-APPROVER"},
        }
    ]
    # and a decided request is not decided again
    again = await decide(council.approver, pending["id"], False)
    assert [e["code"] for e in again["errors"]] == ["CONFLICT"]


async def test_a_rejected_readout_creates_no_job_and_tells_the_requester(
    database: Database, http: Any
) -> None:
    # given: a pending request on an E3 key
    council = await staff_council(database, http, "Reject Corp")
    key_id, key_gid = await add_key(database, council.tenant, KeyType.E3)
    pending = (await request(council.admin, key_gid, "Routine check"))["readoutRequest"]
    # when
    decided = await decide(council.approver, pending["id"], False, "No cause given")
    # then
    assert decided["readoutRequest"]["status"] == "REJECTED"
    assert decided["readoutRequest"]["decisionNote"] == "No cause given"
    assert await readout_jobs(database, council.tenant, key_id) == []
    told = await outbox(database, council.tenant, "readout_decided")
    assert "rejected" in told[0].subject and "No cause given" in told[0].body


async def test_nobody_decides_their_own_readout_request(database: Database, http: Any) -> None:
    # given: a key holding both the Admin and the Approver role asks
    council = await staff_council(database, http, "Own Request Corp")
    both = await add_programming_key(
        database, council.tenant, "PN-BOTH", roles=("Admin", "Approver"), email="both@x.example"
    )
    client = await session_of(http, council.tenant, both)
    _, key_gid = await add_key(database, council.tenant, KeyType.E2)
    pending = (await request(client, key_gid, "Audit"))["readoutRequest"]
    # when: it decides its own request
    own = await decide(client, pending["id"], True)
    # then: refused; another Approver can
    assert [e["code"] for e in own["errors"]] == ["FORBIDDEN"]
    assert (await decide(council.approver, pending["id"], True))["errors"] == []


async def test_an_approver_whose_holder_has_no_email_is_refused(
    database: Database, http: Any
) -> None:
    # given: an Approver key issued to an employee without e-mail
    council = await staff_council(database, http, "No Mail Corp")
    mailless = await add_programming_key(database, council.tenant, "PN-NOMAIL", roles=("Approver",))
    client = await session_of(http, council.tenant, mailless)
    _, key_gid = await add_key(database, council.tenant, KeyType.E3)
    pending = (await request(council.admin, key_gid, "Audit"))["readoutRequest"]
    # when
    refused = await decide(client, pending["id"], True)
    # then: refused (R29), not e-mailed, and the request still waits
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert "e-mail" in refused["errors"][0]["message"]
    mails = await outbox(database, council.tenant, "readout_requested")
    assert [m.recipient for m in mails] == ["council@acme.example"]
    status = (await council.admin(HISTORY))["readoutRequests"][0]["status"]
    assert status == "AWAITING_APPROVAL"


async def test_an_approver_session_sees_only_the_approval_operations(
    database: Database, http: Any
) -> None:
    # given: an Approver's session (the built-in role: readout.read, readout.approve)
    council = await staff_council(database, http, "Menu Corp")
    # when / then: everything else is forbidden, naming the right (R7)
    for query, right in [
        ("{ keys { totalCount } }", "keys.read"),
        ("{ cylinders { totalCount } }", "cylinders.read"),
        ("{ employees { totalCount } }", "employees.read"),
        ("{ programmingKeys { marking } }", "programming_keys.read"),
    ]:
        body = (await council.approver.raw(query)).json()
        assert body["errors"][0]["message"] == f"missing right: {right}"
    asked = await council.approver.raw(
        REQUEST, {"i": {"targetId": to_global_id("Key", 1), "reason": "x"}}
    )
    assert asked.json()["data"]["requestReadout"]["errors"] == [
        {"code": "FORBIDDEN", "field": None, "message": "missing right: readout.request"}
    ]
    # and the approval operations work
    assert (await council.approver(HISTORY))["readoutRequests"] == []


async def test_an_approver_of_another_domain_is_not_asked_and_cannot_decide(
    database: Database, http: Any
) -> None:
    # given: an Approver limited to a second domain, and a request on a default-domain key (R8)
    council = await staff_council(database, http, "Domains Corp")
    async with database.tenant_session(council.tenant.tenant_id) as s:
        plant = Domain(name="Plant 2")
        s.add(plant)
        await s.commit()
    outsider = await add_programming_key(
        database,
        council.tenant,
        "PN-PLANT2",
        roles=("Approver",),
        email="plant2@acme.example",
        domain_ids=[plant.id],
    )
    client = await session_of(http, council.tenant, outsider)
    _, key_gid = await add_key(database, council.tenant, KeyType.E3)
    pending = (await request(council.admin, key_gid, "Audit"))["readoutRequest"]
    # when
    refused = await decide(client, pending["id"], True)
    # then
    mails = await outbox(database, council.tenant, "readout_requested")
    assert [m.recipient for m in mails] == ["council@acme.example"]
    assert [e["code"] for e in refused["errors"]] == ["NOT_FOUND"]


async def test_a_cylinders_readout_is_approved_without_a_remote_job(
    database: Database, http: Any
) -> None:
    # given: a request for a cylinder's audit trail (read on site by the admin)
    council = await staff_council(database, http, "Cylinder Corp")
    _, cylinder_gid = await add_cylinder(database, council.tenant)
    asked = await request(council.admin, cylinder_gid, "Door forced")
    assert asked["readoutRequest"]["target"]["marking"].startswith("C-")
    # when
    decided = await decide(council.approver, asked["readoutRequest"]["id"], True)
    # then
    assert decided["readoutRequest"]["status"] == "APPROVED"
    async with database.tenant_session(council.tenant.tenant_id) as s:
        assert list(await s.scalars(select(RemoteJob))) == []


async def test_two_approved_readouts_of_one_key_share_its_one_remote_job(
    database: Database, http: Any
) -> None:
    # given: two requests on one E3 key
    council = await staff_council(database, http, "Twice Corp")
    key_id, key_gid = await add_key(database, council.tenant, KeyType.E3)
    first = (await request(council.admin, key_gid, "Inquiry 1"))["readoutRequest"]["id"]
    second = (await request(council.admin, key_gid, "Inquiry 2"))["readoutRequest"]["id"]
    # when: both are approved
    await decide(council.approver, first, True)
    await decide(council.approver, second, True)
    # then: one readout at the next remote device carries both requests (R18)
    jobs = await readout_jobs(database, council.tenant, key_id)
    assert len(jobs) == 1
    assert len(jobs[0].payload["readoutRequestIds"]) == 2


# --- without the approver function, and refusals ----------------------------------------


async def test_without_the_approver_function_a_readout_is_approved_at_once(
    database: Database, http: Any
) -> None:
    # given: a tenant without the approver function, an Approver with e-mail anyway
    tenant = await make_tenant(database, "Plain Corp")
    admin = await add_programming_key(
        database, tenant, "PR-1", kind=ProgrammingKeyKind.MAIN, email="admin@plain.example"
    )
    await add_programming_key(
        database, tenant, "PN-A", roles=("Approver",), email="council@plain.example"
    )
    client = await session_of(http, tenant, admin)
    key_id, key_gid = await add_key(database, tenant, KeyType.E3)
    # when
    asked = await request(client, key_gid, "Monthly audit")
    # then: approved, by nobody, no e-mail; the readout goes to the key (R29)
    assert asked["errors"] == []
    assert asked["readoutRequest"]["status"] == "APPROVED"
    assert asked["readoutRequest"]["decidedBy"] is None
    assert await outbox(database, tenant, "readout_requested") == []
    assert len(await readout_jobs(database, tenant, key_id)) == 1


async def test_an_api_token_cannot_request_a_readout(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given: a Superadmin API token (it holds readout.request)
    _, key_gid = await add_key(database, tenant, KeyType.E3)
    # when
    asked = await request(gql, key_gid, "Script")
    # then: only a programming key can be recorded as the requester (R29)
    assert asked["readoutRequest"] is None
    assert [e["code"] for e in asked["errors"]] == ["FORBIDDEN"]
    assert "programming key" in asked["errors"][0]["message"]


async def test_an_e1_key_has_no_audit_trail_to_read(database: Database, http: Any) -> None:
    council = await staff_council(database, http, "E1 Corp")
    _, key_gid = await add_key(database, council.tenant, KeyType.E1)
    asked = await request(council.admin, key_gid, "Audit")
    assert [(e["code"], e["field"]) for e in asked["errors"]] == [
        ("UNSUPPORTED_KEY_TYPE", "targetId")
    ]


async def test_a_readout_request_needs_a_reason(database: Database, http: Any) -> None:
    # given
    council = await staff_council(database, http, "Reason Corp")
    _, key_gid = await add_key(database, council.tenant, KeyType.E3)
    # when: blank, or longer than 2,000 characters (R38)
    blank = await request(council.admin, key_gid, "   ")
    long = await request(council.admin, key_gid, "x" * 2001)
    unknown = await request(council.admin, to_global_id("Key", 999_999), "Audit")
    # then
    assert [(e["code"], e["field"]) for e in blank["errors"]] == [("INVALID", "reason")]
    assert [(e["code"], e["field"]) for e in long["errors"]] == [("INVALID", "reason")]
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("NOT_FOUND", "targetId")]
    assert (await council.admin(HISTORY))["readoutRequests"] == []


async def test_the_approver_history_exports_as_csv(database: Database, http: Any) -> None:
    # given: one approved and one pending request
    council = await staff_council(database, http, "Export Corp")
    _, key_gid = await add_key(database, council.tenant, KeyType.E3)
    first = (await request(council.admin, key_gid, "=HYPERLINK(evil)"))["readoutRequest"]
    await decide(council.approver, first["id"], True, "ok")
    await request(council.admin, key_gid, "Second look")
    # when
    async with database.tenant_session(council.tenant.tenant_id) as s:
        text = await approver_history_csv(s)
    # then: who asked, who decided, when and why, formulas defused (R38)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert [r["status"] for r in rows] == ["APPROVED", "AWAITING_APPROVAL"]
    assert rows[0]["reason"] == "'=HYPERLINK(evil)"
    assert rows[0]["requestedBy"] == "PR-1" and rows[0]["requestedByHolder"] == "Holder PR-1"
    assert rows[0]["decidedBy"] == "PN-APPROVER" and rows[0]["decisionNote"] == "ok"
    assert rows[0]["decidedAt"] and rows[1]["decidedAt"] == ""


async def test_the_approver_history_is_served_as_csv_to_those_who_may_read_it(
    database: Database, http: Any
) -> None:
    council = await staff_council(database, http, "Route Corp")
    _, key_gid = await add_key(database, council.tenant, KeyType.E3)
    await request(council.admin, key_gid, "Theft in storage")
    response = await http.get("/export/readout-history.csv", headers=council.approver.headers())
    assert response.status_code == 200
    assert "Theft in storage" in response.text
    assert (await http.get("/export/readout-history.csv")).status_code == 401


async def test_readout_requests_of_other_domains_are_not_listed(
    database: Database, http: Any
) -> None:
    # R8: a caller limited to domain B does not see requests about domain A's keys
    from app.models import Domain

    council = await staff_council(database, http, "Domains Corp")
    async with database.tenant_session(council.tenant.tenant_id) as s:
        building_b = Domain(name="Building B")
        s.add(building_b)
        await s.commit()
    _, key_a = await add_key(database, council.tenant, KeyType.E3)
    await request(council.admin, key_a, "Door forced")
    token = await superadmin_token(database, council.tenant, domain_ids=[building_b.id])
    limited = GraphQLClient(http, token)
    assert (await limited(HISTORY))["readoutRequests"] == []
    assert len((await council.admin(HISTORY))["readoutRequests"]) == 1
