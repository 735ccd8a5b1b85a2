"""Issue 5 stories end to end: the desk simulator, the bridge agent and the server as processes.

Each story runs against three real processes, started once for the module:

- the **desk simulator** (``python -m hardware.sim desk --pty --baud 115200``) serving
  hardware/PROTOCOL.md on a pseudo-terminal, paced as a real 115200-baud line, with
  ``--link`` keeping a symlink on the current pty (also after ``replug``), as
  ``/dev/serial/by-id`` names a USB serial device;
- the **bridge agent**, enrolled once with ``python -m hardware.bridge enrol`` and run
  with ``python -m hardware.bridge run --port <symlink>``;
- the **server**, ``keywarden serve`` on a free loopback port with the test's database,
  its outbox sending e-mails to an aiosmtpd server on loopback (R33). On SQLite it is
  the embedded default (the queue runs inside the API process, R3); on PostgreSQL it
  runs with Redis and a separate ``python -m app.workers.main`` worker process, as in
  production.

The administrator acts through GraphQL over HTTP with a Superadmin API token; the
person at the desk and on site acts through the simulator's control socket
(``hardware.sim.control.ControlClient``): inserting keys, carrying a programming key
to cylinders, trying keys in cylinders, pulling the cable. Hardware the server knows
of is seeded in its database and, with the same UIDs (and the programming keys'
matching private keys and PINs), in the simulator's world. All stories share one
tenant — created with the approver function on (R29), which matters for readouts
through remote devices and for the trails programming visits read — and the one
bridge enrolled in it; each story has keys and cylinders of its own.

When a story fails, the output the processes wrote during it (agent, simulator,
server) is printed with the failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import select

from app.access.engine import reconcile
from app.auth.pins import hash_pin
from app.config import Settings
from app.db import Database
from app.models import (
    AccessEntry,
    AccessResult,
    AuditEvent,
    CertificateBundle,
    Cylinder,
    CylinderStatus,
    DirectAuthorization,
    Employee,
    Firmware,
    FirmwareSource,
    FirmwareTarget,
    Key,
    KeyGeneration,
    KeyStatus,
    KeyType,
    ProgrammingJob,
    ProgrammingKey,
    ProgrammingKeyDomain,
    ProgrammingKeyKind,
    ProgrammingKeyRole,
    Schedule,
)
from app.schema.relay import parse_global_id, to_global_id
from app.tenants.service import NewTenant
from hardware.bridge.state import StateDir
from hardware.sim.control import ControlClient
from tests.conftest import BACKEND, GraphQLClient, make_tenant, superadmin_token
from tests.harness import ROOT, LoggedProcess, eventually, patience
from tests.processes import ApiProcess, SmtpServer, WorkerProcess, reachable_redis, redis_queue

WAIT = 30.0
PIN = "482913"
BAUD = "115200"
# Enough jobs that loading them takes about 2.5 s on the paced line (bench.serial_link:
# 30 jobs, 8 kB, 0.77 s), so the cable can be pulled while the write is on the wire.
MANY_JOBS = 100

ENROLMENT = """
mutation($i: CreateBridgeEnrolmentInput!) { createBridgeEnrolment(input: $i) {
  code errors { field code message } } }
"""
BRIDGE = "query($id: ID!) { node(id: $id) { ... on Bridge { online } } }"
COMMAND = """
query($id: ID!) { node(id: $id) { ... on BridgeCommand {
  kind status payload result errorCode errorMessage } } }
"""
COMMAND_FIELDS = "command { id status } errors { field code message }"
AT_BRIDGE = {
    name: f"""
mutation($i: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $i) {{ {COMMAND_FIELDS} }} }}
"""
    for name in (
        "writeKeyAtBridge",
        "loadProgrammingJobsAtBridge",
        "readProgrammingResultsAtBridge",
        "readKeyAuditTrailAtBridge",
        "updateKeyFirmwareAtBridge",
    )
}
START_LOGIN = """
mutation($i: StartBridgeLoginInput!) { startBridgeLogin(input: $i) {
  loginId secret errors { field code message } } }
"""
FINISH_LOGIN = """
mutation($i: FinishBridgeLoginInput!) { finishBridgeLogin(input: $i) {
  status token errorCode errorMessage } }
"""
ASSIGN = """
mutation($i: AssignProgrammingJobsInput!) { assignProgrammingJobs(input: $i) {
  programmingJobs { id status } warnings { code } errors { field code message } } }
"""
JOBS = """
query($key: ID!) { programmingJobs(filter: {assigneeId: $key}, first: 100) {
  edges { node { id status cylinder { uid } } } } }
"""
CREATE_EMPLOYEE = """
mutation($i: CreateEmployeeInput!) { createEmployee(input: $i) {
  employee { id } errors { field code message } } }
"""
CREATE_SCHEDULE = """
mutation($i: CreateScheduleInput!) { createSchedule(input: $i) {
  schedule { id windows { days start end } } errors { field code message } } }
"""
ISSUE_KEY = """
mutation($i: IssueKeyInput!) { issueKey(input: $i) {
  key { id status validity { alwaysValid validFrom validUntil } schedule { id } }
  remoteJobs { kind status } errors { field code message } } }
"""
REPORT_LOST = """
mutation($i: ReportKeyLostInput!) { reportKeyLost(input: $i) {
  key { status } programmingJobs { id status changes { op key { uid } } }
  errors { field code message } } }
"""
KEY = """
query($id: ID!) { node(id: $id) { ... on Key {
  status remoteJobs(first: 20) { edges { node { kind status } } }
  auditTrail(first: 50) { edges { node { at result cylinder { uid } key { uid } } } } } } }
"""
CYLINDER_TRAIL = """
query($id: ID!) { node(id: $id) { ... on Cylinder {
  auditTrail(first: 50) { edges { node { result key { uid } } } } } } }
"""


# --- the processes ---------------------------------------------------------------------


@dataclass
class Stories:
    """The module's processes, its tenant, and the admin's GraphQL client to the server."""

    api: ApiProcess
    desk: LoggedProcess
    agent: LoggedProcess
    smtp: SmtpServer
    control: ControlClient
    state_dir: Path
    link: Path
    tenant: NewTenant
    gql: GraphQLClient
    http: httpx.AsyncClient
    bridge_id: str
    worker: WorkerProcess | None = None
    logs: list[Path] = field(default_factory=list)

    # --- the simulator: the person at the desk and on site ------------------------------

    def world(self) -> dict[str, Any]:
        return self.control.state()

    def programming_key(self, uid: str) -> dict[str, Any]:
        return next(k for k in self.world()["programmingKeys"] if k["uid"] == uid)

    def user_key(self, uid: str) -> dict[str, Any]:
        return next(k for k in self.world()["userKeys"] if k["uid"] == uid)

    # --- the admin at the server ---------------------------------------------------------

    async def at_bridge(self, mutation: str, **fields: Any) -> str:
        """Queue a command for the bridge; its id."""
        data = await self.gql(AT_BRIDGE[mutation], {"i": {"bridgeId": self.bridge_id, **fields}})
        assert data[mutation]["errors"] == [], data
        return str(data[mutation]["command"]["id"])

    async def command(self, command_id: str) -> dict[str, Any]:
        return (await self.gql(COMMAND, {"id": command_id}))["node"]  # type: ignore[no-any-return]

    async def finished(self, command_id: str, seconds: float = WAIT) -> dict[str, Any]:
        """The command once the bridge reported it (DONE or FAILED)."""
        state: dict[str, Any] = {}

        async def reported() -> bool:
            state.update(await self.command(command_id))
            return state["status"] in ("DONE", "FAILED")

        await eventually(reported, f"command {command_id} to be reported", seconds)
        return state

    async def done(self, command_id: str) -> dict[str, Any]:
        """The command, which must have succeeded; its result parsed."""
        state = await self.finished(command_id)
        assert state["status"] == "DONE", state
        return json.loads(state["result"])  # type: ignore[no-any-return]


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


def _bridge_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _python("-m", "hardware.bridge", *args), cwd=ROOT, capture_output=True, text=True,
        timeout=patience(60),
    )


@pytest.fixture(scope="module")
async def stories(
    settings: Settings, database: Database, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stories]:
    """The desk simulator, the enrolled agent and the server, started once for the module."""
    tmp = tmp_path_factory.mktemp("bridge-stories")
    async with AsyncExitStack() as stack:
        smtp = SmtpServer().start()
        stack.callback(smtp.stop)
        worker = None
        if BACKEND == "postgres":
            # Production's shape: Redis queue and pub/sub, the outbox sent by a worker.
            redis_url = reachable_redis()
            server_settings, namespace = stack.enter_context(redis_queue(settings, redis_url))
            worker = WorkerProcess(server_settings, namespace, smtp, tmp / "worker.log")
            stack.callback(worker.close)
        else:
            # The embedded default (R3): the API process runs the queue and the outbox.
            server_settings, namespace = settings, f"keywarden-test-{secrets.token_hex(6)}"
        api = ApiProcess(server_settings, namespace, tmp / "api.log", **smtp.env)
        stack.callback(api.close)

        link, sock = tmp / "ttyDESK", tmp / "desk.sock"
        desk = LoggedProcess(
            _python("-m", "hardware.sim", "desk", "--pty", "--world", str(tmp / "world.json"),
                    "--control", str(sock), "--link", str(link), "--baud", BAUD),
            os.environ, tmp / "desk.log",
        )
        stack.callback(desk.close)

        # The simulator says who it is once its pty, link and control socket are up.
        await asyncio.gather(
            api.ready(), *([worker.ready()] if worker else []), desk.logged("identity: "),
        )
        control = ControlClient(sock, timeout=patience(WAIT))
        stack.callback(control.close)

        # One tenant for the stories, with the approver function on (R29, story 4).
        tenant = await make_tenant(database, "Bridge stories", approver_function=True)
        http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=api.url, timeout=patience(WAIT))
        )
        gql = GraphQLClient(http, await superadmin_token(database, tenant))

        # Enrolment, once: a one-time code from the admin, then the agent's own command.
        created = (await gql(ENROLMENT, {"i": {"name": "Front desk"}}))["createBridgeEnrolment"]
        assert created["errors"] == [], created
        state_dir = tmp / "bridge-state"
        enrol = await asyncio.to_thread(
            _bridge_cli, "enrol", "--server", api.url, "--tenant", tenant.tenant_id,
            "--code", created["code"], "--state-dir", str(state_dir), "--name", "Front desk",
        )
        assert enrol.returncode == 0, enrol.stderr
        enrolment = StateDir(state_dir).load_enrolment()
        assert enrolment is not None

        agent = LoggedProcess(
            _python("-m", "hardware.bridge", "run", "--server", api.url, "--state-dir",
                    str(state_dir), "--port", str(link), "--max-backoff", "1",
                    "--link-retry", "30"),
            os.environ, tmp / "agent.log",
        )
        stack.callback(agent.close)
        site = Stories(
            api=api, desk=desk, agent=agent, smtp=smtp, control=control, state_dir=state_dir,
            link=link, tenant=tenant, gql=gql, http=http, bridge_id=enrolment.bridge_id,
            worker=worker,
            logs=[agent.log, desk.log, api.log, *([worker.log] if worker else [])],
        )

        await agent.logged("subscribed to bridgeCommands")

        # The agent logs "subscribed" when it sent the subscription; the server marks the
        # bridge online once it took it up.
        async def online() -> bool:
            return bool((await gql(BRIDGE, {"id": site.bridge_id}))["node"]["online"])

        await eventually(online, "the bridge to be online", details=agent.output)
        yield site
        # A clean stop (SIGTERM) leaves no report behind.
        assert agent.signal(signal.SIGTERM) == 0, agent.output()


@pytest.fixture(autouse=True)
def process_output(stories: Stories) -> Iterator[None]:
    """What the processes wrote during a story; pytest shows it when the story fails."""
    sizes = {log: log.stat().st_size for log in stories.logs}
    yield
    for log, size in sizes.items():
        with log.open("rb") as f:
            f.seek(size)
            new = f.read().decode(errors="replace")
        print(f"--- {log.name} during this story ---\n{new}")


# --- hardware known to the server and in the simulated world ----------------------------


def _uid() -> str:
    return secrets.token_hex(7).upper()


@dataclass
class SubKey:
    """A sub programming key (R5, R17): its row's id and UID, holder's e-mail, in the desk world."""

    id: int
    uid: str
    marking: str
    email: str

    @property
    def gid(self) -> str:
        return to_global_id("ProgrammingKey", self.id)


async def programming_key(
    stories: Stories, database: Database, *, superadmin: bool = False
) -> SubKey:
    """A sub programming key with a holder (e-mail) and the default domain, registered with
    the server (public key, PIN hash) and present in the simulated world with its private
    key and PIN (R5)."""
    private = Ed25519PrivateKey.generate()
    uid, tenant = f"PK{_uid()}", stories.tenant
    async with database.tenant_session(tenant.tenant_id) as s:
        holder = Employee(domain_id=tenant.default_domain_id, first_name="Petra",
                          last_name="Programmer", email=f"petra.{uid.lower()}@example.com")
        s.add(holder)
        await s.flush()
        row = ProgrammingKey(
            marking=f"PN-{uid[-4:]}", uid=uid, kind=ProgrammingKeyKind.SUB,
            firmware_version="12.4.0", holder_id=holder.id,
            public_key=private.public_key().public_bytes_raw(), pin_hash=hash_pin(PIN),
        )
        s.add(row)
        await s.flush()
        s.add(ProgrammingKeyDomain(programming_key_id=row.id, domain_id=tenant.default_domain_id))
        if superadmin:
            s.add(ProgrammingKeyRole(programming_key_id=row.id, role_id=tenant.superadmin_role_id))
        await s.commit()
        key = SubKey(row.id, uid, row.marking, holder.email or "")
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
    stories.control.add_programming_key(uid, key.marking, raw, PIN)
    return key


async def default_schedule(database: Database, tenant: NewTenant) -> dict[str, Any]:
    """The tenant's "Always" schedule as a key's memory holds it (R12)."""
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await s.scalar(select(Schedule).where(Schedule.is_default))
        assert schedule is not None
        return {"scheduleId": schedule.id, "windows": schedule.windows}


async def user_key(
    stories: Stories,
    database: Database,
    *,
    status: KeyStatus = KeyStatus.ISSUED,
    in_world: bool = True,
) -> tuple[int, str]:
    """An E2 key, generation 2 (R10): its row id and UID. ``in_world``: the simulated key is
    written as the desk would have written it (always valid, "Always" schedule)."""
    uid, tenant = f"E2{_uid()}", stories.tenant
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        key = Key(domain_id=tenant.default_domain_id, marking=f"K-{uid[-4:]}", uid=uid,
                  type=KeyType.E2, generation=KeyGeneration.GEN2, firmware_version="12.4.0",
                  status=status, schedule_id=schedule)
        s.add(key)
        await s.commit()
        key_id = key.id
    memory: dict[str, Any] = {}
    if in_world:
        memory = {
            "validity": {"alwaysValid": True, "validFrom": None, "validUntil": None,
                         "extensionIntervalHours": None, "blocked": False},
            "schedule": await default_schedule(database, tenant),
        }
    stories.control.add_user_key(uid=uid, keyType="E2", generation=2, firmware="12.4.0",
                                 **memory)
    return key_id, uid


async def cylinders(
    stories: Stories,
    database: Database,
    count: int,
    *,
    authorize: tuple[int, str] | None = None,
    programmed: bool = False,
) -> list[tuple[int, str]]:
    """``count`` active cylinders (R11), on the server and in the simulated world: (id, uid).

    ``authorize`` (key id, UID): the key is authorised on each directly and the access
    lists are reconciled into programming jobs (R15) — or, with ``programmed``, the key is
    programmed in them already (server and simulated hardware agree, no job).
    """
    tenant = stories.tenant
    async with database.tenant_session(tenant.tenant_id) as s:
        rows = [
            Cylinder(domain_id=tenant.default_domain_id, marking=f"C-{_uid()}", uid=_uid(),
                     status=CylinderStatus.ACTIVE)
            for _ in range(count)
        ]
        s.add_all(rows)
        await s.flush()
        if authorize is not None:
            s.add_all(DirectAuthorization(cylinder_id=c.id, key_id=authorize[0]) for c in rows)
            if programmed:
                s.add_all(
                    AccessEntry(cylinder_id=c.id, key_id=authorize[0], desired=True,
                                programmed=True)
                    for c in rows
                )
            await s.flush()
            await reconcile(s, [c.id for c in rows])
        await s.commit()
        made = [(c.id, c.uid) for c in rows]
    in_hardware = [authorize[1]] if authorize is not None and programmed else []
    for _, uid in made:
        stories.control.add_cylinder(uid=uid, accessKeys=in_hardware)
    return made


async def open_jobs(database: Database, tenant: NewTenant, cylinder_ids: list[int]) -> list[str]:
    """The global ids of the open programming jobs of these cylinders."""
    async with database.tenant_session(tenant.tenant_id) as s:
        ids = list(await s.scalars(
            select(ProgrammingJob.id).where(ProgrammingJob.cylinder_id.in_(cylinder_ids))
            .order_by(ProgrammingJob.id)
        ))
    return [to_global_id("ProgrammingJob", i) for i in ids]


async def job_statuses(stories: Stories, key: SubKey) -> dict[str, str]:
    """The programming key's assigned jobs by global id: their status (over GraphQL)."""
    edges = (await stories.gql(JOBS, {"key": key.gid}))["programmingJobs"]["edges"]
    return {e["node"]["id"]: e["node"]["status"] for e in edges}


async def assign(stories: Stories, key: SubKey, job_gids: list[str]) -> None:
    data = await stories.gql(ASSIGN, {"i": {"programmingKeyId": key.gid, "jobIds": job_gids}})
    assert data["assignProgrammingJobs"]["errors"] == [], data


def _db_id(gid: str) -> int:
    parsed = parse_global_id(gid)
    assert parsed is not None
    return int(parsed[1])


# --- the stories -------------------------------------------------------------------------


async def test_an_administrator_logs_in_with_a_programming_key_and_pin_through_the_bridge(
    stories: Stories, database: Database
) -> None:
    """R5: the login challenge is signed by the programming key in the desk after its PIN."""
    key = await programming_key(stories, database, superadmin=True)
    stories.control.insert("left", key.uid)
    browser = GraphQLClient(stories.http, None)

    async def login(pin: str) -> dict[str, Any]:
        started = (await browser(START_LOGIN, {"i": {
            "tenantId": stories.tenant.tenant_id, "bridgeId": stories.bridge_id, "pin": pin,
            "slot": "left"}}))["startBridgeLogin"]
        assert started["errors"] == [], started
        outcome: dict[str, Any] = {}

        async def answered() -> bool:
            outcome.update((await browser(FINISH_LOGIN, {"i": {
                "loginId": started["loginId"], "secret": started["secret"]}}
            ))["finishBridgeLogin"])
            return outcome["status"] != "PENDING"

        await eventually(answered, "the login to be signed or refused")
        return outcome

    # when a wrong PIN is typed: refused, and the key's own lock-out counts it
    wrong = await login("000000")
    assert (wrong["status"], wrong["token"], wrong["errorCode"]) == ("FAILED", None, "WRONG_PIN")
    assert stories.programming_key(key.uid)["wrongPins"] == 1
    # when the right PIN is typed: the browser gets a session token, and the count starts over
    right = await login(PIN)
    assert right["status"] == "DONE" and right["token"], right
    assert stories.programming_key(key.uid)["wrongPins"] == 0
    # then the session works for GraphQL as that programming key, with its roles' rights
    me = await browser("query { me { id marking } bridges(first: 5) { totalCount } }",
                       token=right["token"])
    assert me["me"] == {"id": key.gid, "marking": key.marking}
    assert me["bridges"]["totalCount"] == 1
    stories.control.remove("left")


async def test_jobs_assigned_to_a_sub_key_are_loaded_at_the_desk_carried_out_and_reported(
    stories: Stories, database: Database
) -> None:
    """R15, R17, R33: assign, load through the bridge, visit the cylinders, report back,
    jobs DONE, the cylinders' trails kept and the final e-mail sent."""
    key_id, key_uid = await user_key(stories, database)
    cyls = await cylinders(stories, database, 3, authorize=(key_id, key_uid))
    jobs = await open_jobs(database, stories.tenant, [c for c, _ in cyls])
    assert len(jobs) == 3
    sub = await programming_key(stories, database)
    await assign(stories, sub, jobs)
    # (the key is not in the cylinders yet: the attempt is in the cylinder's trail)
    assert stories.control.try_open(cyls[0][1], key_uid)["reason"] == "DENIED_NOT_AUTHORIZED"

    # when the sub key's holder loads the jobs at the desk
    stories.control.insert("right", sub.uid)
    loaded = await stories.done(await stories.at_bridge(
        "loadProgrammingJobsAtBridge", programmingKeyId=sub.gid, slot="right"))
    # then they are on the key, and ON_KEY for the server
    assert loaded["onKey"] == 3
    on_key = stories.programming_key(sub.uid)["jobs"]
    assert sorted(j["jobId"] for j in on_key) == sorted(jobs)
    assert set((await job_statuses(stories, sub)).values()) == {"ON_KEY"}

    # when the key is carried to each cylinder
    stories.control.remove("right")
    for _, cylinder_uid in cyls:
        [result] = stories.control.visit(cylinder_uid, sub.uid)
        assert result["outcome"] == "DONE"
    # then the key opens them
    for _, cylinder_uid in cyls:
        assert stories.control.try_open(cylinder_uid, key_uid)["opened"] is True

    # when the key is back in the desk and its results are read
    stories.control.insert("right", sub.uid)
    reported = await stories.done(await stories.at_bridge(
        "readProgrammingResultsAtBridge", programmingKeyId=sub.gid, slot="right"))
    assert reported["done"] == 3 and reported["ignoredJobIds"] == []
    # then the jobs are DONE, the results cleared from the key only after the report (R17)
    assert set((await job_statuses(stories, sub)).values()) == {"DONE"}

    async def cleared() -> bool:
        return stories.programming_key(sub.uid)["results"] == []

    await eventually(cleared, "the results to be cleared from the programming key")
    # and the trail read out of the first cylinder before it was reprogrammed is kept (R15),
    # withheld: the tenant has the approver function on and no readout was approved (R29;
    # approval releases it: tests/test_programming_readout_rules.py)
    trail = (await stories.gql(CYLINDER_TRAIL, {"id": to_global_id("Cylinder", cyls[0][0])}))
    assert trail["node"]["auditTrail"]["edges"] == []
    async with database.tenant_session(stories.tenant.tenant_id) as s:
        kept = (
            await s.execute(
                select(AuditEvent.result, AuditEvent.key_uid, AuditEvent.withheld).where(
                    AuditEvent.cylinder_id == cyls[0][0]
                )
            )
        ).all()
    assert (AccessResult.DENIED_NOT_AUTHORIZED, key_uid, True) in kept

    # and the final e-mail really reaches the holder over SMTP (R17, R33)
    def final_mail() -> list[Any]:
        return [m for m in stories.smtp.sink.accepted
                if sub.email in m["X-Envelope-To"] and "are completed" in m["Subject"]]

    async def arrived() -> bool:
        return bool(final_mail())

    # (sent when the report is in, well before the outbox's periodic sweep would send it)
    await eventually(arrived, "the final e-mail to arrive at the SMTP server", 15)
    assert sub.marking in final_mail()[0]["Subject"]
    stories.control.remove("right")


async def test_an_e2_key_issued_at_the_desk_holds_its_validity_and_schedule(
    stories: Stories, database: Database
) -> None:
    """R10, R12, R18: an E2 key's validity and schedule wait for a desk device and are
    written into the key's memory there."""
    key_id, uid = await user_key(stories, database, status=KeyStatus.IN_STOCK, in_world=False)
    key_gid = to_global_id("Key", key_id)
    # given an employee and a weekday schedule
    employee = (await stories.gql(CREATE_EMPLOYEE, {"i": {
        "firstName": "Erik", "lastName": f"Employee {uid[-4:]}"}}))["createEmployee"]
    assert employee["errors"] == []
    windows = [{"days": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
                "start": "07:00", "end": "18:00"}]
    schedule = (await stories.gql(CREATE_SCHEDULE, {"i": {
        "name": f"Office hours {uid[-4:]}", "windows": windows}}))["createSchedule"]
    assert schedule["errors"] == []
    # when the admin issues the key, valid for 30 days
    now = datetime.now(UTC).replace(microsecond=0)
    valid_from, valid_until = now - timedelta(days=1), now + timedelta(days=30)
    issued = (await stories.gql(ISSUE_KEY, {"i": {
        "keyId": key_gid, "employeeId": employee["employee"]["id"],
        "validity": {"alwaysValid": False, "validFrom": valid_from.isoformat(),
                     "validUntil": valid_until.isoformat()},
        "scheduleId": schedule["schedule"]["id"]}}))["issueKey"]
    assert issued["errors"] == [] and issued["key"]["status"] == "ISSUED"
    # then its changes wait for a desk device (R18: E2)
    assert {j["kind"] for j in issued["remoteJobs"]} >= {"VALIDITY", "SCHEDULE"}

    # when the key is written at the desk
    stories.control.insert("left", uid)
    after = await stories.done(await stories.at_bridge(
        "writeKeyAtBridge", keyId=key_gid, slot="left"))
    stories.control.remove("left")

    # then the key's memory holds the validity and the schedule (R12)
    memory = stories.user_key(uid)
    assert memory["validity"]["alwaysValid"] is False and memory["validity"]["blocked"] is False
    assert datetime.fromisoformat(memory["validity"]["validFrom"]) == valid_from
    assert datetime.fromisoformat(memory["validity"]["validUntil"]) == valid_until
    assert memory["schedule"] == {"scheduleId": _db_id(schedule["schedule"]["id"]),
                                  "windows": windows}
    assert memory["keyMemory"] is None  # E2: no key memory authorisations (R10)
    assert after["uid"] == uid and after["validity"] == memory["validity"]
    # and the jobs that waited for the desk are done
    node = (await stories.gql(KEY, {"id": key_gid}))["node"]
    statuses = {e["node"]["kind"]: e["node"]["status"] for e in node["remoteJobs"]["edges"]}
    assert statuses["VALIDITY"] == statuses["SCHEDULE"] == "DONE", statuses

    # and a cylinder that authorises the key decides by that memory: in office hours it
    # opens; on a Sunday, or after the validity, it does not
    cylinder_uid = f"C{_uid()}"
    stories.control.add_cylinder(uid=cylinder_uid, accessKeys=[uid])
    monday = now + timedelta(days=7 - now.weekday())
    at = {
        "GRANTED": monday.replace(hour=10, minute=0, second=0),
        "DENIED_SCHEDULE": (monday - timedelta(days=1)).replace(hour=10, minute=0, second=0),
        "DENIED_EXPIRED": (valid_until + timedelta(days=7 - valid_until.weekday()))
        .replace(hour=10, minute=0, second=0),
    }
    for reason, when in at.items():
        decision = stories.control.try_open(cylinder_uid, uid, when.isoformat())
        assert decision["reason"] == reason, (when, decision)


async def test_an_e2_keys_audit_trail_is_read_at_the_desk_with_the_approver_function_on(
    stories: Stories, database: Database
) -> None:
    """R28, R29: reading an E2 key at a desk device is always allowed, approver function or
    not; the events are stored and visible in the API."""
    tenant = (await stories.gql("query { tenant { approverFunction } }"))["tenant"]
    assert tenant == {"approverFunction": True}
    key_id, uid = await user_key(stories, database)
    [(_, site_uid)] = await cylinders(stories, database, 1, authorize=(key_id, uid),
                                      programmed=True)
    [(_, cylinder_uid)] = await cylinders(stories, database, 1)
    # given the key was used on site: let in, refused where it has no access, let in
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    tried = [
        stories.control.try_open(site_uid, uid, base.isoformat()),
        stories.control.try_open(cylinder_uid, uid, (base + timedelta(hours=1)).isoformat()),
        stories.control.try_open(site_uid, uid, (base + timedelta(hours=2)).isoformat()),
    ]
    assert [t["reason"] for t in tried] == ["GRANTED", "DENIED_NOT_AUTHORIZED", "GRANTED"]

    # when the admin reads the key's trail at the desk: no approval is asked for
    stories.control.insert("left", uid)
    read = await stories.done(await stories.at_bridge(
        "readKeyAuditTrailAtBridge", keyId=to_global_id("Key", key_id), slot="left"))
    stories.control.remove("left")
    assert read["stored"] == 3 and len(read["events"]) == 3

    # then the events are the key's audit trail in the API, newest first (R28)
    node = (await stories.gql(KEY, {"id": to_global_id("Key", key_id)}))["node"]
    events = [e["node"] for e in node["auditTrail"]["edges"]]
    assert [e["result"] for e in events] == ["GRANTED", "DENIED_NOT_AUTHORIZED", "GRANTED"]
    assert events[1]["cylinder"] == {"uid": cylinder_uid}
    assert {e["key"]["uid"] for e in events} == {uid}
    assert datetime.fromisoformat(events[2]["at"]) == base


async def test_a_lost_key_is_refused_by_a_cylinder_once_its_removal_or_blocking_list_reached_it(
    stories: Stories, database: Database
) -> None:
    """R19: a key reported lost is taken out of its cylinders by programming jobs, and is on
    the key blocking list."""
    key_id, uid = await user_key(stories, database)
    [(cylinder_id, cylinder_uid), (_, other_uid)] = await cylinders(
        stories, database, 2, authorize=(key_id, uid), programmed=True)
    # given the key opens both cylinders
    for c in (cylinder_uid, other_uid):
        assert stories.control.try_open(c, uid)["opened"] is True

    # when it is reported lost
    lost = (await stories.gql(REPORT_LOST, {"i": {
        "keyId": to_global_id("Key", key_id), "deprogram": True}}))["reportKeyLost"]
    assert lost["errors"] == [] and lost["key"]["status"] == "LOST"
    removals = lost["programmingJobs"]
    assert len(removals) == 2
    assert all(j["changes"] == [{"op": "REMOVE", "key": {"uid": uid}}] for j in removals)

    # and its removal from the first cylinder is carried there by a sub key
    sub = await programming_key(stories, database)
    [first] = await open_jobs(database, stories.tenant, [cylinder_id])
    await assign(stories, sub, [first])
    stories.control.insert("right", sub.uid)
    assert (await stories.done(await stories.at_bridge(
        "loadProgrammingJobsAtBridge", programmingKeyId=sub.gid)))["onKey"] == 1
    stories.control.remove("right")
    [result] = stories.control.visit(cylinder_uid, sub.uid)
    assert result["outcome"] == "DONE"
    # then that cylinder refuses the key: it is no longer on its access list
    refused = stories.control.try_open(cylinder_uid, uid)
    assert (refused["opened"], refused["reason"]) == (False, "DENIED_NOT_AUTHORIZED")
    # and the report closes the job
    stories.control.insert("right", sub.uid)
    assert (await stories.done(await stories.at_bridge(
        "readProgrammingResultsAtBridge", programmingKeyId=sub.gid)))["done"] == 1
    assert (await job_statuses(stories, sub)) == {first: "DONE"}
    stories.control.remove("right")

    # and the other cylinder, not yet reprogrammed, refuses it once the key blocking list
    # reached it (R19, R21)
    blocking = (await stories.gql("query { blockingList { keyUids } }"))["blockingList"]
    assert uid in blocking["keyUids"]
    assert stories.control.try_open(other_uid, uid)["opened"] is True
    stories.control.set_blocking_list(other_uid, blocking["keyUids"])
    refused = stories.control.try_open(other_uid, uid)
    assert (refused["opened"], refused["reason"]) == (False, "DENIED_BLOCKED")


async def test_a_cable_pulled_mid_load_is_resumed_and_the_jobs_are_on_the_key_once(
    stories: Stories, database: Database
) -> None:
    """R17 over a real serial line: the cable is pulled while the jobs are on the wire; once
    it is back the agent reopens the port and the load completes once, uncorrupted."""
    key_id, key_uid = await user_key(stories, database, in_world=False)
    cyls = await cylinders(stories, database, MANY_JOBS, authorize=(key_id, key_uid))
    jobs = await open_jobs(database, stories.tenant, [c for c, _ in cyls])
    assert len(jobs) == MANY_JOBS
    sub = await programming_key(stories, database)
    await assign(stories, sub, jobs)
    stories.control.insert("left", sub.uid)

    # when the load is on its way to the key and the cable is pulled
    command_id = await stories.at_bridge("loadProgrammingJobsAtBridge", programmingKeyId=sub.gid)

    async def executing() -> bool:
        return f"executing command LOAD_PROGRAMMING_JOBS {command_id}" in stories.agent.output()

    await eventually(executing, "the agent to start the load")
    sent_before = stories.world()["desk"]["link"]["frames_received"]

    async def on_the_wire() -> bool:
        # the slots request and a few fragments of the jobs have arrived
        return bool(stories.world()["desk"]["link"]["frames_received"] >= sent_before + 6)

    await eventually(on_the_wire, "the jobs to be on the wire", 5)
    stories.control.unplug()
    # then nothing of the half-sent write reached the key
    assert stories.programming_key(sub.uid)["jobs"] == [], "the write completed before the pull"

    async def interrupted() -> bool:
        return f"LOAD_PROGRAMMING_JOBS {command_id} interrupted" in stories.agent.output()

    await eventually(interrupted, "the agent to notice the link is gone")
    assert (await stories.command(command_id))["status"] == "SENT"

    # when the cable is plugged back in (a new pty behind the same symlink)
    new_pty = stories.control.replug()
    assert await asyncio.to_thread(os.path.realpath, stories.link) == new_pty
    # then the command completes, once
    loaded = await stories.done(command_id)
    assert loaded["onKey"] == MANY_JOBS
    on_key = [j["jobId"] for j in stories.programming_key(sub.uid)["jobs"]]
    assert len(on_key) == MANY_JOBS and sorted(on_key) == sorted(jobs)
    assert set((await job_statuses(stories, sub)).values()) == {"ON_KEY"}
    log = stories.agent.output()
    assert log.count(f"command LOAD_PROGRAMMING_JOBS {command_id} done") == 1
    assert log.count(f"reported LOAD_PROGRAMMING_JOBS {command_id}") == 1
    stories.control.remove("left")

    # and the agent's status says: connected, desk open, nothing left to deliver
    async def settled() -> bool:
        done = await asyncio.to_thread(
            _bridge_cli, "status", "--state-dir", str(stories.state_dir), "--json")
        report = json.loads(done.stdout)
        service = report["service"]
        return bool(done.returncode == 0 and report["running"]
                    and service["server"]["connected"] and service["serial"]["state"] == "open"
                    and service["queuedReports"] == 0)

    await eventually(settled, "the agent's status to show it connected with nothing queued")


PROGRESS = """
query($id: ID!) { node(id: $id) { ... on BridgeCommand { status progress { done total } } } }
"""


async def test_a_keys_firmware_is_updated_at_the_desk_with_its_progress_visible(
    stories: Stories, database: Database
) -> None:
    """R26: key firmware at the desk: the agent fetches the image with its own credential,
    writes it into the key chunk by chunk over the serial link, and the admin watches the
    command's progress until the key runs the new version."""
    # given: a generation-2 E3 key on 16.3.7 in the desk, and firmware 16.4.0 for it
    tenant, uid = stories.tenant, f"E3{_uid()}"
    image = secrets.token_bytes(32 * 1024)
    async with database.tenant_session(tenant.tenant_id) as s:
        schedule = await s.scalar(select(Schedule.id).where(Schedule.is_default))
        key = Key(domain_id=tenant.default_domain_id, marking=f"K-{uid[-4:]}", uid=uid,
                  type=KeyType.E3, generation=KeyGeneration.GEN2, firmware_version="16.3.7",
                  status=KeyStatus.ISSUED, schedule_id=schedule)
        bundle = CertificateBundle(name=f"Bundle {uid[-4:]}")
        s.add_all([key, bundle])
        await s.flush()
        firmware = Firmware(target=FirmwareTarget.KEY_GEN2, version="16.4.0",
                            source=FirmwareSource.MANUAL, certificate_bundle_id=bundle.id,
                            image=image, sha256=hashlib.sha256(image).hexdigest())
        s.add(firmware)
        await s.commit()
        key_id, firmware_id = key.id, firmware.id
    stories.control.add_user_key(uid=uid, keyType="E3", generation=2, firmware="16.3.7")
    stories.control.insert("right", uid)
    # when: the admin updates it at the desk
    command_id = await stories.at_bridge(
        "updateKeyFirmwareAtBridge", keyId=to_global_id("Key", key_id),
        firmwareId=to_global_id("Firmware", firmware_id), slot="right",
    )
    seen: list[dict[str, int]] = []

    async def finished() -> bool:
        node = (await stories.gql(PROGRESS, {"id": command_id}))["node"]
        if node["progress"] is not None and node["status"] == "SENT":
            seen.append(node["progress"])
        return node["status"] in ("DONE", "FAILED")

    await eventually(finished, "the firmware update to be reported", WAIT)
    result = await stories.done(command_id)
    stories.control.remove("right")
    # then: the admin saw it move on while it ran, the key runs 16.4.0, here and on site
    assert seen, "no progress was visible while the update ran"
    assert all(p["total"] == len(image) and 0 <= p["done"] <= len(image) for p in seen)
    assert [p["done"] for p in seen] == sorted(p["done"] for p in seen)
    assert seen[0]["done"] < len(image)
    assert result["firmwareVersion"] == "16.4.0"
    assert stories.user_key(uid)["firmware"] == "16.4.0"
    version = await stories.gql(
        "query($id: ID!) { node(id: $id) { ... on Key { firmwareVersion } } }",
        {"id": to_global_id("Key", key_id)},
    )
    assert version["node"]["firmwareVersion"] == "16.4.0"
