"""Readiness (issue 13 item 6): may this process take traffic now?

``/health`` only says the process answers (liveness). ``/ready`` says whether
the database answers, the job queue's broker answers (a Redis ``PING`` or an
AMQP connection to RabbitMQ, and Redis also when the live events use it; the
in-process queue of the embedded default always does, R3) and the database
schema is at the head migration. A check that fails names what is not ready
in a fixed phrase; what went wrong in detail goes to the log, never into the
answer (it may name hosts or carry a driver's traceback).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pika
import redis.asyncio as aioredis
from sqlalchemy import text

from app.config import Settings
from app.db import Database
from app.migrate import migration_scripts

log = logging.getLogger("keywarden.ready")

# A check that has not answered within this many seconds counts as failed.
CHECK_TIMEOUT_SECONDS = 3.0
OK = "ok"


def head_revisions() -> frozenset[str]:
    """The revisions a migrated database is at: the heads of the migration scripts."""
    return frozenset(migration_scripts().get_heads())


@dataclass(frozen=True)
class Readiness:
    """The outcome of every check, by name: ``"ok"`` or a short phrase saying what is wrong."""

    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        return all(outcome == OK for outcome in self.checks.values())

    def body(self) -> dict[str, object]:
        return {"status": "ready" if self.ready else "not ready", "checks": self.checks}


class ReadinessProbe:
    """The checks behind ``/ready`` for one application's database and settings."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.heads = head_revisions()

    async def check(self) -> Readiness:
        """Run every check at once; each is bounded by ``CHECK_TIMEOUT_SECONDS``."""
        names = ("database", "migrations", "broker")
        outcomes = await asyncio.gather(
            _bounded("database", self._database, "unreachable"),
            _bounded("migrations", self._migrations, "unknown (the database does not answer)"),
            _bounded("broker", self._broker, "unreachable"),
        )
        return Readiness(dict(zip(names, outcomes, strict=True)))

    async def _database(self) -> str:
        # The application role's engine: the one requests use (R1).
        async with self.database.app_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return OK

    async def _migrations(self) -> str:
        # The owner's engine: the application role may not read Alembic's table.
        async with self.database.owner_engine.connect() as connection:
            exists = await connection.run_sync(
                lambda sync: sync.dialect.has_table(sync, "alembic_version")
            )
            if not exists:
                return "not migrated (run `keywarden migrate`)"
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            current = frozenset(row[0] for row in rows)
        if current == self.heads:
            return OK
        at = ", ".join(sorted(current)) or "no revision"
        return f"at {at}, expected {', '.join(sorted(self.heads))} (run `keywarden migrate`)"

    async def _broker(self) -> str:
        """The job queue's broker, and Redis when the live events use it (issue 13 item 5)."""
        settings = self.settings
        if settings.queue_on_rabbitmq:
            await asyncio.to_thread(_amqp_ping, settings.queue_url)
        redis_urls = {settings.redis_url.get_secret_value()}
        if not settings.queue_on_rabbitmq:
            redis_urls.add(settings.queue_url)
        for url in sorted(redis_urls - {""}):
            await _redis_ping(url)
        # Neither: the in-process queue lives and dies with this process (R3).
        return OK


async def _redis_ping(url: str) -> None:
    client = aioredis.from_url(
        url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        await client.ping()
    finally:
        await client.aclose()


def _amqp_ping(url: str) -> None:
    """Open and close an AMQP connection: RabbitMQ accepted the broker's credentials."""
    parameters = pika.URLParameters(url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = CHECK_TIMEOUT_SECONDS
    parameters.blocked_connection_timeout = CHECK_TIMEOUT_SECONDS
    pika.BlockingConnection(parameters).close()


async def _bounded(name: str, check: Callable[[], Awaitable[str]], failed: str) -> str:
    try:
        return await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        # Why, for the operator; the answer says only what is not ready.
        log.warning("readiness check %s failed: %r", name, exc)
        return failed
