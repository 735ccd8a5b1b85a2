"""Live events: ``deviceStatus`` and ``jobEvents`` over real WebSockets (R1, R8, R23).

The application runs under uvicorn on 127.0.0.1 in a thread with its own event
loop; the tests connect with the ``websockets`` client speaking
graphql-transport-ws, as a browser or partner would. The Redis tests run the
same server with ``REDIS_URL`` and publish from another process.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.auth.tokens import revoke_api_token
from app.config import Settings
from app.db import Database
from app.events import (
    DEVICE_STATUS,
    JOB_EVENTS,
    DeviceStatusChanged,
    InProcessPubSub,
    JobChanged,
    get_pubsub,
    publish_now,
    publish_queued,
    queue_device_status,
    queue_job_events,
)
from app.events.pubsub import listener_name
from app.models import (
    ApiToken,
    ProgrammingKey,
    ProgrammingKeyKind,
    RemoteDevice,
    RemoteDeviceKind,
    RemoteJob,
    RemoteJobKind,
    utcnow,
)
from app.schema.relay import to_global_id
from app.tenants.service import NewTenant
from tests.conftest import superadmin_token
from tests.factories import add_domain, default_schedule, new_cylinder, new_key
from tests.harness import eventually, patience
from tests.processes import ThreadedServer

PROTOCOL = "graphql-transport-ws"
WAIT = 5.0  # seconds any single expected message may take (on an idle machine: patience)

DEVICE_STATUS_SUB = """
subscription($ids: [ID!]) { deviceStatus(deviceIds: $ids) {
  device { id name online domain { name } } online at } }
"""
JOB_EVENTS_SUB = """
subscription { jobEvents { at
  programmingJob { id status cylinder { marking } changes { op key { marking } } }
  remoteJob { id } } }
"""
CHANGE = """
mutation($i: ChangeAuthorizationsInput!) { changeAuthorizations(input: $i) {
  programmingJobs { id } errors { field code message } } }
"""


# --- the live server and a graphql-transport-ws client ----------------------------------


class LiveServer(ThreadedServer):
    """The real application under uvicorn on 127.0.0.1, in a thread with its own event loop."""

    def __init__(self, settings: Settings) -> None:
        from app.web import create_app

        self.settings = settings
        super().__init__(
            create_app(settings), lifespan="on", ws="websockets-sansio", http="h11",
            loop="asyncio",
        )

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def http_url(self) -> str:
        return self.url

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class GraphQLSocket:
    """A graphql-transport-ws client connection."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn

    @classmethod
    async def open(
        cls, url: str, token: str | None, *, in_header: bool = False
    ) -> GraphQLSocket:
        """Connect and send connection_init: the token in the payload, or on the upgrade request."""
        headers = {"Authorization": f"Bearer {token}"} if token and in_header else None
        conn = await connect(url, subprotocols=[PROTOCOL], additional_headers=headers,  # type: ignore[list-item]
                             open_timeout=patience(WAIT))
        payload = {"Authorization": f"Bearer {token}"} if token and not in_header else {}
        await conn.send(json.dumps({"type": "connection_init", "payload": payload}))
        return cls(conn)

    async def acknowledged(self) -> GraphQLSocket:
        ack = await self.receive()
        assert ack["type"] == "connection_ack", ack
        return self

    async def subscribe(self, op: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.conn.send(json.dumps({
            "id": op, "type": "subscribe",
            "payload": {"query": query, "variables": variables or {}},
        }))

    async def receive(self, seconds: float = WAIT) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self.conn.recv(), patience(seconds)))
            if message["type"] != "ping":
                return message  # type: ignore[no-any-return]
            await self.conn.send(json.dumps({"type": "pong"}))

    async def next(self, op: str, seconds: float = WAIT) -> dict[str, Any]:
        message = await self.receive(seconds)
        assert message.get("id") == op and message["type"] == "next", message
        assert "errors" not in message["payload"], message["payload"]
        return message["payload"]["data"]  # type: ignore[no-any-return]

    async def closed_with(self, seconds: float = WAIT) -> int | None:
        """Wait for the server to close the connection; its close code."""
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(patience(seconds)):
                while True:
                    await self.conn.recv()
        return closed.value.rcvd.code if closed.value.rcvd else None

    async def close(self) -> None:
        await self.conn.close()


@pytest.fixture(scope="module")
def live(settings: Settings) -> Iterator[LiveServer]:
    """One live server for the module's in-process tests (starting one takes a while)."""
    with LiveServer(settings) as server:
        yield server


async def subscribed(settings: Settings, tenant_id: str, topic: str) -> None:
    """Wait until the live server has a subscriber of the tenant's topic."""
    await eventually(
        lambda: get_pubsub(settings).subscriber_count(tenant_id, topic) >= 1,
        f"a subscriber of {topic}",
        WAIT,
    )


# --- test data ------------------------------------------------------------------------


async def make_device(
    database: Database, tenant: NewTenant, name: str, domain_id: int | None = None
) -> int:
    async with database.tenant_session(tenant.tenant_id) as s:
        device = RemoteDevice(
            domain_id=domain_id or tenant.default_domain_id, name=name,
            kind=RemoteDeviceKind.WALL, serial=secrets.token_hex(6),
            firmware_version="4.2.0", bootloader_version="1.1.0",
        )
        s.add(device)
        await s.commit()
        return device.id


@dataclass
class Site:
    key: str
    cylinder: str
    other_domain_cylinder: str
    other_domain_id: int


async def make_site(database: Database, tenant: NewTenant) -> Site:
    """An E3 key in stock, a cylinder in the default domain and one in a second domain."""
    other_domain = await add_domain(database, tenant, "Annex")
    async with database.tenant_session(tenant.tenant_id) as s:
        key = new_key(tenant.default_domain_id, "E3-LIVE", await default_schedule(s))
        cylinders = [
            new_cylinder(tenant.default_domain_id, "MAIN-1"),
            new_cylinder(other_domain, "ANNEX-1"),
        ]
        s.add_all([key, *cylinders])
        await s.commit()
        return Site(to_global_id("Key", key.id), to_global_id("Cylinder", cylinders[0].id),
                    to_global_id("Cylinder", cylinders[1].id), other_domain)


async def device_event(tenant: NewTenant, device_id: int, online: bool) -> DeviceStatusChanged:
    return DeviceStatusChanged(tenant.tenant_id, device_id, online, utcnow())


# --- deviceStatus ---------------------------------------------------------------------


async def test_device_status_subscriber_receives_its_device_coming_online(
    live: LiveServer, settings: Settings, database: Database, tenant: NewTenant
) -> None:
    # given: a wall device and a subscriber holding a Superadmin token (R23)
    device = await make_device(database, tenant, "Main entrance")
    ws = await (await GraphQLSocket.open(live.ws_url, await superadmin_token(database, tenant)))\
        .acknowledged()
    await ws.subscribe("1", DEVICE_STATUS_SUB)
    await subscribed(settings, tenant.tenant_id, DEVICE_STATUS)
    # when: the device's heartbeat brings it online
    at = utcnow()
    await publish_now(settings, DeviceStatusChanged(tenant.tenant_id, device, True, at))
    # then: the subscriber gets the device with its name and the new state
    event = (await ws.next("1"))["deviceStatus"]
    assert event["device"]["id"] == to_global_id("RemoteDevice", device)
    assert event["device"]["name"] == "Main entrance"
    assert event["device"]["domain"]["name"] == "Default"
    assert event["online"] is True
    assert event["at"].startswith(at.isoformat()[:19])
    await ws.close()


async def test_device_status_never_carries_another_tenants_device(
    live: LiveServer, settings: Settings, database: Database,
    tenant: NewTenant, other_tenant: NewTenant,
) -> None:
    # given: a subscriber in each tenant, each tenant with a device
    mine = await make_device(database, tenant, "Ours")
    theirs = await make_device(database, other_tenant, "Theirs")
    ws = await (await GraphQLSocket.open(live.ws_url, await superadmin_token(database, tenant)))\
        .acknowledged()
    other_ws = await (await GraphQLSocket.open(
        live.ws_url, await superadmin_token(database, other_tenant))).acknowledged()
    await ws.subscribe("1", DEVICE_STATUS_SUB)
    await other_ws.subscribe("1", DEVICE_STATUS_SUB)
    await subscribed(settings, tenant.tenant_id, DEVICE_STATUS)
    await subscribed(settings, other_tenant.tenant_id, DEVICE_STATUS)
    pubsub = get_pubsub(settings)
    # when: the other tenant's device goes online, and forged messages reach our channel:
    # naming the other tenant (with its device, and with ours), and naming its device
    # under our tenant
    await publish_now(settings, await device_event(other_tenant, theirs, True))
    for forged_tenant, device in ((other_tenant, theirs), (other_tenant, mine), (tenant, theirs)):
        await pubsub.publish(tenant.tenant_id, DEVICE_STATUS, {
            "tenant_id": forged_tenant.tenant_id, "kind": DEVICE_STATUS, "device_ids": [device],
            "online": True, "at": utcnow().isoformat()})
    await publish_now(settings, await device_event(tenant, mine, False))
    # then: each subscriber sees only its own tenant's announcements (R1)
    event = (await ws.next("1"))["deviceStatus"]
    assert (event["device"]["name"], event["online"]) == ("Ours", False)
    assert (await other_ws.next("1"))["deviceStatus"]["device"]["name"] == "Theirs"
    with pytest.raises(TimeoutError):
        await ws.receive(seconds=0.3)
    await ws.close()
    await other_ws.close()


async def test_device_status_hides_devices_outside_the_tokens_domains(
    live: LiveServer, settings: Settings, database: Database, tenant: NewTenant
) -> None:
    # given: a token limited to the default domain, and a device in another domain
    annex = await add_domain(database, tenant, "Annex")
    hidden = await make_device(database, tenant, "Annex door", annex)
    visible = await make_device(database, tenant, "Lobby")
    token = await superadmin_token(database, tenant, domain_ids=[tenant.default_domain_id])
    ws = await (await GraphQLSocket.open(live.ws_url, token)).acknowledged()
    await ws.subscribe("1", DEVICE_STATUS_SUB)
    await subscribed(settings, tenant.tenant_id, DEVICE_STATUS)
    # when: both devices change state
    await publish_now(settings, await device_event(tenant, hidden, True))
    await publish_now(settings, await device_event(tenant, visible, True))
    # then: only the device of its domain reaches the subscriber (R8)
    event = (await ws.next("1"))["deviceStatus"]
    assert event["device"]["name"] == "Lobby"
    with pytest.raises(TimeoutError):
        await ws.receive(seconds=0.3)
    await ws.close()


async def test_device_status_with_device_ids_sends_only_those_devices(
    live: LiveServer, settings: Settings, database: Database, tenant: NewTenant
) -> None:
    # given: two devices, a subscription to the second one only
    first = await make_device(database, tenant, "First")
    second = await make_device(database, tenant, "Second")
    ws = await (await GraphQLSocket.open(live.ws_url, await superadmin_token(database, tenant)))\
        .acknowledged()
    await ws.subscribe("1", DEVICE_STATUS_SUB, {"ids": [to_global_id("RemoteDevice", second)]})
    await subscribed(settings, tenant.tenant_id, DEVICE_STATUS)
    # when: both go offline in one announcement
    await publish_now(settings, await device_event(tenant, first, False),
                      await device_event(tenant, second, False))
    # then: only the chosen one is sent
    event = (await ws.next("1"))["deviceStatus"]
    assert (event["device"]["name"], event["online"]) == ("Second", False)
    await ws.close()


async def test_connection_without_a_valid_token_is_refused(
    live: LiveServer, database: Database, tenant: NewTenant
) -> None:
    # when: connection_init carries no token, or a token that does not exist
    for token in (None, f"kw_t_{uuid.uuid4().hex}_{'A' * 43}"):
        ws = await GraphQLSocket.open(live.ws_url, token)
        # then: the server closes the connection as Forbidden
        assert await ws.closed_with() == 4403
    # and: a valid token on the upgrade request's header is accepted
    ws = await (await GraphQLSocket.open(
        live.ws_url, await superadmin_token(database, tenant), in_header=True)).acknowledged()
    await ws.close()


async def test_subscription_needs_its_right(
    live: LiveServer, database: Database, tenant: NewTenant
) -> None:
    # given: a token that may read jobs but not devices
    token = await superadmin_token(database, tenant, rights=["jobs.read"])
    ws = await (await GraphQLSocket.open(live.ws_url, token)).acknowledged()
    # when: it subscribes to deviceStatus
    await ws.subscribe("1", DEVICE_STATUS_SUB)
    # then: an error naming the missing right (R7)
    message = await ws.receive()
    assert message["type"] == "error", message
    assert message["payload"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "devices.read" in message["payload"][0]["message"]
    await ws.close()


async def test_queries_are_not_served_over_the_websocket(
    live: LiveServer, database: Database, tenant: NewTenant
) -> None:
    ws = await (await GraphQLSocket.open(live.ws_url, await superadmin_token(database, tenant)))\
        .acknowledged()
    await ws.subscribe("1", "{ remoteDevices { name } }")
    message = await ws.receive()
    assert message["type"] == "next" and message["payload"]["data"] is None, message
    assert "only subscriptions" in message["payload"]["errors"][0]["message"]
    await ws.close()


async def test_revoked_token_closes_the_live_connection(
    live: LiveServer, settings: Settings, database: Database, tenant: NewTenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: a live subscription whose token is checked again every 0.2 s
    monkeypatch.setattr("app.schema.subscriptions.REVALIDATE_SECONDS", 0.2)
    token = await superadmin_token(database, tenant, name="to revoke")
    ws = await (await GraphQLSocket.open(live.ws_url, token)).acknowledged()
    await ws.subscribe("1", DEVICE_STATUS_SUB)
    await subscribed(settings, tenant.tenant_id, DEVICE_STATUS)
    # when: the token is revoked (R9)
    async with database.tenant_session(tenant.tenant_id) as s:
        row = await s.scalar(select(ApiToken).where(ApiToken.name == "to revoke"))
        assert row is not None
        await revoke_api_token(s, row.id)
        await s.commit()
    # then: the server closes the connection as unauthorized
    assert await ws.closed_with() == 4401


# --- jobEvents ------------------------------------------------------------------------


async def job_events_subscriber(
    live: LiveServer, settings: Settings, tenant: NewTenant, token: str
) -> GraphQLSocket:
    """A jobEvents subscriber (operation "jobs") holding ``token``, once the server has it."""
    ws = await (await GraphQLSocket.open(live.ws_url, token)).acknowledged()
    await ws.subscribe("jobs", JOB_EVENTS_SUB)
    await subscribed(settings, tenant.tenant_id, JOB_EVENTS)
    return ws


async def post(live: LiveServer, token: str, query: str, variables: dict[str, Any]) -> Any:
    """The data of one GraphQL request to the live server over HTTP."""
    async with httpx.AsyncClient(base_url=live.http_url, timeout=patience(WAIT)) as http:
        response = await http.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            json={"query": query, "variables": variables},
        )
    return response.json()["data"]


async def test_job_events_subscriber_receives_the_jobs_of_change_authorizations(
    live: LiveServer, settings: Settings, database: Database, tenant: NewTenant
) -> None:
    # given: a jobEvents subscriber
    site = await make_site(database, tenant)
    token = await superadmin_token(database, tenant)
    ws = await job_events_subscriber(live, settings, tenant, token)
    # when: the list function authorises the key on the cylinder (R16), over HTTP
    result = (await post(live, token, CHANGE, {"i": {
        "cylinderIds": [site.cylinder], "add": [site.key]}}))["changeAuthorizations"]
    assert result["errors"] == []
    # then: the subscriber hears of the new programming job, with its cylinder and change
    event = (await ws.next("jobs"))["jobEvents"]
    assert event["programmingJob"] == {
        "id": result["programmingJobs"][0]["id"], "status": "PENDING",
        "cylinder": {"marking": "MAIN-1"},
        "changes": [{"op": "ADD", "key": {"marking": "E3-LIVE"}}],
    }
    assert event["remoteJob"] is None
    await ws.close()


async def test_job_events_hide_jobs_on_cylinders_outside_the_tokens_domains(
    live: LiveServer, settings: Settings, database: Database, tenant: NewTenant
) -> None:
    # given: a subscriber limited to the second domain
    site = await make_site(database, tenant)
    token = await superadmin_token(database, tenant)
    annex_token = await superadmin_token(database, tenant, domain_ids=[site.other_domain_id])
    ws = await job_events_subscriber(live, settings, tenant, annex_token)
    # when: jobs are made on a default-domain cylinder, then on one of the second domain
    for cylinder in (site.cylinder, site.other_domain_cylinder):
        change = {"i": {"cylinderIds": [cylinder], "add": [site.key]}}
        made = await post(live, token, CHANGE, change)
        assert made["changeAuthorizations"]["errors"] == []
    # then: only the second domain's job is announced to it (R8)
    event = (await ws.next("jobs"))["jobEvents"]
    assert event["programmingJob"]["cylinder"] == {"marking": "ANNEX-1"}
    with pytest.raises(TimeoutError):
        await ws.receive(seconds=0.3)
    await ws.close()


async def test_job_events_carry_remote_jobs_of_visible_keys_only(
    live: LiveServer, settings: Settings, database: Database, tenant: NewTenant
) -> None:
    # given: remote jobs for a key of the default domain and one of a second domain,
    # and a subscriber limited to the default domain
    annex = await add_domain(database, tenant, "Annex")
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await default_schedule(s)
        keys = [
            new_key(domain, marking, schedule)
            for domain, marking in ((tenant.default_domain_id, "K-MAIN"), (annex, "K-ANNEX"))
        ]
        s.add_all(keys)
        await s.flush()
        jobs = [RemoteJob(key_id=k.id, kind=RemoteJobKind.VALIDITY, payload={}) for k in keys]
        s.add_all(jobs)
        await s.commit()
        visible, hidden = jobs[0].id, jobs[1].id
    token = await superadmin_token(database, tenant, domain_ids=[tenant.default_domain_id])
    ws = await (await GraphQLSocket.open(live.ws_url, token)).acknowledged()
    await ws.subscribe("jobs", "subscription { jobEvents { programmingJob { id } "
                               "remoteJob { id kind status key { marking } } } }")
    await subscribed(settings, tenant.tenant_id, JOB_EVENTS)
    # when: both jobs are announced
    await publish_now(settings, JobChanged(tenant.tenant_id, None, hidden, utcnow()),
                      JobChanged(tenant.tenant_id, None, visible, utcnow()))
    # then: only the job of the key it can see (R8)
    event = (await ws.next("jobs"))["jobEvents"]
    assert event == {"programmingJob": None, "remoteJob": {
        "id": to_global_id("RemoteJob", visible), "kind": "VALIDITY", "status": "PENDING",
        "key": {"marking": "K-MAIN"}}}
    with pytest.raises(TimeoutError):
        await ws.receive(seconds=0.3)
    await ws.close()


async def heard_events(ws: GraphQLSocket, op: str, quiet: float = 0.5) -> list[dict[str, Any]]:
    """Every jobEvents event on ``op`` until nothing more comes for ``quiet`` s."""
    events = []
    while True:
        try:
            events.append((await ws.next(op, seconds=quiet))["jobEvents"])
        except TimeoutError:
            return events


async def heard_jobs(ws: GraphQLSocket, op: str, quiet: float = 0.5) -> list[str]:
    """The ids of every job announced on ``op`` until nothing more comes for ``quiet`` s."""
    events = await heard_events(ws, op, quiet)
    return [(e["programmingJob"] or e["remoteJob"])["id"] for e in events]


async def test_job_events_announce_each_job_of_issue_and_update_key_once(
    live: LiveServer, settings: Settings, database: Database, tenant: NewTenant
) -> None:
    # given: an E3 key in stock, a profile on MAIN-1, an employee, and a jobEvents subscriber
    site = await make_site(database, tenant)
    token = await superadmin_token(database, tenant)
    ws = await job_events_subscriber(live, settings, tenant, token)
    profile = (
        await post(
            live,
            token,
            "mutation($i: CreateAccessProfileInput!) { createAccessProfile(input: $i) "
            "{ accessProfile { id } } }",
            {"i": {"name": "Live", "cylinderIds": [site.cylinder]}},
        )
    )["createAccessProfile"]["accessProfile"]["id"]
    employee = (
        await post(
            live,
            token,
            "mutation($i: CreateEmployeeInput!) { createEmployee(input: $i) { employee { id } } }",
            {"i": {"firstName": "Ida", "lastName": "Live"}},
        )
    )["createEmployee"]["employee"]["id"]
    jobs = "programmingJobs { id } remoteJobs { id } errors { field code message }"
    # when: the key is issued with the profile (a programming job, three remote jobs)
    issued = (
        await post(
            live,
            token,
            f"mutation($i: IssueKeyInput!) {{ issueKey(input: $i) {{ {jobs} }} }}",
            {"i": {"keyId": site.key, "employeeId": employee, "accessProfileIds": [profile]}},
        )
    )["issueKey"]
    heard_issue = await heard_jobs(ws, "jobs")
    # and: updated, changing its validity and taking the profile back (the job cancelled)
    updated = (
        await post(
            live,
            token,
            f"mutation($i: UpdateKeyInput!) {{ updateKey(input: $i) {{ {jobs} }} }}",
            {
                "i": {
                    "keyId": site.key,
                    "accessProfileIds": [],
                    "validity": {"alwaysValid": False, "validUntil": "2031-01-01T00:00:00Z"},
                }
            },
        )
    )["updateKey"]
    heard_update = await heard_jobs(ws, "jobs")
    # then: each job of the answer, and nothing else, is announced exactly once (R23)
    assert issued["errors"] == [] and updated["errors"] == []
    assert len(issued["programmingJobs"]) == 1 and len(issued["remoteJobs"]) == 3
    assert sorted(heard_issue) == sorted(
        j["id"] for j in issued["programmingJobs"] + issued["remoteJobs"]
    )
    cancelled = issued["programmingJobs"][0]["id"]
    assert sorted(heard_update) == sorted(
        [cancelled, *(j["id"] for j in updated["programmingJobs"] + updated["remoteJobs"])]
    )
    await ws.close()


DESK_ROUND = {
    "assign": "mutation($i: AssignProgrammingJobsInput!) { assignProgrammingJobs(input: $i) "
              "{ errors { message } } }",
    "load": "mutation($i: LoadProgrammingJobsInput!) { loadProgrammingJobs(input: $i) "
            "{ errors { message } } }",
    "report": "mutation($i: ReportProgrammingResultsInput!) { reportProgrammingResults(input: $i) "
              "{ errors { message } } }",
}


async def test_job_events_announce_assigning_loading_and_reporting_a_job(
    live: LiveServer, settings: Settings, database: Database,
    tenant: NewTenant, other_tenant: NewTenant,
) -> None:
    # given: an open job on MAIN-1, a main programming key, and jobEvents subscribers: one of
    # the tenant, one limited to its second domain, one of another tenant
    site = await make_site(database, tenant)
    token = await superadmin_token(database, tenant)
    async with database.tenant_session(tenant.tenant_id) as s:
        row = ProgrammingKey(marking="PR-LIVE", uid=secrets.token_hex(8),
                             kind=ProgrammingKeyKind.MAIN, firmware_version="16.3.7",
                             public_key=os.urandom(32))
        s.add(row)
        await s.commit()
        pkey = to_global_id("ProgrammingKey", row.id)
    made = await post(live, token, CHANGE, {"i": {"cylinderIds": [site.cylinder],
                                                  "add": [site.key]}})
    job = made["changeAuthorizations"]["programmingJobs"][0]["id"]
    ws = await job_events_subscriber(live, settings, tenant, token)
    annex_token = await superadmin_token(database, tenant, domain_ids=[site.other_domain_id])
    annex_ws = await job_events_subscriber(live, settings, tenant, annex_token)
    other_ws = await job_events_subscriber(
        live, settings, other_tenant, await superadmin_token(database, other_tenant))
    steps = (
        ("assign", {"programmingKeyId": pkey, "jobIds": [job]}, "ASSIGNED"),
        ("load", {"programmingKeyId": pkey}, "ON_KEY"),
        ("report", {"programmingKeyId": pkey,
                    "results": [{"jobId": job, "outcome": "DONE", "auditEvents": []}]}, "DONE"),
    )
    for step, variables, status in steps:
        # when: the job is assigned, loaded at the desk, reported done (R15, R17)
        answer = next(iter((await post(live, token, DESK_ROUND[step], {"i": variables})).values()))
        assert answer["errors"] == [], step
        # then: the tenant's subscriber hears of the job in its new state, once (R23)
        heard = [(e["programmingJob"]["id"], e["programmingJob"]["status"])
                 for e in await heard_events(ws, "jobs")]
        assert heard == [(job, status)], step
    # and: neither the subscriber outside the job's domain (R8) nor another tenant's (R1)
    for silent in (annex_ws, other_ws):
        with pytest.raises(TimeoutError):
            await silent.receive(seconds=0.3)
        await silent.close()
    await ws.close()


# --- announcing after commit; the in-process pub/sub ------------------------------------


async def test_a_transactions_events_travel_together_and_each_job_once(
    database: Database, tenant: NewTenant
) -> None:
    # given: a transaction that touches a job twice, a remote job and two devices
    pubsub = InProcessPubSub("test")
    async with pubsub.subscribe(tenant.tenant_id, JOB_EVENTS) as jobs, \
            pubsub.subscribe(tenant.tenant_id, DEVICE_STATUS) as devices:
        async with database.tenant_session(tenant.tenant_id) as s:
            await s.get(RemoteDevice, 1)
            queue_job_events(s, job_ids=[11, 12])
            queue_job_events(s, job_ids=[11], remote_job_ids=[21])
            queue_device_status(s, [1, 2], online=False)
            await s.commit()
            # when: it is published
            assert await publish_queued(s, pubsub) == 6
        # then: one message per topic, with each job once
        [job_message] = await jobs.next_batch(wait_seconds=patience(1))
        assert (job_message["programming_job_ids"], job_message["remote_job_ids"]) == (
            [12, 11], [21])
        [device_message] = await devices.next_batch(wait_seconds=patience(1))
        assert (device_message["device_ids"], device_message["online"]) == ([1, 2], False)


async def test_a_committed_mutation_is_not_held_up_when_redis_is_down(
    database: Database, tenant: NewTenant, settings: Settings
) -> None:
    # given: events committed while the configured Redis does not answer
    down = settings.model_copy(update={"redis_url": SecretStr("redis://127.0.0.1:1/0")})
    async with database.tenant_session(tenant.tenant_id) as s:
        await s.get(RemoteDevice, 1)
        queue_device_status(s, [1], online=True)
        await s.commit()
        # when: they are published
        started = time.monotonic()
        published = await publish_queued(s, down)
    # then: nothing is published, nothing raised, and it gave up at once (no retries)
    assert published == 0
    assert time.monotonic() - started < patience(1.0)


async def test_events_of_a_rolled_back_transaction_are_never_announced(
    settings: Settings, database: Database, tenant: NewTenant
) -> None:
    device = await make_device(database, tenant, "Gate")
    pubsub = get_pubsub(settings)
    async with pubsub.subscribe(tenant.tenant_id, DEVICE_STATUS) as mailbox:
        async with database.tenant_session(tenant.tenant_id) as s:
            # given: an event queued in a transaction that rolls back
            await s.get(RemoteDevice, device)
            queue_device_status(s, [device], online=True)
            await s.rollback()
            # when: publishing after it
            assert await publish_queued(s, pubsub) == 0
            # and: the next transaction queues an event and commits
            await s.get(RemoteDevice, device)
            queue_device_status(s, [device], online=False)
            assert await publish_queued(s, pubsub) == 0  # not before the commit
            await s.commit()
            assert await publish_queued(s, pubsub) == 1
        # then: only the committed event was announced
        batch = await mailbox.next_batch(wait_seconds=patience(WAIT))
        assert [(m["device_ids"], m["online"]) for m in batch] == [([device], False)]
        assert await mailbox.next_batch(wait_seconds=0.1) == []


async def test_slow_subscriber_loses_its_oldest_messages_and_never_holds_up_publishers() -> None:
    # given: a subscriber with room for three messages that does not read
    pubsub = InProcessPubSub("test", mailbox_size=3)
    tenant_id = str(uuid.uuid4())
    async with pubsub.subscribe(tenant_id, JOB_EVENTS) as mailbox:
        # when: ten messages are published
        started = time.monotonic()
        for n in range(10):
            await pubsub.publish(tenant_id, JOB_EVENTS, {"n": n})
        # then: publishing did not wait, the last three are kept and seven counted as dropped
        assert time.monotonic() - started < patience(0.5)
        assert [m["n"] for m in await mailbox.next_batch(wait_seconds=patience(1))] == [7, 8, 9]
        assert mailbox.dropped == 7 and pubsub.dropped == 7


async def test_publishing_from_another_thread_reaches_the_subscriber() -> None:
    # given: a subscriber on this loop
    pubsub = InProcessPubSub("test")
    tenant_id = str(uuid.uuid4())
    async with pubsub.subscribe(tenant_id, DEVICE_STATUS) as mailbox:
        # when: a worker thread with its own event loop publishes (the embedded queue, R3)
        thread = threading.Thread(
            target=lambda: asyncio.run(pubsub.publish(tenant_id, DEVICE_STATUS, {"n": 1}))
        )
        thread.start()
        thread.join(patience(WAIT))
        # then: the message arrives on the subscriber's loop
        assert await mailbox.next_batch(wait_seconds=patience(WAIT)) == [{"n": 1}]


# --- Redis ----------------------------------------------------------------------------


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """A reachable Redis; the tests skip without one, unless in CI."""
    url = os.environ.get("KEYWARDEN_TEST_REDIS", "redis://127.0.0.1:6379/0")
    client = aioredis.from_url(url, socket_connect_timeout=1)
    try:
        await client.ping()
    except (aioredis.RedisError, OSError):
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {url}")
        pytest.skip(f"Redis is not reachable at {url}")
    finally:
        await client.aclose()
    yield url


@pytest.fixture
def redis_live(settings: Settings, redis_url: str) -> Iterator[tuple[LiveServer, str]]:
    """The live server with REDIS_URL, its channels and queue under a prefix of this test."""
    from app.workers.broker import configure_broker

    prefix = f"kwtest-{uuid.uuid4().hex[:10]}"
    with_redis = settings.model_copy(
        update={
            "redis_url": SecretStr(redis_url),
            "pubsub_prefix": prefix,
            "queue_namespace": prefix,
        }
    )
    try:
        with LiveServer(with_redis) as server:
            yield server, prefix
    finally:
        configure_broker(settings)  # the rest of the session runs on the in-process queue


async def numsub(url: str, channel: str) -> int:
    client = aioredis.from_url(url)
    try:
        return int((await client.pubsub_numsub(channel))[0][1])
    finally:
        await client.aclose()


def publish_from_another_process(url: str, prefix: str, event: DeviceStatusChanged) -> None:
    """``publish_now`` in a separate Python process, as a worker would (R3)."""
    code = (
        "import asyncio, datetime, sys\n"
        "from app.config import Settings\n"
        "from app.events import DeviceStatusChanged, publish_now\n"
        "event = DeviceStatusChanged(sys.argv[1], int(sys.argv[2]), sys.argv[3] == 'on',\n"
        "                            datetime.datetime.fromisoformat(sys.argv[4]))\n"
        "asyncio.run(publish_now(Settings(), event))\n"
    )
    env = {**os.environ, "REDIS_URL": url, "KEYWARDEN_PUBSUB_PREFIX": prefix}
    subprocess.run(
        [sys.executable, "-c", code, event.tenant_id, str(event.device_id),
         "on" if event.online else "off", event.at.isoformat()],
        env=env, check=True, timeout=patience(60), cwd=os.getcwd(),
    )


async def test_redis_event_published_by_another_process_reaches_the_subscriber(
    redis_live: tuple[LiveServer, str], redis_url: str, database: Database, tenant: NewTenant
) -> None:
    # given: a subscriber of a server running with Redis
    live, prefix = redis_live
    device = await make_device(database, tenant, "Loading bay")
    ws = await (await GraphQLSocket.open(live.ws_url, await superadmin_token(database, tenant)))\
        .acknowledged()
    await ws.subscribe("1", DEVICE_STATUS_SUB)
    channel = f"{prefix}:{tenant.tenant_id}:{DEVICE_STATUS}"
    await eventually(lambda: numsub(redis_url, channel), f"a subscriber of {channel}", WAIT)
    # when: another process announces the device online
    await asyncio.to_thread(
        publish_from_another_process, redis_url, prefix, await device_event(tenant, device, True)
    )
    # then: the subscriber receives it
    event = (await ws.next("1"))["deviceStatus"]
    assert (event["device"]["name"], event["online"]) == ("Loading bay", True)
    await ws.close()


async def test_redis_listener_reconnects_after_its_connection_is_killed(
    redis_live: tuple[LiveServer, str], redis_url: str, database: Database, tenant: NewTenant
) -> None:
    # given: a subscriber receiving events through Redis
    live, prefix = redis_live
    device = await make_device(database, tenant, "Garage")
    ws = await (await GraphQLSocket.open(live.ws_url, await superadmin_token(database, tenant)))\
        .acknowledged()
    await ws.subscribe("1", DEVICE_STATUS_SUB)
    channel = f"{prefix}:{tenant.tenant_id}:{DEVICE_STATUS}"
    await eventually(lambda: numsub(redis_url, channel), f"a subscriber of {channel}", WAIT)
    publisher = aioredis.from_url(redis_url)
    message = {"tenant_id": tenant.tenant_id, "kind": DEVICE_STATUS, "device_ids": [device]}
    try:
        await publisher.publish(channel, json.dumps(
            {**message, "online": True, "at": utcnow().isoformat()}))
        assert (await ws.next("1"))["deviceStatus"]["online"] is True
        # when: Redis drops the listener's connection (only this server's: other test runs
        # may share the Redis server, and their listeners must not notice)
        async def ours() -> set[str]:
            return {c["id"] for c in await publisher.client_list(_type="pubsub")
                    if c["name"] == listener_name(prefix)}

        before = await ours()
        assert before, "the listener's connection is not named"
        for client_id in before:
            await publisher.execute_command("CLIENT", "KILL", "ID", client_id)
        # then: the listener reconnects on a new connection and subscribes again ...
        async def resubscribed() -> bool:
            return bool(await ours() - before) and await numsub(redis_url, channel) >= 1

        await eventually(resubscribed, "the listener to subscribe again", WAIT)
        # ... and later events arrive
        await publisher.publish(channel, json.dumps(
            {**message, "online": False, "at": utcnow().isoformat()}))
        assert (await ws.next("1"))["deviceStatus"]["online"] is False
    finally:
        await publisher.aclose()
    await ws.close()
