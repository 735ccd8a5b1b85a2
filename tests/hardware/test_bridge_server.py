"""The bridge agent against the real server (issue 5; interfaces sections 3 and 4; R5, R17).

The application runs under uvicorn on 127.0.0.1 in a thread (as in
tests/test_subscriptions.py); administrators act through its GraphQL API. The
agent's WebSocket client is tested in-process first (handshake, subscription,
report mutations), then the agent itself runs as a real process
(``python -m hardware.bridge``) with the real desk simulator on a pty and, between
agent and server, a real TCP relay the test can cut, as a site's network may be.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.config import Settings
from app.db import Database
from app.models import ProgrammingKey as ProgrammingKeyRow
from app.models import ProgrammingKeyKind
from app.tenants.service import NewTenant
from hardware.bridge.agent import COMMANDS_SUBSCRIPTION, REPORT_MUTATION
from hardware.bridge.reports import Report, ReportQueue
from hardware.bridge.state import Enrolment, StateDir, connection_init_payload, public_key_b64
from hardware.bridge.transport import ConnectionRefused, GraphQLConnection
from hardware.sim.desk import DeskDevice
from hardware.sim.world import ProgrammingKey, UserKey, World
from tests.conftest import GraphQLClient
from tests.harness import LoggedProcess, eventually, listening_socket, patience
from tests.test_subscriptions import LiveServer

ROOT = Path(__file__).resolve().parents[2]
WAIT = 15.0

ENROLMENT = """
mutation($i: CreateBridgeEnrolmentInput!) { createBridgeEnrolment(input: $i) {
  code bridge { id } errors { field code message } } }
"""
ENROL = """
mutation($i: EnrolBridgeInput!) { enrolBridge(input: $i) { bridgeId errors { code message } } }
"""
READ_KEY = """
mutation($i: ReadKeyAtBridgeInput!) { readKeyAtBridge(input: $i) {
  command { id status } errors { field code message } } }
"""
COMMAND = """
query($id: ID!) { node(id: $id) { ... on BridgeCommand {
  kind status result errorCode errorMessage } } }
"""
BRIDGES = "query { bridges(first: 10) { edges { node { id name online agentVersion } } } }"
START_LOGIN = """
mutation($i: StartBridgeLoginInput!) { startBridgeLogin(input: $i) {
  loginId secret errors { field code message } } }
"""
FINISH_LOGIN = """
mutation($i: FinishBridgeLoginInput!) { finishBridgeLogin(input: $i) {
  status token errorCode errorMessage } }
"""
E2_UID = "E2-5A5A5A"
PK_UID = "PK-C0FFEE"
PIN = "482913"


@pytest.fixture(scope="module")
def live(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as server:
        yield server


async def enrolment_code(gql: GraphQLClient, name: str = "Front desk") -> str:
    created = (await gql(ENROLMENT, {"i": {"name": name}}))["createBridgeEnrolment"]
    assert created["errors"] == [], created
    return str(created["code"])


async def agent_says(agent: AgentProcess, line: str) -> None:
    """Wait until the agent's log holds ``line`` (quoted in full if it never does)."""
    await eventually(
        lambda: line in agent.text(), f"the agent to log {line!r}", WAIT, details=agent.text
    )


async def command_state(gql: GraphQLClient, command_id: str) -> dict[str, Any]:
    return (await gql(COMMAND, {"id": command_id}))["node"]  # type: ignore[no-any-return]


async def finished(gql: GraphQLClient, command_id: str) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        state = await command_state(gql, command_id)
        return state if state["status"] in ("DONE", "FAILED") else None

    return await eventually(done, f"command {command_id} to finish", WAIT)


async def online(gql: GraphQLClient, bridge_id: str) -> bool:
    edges = (await gql(BRIDGES))["bridges"]["edges"]
    return any(e["node"]["id"] == bridge_id and e["node"]["online"] for e in edges)


async def read_key_at(gql: GraphQLClient, bridge_id: str) -> str:
    queued = (await gql(READ_KEY, {"i": {"bridgeId": bridge_id, "slot": None}}))["readKeyAtBridge"]
    assert queued["errors"] == [], queued
    return str(queued["command"]["id"])


# --- the graphql-transport-ws client, in-process ------------------------------------------


async def test_the_client_authenticates_subscribes_and_reports_over_one_websocket(
    live: LiveServer, gql: GraphQLClient, tenant: NewTenant, tmp_path: Path
) -> None:
    # given: a bridge enrolled with its own key pair
    key = Ed25519PrivateKey.generate()
    done = (await gql(ENROL, {"i": {
        "tenantId": tenant.tenant_id, "code": await enrolment_code(gql),
        "publicKey": public_key_b64(key), "agentVersion": "0.1.0"}}, token=""))["enrolBridge"]
    assert done["errors"] == []
    enrolment = Enrolment(live.http_url, tenant.tenant_id, done["bridgeId"], "desk",
                          public_key_b64(key), "now")
    # when: it connects with its signed connection_init and subscribes
    init = connection_init_payload(enrolment, key)
    connection = await GraphQLConnection.connect(live.ws_url, init)
    commands = await connection.subscribe(COMMANDS_SUBSCRIPTION)
    queued = await read_key_at(gql, done["bridgeId"])
    # then: the command queued by the admin arrives
    event = await asyncio.wait_for(anext(commands), patience(WAIT))  # type: ignore[arg-type]
    command = event["data"]["bridgeCommands"]
    assert (command["id"], command["kind"], command["status"]) == (queued, "READ_KEY", "SENT")
    assert json.loads(command["payload"]) == {"slot": None}
    # and: a report sent as a mutation over the same socket is acknowledged, and sending it
    # again (as after a crash before the local delete) changes nothing
    report = Report.success(queued, {"kind": "USER", "uid": "NOT-OURS", "firmwareVersion": "1"})
    for _ in range(2):
        answer = await connection.execute(REPORT_MUTATION, report.mutation_input())
        assert answer["data"]["reportBridgeCommand"]["errors"] == []
        assert answer["data"]["reportBridgeCommand"]["command"]["status"] == "DONE"
    assert (await command_state(gql, queued))["result"] is not None
    await connection.close()
    # and: the same connection_init once more (a replay) is refused with 4403
    with pytest.raises(ConnectionRefused) as refused:
        await GraphQLConnection.connect(live.ws_url, init)
    assert refused.value.code == 4403
    # and: so is a signature made with another key
    forged = connection_init_payload(enrolment, Ed25519PrivateKey.generate())
    with pytest.raises(ConnectionRefused):
        await GraphQLConnection.connect(live.ws_url, forged)


# --- the agent as a process -----------------------------------------------------------------


class Relay:
    """A TCP relay between the agent and the server that the test can cut and restore.

    It listens on its own port from start to end (no other process can take the port
    while the network is "down"); while cut, it resets every connection at once.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = listening_socket()
        self.port = int(self.listener.getsockname()[1])
        self.up = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restore(self) -> None:
        with self.lock:
            self.up = True

    def cut(self) -> None:
        """The network is gone: existing connections drop, new ones are reset."""
        with self.lock:
            self.up = False
            sockets, self.sockets = self.sockets, []
        for s in sockets:
            _reset(s)

    def close(self) -> None:
        self.cut()
        # shutdown() wakes the thread blocked in accept(); close() alone would not.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                up = self.up
            if not up:
                _reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for s in (source, target):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def _reset(s: socket.socket) -> None:
    """Close a connection with a reset, as a network that is gone leaves it."""
    with contextlib.suppress(OSError):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.shutdown(socket.SHUT_RDWR)
    s.close()


class AgentProcess:
    """``python -m hardware.bridge run`` with its log in a file; started again after a stop."""

    def __init__(self, state: Path, port: Path, server: str, log: Path, *extra: str) -> None:
        self.args = [sys.executable, "-m", "hardware.bridge", "run", "--state-dir", str(state),
                     "--port", str(port), "--server", server, "--max-backoff", "1",
                     "--link-retry", "30", *extra]
        self.log = log
        self.runs: list[LoggedProcess] = []

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self.runs[-1].process if self.runs else None

    def start(self) -> AgentProcess:
        # Each run writes a log of its own; ``text`` reads them all in order.
        run = self.log.with_name(f"{self.log.stem}-{len(self.runs)}{self.log.suffix}")
        self.runs.append(LoggedProcess(self.args, os.environ, run))
        return self

    def text(self) -> str:
        return "".join(r.output() for r in self.runs)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.runs
        return self.runs[-1].signal(sig)

    def close(self) -> None:
        for r in self.runs:
            r.close()


def bridge_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hardware.bridge", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=patience(60))


def status(state: Path) -> dict[str, Any]:
    return json.loads(bridge_cli("status", "--state-dir", str(state), "--json").stdout)  # type: ignore[no-any-return]


class Site:
    """The desk simulator with a user key and a programming key, its port behind a symlink."""

    def __init__(self, tmp_path: Path) -> None:
        self.world = World()
        self.pkey = self.world.add_programming_key(ProgrammingKey(
            uid=PK_UID, marking="PR-1", private_key=Ed25519PrivateKey.generate(), pin=PIN))
        self.world.add_user_key(UserKey(uid=E2_UID, key_type="E2", generation=2,
                                        firmware="16.3.7"))
        self.device = DeskDevice(self.world, world_path=None,
                                 identity=Ed25519PrivateKey.generate(), baud=0)
        self.reads = 0
        read_key = self.device._ops["READ_KEY"]

        def counted(args: dict[str, Any]) -> Any:
            # How often the key really was read, to prove a command ran once.
            self.reads += 1
            return read_key(args)

        self.device._ops["READ_KEY"] = counted
        self.port = tmp_path / "ttyDESK"
        self.port.symlink_to(self.device.plug())

    def plug_back(self) -> None:
        tmp = self.port.with_name("ttyDESK.new")
        tmp.symlink_to(self.device.plug())
        os.replace(tmp, self.port)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    site = Site(tmp_path)
    yield site
    await asyncio.to_thread(site.device.unplug)


async def enrol_with_cli(
    gql: GraphQLClient, tenant: NewTenant, live: LiveServer, state: Path
) -> str:
    """``keywarden-bridge enrol`` with a fresh code; the bridge id it stored."""
    code = await enrolment_code(gql)
    done = await asyncio.to_thread(
        bridge_cli, "enrol", "--server", live.http_url, "--tenant", tenant.tenant_id,
        "--code", code, "--state-dir", str(state), "--name", "Front desk")
    assert done.returncode == 0, done.stderr
    enrolment = StateDir(state).load_enrolment()
    assert enrolment is not None
    return enrolment.bridge_id


async def test_enrolment_through_the_command_line_happens_once(
    live: LiveServer, gql: GraphQLClient, tenant: NewTenant, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    bridge_id = await enrol_with_cli(gql, tenant, live, state)
    # the server knows the bridge with the agent's version
    [edge] = [e for e in (await gql(BRIDGES))["bridges"]["edges"] if e["node"]["id"] == bridge_id]
    assert edge["node"]["agentVersion"] == "0.1.0"
    # a second enrolment is refused without --force, and the key is kept
    key = (state / "bridge.key").read_bytes()
    again = await asyncio.to_thread(
        bridge_cli, "enrol", "--server", live.http_url, "--tenant", tenant.tenant_id,
        "--code", await enrolment_code(gql), "--state-dir", str(state))
    assert again.returncode == 2 and "already enrolled" in again.stderr
    assert (state / "bridge.key").read_bytes() == key
    # a used code is refused by the server, clearly, and leaves no key behind
    other = tmp_path / "other"
    code = await enrolment_code(gql)
    first = await asyncio.to_thread(
        bridge_cli, "enrol", "--server", live.http_url, "--tenant", tenant.tenant_id,
        "--code", code, "--state-dir", str(tmp_path / "first"))
    assert first.returncode == 0, first.stderr
    used = await asyncio.to_thread(
        bridge_cli, "enrol", "--server", live.http_url, "--tenant", tenant.tenant_id,
        "--code", code, "--state-dir", str(other))
    assert used.returncode == 1 and "enrolment failed" in used.stderr and "(code)" in used.stderr
    assert list(other.iterdir()) == []


async def test_reports_made_offline_survive_a_killed_agent_and_arrive_once(
    live: LiveServer, gql: GraphQLClient, tenant: NewTenant, tmp_path: Path, site: Site
) -> None:
    # given: an enrolled agent running, reaching the server through the site's network
    state = tmp_path / "state"
    bridge_id = await enrol_with_cli(gql, tenant, live, state)
    relay = Relay(live.port)
    relay.restore()
    site.device.insert("left", E2_UID)
    agent = AgentProcess(state, site.port, relay.url, tmp_path / "agent.log").start()
    try:
        await agent_says(agent, "subscribed to bridgeCommands")
        assert "connected to ws://127.0.0.1" in agent.text()
        # when: the admin reads the key in the desk
        first = await read_key_at(gql, bridge_id)
        # then: the agent read it and the server has the result
        done = await finished(gql, first)
        assert done["status"] == "DONE" and json.loads(done["result"])["uid"] == E2_UID
        assert site.reads == 1

        # given: the desk's cable is out when the next command arrives ...
        await asyncio.to_thread(site.device.unplug)
        second = await read_key_at(gql, bridge_id)
        await agent_says(agent, f"received command READ_KEY {second}")
        # ... and then the site's network goes down too
        relay.cut()
        await eventually(
            lambda: not status(state)["service"]["server"]["connected"],
            "the agent to notice the server is gone",
            WAIT,
        )
        # when: the cable is plugged back in, the command runs and its report is queued
        await asyncio.to_thread(site.plug_back)
        await eventually(
            lambda: status(state)["service"]["queuedReports"] == 1, "one report to be queued", WAIT
        )
        assert site.reads == 2
        assert (await command_state(gql, second))["status"] == "SENT"
        # and: the agent is killed before it could deliver it
        assert agent.stop(signal.SIGKILL) == -signal.SIGKILL
        with ReportQueue(state / "reports.sqlite3") as queue:
            assert [q.report.command_id for q in queue.pending()] == [second]
        # when: it starts again and the network comes back
        agent.start()
        await eventually(lambda: status(state)["running"], "the agent to run", WAIT)
        relay.restore()
        # then: the queued report reaches the server, and the command (delivered again on
        # the new subscription) is not executed on the key a second time
        done = await finished(gql, second)
        assert done["status"] == "DONE" and json.loads(done["result"])["uid"] == E2_UID
        await eventually(
            lambda: status(state)["service"]["queuedReports"] == 0,
            "the queued report to be sent",
            WAIT,
        )
        await asyncio.sleep(0.5)
        assert site.reads == 2
        # and: SIGTERM stops it cleanly
        assert agent.stop() == 0
        assert "stopped (0 reports still queued)" in agent.text()
    finally:
        agent.close()
        relay.close()


async def test_a_browser_logs_in_through_the_agent_and_the_pin_is_kept_nowhere(
    live: LiveServer, gql: GraphQLClient, http: Any, database: Database, tenant: NewTenant,
    tmp_path: Path, site: Site,
) -> None:
    # given: the tenant's programming key (its public half registered) in the desk (R5)
    async with database.tenant_session(tenant.tenant_id) as s:
        s.add(ProgrammingKeyRow(marking="PR-1", uid=PK_UID, kind=ProgrammingKeyKind.MAIN,
                                firmware_version="12.4.0", public_key=site.pkey.public_key))
        await s.commit()
    state = tmp_path / "state"
    bridge_id = await enrol_with_cli(gql, tenant, live, state)
    site.device.insert("right", PK_UID)
    # (at debug level, the most talkative the agent gets)
    agent = AgentProcess(state, site.port, live.http_url, tmp_path / "agent.log",
                         "--log-level", "debug").start()
    browser = GraphQLClient(http, None)
    try:
        await agent_says(agent, "subscribed to bridgeCommands")
        # "subscribed" is logged when the subscription is sent; the server marks the bridge
        # online once it has taken it up
        await eventually(lambda: online(gql, bridge_id), "the bridge to be online", WAIT)

        async def login(pin: str) -> dict[str, Any]:
            started = (await browser(START_LOGIN, {"i": {
                "tenantId": tenant.tenant_id, "bridgeId": bridge_id, "pin": pin}}
            ))["startBridgeLogin"]
            assert started["errors"] == [], started

            async def outcome() -> dict[str, Any] | None:
                answer = (await browser(FINISH_LOGIN, {"i": {
                    "loginId": started["loginId"], "secret": started["secret"]}}
                ))["finishBridgeLogin"]
                return answer if answer["status"] != "PENDING" else None

            return await eventually(outcome, "the login to be signed or refused", WAIT)

        # when: a wrong PIN is typed, then the right one
        wrong = await login("000000")
        assert (wrong["status"], wrong["errorCode"]) == ("FAILED", "WRONG_PIN")
        assert site.pkey.wrong_pins == 1
        right = await login(PIN)
        # then: the key signed and the browser has its session
        assert right["status"] == "DONE" and right["token"].startswith("kw_s_")
        assert site.pkey.wrong_pins == 0
        assert agent.stop() == 0
    finally:
        agent.close()
    # and: the PIN is in no file of the agent's state and not in its log
    for path in [*state.iterdir(), *(run.log for run in agent.runs)]:
        data = path.read_bytes()
        assert PIN.encode() not in data, path
        assert base64.b64encode(PIN.encode()) not in data, path


async def test_sigterm_lets_the_command_in_flight_finish_and_keeps_its_report_queued(
    live: LiveServer, gql: GraphQLClient, tenant: NewTenant, tmp_path: Path, site: Site
) -> None:
    # given: a running agent whose desk cable is out while a command waits for it
    state = tmp_path / "state"
    bridge_id = await enrol_with_cli(gql, tenant, live, state)
    relay = Relay(live.port)
    relay.restore()
    site.device.insert("left", E2_UID)
    agent = AgentProcess(state, site.port, relay.url, tmp_path / "agent.log").start()
    try:
        await agent_says(agent, "subscribed to bridgeCommands")
        await asyncio.to_thread(site.device.unplug)
        queued = await read_key_at(gql, bridge_id)
        await agent_says(agent, f"received command READ_KEY {queued}")
        relay.cut()
        # when: the service is stopped, and the cable comes back during its grace period
        assert agent.process is not None
        agent.process.send_signal(signal.SIGTERM)
        await agent_says(agent, "stopping: finishing the command in flight")
        await asyncio.to_thread(site.plug_back)
        # then: the command finished on the key, its report stayed queued, the exit is clean
        assert await asyncio.to_thread(agent.stop) == 0
        assert site.reads == 1
        assert "stopped (1 report still queued)" in agent.text()
        assert status(state)["service"]["queuedReports"] == 1
        # and: the next start delivers it
        relay.restore()
        agent.start()
        done = await finished(gql, queued)
        assert done["status"] == "DONE" and json.loads(done["result"])["uid"] == E2_UID
        assert site.reads == 1
        assert agent.stop() == 0
    finally:
        agent.close()
        relay.close()
