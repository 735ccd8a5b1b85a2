"""The bridge service (``keywarden-bridge run``): desk device on one side, Keywarden on the other.

Three tasks share one event loop:

* the **desk** task keeps the serial port open (reopened with back-off when the
  cable is pulled) and polls key events while idle (:mod:`hardware.bridge.desk`);
* the **connection** task keeps ONE outbound WebSocket to ``<server>/graphql``
  (graphql-transport-ws), authenticated in ``connection_init`` with the bridge's
  signed identity, subscribed to ``bridgeCommands``; it reconnects with capped,
  jittered exponential back-off, reset after a stable connection. While
  connected, a reporter sends the queued reports in order as
  ``reportBridgeCommand`` mutations over the same socket and deletes each only
  once the server acknowledged it;
* the **executor** runs the received commands one at a time on the desk
  device (:mod:`hardware.bridge.commands`) and commits each report to the
  durable queue (:mod:`hardware.bridge.reports`) before finalising its effect
  on the key. A command already executed (redelivered after a reconnect) is
  answered from the stored report, never run twice on the key.

SIGTERM/SIGINT: no new command is started; the one in flight finishes and its
report is committed; queued reports get a short grace period to reach the
server and otherwise stay queued for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hardware.bridge import AGENT_VERSION
from hardware.bridge.backoff import Backoff
from hardware.bridge.commands import Command, CommandError, CommandRunner
from hardware.bridge.desk import Desk
from hardware.bridge.reports import Report, ReportQueue
from hardware.bridge.state import (
    Enrolment,
    StateDir,
    connect_token,
    connection_init_payload,
)
from hardware.bridge.status import StatusFile
from hardware.bridge.transport import (
    ConnectionRefused,
    GraphQLConnection,
    OperationFailed,
    TransportError,
)

log = logging.getLogger("keywarden.bridge")

COMMANDS_SUBSCRIPTION = """
subscription BridgeCommands { bridgeCommands { id kind status payload createdAt } }
"""
PROGRESS_MUTATION = """
mutation ReportBridgeCommandProgress($i: ReportBridgeCommandProgressInput!) {
  reportBridgeCommandProgress(input: $i) { errors { field code message } }
}
"""

REPORT_MUTATION = """
mutation ReportBridgeCommand($commandId: ID!, $ok: Boolean!, $result: String,
                             $errorCode: String, $errorMessage: String) {
  reportBridgeCommand(input: {commandId: $commandId, ok: $ok, result: $result,
                              errorCode: $errorCode, errorMessage: $errorMessage}) {
    command { id status }
    errors { field code message }
  }
}
"""
FINISHED = frozenset({"DONE", "FAILED", "CANCELLED"})
MAX_IMAGE_BYTES = 16 * 1024 * 1024
EXPIRED_LOGIN = (
    "EXPIRED",
    "the login signature is answered live only and is not kept (R5); start the login again",
)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def websocket_url(server: str) -> str:
    """``<server>/graphql`` with ws(s):// — the server URL may be given with or without it."""
    parts = urlsplit(server.rstrip("/"))
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"not an http(s) server URL: {server!r}")
    path = parts.path if parts.path.endswith("/graphql") else parts.path + "/graphql"
    return f"{scheme}://{parts.netloc}{path}"


def http_base(server: str) -> str:
    """The server's http(s) base URL (without ``/graphql``)."""
    parts = urlsplit(server.rstrip("/"))
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    path = parts.path.removesuffix("/graphql")
    return f"{scheme}://{parts.netloc}{path}"


@dataclass
class AgentOptions:
    """How the service runs; the defaults suit a site PC."""

    port: str
    server: str | None = None  # overrides the enrolled server URL
    baudrate: int = 115200
    serial_timeout: float = 1.0
    link_retry_seconds: float = 60.0
    ack_timeout: float = 30.0
    shutdown_grace: float = 10.0
    ws_backoff: Backoff = field(default_factory=lambda: Backoff(base=1.0, cap=60.0))
    serial_backoff: Backoff = field(
        default_factory=lambda: Backoff(base=0.5, cap=30.0, stable_after=10.0)
    )
    report_retry_backoff: Backoff = field(default_factory=lambda: Backoff(base=1.0, cap=60.0))


class Agent:
    """The bridge service for one enrolled bridge and one desk device."""

    def __init__(
        self, state: StateDir, enrolment: Enrolment, key: Ed25519PrivateKey, options: AgentOptions
    ) -> None:
        self.state = state
        self.enrolment = enrolment
        self.key = key
        self.options = options
        self.server = http_base(options.server or enrolment.server)
        self.ws_url = websocket_url(self.server)
        self.queue = ReportQueue(state.queue_path)
        self.status = StatusFile(state)
        self.desk = Desk(
            options.port, baudrate=options.baudrate, timeout=options.serial_timeout,
            backoff=options.serial_backoff, on_change=self._serial_changed,
            known_desks=state.known_desks_path,
        )
        self.runner = CommandRunner(
            self.desk, self.fetch_image, link_retry_seconds=options.link_retry_seconds,
            progress=self._progress,
        )
        self.runner.pending_clears = self.queue.pending_clears
        self.runner.on_cleared = self.queue.cleared
        self.commands: asyncio.Queue[Command] = asyncio.Queue()
        self.waiting: set[str] = set()  # ids received and not yet finished here
        self.cancelled: set[str] = set()
        self.live_reports: dict[str, Report] = {}  # SIGN_LOGIN answers, in memory only
        self.stopping = asyncio.Event()
        self.reports_ready = asyncio.Event()
        self.connection: GraphQLConnection | None = None
        self.in_flight: Command | None = None
        self._progress_shown = 0.0
        self._progress_sends: set[asyncio.Future[None]] = set()

    # --- the service ------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the service to stop (SIGTERM)."""
        if not self.stopping.is_set():
            log.info("stopping: finishing the command in flight, then delivering reports")
            self.stopping.set()

    async def run(self) -> int:
        """Run until stopped; the exit status."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        self.queue.prune()
        self.status.update(
            pid=os.getpid(), startedAt=_now(), stoppedAt=None, agentVersion=AGENT_VERSION,
            server={"url": self.ws_url, "connected": False, "since": None, "lastError": None},
            serial={"port": self.options.port, "state": "closed"},
            queuedReports=self.queue.count(), rejectedReports=self.queue.rejected_count(),
            lastCommand=None,
        )
        log.info("keywarden-bridge %s: bridge %s of tenant %s, server %s, desk on %s",
                 AGENT_VERSION, self.enrolment.bridge_id, self.enrolment.tenant_id,
                 self.server, self.options.port)
        # The desk outlives the stop request: the command in flight may need the port
        # reopened to finish.
        desk_done = asyncio.Event()
        desk_task = asyncio.create_task(self.desk.maintain(desk_done), name="desk")
        executor = asyncio.create_task(self._execute_commands(), name="executor")
        connection = asyncio.create_task(self._stay_connected(), name="connection")
        failed = False
        try:
            stop = asyncio.ensure_future(self.stopping.wait())
            await asyncio.wait(
                {stop, desk_task, executor, connection}, return_when=asyncio.FIRST_COMPLETED
            )
            stop.cancel()
            crashed = [t for t in (desk_task, executor, connection) if t.done()]
            if crashed and not self.stopping.is_set():
                # A task that ends on its own is a bug: stop, exit 1, let systemd restart us.
                failed = True
                for task in crashed:
                    error = None if task.cancelled() else task.exception()
                    log.error("internal error in %s: %r", task.get_name(), error,
                              exc_info=error)
                self.stop()
            # The command in flight finishes (its report is committed) unless the desk
            # stays away; an unfinished one is executed after the next start, when the
            # server delivers it again.
            await asyncio.wait({executor}, timeout=self.options.shutdown_grace)
            desk_done.set()
            await self._drain(self.options.shutdown_grace)
        finally:
            for task in (executor, connection, desk_task):
                task.cancel()
            await asyncio.gather(executor, connection, desk_task, return_exceptions=True)
            await self.desk.close()
            queued = self.queue.count()
            self.status.update(
                stoppedAt=_now(), queuedReports=queued,
                server={**self.status.data.get("server", {}), "connected": False},
            )
            self.queue.close()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        log.info("stopped (%d report%s still queued)", queued, "" if queued == 1 else "s")
        return 1 if failed else 0

    async def _drain(self, seconds: float) -> None:
        """Give queued reports ``seconds`` to reach the server (if connected)."""
        deadline = time.monotonic() + seconds
        while (self.queue.count() or self.live_reports) and time.monotonic() < deadline:
            if self.connection is None or self.connection.closed:
                return
            await asyncio.sleep(0.05)

    # --- the server connection ------------------------------------------------------------

    async def _stay_connected(self) -> None:
        backoff = self.options.ws_backoff
        while not self.stopping.is_set():
            connected_at: float | None = None
            connection: GraphQLConnection | None = None
            try:
                connection = await GraphQLConnection.connect(
                    self.ws_url, connection_init_payload(self.enrolment, self.key)
                )
                connected_at = time.monotonic()
                self.connection = connection
                log.info("connected to %s as bridge %s", self.ws_url, self.enrolment.bridge_id)
                self.status.update(server={"url": self.ws_url, "connected": True,
                                           "since": _now(), "lastError": None})
                commands = await connection.subscribe(COMMANDS_SUBSCRIPTION)
                log.info("subscribed to bridgeCommands")
                reporter = asyncio.create_task(self._deliver_reports(connection), name="reporter")
                try:
                    async for payload in commands:
                        self._receive(payload)
                    raise TransportError("the server ended the bridgeCommands subscription")
                finally:
                    reporter.cancel()
                    await asyncio.gather(reporter, return_exceptions=True)
            except ConnectionRefused as exc:
                self._disconnected(
                    f"{exc} — revoked bridge, clock more than 120 s off, or wrong key?", error=True
                )
            except (TransportError, OperationFailed, TimeoutError) as exc:
                self._disconnected(str(exc) or type(exc).__name__)
            finally:
                self.connection = None
                if connection is not None:
                    await connection.close()
            if connected_at is not None:
                backoff.connection_lasted(time.monotonic() - connected_at)
            if self.stopping.is_set():
                return
            delay = backoff.next_delay()
            log.info("reconnecting in %.1f s", delay)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self.stopping.wait()

    def _disconnected(self, reason: str, *, error: bool = False) -> None:
        (log.error if error else log.warning)("server connection: %s", reason)
        self.status.update(server={"url": self.ws_url, "connected": False, "since": None,
                                   "lastError": reason, "disconnectedAt": _now()})

    def _receive(self, payload: dict[str, Any]) -> None:
        """A ``bridgeCommands`` event: queue the command unless known, finished or cancelled."""
        if payload.get("errors"):
            messages = "; ".join(str(e.get("message")) for e in payload["errors"])
            log.error("bridgeCommands: %s", messages)
            return
        node = (payload.get("data") or {}).get("bridgeCommands")
        if not isinstance(node, dict) or "id" not in node:
            return
        command = Command.from_node(node)
        if command.status == "CANCELLED":
            self.cancelled.add(command.id)
            return
        if command.status in FINISHED or command.id in self.waiting:
            return
        self.waiting.add(command.id)
        self.commands.put_nowait(command)
        log.info("received command %s", command)  # never the payload: it may hold a PIN

    async def _deliver_reports(self, connection: GraphQLConnection) -> None:
        """Send live answers, then queued reports oldest first, each until acknowledged."""
        retry = self.options.report_retry_backoff
        try:
            while True:
                self.reports_ready.clear()
                for command_id, report in list(self.live_reports.items()):
                    verdict, reason = await self._send_report(connection, report)
                    if verdict != "retry":
                        self.live_reports.pop(command_id, None)
                        log.info("reported %s live%s", command_id,
                                 f" (refused: {reason})" if verdict == "reject" else "")
                stalled = False
                for item in self.queue.pending(limit=100):
                    self.queue.attempted(item.seq)
                    verdict, reason = await self._send_report(connection, item.report)
                    if verdict == "ack":
                        self.queue.acknowledge(item.seq)
                        log.info("reported %s %s", item.kind, item.report.command_id)
                    elif verdict == "reject":
                        log.error("the server refused the report of %s %s for good: %s",
                                  item.kind, item.report.command_id, reason)
                        self.queue.reject(item.seq, reason)
                    else:
                        log.warning("report of %s %s not accepted yet: %s",
                                    item.kind, item.report.command_id, reason)
                        stalled = True
                        break  # keep the order: nothing overtakes the head of the queue
                    retry.reset()
                self.status.update(queuedReports=self.queue.count(),
                                   rejectedReports=self.queue.rejected_count())
                if stalled:
                    await asyncio.sleep(retry.next_delay())
                elif not self.queue.count() and not self.live_reports:
                    await self.reports_ready.wait()
        except (TransportError, TimeoutError) as exc:
            # The connection is unusable for reports: end it; the connection task reconnects.
            log.warning("report delivery stopped: %s", exc or "no answer in time")
            await connection.close()
        except Exception:
            # A bug must not leave reports stuck silently behind a live connection.
            log.exception("report delivery failed")
            await connection.close()

    async def _send_report(
        self, connection: GraphQLConnection, report: Report
    ) -> tuple[str, str]:
        """Send one report; ("ack"|"reject"|"retry", reason)."""
        try:
            answer = await connection.execute(
                REPORT_MUTATION, report.mutation_input(), wait=self.options.ack_timeout
            )
        except OperationFailed as exc:
            return "reject", str(exc)  # the document or its variables were refused
        if answer.get("errors"):
            return "retry", "; ".join(str(e.get("message")) for e in answer["errors"])
        data = (answer.get("data") or {}).get("reportBridgeCommand") or {}
        if data.get("errors"):
            return "reject", "; ".join(f"{e.get('code')}: {e.get('message')}"
                                       for e in data["errors"])
        return "ack", ""

    # --- executing commands --------------------------------------------------------------

    async def _execute_commands(self) -> None:
        while not self.stopping.is_set():
            get = asyncio.ensure_future(self.commands.get())
            stop = asyncio.ensure_future(self.stopping.wait())
            await asyncio.wait({get, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if not get.done():
                get.cancel()
                return
            command = get.result()
            if self.stopping.is_set():
                self.waiting.discard(command.id)  # not started: the server delivers it again
                return
            self.in_flight = command
            try:
                await self._execute(command)
            finally:
                self.in_flight = None
                self.waiting.discard(command.id)

    async def _execute(self, command: Command) -> None:
        if command.id in self.cancelled:
            log.info("command %s was cancelled before it ran", command)
            return
        done = self.queue.executed(command.id)
        if done is not None:
            self._answer_again(command, done.report is None, done.outcome)
            for clear in self.queue.pending_clears():
                if clear.command_id == command.id:
                    await self.runner.clear(clear)
            return
        log.info("executing command %s", command)
        outcome = await self.runner.run(command)
        report = outcome.report
        # Committed before the effect is finalised (results cleared from the key below).
        self.queue.record(command.kind, report, durable=outcome.durable, clear=outcome.clear)
        if not outcome.durable:
            self.live_reports[command.id] = report
        self.reports_ready.set()
        if report.ok:
            log.info("command %s done", command)
        else:
            log.warning("command %s failed: %s %s", command, report.error_code,
                        report.error_message)
        self.status.update(
            queuedReports=self.queue.count(),
            lastCommand={"id": command.id, "kind": command.kind, "at": _now(), "ok": report.ok,
                         "errorCode": report.error_code},
        )
        if outcome.clear is not None:
            await self.runner.clear(outcome.clear)

    def _answer_again(self, command: Command, live_only: bool, outcome: str | None) -> None:
        """A command the server delivered again: answer from what was stored, not the key."""
        log.info("command %s was already executed; answering from the stored report", command)
        if live_only:
            if command.id not in self.live_reports:
                self.live_reports[command.id] = Report.failure(command.id, *EXPIRED_LOGIN)
        elif outcome is not None:
            self.queue.requeue(command.id)
        self.reports_ready.set()

    # --- helpers ------------------------------------------------------------------------

    async def fetch_image(self, url: str) -> bytes:
        """Download a key firmware image; the bridge's credentials go to its own server only."""
        absolute = urljoin(self.server + "/", url)
        same_origin = urlsplit(absolute)[:2] == urlsplit(self.server)[:2]
        headers = (
            {"Authorization": f"Bridge {connect_token(self.enrolment, self.key)}"}
            if same_origin else {}
        )
        try:
            async with httpx.AsyncClient(timeout=60.0, follow_redirects=False) as client:
                async with client.stream("GET", absolute, headers=headers) as response:
                    if response.status_code != 200:
                        raise CommandError(
                            "DOWNLOAD", f"firmware image: HTTP {response.status_code}"
                        )
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > MAX_IMAGE_BYTES:
                            raise CommandError("DOWNLOAD", "firmware image larger than 16 MiB")
                        chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise CommandError("DOWNLOAD", f"firmware image: {exc}") from None
        return b"".join(chunks)

    def _serial_changed(self) -> None:
        desk = self.desk
        self.status.update(serial={
            "port": desk.port, "state": desk.state, "since": desk.since,
            "lastError": desk.last_error, "device": desk.info, "slots": desk.slots,
        })

    def _progress(self, command_id: str, done: int, total: int) -> None:
        # A firmware image is hundreds of chunks: show progress twice a second at most, here
        # and to the server (best effort: the final report is what counts).
        now = time.monotonic()
        if done < total and now - self._progress_shown < 0.5:
            return
        self._progress_shown = now
        self.status.update(progress={"commandId": command_id, "done": done, "total": total})
        connection = self.connection
        if connection is not None and not connection.closed:
            task = asyncio.ensure_future(self._send_progress(connection, command_id, done, total))
            self._progress_sends.add(task)
            task.add_done_callback(self._progress_sends.discard)

    async def _send_progress(
        self, connection: GraphQLConnection, command_id: str, done: int, total: int
    ) -> None:
        variables = {"i": {"commandId": command_id, "done": done, "total": total}}
        try:
            await connection.execute(PROGRESS_MUTATION, variables, wait=self.options.ack_timeout)
        except (TransportError, OperationFailed, TimeoutError) as exc:
            log.debug("progress of %s not delivered: %s", command_id, exc)
