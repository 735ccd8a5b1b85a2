"""Real components as separate OS processes for the tests (R3): worker and API processes, an
SMTP server, servers in threads, Redis queue namespaces, and waiting for things to happen.

Shared by every test that starts a process, a server or a socket. Every process gets
the test's database, its own Redis queue namespace and pub/sub prefix, and
writes its output to a log file that assertion messages quote.

No port is chosen and then released: a server gets a socket already bound to a
port the kernel picked and listening (``tests.harness.listening_socket``), in a
thread or inherited by a process (``keywarden serve --fd``), so nothing else can
take the port in between. Readiness is waited for (``/health``, a line in the
log), never slept for, and every wait is bounded by a deadline that grows when
the machine is busy (``tests.harness.patience``).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Self

import pytest
import redis
import uvicorn
from aiosmtpd.controller import Controller
from pydantic import SecretStr

from app.config import Settings
from app.workers.broker import configure_broker
from tests.harness import (
    TIMEOUT,
    LoggedProcess,
    listening_socket,
    patience,
    refused_port,
    wait_until,
)

REDIS_URL = os.environ.get("KEYWARDEN_TEST_REDIS", "redis://127.0.0.1:6379/0")
# What a worker process needs to see a dead worker's messages again within seconds
# (app.workers.broker.redelivery_options): a short heartbeat timeout, maintenance always.
FAST_REDELIVERY = {
    "KEYWARDEN_QUEUE_HEARTBEAT_TIMEOUT_MS": "2000",
    "KEYWARDEN_QUEUE_MAINTENANCE_CHANCE": "1000000",
}


# --- servers in threads ------------------------------------------------------------


class ThreadedServer:
    """An ASGI application under uvicorn in a thread of the test process, on its own port."""

    def __init__(self, app: Any, **config: Any) -> None:
        self.sock = listening_socket()
        self.port = int(self.sock.getsockname()[1])
        self.server = uvicorn.Server(uvicorn.Config(app, **{"log_level": "warning", **config}))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self.thread.start()

        def started() -> bool:
            assert self.thread.is_alive(), "the server thread ended while starting"
            return bool(self.server.started)

        wait_until(started, f"the server on port {self.port} to start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(patience(TIMEOUT))
        self.sock.close()
        assert not self.thread.is_alive(), f"the server on port {self.port} did not stop"


# --- a real SMTP server ---------------------------------------------------------------


class SmtpSink:
    """An aiosmtpd handler that keeps what it accepted; it can refuse or hold messages."""

    def __init__(self) -> None:
        self.accepted: list[EmailMessage] = []
        self.refused: dict[str, str] = {}
        self.held: set[str] = set()
        # What a held message gets once released: refused for now (451), or accepted.
        self.accept_held = False
        self.delay = 0.0
        self.arrived = threading.Event()
        self.released = threading.Event()
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        email = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(email, EmailMessage)
        email["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        if email["Message-ID"] in self.held:
            # Keep the sender waiting for the server's answer, as if it were slow.
            self.held.discard(email["Message-ID"])
            self.arrived.set()
            await asyncio.to_thread(self.released.wait, patience(TIMEOUT))
            if not self.accept_held:
                return "451 4.3.0 held by the test"
        else:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.accepted.append(email)
        return "250 Message accepted"

    def copies(self, outbox_id: int) -> list[EmailMessage]:
        with self._lock:
            return [e for e in self.accepted if e["Message-ID"] == message_id(outbox_id)]


def message_id(outbox_id: int) -> str:
    """The Message-ID the outbox gives the e-mail of one row (app.workers.outbox)."""
    return f"<outbox-{outbox_id}@keywarden>"


class _ListeningController(Controller):
    """aiosmtpd's threaded controller, serving on a socket that is already listening."""

    def __init__(self, handler: SmtpSink, sock: socket.socket) -> None:
        # aiosmtpd gives the server one second to start by default: too short when busy.
        super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1],
                         ready_timeout=patience(TIMEOUT))
        self.sock = sock

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self.sock)


class SmtpServer:
    """An SMTP server on a loopback port, keeping what it accepts in ``sink``."""

    def __init__(self) -> None:
        sock = listening_socket()
        self.port = int(sock.getsockname()[1])
        self.sink = SmtpSink()
        self.controller = _ListeningController(self.sink, sock)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.sink.released.set()
        self.controller.stop()

    @property
    def settings(self) -> Settings:
        """Settings from the environment, with the outbox sent to this server."""
        return self.configure(Settings())

    def configure(self, settings: Settings) -> Settings:
        """``settings`` with the outbox sent to this server (SMTP_HOST, SMTP_PORT, SMTP_FROM)."""
        return settings.model_copy(
            update={
                "smtp_host": "127.0.0.1",
                "smtp_port": self.port,
                "smtp_from": "keywarden@example.test",
            }
        )

    @property
    def env(self) -> dict[str, str]:
        """The SMTP_* environment that points a process's outbox at this server."""
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.port),
            "SMTP_FROM": "keywarden@example.test",
        }


# --- Redis --------------------------------------------------------------------------


def reachable_redis() -> str:
    """The test Redis URL; skips the test without a reachable Redis (fails in CI)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


@contextmanager
def redis_queue(settings: Settings, redis_url: str) -> Iterator[tuple[Settings, str]]:
    """This process enqueues through Redis under a namespace of its own, removed afterwards.

    The namespace also serves as the pub/sub prefix of the processes started
    with it, so parallel test runs on one Redis do not hear each other.
    """
    namespace = f"keywarden-test-{uuid.uuid4().hex[:12]}"
    with_redis = settings.model_copy(
        update={
            "redis_url": SecretStr(redis_url),
            "queue_namespace": namespace,
            "pubsub_prefix": namespace,
        }
    )
    configure_broker(with_redis)
    try:
        yield with_redis, namespace
    finally:
        configure_broker(settings)
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=f"{namespace}:*"):
            client.delete(key)
        client.close()


@dataclass
class SharedServices:
    """What the Keywarden processes of a test share besides the database (R3, R33)."""

    settings: Settings  # the test's own, enqueueing through Redis under ``namespace``
    namespace: str
    redis_url: str
    smtp: SmtpServer
    # The data-center URL of every process: nobody answers there, so connected tenants
    # of other modules are polled in vain.
    nowhere: dict[str, str]


@contextmanager
def shared_services(settings: Settings) -> Iterator[SharedServices]:
    """Redis under a namespace of its own (``redis_queue``), an SMTP server, a silent data
    center; skips the test without a reachable Redis."""
    url = reachable_redis()
    with refused_port() as port, redis_queue(settings, url) as (with_redis, namespace):
        smtp = SmtpServer().start()
        try:
            nowhere = {"KEYWARDEN_DATACENTER_URL": f"http://127.0.0.1:{port}"}
            yield SharedServices(with_redis, namespace, url, smtp, nowhere)
        finally:
            smtp.stop()


def queue_idle(redis_url: str, namespace: str) -> bool:
    """Whether no message of the namespace waits in a queue or runs unacknowledged."""
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"{namespace}:*"):
            name = key.decode()
            if name.endswith((".msgs", ":__heartbeats__")) or ".XQ" in name:
                continue
            kind = client.type(key).decode()
            if (kind == "list" and client.llen(key)) or (kind == "set" and client.scard(key)):
                return False
        return True
    finally:
        client.close()


# --- processes ----------------------------------------------------------------------


def process_env(settings: Settings, namespace: str, **extra: str) -> dict[str, str]:
    """The environment of a Keywarden process of this test: database, Redis, broker, namespace."""
    env = dict(os.environ)
    env.update(
        REDIS_URL=settings.redis_url.get_secret_value(),
        BROKER_URL=settings.broker_url.get_secret_value(),
        KEYWARDEN_QUEUE_NAMESPACE=namespace,
        KEYWARDEN_PUBSUB_PREFIX=namespace,
        DATABASE_URL=settings.database_url.get_secret_value(),
        VAR_DIR=str(settings.var_dir),
        KEYWARDEN_MAX_UPLOAD_BYTES=str(settings.max_upload_bytes),
    )
    env.update(extra)
    return env


class WorkerProcess(LoggedProcess):
    """``python -m app.workers.main`` with this test's database, Redis namespace and SMTP server.

    ``env`` adds to the environment (e.g. ``FAST_REDELIVERY``, the data center's URL).
    """

    def __init__(
        self,
        settings: Settings,
        namespace: str,
        smtp: SmtpServer,
        log: Path,
        *args: str,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            [sys.executable, "-m", "app.workers.main", *args],
            process_env(settings, namespace, **smtp.env, **(env or {})),
            log,
        )

    async def ready(self, processes: int = 1) -> None:
        await self.logged(" ready: ", count=processes)


class ServerProcess(LoggedProcess):
    """``keywarden serve`` on a loopback socket made here and inherited (``--fd``).

    The port is this server's from the start: there is no moment in which another
    process could take it, and requests sent before the server accepts wait.
    ``args`` go to the command too (``--workers 2``).
    """

    def __init__(self, env: Mapping[str, str], log: Path, *args: str) -> None:
        sock = listening_socket()
        self.port = int(sock.getsockname()[1])
        keywarden = Path(sys.executable).parent / "keywarden"
        try:
            super().__init__(
                [str(keywarden), "serve", "--fd", str(sock.fileno()), *args], env, log,
                pass_fds=[sock.fileno()],
            )
        finally:
            # The server holds the socket now; once it is gone, connections are refused.
            sock.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def healthy(self) -> bool:
        """Whether the server answers ``/health`` (it must not have exited)."""
        self.alive()
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=patience(5)) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self) -> None:
        wait_until(self.healthy, "the server to answer /health", details=self.output)

    async def ready(self) -> None:
        await asyncio.to_thread(self.wait_ready)


class ApiProcess(ServerProcess):
    """``keywarden serve`` with this test's database, Redis queue namespace and pub/sub prefix."""

    def __init__(
        self, settings: Settings, namespace: str, log: Path, *args: str, **env: str
    ) -> None:
        super().__init__(process_env(settings, namespace, **env), log, *args)
