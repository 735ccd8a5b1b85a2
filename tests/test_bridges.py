"""Site bridges over real WebSockets: enrolment, connection auth, commands, reports, login (R5).

The server runs under uvicorn on 127.0.0.1 (``LiveServer``); the bridge side is
a real graphql-transport-ws client that signs its ``connection_init`` with a
real Ed25519 key, as the agent does. Admins act over HTTP on the ASGI app; both
share the database and the process's pub/sub, as two API processes would share
PostgreSQL and Redis.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from app.bridges.auth import credential_message, encode_authorization
from app.config import Settings
from app.db import Database
from app.models import (
    AuditEvent,
    AuditSource,
    Bridge,
    BridgeCommand,
    BridgeCommandStatus,
    CertificateBundle,
    Firmware,
    FirmwareSource,
    FirmwareTarget,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    ProgrammingJob,
    ProgrammingJobStatus,
    ProgrammingKey,
    ProgrammingKeyKind,
    RemoteJob,
    RemoteJobKind,
    RemoteJobStatus,
    Schedule,
    utcnow,
)
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import GraphQLClient, StatementCounter, make_tenant, superadmin_token
from tests.harness import eventually, patience
from tests.test_programming_keys_jobs import assign, build_site, open_jobs, outbox
from tests.test_subscriptions import GraphQLSocket, LiveServer

WAIT = 5.0

ENROLMENT = """
mutation($i: CreateBridgeEnrolmentInput!) { createBridgeEnrolment(input: $i) {
  code expiresAt bridge { id name online revoked enrolledAt domain { name } }
  errors { field code message } } }
"""
ENROL = """
mutation($i: EnrolBridgeInput!) { enrolBridge(input: $i) {
  bridgeId errors { field code message } } }
"""
REVOKE = """
mutation($i: RevokeBridgeInput!) { revokeBridge(input: $i) {
  bridge { id revoked online } errors { field code message } } }
"""
COMMANDS_SUB = "subscription { bridgeCommands { id kind status payload } }"
REPORT = """
mutation($i: ReportBridgeCommandInput!) { reportBridgeCommand(input: $i) {
  command { id status result errorCode errorMessage finishedAt bridge { id domain { name } } }
  errors { field code message } } }
"""
COMMAND_FIELDS = "command { id kind status payload bridge { id } } errors { field code message }"
READ_KEY = f"""
mutation($i: ReadKeyAtBridgeInput!) {{ readKeyAtBridge(input: $i) {{ {COMMAND_FIELDS} }} }}
"""
WRITE_KEY = f"""
mutation($i: WriteKeyAtBridgeInput!) {{ writeKeyAtBridge(input: $i) {{ {COMMAND_FIELDS} }} }}
"""
LOAD_JOBS = f"""
mutation($i: LoadProgrammingJobsAtBridgeInput!) {{
  loadProgrammingJobsAtBridge(input: $i) {{ {COMMAND_FIELDS} }} }}
"""
READ_RESULTS = f"""
mutation($i: ReadProgrammingResultsAtBridgeInput!) {{
  readProgrammingResultsAtBridge(input: $i) {{ {COMMAND_FIELDS} }} }}
"""
READ_TRAIL = f"""
mutation($i: ReadKeyAuditTrailAtBridgeInput!) {{
  readKeyAuditTrailAtBridge(input: $i) {{ {COMMAND_FIELDS} }} }}
"""
UPDATE_FIRMWARE = f"""
mutation($i: UpdateKeyFirmwareAtBridgeInput!) {{
  updateKeyFirmwareAtBridge(input: $i) {{ {COMMAND_FIELDS} }} }}
"""
START_LOGIN = """
mutation($i: StartBridgeLoginInput!) { startBridgeLogin(input: $i) {
  loginId secret errors { field code message } } }
"""
FINISH_LOGIN = """
mutation($i: FinishBridgeLoginInput!) { finishBridgeLogin(input: $i) {
  status token errorCode errorMessage } }
"""
BRIDGES = """
query { bridges(first: 50) { totalCount edges { node {
  id name online revoked agentVersion lastSeenAt domain { name } } } } }
"""
NODE = """
query($id: ID!) { node(id: $id) { id ... on BridgeCommand { kind status } ... on Bridge { name } } }
"""


# --- the live server and a fake agent ------------------------------------------------------


@pytest.fixture(scope="module")
def live(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as server:
        yield server


class Agent:
    """The bridge side: an enrolled bridge's key and its signed credentials."""

    def __init__(self, tenant_id: str, bridge_gid: str, key: Ed25519PrivateKey) -> None:
        self.tenant_id = tenant_id
        self.bridge_gid = bridge_gid
        self.key = key

    @property
    def bridge_id(self) -> int:
        return int(base64.urlsafe_b64decode(self.bridge_gid + "==").decode().split(":")[1])

    def credential(
        self, *, timestamp: int | None = None, nonce: str | None = None,
        key: Ed25519PrivateKey | None = None,
    ) -> dict[str, Any]:
        timestamp = int(time.time()) if timestamp is None else timestamp
        nonce = nonce or secrets.token_hex(16)
        message = credential_message(self.tenant_id, self.bridge_gid, timestamp, nonce)
        signature = (key or self.key).sign(message)
        return {
            "tenantId": self.tenant_id, "bridgeId": self.bridge_gid, "timestamp": timestamp,
            "nonce": nonce, "signature": base64.b64encode(signature).decode(),
        }

    async def open(self, live: LiveServer, credential: dict[str, Any] | None = None) -> Any:
        """A graphql-transport-ws connection initialised with the bridge's credential."""
        from websockets.asyncio.client import connect

        conn = await connect(live.ws_url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                             open_timeout=patience(WAIT))
        await conn.send(json.dumps({
            "type": "connection_init", "payload": {"bridge": credential or self.credential()},
        }))
        return GraphQLSocket(conn)

    async def listening(self, live: LiveServer, database: Database) -> GraphQLSocket:
        """Connected, acknowledged and subscribed to its commands (online once it returns)."""
        socket = await (await self.open(live)).acknowledged()
        await socket.subscribe("commands", COMMANDS_SUB)
        await until_online(database, self.tenant_id, self.bridge_id)
        return socket


async def until_online(database: Database, tenant_id: str, bridge_id: int) -> None:
    async def online() -> bool:
        async with database.tenant_session(tenant_id) as s:
            bridge = await s.get(Bridge, bridge_id)
            return bool(bridge and bridge.online_until and bridge.online_until > utcnow())

    await eventually(online, "the bridge to come online", WAIT)


async def report(socket: GraphQLSocket, op: str, command_id: str, **fields: Any) -> dict[str, Any]:
    """The agent's report, as a mutation over its WebSocket."""
    variables = {"i": {"commandId": command_id, "ok": True, **fields}}
    if isinstance(variables["i"].get("result"), dict):
        variables["i"]["result"] = json.dumps(variables["i"]["result"])
    await socket.subscribe(op, REPORT, variables)
    while True:
        message = await socket.receive()
        if message.get("id") == op:
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message["payload"]
            return message["payload"]["data"]["reportBridgeCommand"]  # type: ignore[no-any-return]


async def answer_to(socket: GraphQLSocket, op: str) -> dict[str, Any]:
    """The first next/error message of operation ``op``."""
    while True:
        message = await socket.receive()
        if message.get("id") == op and message["type"] in ("next", "error"):
            return message


async def next_command(socket: GraphQLSocket) -> dict[str, Any]:
    """The next command on the subscription (earlier reports' ``complete`` skipped)."""
    message = await socket.receive()
    while message.get("id") != "commands" and message["type"] == "complete":
        message = await socket.receive()
    assert message.get("id") == "commands" and message["type"] == "next", message
    assert "errors" not in message["payload"], message["payload"]
    command = message["payload"]["data"]["bridgeCommands"]
    command["payload"] = json.loads(command["payload"])
    return command  # type: ignore[no-any-return]


async def enrolled(gql: GraphQLClient, tenant: NewTenant, name: str = "Front desk") -> Agent:
    """A bridge created by the admin and enrolled by its agent with a fresh key pair."""
    created = (await gql(ENROLMENT, {"i": {"name": name}}))["createBridgeEnrolment"]
    assert created["errors"] == []
    key = Ed25519PrivateKey.generate()
    public = base64.b64encode(key.public_key().public_bytes_raw()).decode()
    done = (await gql(ENROL, {"i": {
        "tenantId": tenant.tenant_id, "code": created["code"], "publicKey": public,
        "agentVersion": "1.0.0",
    }}, token=""))["enrolBridge"]
    assert done["errors"] == [] and done["bridgeId"] == created["bridge"]["id"]
    return Agent(tenant.tenant_id, done["bridgeId"], key)


# --- enrolment --------------------------------------------------------------------------------


async def test_an_enrolment_code_enrols_once_and_a_wrong_used_or_expired_code_names_code(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given an enrolment code the admin got once
    created = (await gql(ENROLMENT, {"i": {"name": "Desk 1"}}))["createBridgeEnrolment"]
    assert created["bridge"]["enrolledAt"] is None and created["bridge"]["online"] is False
    assert created["bridge"]["domain"]["name"]
    public = base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw()).decode()

    async def enrol(code: str) -> dict[str, Any]:
        data = await gql(ENROL, {"i": {"tenantId": tenant.tenant_id, "code": code,
                                       "publicKey": public}}, token="")
        return data["enrolBridge"]  # type: ignore[no-any-return]

    # when a wrong code is tried, then it is refused naming the code
    wrong = await enrol("AAAA-BBBB-CCCC-DDDD")
    assert wrong["bridgeId"] is None
    assert [(e["field"], e["code"]) for e in wrong["errors"]] == [("code", "INVALID")]
    # the right code, typed in lower case without dashes, enrols
    first = await enrol(created["code"].lower().replace("-", ""))
    assert first["errors"] == [] and first["bridgeId"] == created["bridge"]["id"]
    # and a second use is refused: a code is single use
    again = await enrol(created["code"])
    assert again["errors"][0]["field"] == "code" and "used" in again["errors"][0]["message"]

    # an expired code is refused too
    late = (await gql(ENROLMENT, {"i": {"name": "Desk 2"}}))["createBridgeEnrolment"]
    async with database.tenant_session(tenant.tenant_id) as s:
        await s.execute(update(Bridge).where(Bridge.name == "Desk 2").values(
            enrolment_expires_at=utcnow() - timedelta(seconds=1)))
        await s.commit()
    expired = await enrol(late["code"])
    assert expired["errors"][0]["field"] == "code" and "expired" in expired["errors"][0]["message"]
    # a bad public key is refused naming it
    bad = await gql(ENROL, {"i": {"tenantId": tenant.tenant_id, "code": late["code"],
                                  "publicKey": "bm90IGEga2V5"}}, token="")
    assert bad["enrolBridge"]["errors"][0]["field"] == "publicKey"


async def test_enrolling_and_revoking_need_devices_write(
    http: Any, database: Database, tenant: NewTenant
) -> None:
    reader = GraphQLClient(http, await superadmin_token(database, tenant, rights=["devices.read"]))
    data = await reader(ENROLMENT, {"i": {"name": "Nope"}})
    assert data["createBridgeEnrolment"]["errors"][0]["code"] == "FORBIDDEN"
    assert "devices.write" in data["createBridgeEnrolment"]["errors"][0]["message"]


# --- connection auth ----------------------------------------------------------------------------


async def test_a_signed_connection_init_is_accepted_and_replayed_stale_forged_revoked_refused(
    live: LiveServer, gql: GraphQLClient, tenant: NewTenant
) -> None:
    agent = await enrolled(gql, tenant)
    # a freshly signed credential is accepted
    credential = agent.credential()
    socket = await (await agent.open(live, credential)).acknowledged()
    await socket.close()
    # the same credential again is a replay
    replayed = await agent.open(live, credential)
    assert await replayed.closed_with() == 4403
    # a timestamp three minutes old is stale
    stale = await agent.open(live, agent.credential(timestamp=int(time.time()) - 180))
    assert await stale.closed_with() == 4403
    # a credential signed with another key is refused
    forged = await agent.open(live, agent.credential(key=Ed25519PrivateKey.generate()))
    assert await forged.closed_with() == 4403
    # an accepted bridge holds no right: no admin subscription, no query
    socket = await (await agent.open(live)).acknowledged()
    await socket.subscribe("devices", "subscription { deviceStatus { online } }")
    message = await answer_to(socket, "devices")
    assert message["type"] == "error" or message["payload"].get("errors"), message
    await socket.subscribe("q", "query { bridges { totalCount } }")
    message = await answer_to(socket, "q")
    assert message["payload"].get("errors") and message["payload"]["data"] is None, message
    await socket.close()
    # once revoked, the bridge cannot connect
    revoked = (await gql(REVOKE, {"i": {"bridgeId": agent.bridge_gid}}))["revokeBridge"]
    assert revoked["bridge"]["revoked"] is True
    refused = await agent.open(live)
    assert await refused.closed_with() == 4403


# --- commands and reports ----------------------------------------------------------------------


async def test_queued_commands_arrive_on_subscribe_then_live_and_a_second_report_changes_nothing(
    live: LiveServer, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given a command queued while the bridge is away
    agent = await enrolled(gql, tenant)
    queued = (await gql(READ_KEY, {"i": {"bridgeId": agent.bridge_gid, "slot": "left"}}))
    first = queued["readKeyAtBridge"]["command"]
    assert first["status"] == "QUEUED" and json.loads(first["payload"]) == {"slot": "left"}

    # when the bridge subscribes, it gets the backlog first
    socket = await agent.listening(live, database)
    got = await next_command(socket)
    assert (got["id"], got["kind"], got["status"]) == (first["id"], "READ_KEY", "SENT")
    # and a command queued now arrives live
    second = (await gql(READ_KEY, {"i": {"bridgeId": agent.bridge_gid}}))["readKeyAtBridge"]
    live_one = await next_command(socket)
    assert live_one["id"] == second["command"]["id"] and live_one["payload"] == {"slot": None}

    # the report over the WebSocket finishes the command
    done = await report(socket, "r1", first["id"], result={"kind": "USER", "uid": "nobody"})
    assert done["errors"] == [] and done["command"]["status"] == "DONE"
    assert done["command"]["bridge"]["id"] == agent.bridge_gid
    finished_at = done["command"]["finishedAt"]
    # a second report (the agent's durable queue retrying) changes nothing
    again = await report(socket, "r2", first["id"], ok=False, errorCode="LINK")
    assert again["command"]["status"] == "DONE" and again["command"]["finishedAt"] == finished_at
    assert again["command"]["errorCode"] is None
    # a failure is recorded with its code
    failed = await report(socket, "r3", second["command"]["id"], ok=False, errorCode="NO_KEY",
                          errorMessage="no key in the desk")
    assert failed["command"]["status"] == "FAILED"
    assert failed["command"]["errorCode"] == "NO_KEY"
    await socket.close()

    # the admin sees the bridge online while connected, and the commands by node id
    node = await gql(NODE, {"id": first["id"]})
    assert node["node"] == {"id": first["id"], "kind": "READ_KEY", "status": "DONE"}


async def test_a_bridge_is_offline_once_its_subscription_ends(
    live: LiveServer, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    agent = await enrolled(gql, tenant)
    socket = await agent.listening(live, database)
    listed = (await gql(BRIDGES))["bridges"]["edges"]
    assert [e["node"]["online"] for e in listed if e["node"]["id"] == agent.bridge_gid] == [True]
    await socket.close()

    async def offline() -> bool:
        listed = (await gql(BRIDGES))["bridges"]["edges"]
        online = [e["node"]["online"] for e in listed if e["node"]["id"] == agent.bridge_gid]
        return online == [False]

    await eventually(offline, "the bridge to be listed offline once its socket closed", WAIT)


async def _e2_key_with_desk_jobs(database: Database, tenant: NewTenant) -> Key:
    from app.keys.service import ValidityChange, update_key

    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        key = Key(
            domain_id=tenant.default_domain_id, marking=f"E2-{secrets.token_hex(2)}",
            uid=secrets.token_hex(8), type=KeyType.E2, generation=KeyGeneration.GEN2,
            firmware_version="12.3", status=KeyStatus.ISSUED, schedule_id=schedule,
            audit_readout_enabled=False,
        )
        s.add(key)
        await s.flush()
        until = utcnow().replace(microsecond=0) + timedelta(days=30)
        await update_key(
            s, key_id=key.id, validity=ValidityChange(False, None, until), schedule_id=None,
            profile_ids=None, audit_readout_enabled=None,
        )
        await s.commit()
        return key


async def test_writing_an_e2_key_at_the_desk_closes_the_jobs_that_waited_for_the_desk(
    live: LiveServer, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given an E2 key whose new validity waits for a desk device (R18)
    key = await _e2_key_with_desk_jobs(database, tenant)
    async with database.tenant_session(tenant.tenant_id) as s:
        waiting = list(await s.scalars(select(RemoteJob).where(RemoteJob.key_id == key.id)))
    assert [(j.kind, j.status) for j in waiting] == [
        (RemoteJobKind.VALIDITY, RemoteJobStatus.PENDING)
    ]
    agent = await enrolled(gql, tenant)
    socket = await agent.listening(live, database)

    # when the admin writes the key at the desk
    queued = await gql(WRITE_KEY, {"i": {"bridgeId": agent.bridge_gid,
                                         "keyId": to_global_id("Key", key.id), "slot": "right"}})
    assert queued["writeKeyAtBridge"]["errors"] == []
    command = await next_command(socket)
    payload = command["payload"]
    # then the payload is the key's validity and schedule; E2 keys have no key memory
    assert payload["keyUid"] == key.uid and payload["slot"] == "right"
    assert payload["validity"]["alwaysValid"] is False
    assert payload["validity"]["validUntil"].startswith(str((utcnow() + timedelta(days=30)).date()))
    assert payload["schedule"]["windows"] and payload["keyMemory"] is None
    assert payload["revalidatedAt"] is None

    # and the bridge's report closes the job that waited for the desk
    after = {"kind": "USER", "uid": key.uid, "keyType": "E2", "generation": 2,
             "firmwareVersion": "12.4", "validity": payload["validity"]}
    done = await report(socket, "w", command["id"], result=after)
    assert done["command"]["status"] == "DONE"
    async with database.tenant_session(tenant.tenant_id) as s:
        jobs = list(await s.scalars(select(RemoteJob).where(RemoteJob.key_id == key.id)))
        row = await s.get(Key, key.id)
    assert [j.status for j in jobs] == [RemoteJobStatus.DONE]
    assert row is not None and row.firmware_version == "12.4"
    await socket.close()


async def test_a_job_changed_after_the_write_was_queued_stays_open(
    live: LiveServer, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    from app.keys.service import ValidityChange, update_key

    key = await _e2_key_with_desk_jobs(database, tenant)
    agent = await enrolled(gql, tenant)
    socket = await agent.listening(live, database)
    key_gid = to_global_id("Key", key.id)
    await gql(WRITE_KEY, {"i": {"bridgeId": agent.bridge_gid, "keyId": key_gid}})
    command = await next_command(socket)
    # the validity changes again while the bridge writes the old one
    async with database.tenant_session(tenant.tenant_id) as s:
        await update_key(s, key_id=key.id, validity=ValidityChange(True), schedule_id=None,
                         profile_ids=None, audit_readout_enabled=None)
        await s.commit()
    done = await report(socket, "w", command["id"], result={"uid": key.uid})
    assert done["command"]["status"] == "DONE"
    async with database.tenant_session(tenant.tenant_id) as s:
        jobs = list(await s.scalars(select(RemoteJob).where(RemoteJob.key_id == key.id)))
    # the newer change still waits for the desk
    assert [j.status for j in jobs] == [RemoteJobStatus.PENDING]
    await socket.close()


async def test_loading_and_reading_results_at_the_desk_close_the_jobs_and_send_the_final_mail(
    live: LiveServer, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given three jobs assigned to a sub programming key (R17)
    site = await build_site(database, tenant, cylinders=3, security_relevant=(2,))
    jobs = await open_jobs(database, tenant.tenant_id)
    gids = site.jobs_of(jobs, site.cylinders)
    assert (await assign(gql, site.sub_key, gids))["errors"] == []
    agent = await enrolled(gql, tenant)
    socket = await agent.listening(live, database)
    sub = to_global_id("ProgrammingKey", site.sub_key)

    # when the jobs are loaded through the bridge
    queued = await gql(LOAD_JOBS, {"i": {"bridgeId": agent.bridge_gid, "programmingKeyId": sub}})
    assert queued["loadProgrammingJobsAtBridge"]["errors"] == []
    command = await next_command(socket)
    items = command["payload"]["jobs"]
    # then the payload carries the global job ids, security-relevant cylinders first
    assert sorted(i["jobId"] for i in items) == sorted(gids)
    assert items[0]["jobId"] == gids[2]
    assert items[0]["changes"] == [{"op": "ADD", "keyUid": site.key_uid, "groupId": None}]
    # and nothing is ON_KEY before the bridge reports success
    async with database.tenant_session(tenant.tenant_id) as s:
        statuses = set(await s.scalars(select(ProgrammingJob.status)
                                       .where(ProgrammingJob.assignee_id == site.sub_key)))
    assert statuses == {ProgrammingJobStatus.ASSIGNED}
    loaded = await report(socket, "load", command["id"], result={"onKey": 3})
    assert loaded["command"]["status"] == "DONE"
    async with database.tenant_session(tenant.tenant_id) as s:
        statuses = set(await s.scalars(select(ProgrammingJob.status)
                                       .where(ProgrammingJob.assignee_id == site.sub_key)))
    assert statuses == {ProgrammingJobStatus.ON_KEY}
    assert len(await outbox(database, tenant.tenant_id, "programming_jobs_loaded")) == 1

    # when the key comes back after visiting the cylinders and its results are read
    await gql(READ_RESULTS, {"i": {"bridgeId": agent.bridge_gid, "programmingKeyId": sub}})
    command = await next_command(socket)
    assert command["payload"]["programmingKeyUid"]
    at = utcnow().replace(microsecond=0).isoformat()
    results = {"results": [
        {"jobId": gid, "outcome": "DONE",
         "auditEvents": [{"at": at, "keyUid": site.key_uid, "result": "GRANTED"}]}
        for gid in gids
    ]}
    done = await report(socket, "results", command["id"], result=results)
    assert done["command"]["status"] == "DONE", done
    # the jobs are done, the cylinders' trails stored and the final e-mail queued (R15, R17)
    async with database.tenant_session(tenant.tenant_id) as s:
        statuses = set(await s.scalars(select(ProgrammingJob.status)
                                       .where(ProgrammingJob.id.in_(jobs.values()))
                                       .where(ProgrammingJob.cylinder_id.in_(site.cylinders))))
        trail = list(await s.scalars(select(AuditEvent)
                                     .where(AuditEvent.source == AuditSource.CYLINDER)))
    assert statuses == {ProgrammingJobStatus.DONE}
    assert len(trail) == 3
    final = await outbox(database, tenant.tenant_id, "programming_jobs_report")
    assert len(final) == 1 and "completed" in final[0].subject
    # reporting the same results again changes nothing (exactly-once effects)
    again = await report(socket, "again", command["id"], result=results)
    assert again["command"]["status"] == "DONE"
    assert len(await outbox(database, tenant.tenant_id, "programming_jobs_report")) == 1
    await socket.close()


async def test_an_e2_keys_audit_trail_is_read_at_the_desk_with_the_approver_function_on(
    live: LiveServer, http: Any, database: Database
) -> None:
    # given a tenant with the approver function on (R29)
    tenant = await make_tenant(database, "Approving", approver_function=True)
    gql = GraphQLClient(http, await superadmin_token(database, tenant))
    key = await _e2_key_with_desk_jobs(database, tenant)
    agent = await enrolled(gql, tenant)
    socket = await agent.listening(live, database)
    # when the admin reads the key at the desk: no approval is needed
    queued = await gql(READ_TRAIL, {"i": {"bridgeId": agent.bridge_gid,
                                          "keyId": to_global_id("Key", key.id)}})
    assert queued["readKeyAuditTrailAtBridge"]["errors"] == []
    command = await next_command(socket)
    assert command["payload"] == {"slot": None, "keyUid": key.uid}
    at = utcnow().replace(microsecond=0)
    events = {"events": [
        {"at": (at - timedelta(minutes=i)).isoformat(), "cylinderUid": "unknown-cylinder",
         "result": "DENIED_NOT_AUTHORIZED" if i else "GRANTED"}
        for i in range(3)
    ]}
    done = await report(socket, "trail", command["id"], result=events)
    assert done["command"]["status"] == "DONE"
    # then the key's events are stored (R28)
    async with database.tenant_session(tenant.tenant_id) as s:
        stored = list(await s.scalars(select(AuditEvent).where(AuditEvent.key_id == key.id)))
    assert len(stored) == 3 and {e.source for e in stored} == {AuditSource.KEY}
    assert json.loads(done["command"]["result"])["stored"] == 3
    await socket.close()


async def test_a_malformed_result_fails_the_command_and_changes_nothing(
    live: LiveServer, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    key = await _e2_key_with_desk_jobs(database, tenant)
    agent = await enrolled(gql, tenant)
    socket = await agent.listening(live, database)
    key_gid = to_global_id("Key", key.id)
    await gql(READ_TRAIL, {"i": {"bridgeId": agent.bridge_gid, "keyId": key_gid}})
    command = await next_command(socket)
    bad = {"events": [{"at": "yesterday", "cylinderUid": "x", "result": "GRANTED"}]}
    done = await report(socket, "bad", command["id"], result=bad)
    assert done["command"]["status"] == "FAILED" and done["command"]["errorCode"] == "INVALID"
    async with database.tenant_session(tenant.tenant_id) as s:
        assert list(await s.scalars(select(AuditEvent).where(AuditEvent.key_id == key.id))) == []
    await socket.close()


async def test_a_key_firmware_update_at_the_desk_downloads_the_image_with_the_bridge_credential(
    live: LiveServer, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    # given gen-1 firmware 6.2 and a gen-1 key running 6.0
    image = os.urandom(2048)
    async with database.tenant_session(tenant.tenant_id) as s:
        bundle = CertificateBundle(name=f"bundle {secrets.token_hex(2)}")
        s.add(bundle)
        await s.flush()
        import hashlib

        firmware = Firmware(target=FirmwareTarget.KEY_GEN1, version="6.2",
                            source=FirmwareSource.MANUAL, certificate_bundle_id=bundle.id,
                            image=image, sha256=hashlib.sha256(image).hexdigest())
        schedule = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        keys = [Key(domain_id=tenant.default_domain_id, marking=f"G1-{i}-{secrets.token_hex(2)}",
                    uid=secrets.token_hex(8), type=KeyType.E2, generation=KeyGeneration.GEN1,
                    firmware_version="6.0", status=KeyStatus.ISSUED, schedule_id=schedule)
                for i in range(2)]
        s.add_all([firmware, *keys])
        await s.commit()
    agent = await enrolled(gql, tenant)
    socket = await agent.listening(live, database)

    async def update(key: Key) -> dict[str, Any]:
        queued = await gql(UPDATE_FIRMWARE, {"i": {
            "bridgeId": agent.bridge_gid, "keyId": to_global_id("Key", key.id),
            "firmwareId": to_global_id("Firmware", firmware.id)}})
        assert queued["updateKeyFirmwareAtBridge"]["errors"] == []
        return await next_command(socket)

    command = await update(keys[0])
    url = command["payload"]["imageUrl"]
    assert command["payload"]["version"] == "6.2"
    async with httpx.AsyncClient(base_url=live.http_url) as client:
        # without the bridge's credential there is no image
        assert (await client.get(url)).status_code == 401
        header = encode_authorization(agent.credential())
        got = await client.get(url, headers={"Authorization": header})
        assert got.status_code == 200 and got.content == image
        # the credential is single use
        assert (await client.get(url, headers={"Authorization": header})).status_code == 401
    done = await report(socket, "fw", command["id"], result={"firmwareVersion": "6.2"})
    assert done["command"]["status"] == "DONE"

    # a generation-1 key pulled out mid-update is broken: DEFECTIVE (R26)
    command = await update(keys[1])
    failed = await report(socket, "fw2", command["id"], ok=False, errorCode="INTERRUPTED")
    assert failed["command"]["status"] == "FAILED"
    assert "defective" in failed["command"]["errorMessage"]
    async with database.tenant_session(tenant.tenant_id) as s:
        first, second = (await s.get(Key, keys[0].id)), (await s.get(Key, keys[1].id))
    assert first is not None and first.firmware_version == "6.2"
    assert second is not None and second.status is KeyStatus.DEFECTIVE
    await socket.close()


# --- login through a bridge (R5) -----------------------------------------------------------------


async def _programming_key(database: Database, tenant: NewTenant) -> tuple[int, str, Any]:
    """A main programming key whose private half only the test's 'key in the desk' holds."""
    private = Ed25519PrivateKey.generate()
    async with database.tenant_session(tenant.tenant_id) as s:
        row = ProgrammingKey(
            marking=f"PR-{secrets.token_hex(2)}", uid=secrets.token_hex(8),
            kind=ProgrammingKeyKind.MAIN, firmware_version="12.3",
            public_key=private.public_key().public_bytes_raw(),
        )
        s.add(row)
        await s.commit()
        return row.id, row.uid, private


async def test_a_browser_logs_in_with_the_programming_key_in_the_bridges_desk(
    live: LiveServer, gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    key_id, uid, private = await _programming_key(database, tenant)
    agent = await enrolled(gql, tenant)
    browser = GraphQLClient(http, None)
    start = {"tenantId": tenant.tenant_id, "bridgeId": agent.bridge_gid, "pin": "482913"}

    # an offline bridge cannot sign: BRIDGE_OFFLINE at once
    offline = (await browser(START_LOGIN, {"i": start}))["startBridgeLogin"]
    assert offline["errors"][0]["code"] == "BRIDGE_OFFLINE"

    # given the bridge connected, when the browser starts the login
    socket = await agent.listening(live, database)
    started = (await browser(START_LOGIN, {"i": {**start, "slot": "left"}}))["startBridgeLogin"]
    assert started["errors"] == []
    pending = (await browser(FINISH_LOGIN, {"i": {"loginId": started["loginId"],
                                                  "secret": started["secret"]}}))
    assert pending["finishBridgeLogin"]["status"] == "PENDING"

    # then the bridge gets the PIN live, and the PIN is stored nowhere
    command = await next_command(socket)
    assert command["kind"] == "SIGN_LOGIN" and command["payload"]["pin"] == "482913"
    assert command["payload"]["loginId"] == started["loginId"]
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await s.get(BridgeCommand, int(base64.urlsafe_b64decode(
            command["id"] + "==").decode().split(":")[1]))
    assert row is not None and "pin" not in row.payload and "482913" not in json.dumps(row.payload)

    # the key checks the PIN and signs the challenge; the bridge reports it
    message = base64.b64decode(command["payload"]["message"])
    assert message.startswith(b"keywarden-login:" + tenant.tenant_id.encode() + b":")
    signature = base64.b64encode(private.sign(message)).decode()
    done = await report(socket, "sign", command["id"],
                        result={"uid": uid, "marking": "ignored", "signature": signature})
    assert done["command"]["status"] == "DONE"

    # the browser's next poll gets the session token, once
    finish = {"loginId": started["loginId"], "secret": started["secret"]}
    first = (await browser(FINISH_LOGIN, {"i": finish}))["finishBridgeLogin"]
    assert first["status"] == "DONE" and first["token"].startswith("kw_s_")
    me = await browser("query { me { id } }", token=first["token"])
    assert me["me"]["id"] == to_global_id("ProgrammingKey", key_id)
    second = (await browser(FINISH_LOGIN, {"i": finish}))["finishBridgeLogin"]
    assert second["status"] == "DONE" and second["token"] is None
    # a wrong poll secret gets nothing
    wrong = (await browser(FINISH_LOGIN, {"i": {**finish, "secret": "x"}}))["finishBridgeLogin"]
    assert wrong["status"] == "FAILED" and wrong["token"] is None
    await socket.close()


async def test_a_login_signed_by_another_key_or_not_signed_in_time_fails(
    live: LiveServer, gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    _, uid, _ = await _programming_key(database, tenant)
    agent = await enrolled(gql, tenant)
    browser = GraphQLClient(http, None)
    socket = await agent.listening(live, database)
    start = {"tenantId": tenant.tenant_id, "bridgeId": agent.bridge_gid, "pin": "482913"}

    # a signature by a key other than the registered one: FAILED with BAD_SIGNATURE
    started = (await browser(START_LOGIN, {"i": start}))["startBridgeLogin"]
    command = await next_command(socket)
    forged = Ed25519PrivateKey.generate().sign(base64.b64decode(command["payload"]["message"]))
    done = await report(socket, "forged", command["id"], result={
        "uid": uid, "signature": base64.b64encode(forged).decode()})
    assert done["command"]["status"] == "FAILED"
    assert done["command"]["errorCode"] == "BAD_SIGNATURE"
    finish = {"loginId": started["loginId"], "secret": started["secret"]}
    failed = (await browser(FINISH_LOGIN, {"i": finish}))["finishBridgeLogin"]
    assert (failed["status"], failed["errorCode"], failed["token"]) == (
        "FAILED", "BAD_SIGNATURE", None)

    # the key refusing the PIN: the bridge's error is the login's
    started = (await browser(START_LOGIN, {"i": start}))["startBridgeLogin"]
    command = await next_command(socket)
    await report(socket, "pin", command["id"], ok=False, errorCode="WRONG_PIN",
                 errorMessage="2 tries left")
    failed = (await browser(FINISH_LOGIN, {"i": {"loginId": started["loginId"],
                                                 "secret": started["secret"]}}))
    assert failed["finishBridgeLogin"]["errorCode"] == "WRONG_PIN"

    # a login nobody signs within two minutes expires
    started = (await browser(START_LOGIN, {"i": start}))["startBridgeLogin"]
    command = await next_command(socket)
    async with database.tenant_session(tenant.tenant_id) as s:
        from app.models import BridgeLogin

        await s.execute(update(BridgeLogin).values(expires_at=utcnow() - timedelta(seconds=1)))
        await s.commit()
    expired = (await browser(FINISH_LOGIN, {"i": {"loginId": started["loginId"],
                                                  "secret": started["secret"]}}))
    assert expired["finishBridgeLogin"]["status"] == "FAILED"
    assert expired["finishBridgeLogin"]["errorCode"] == "EXPIRED"
    late = await report(socket, "late", command["id"], result={"uid": uid, "signature": ""})
    assert late["command"]["status"] == "CANCELLED"
    await socket.close()


async def test_a_login_nobody_polls_again_is_expired_by_the_periodic_upkeep(
    live: LiveServer, gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant
) -> None:
    from app.models import BridgeCommand, BridgeCommandStatus, BridgeLogin, BridgeLoginStatus
    from app.workers.maintenance import mark_devices_offline

    # given: a login started through an online bridge, whose browser went away
    agent = await enrolled(gql, tenant)
    socket = await agent.listening(live, database)
    start = {"tenantId": tenant.tenant_id, "bridgeId": agent.bridge_gid, "pin": "482913"}
    started = (await GraphQLClient(http, None)(START_LOGIN, {"i": start}))["startBridgeLogin"]
    assert started["errors"] == []
    await next_command(socket)
    # when: the upkeep runs within the two minutes, then after them
    await mark_devices_offline(database, now=utcnow())
    async with database.tenant_session(tenant.tenant_id) as s:
        assert (await s.scalar(select(BridgeLogin))).status is BridgeLoginStatus.PENDING
    await mark_devices_offline(database, now=utcnow() + timedelta(minutes=3))
    # then: the login failed as EXPIRED and its SIGN_LOGIN command is cancelled
    async with database.tenant_session(tenant.tenant_id) as s:
        login = await s.scalar(select(BridgeLogin))
        command = await s.get(BridgeCommand, login.command_id)
    assert (login.status, login.error_code) == (BridgeLoginStatus.FAILED, "EXPIRED")
    assert command is not None and command.status is BridgeCommandStatus.CANCELLED
    await socket.close()


# --- isolation (R1, R8) and cost -----------------------------------------------------------------


async def test_another_tenants_bridges_and_commands_are_invisible_and_it_cannot_report_ours(
    live: LiveServer, gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant,
    other_tenant: NewTenant,
) -> None:
    ours = await enrolled(gql, tenant, "Ours")
    queued = await gql(READ_KEY, {"i": {"bridgeId": ours.bridge_gid}})
    command_gid = queued["readKeyAtBridge"]["command"]["id"]
    other_gql = GraphQLClient(http, await superadmin_token(database, other_tenant))
    theirs = await enrolled(other_gql, other_tenant, "Theirs")

    # the other tenant sees neither our bridge nor our command
    listed = (await other_gql(BRIDGES))["bridges"]
    assert [e["node"]["name"] for e in listed["edges"]] == ["Theirs"]
    assert (await other_gql(NODE, {"id": command_gid}))["node"] is None
    assert (await other_gql(NODE, {"id": ours.bridge_gid}))["node"] is None
    refused = await other_gql(READ_KEY, {"i": {"bridgeId": ours.bridge_gid}})
    assert refused["readKeyAtBridge"]["errors"][0]["code"] == "NOT_FOUND"

    # their bridge neither receives our command nor can report it
    socket = await theirs.listening(live, database)
    answer = await report(socket, "steal", command_gid, result={})
    assert answer["command"] is None and answer["errors"][0]["code"] == "NOT_FOUND"
    await socket.close()
    async with database.tenant_session(tenant.tenant_id) as s:
        statuses = list(await s.scalars(select(BridgeCommand.status)
                                        .where(BridgeCommand.bridge_id == ours.bridge_id)))
    assert statuses == [BridgeCommandStatus.QUEUED]
    # nor can another bridge of the same tenant report it
    sibling = await enrolled(gql, tenant, "Sibling")
    socket = await sibling.listening(live, database)
    answer = await report(socket, "sibling", command_gid, result={})
    assert answer["errors"][0]["code"] == "NOT_FOUND"
    await socket.close()


async def test_a_domain_admin_sees_only_the_bridges_of_its_domains(
    http: Any, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    from app.models import Domain

    async with database.tenant_session(tenant.tenant_id) as s:
        other = Domain(name=f"Annex {secrets.token_hex(2)}")
        s.add(other)
        await s.commit()
    await gql(ENROLMENT, {"i": {"name": "Main"}})
    annex = (await gql(ENROLMENT, {"i": {"name": "Annex",
                                         "domainId": to_global_id("Domain", other.id)}}))
    annex_gid = annex["createBridgeEnrolment"]["bridge"]["id"]
    limited = GraphQLClient(http, await superadmin_token(
        database, tenant, domain_ids=[tenant.default_domain_id]))
    names = [e["node"]["name"] for e in (await limited(BRIDGES))["bridges"]["edges"]]
    assert names == ["Main"]
    assert (await limited(NODE, {"id": annex_gid}))["node"] is None
    refused = await limited(REVOKE, {"i": {"bridgeId": annex_gid}})
    assert refused["revokeBridge"]["errors"][0]["code"] == "NOT_FOUND"


async def test_listing_bridges_costs_the_same_statements_for_three_or_thirty(
    gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    async def listing_statements() -> int:
        with StatementCounter(database.app_engine) as counter:
            await gql(BRIDGES)
        return counter.count

    for i in range(3):
        await gql(ENROLMENT, {"i": {"name": f"Few {i}"}})
    few = await listing_statements()
    async with database.tenant_session(tenant.tenant_id) as s:
        from app.models import Domain

        extra = Domain(name=f"Extra {secrets.token_hex(2)}")
        s.add(extra)
        await s.flush()
        s.add_all(Bridge(domain_id=extra.id if i % 2 else tenant.default_domain_id,
                         name=f"Many {i}") for i in range(27))
        await s.commit()
    many = await listing_statements()
    assert many == few


async def test_reading_a_key_updates_its_firmware_and_a_broken_generation_1_key_is_defective(
    live: LiveServer, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        key = Key(domain_id=tenant.default_domain_id, marking=f"RK-{secrets.token_hex(2)}",
                  uid=secrets.token_hex(8), type=KeyType.E3, generation=KeyGeneration.GEN1,
                  firmware_version="6.0", status=KeyStatus.ISSUED, schedule_id=schedule)
        s.add(key)
        await s.commit()
    agent = await enrolled(gql, tenant)
    socket = await agent.listening(live, database)

    await gql(READ_KEY, {"i": {"bridgeId": agent.bridge_gid, "slot": "left"}})
    command = await next_command(socket)
    read = {"kind": "USER", "uid": key.uid, "keyType": "E3", "generation": 1,
            "firmwareVersion": "6.1", "broken": False}
    await report(socket, "read", command["id"], result=read)
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await s.get(Key, key.id)
    assert row is not None and (row.firmware_version, row.status) == ("6.1", KeyStatus.ISSUED)

    # a generation-1 key read as broken (an update broken off elsewhere) is DEFECTIVE (R26)
    await gql(READ_KEY, {"i": {"bridgeId": agent.bridge_gid, "slot": "left"}})
    command = await next_command(socket)
    await report(socket, "broken", command["id"], result={**read, "broken": True})
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await s.get(Key, key.id)
    assert row is not None and row.status is KeyStatus.DEFECTIVE
    await socket.close()


async def test_revoking_a_connected_bridge_closes_its_connection(
    live: LiveServer, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    agent = await enrolled(gql, tenant)
    socket = await agent.listening(live, database)
    revoked = (await gql(REVOKE, {"i": {"bridgeId": agent.bridge_gid}}))["revokeBridge"]
    assert revoked["errors"] == [] and revoked["bridge"]["online"] is False
    assert await socket.closed_with() == 4403


async def test_a_desk_write_carries_the_shorter_ends_of_flexible_extension_cylinders(
    database: Database, tenant: NewTenant
) -> None:
    # R14: with flexible extensions, a desk write revalidates the E3 key like a wall device
    # does: the key's own interval, and a shorter end for cylinders of a shorter profile.
    from app.bridges.commands import write_key_payload
    from app.devices.protocol import parse_timestamp
    from app.models import Tenant
    from tests.test_devices import add_key, add_lab_profile

    key_id, _ = await add_key(database, tenant, interval=72)
    await add_lab_profile(database, tenant, key_id)
    now = utcnow()
    async with database.tenant_session(tenant.tenant_id) as s:
        off = await write_key_payload(s, key_id, None, now)
        (await s.scalar(select(Tenant))).flexible_extensions = True
        await s.flush()
        on = await write_key_payload(s, key_id, None, now)
    assert off["keyMemory"]["cylinderValidity"] == []
    (lab,) = on["keyMemory"]["cylinderValidity"]
    assert lab["cylinderUid"] == "C0FFEE01"
    until = parse_timestamp(lab["validUntil"])
    assert until is not None and abs(until - (now + timedelta(hours=8))) < timedelta(seconds=1)
    assert on["validity"]["extensionIntervalHours"] == 72 and on["revalidatedAt"]


PROGRESS_REPORT = """
mutation($i: ReportBridgeCommandProgressInput!) { reportBridgeCommandProgress(input: $i) {
  command { id status progress { done total percent } } errors { field code message } } }
"""


async def test_a_bridge_reports_progress_of_its_own_unfinished_command_only_forwards(
    live: LiveServer, gql: GraphQLClient, database: Database, tenant: NewTenant
) -> None:
    async def progress(socket: GraphQLSocket, op: str, **fields: Any) -> dict[str, Any]:
        await socket.subscribe(op, PROGRESS_REPORT, {"i": fields})
        while True:
            message = await socket.receive()
            if message.get("id") == op:
                assert message["type"] == "next", message
                return message["payload"]["data"]["reportBridgeCommandProgress"]  # type: ignore[no-any-return]

    # given: a command delivered to our bridge, and another tenant's bridge
    agent = await enrolled(gql, tenant)
    socket = await agent.listening(live, database)
    queued = await gql(READ_KEY, {"i": {"bridgeId": agent.bridge_gid}})
    command_id = queued["readKeyAtBridge"]["command"]["id"]
    await next_command(socket)
    # when: the bridge tells how far it got: the admin sees it
    moved = await progress(socket, "p1", commandId=command_id, done=512, total=2048)
    assert moved["command"]["progress"] == {"done": 512, "total": 2048, "percent": 25.0}
    # a late, older report does not move it back; nonsense names its field
    late = await progress(socket, "p2", commandId=command_id, done=256, total=2048)
    assert late["command"]["progress"]["done"] == 512
    wrong = await progress(socket, "p3", commandId=command_id, done=4096, total=2048)
    assert [(e["field"], e["code"]) for e in wrong["errors"]] == [("done", "INVALID")]
    # once reported, the command keeps its final state
    await report(socket, "r", command_id, result={"kind": "USER", "uid": "04A1"})
    after = await progress(socket, "p4", commandId=command_id, done=2048, total=2048)
    assert after["command"]["status"] == "DONE" and after["command"]["progress"]["done"] == 512
    await socket.close()
    # and another tenant's bridge cannot touch our command (R1)
    other = await make_tenant(database, "Other bridges")
    stranger = await enrolled(GraphQLClient(gql.http, await superadmin_token(database, other)),
                              other)
    stranger_socket = await stranger.listening(live, database)
    refused = await progress(stranger_socket, "x", commandId=command_id, done=1, total=2)
    assert refused["errors"][0]["code"] == "NOT_FOUND"
    await stranger_socket.close()
