"""``/ready`` beside ``/health``: database, broker and migrations at head (issue 13 item 6)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from app.config import Settings
from app.db import Database
from app.migrate import upgrade
from app.ops.readiness import head_revisions
from app.web import create_app
from tests.conftest import BACKEND, _pg_admin, _pg_url


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    database = Database(settings)
    transport = httpx.ASGITransport(app=create_app(settings, database))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
    finally:
        await database.dispose()


@pytest.fixture
def unmigrated(tmp_path: Path) -> Iterator[Settings]:
    """A database nobody has migrated yet, on the backend under test."""
    if BACKEND != "postgres":
        yield Settings(var_dir=tmp_path)
        return
    name = f"keywarden_unmigrated_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    yield Settings(database_url=_pg_url(name), var_dir=tmp_path)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def one_behind(tmp_path: Path) -> Settings:
    """A SQLite database one migration short of head (migrated outside the test's loop)."""
    settings = Settings(var_dir=tmp_path)
    upgrade(settings, "head-1")
    return settings


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_ready_when_database_answers_and_migrations_are_at_head(
    settings: Settings, http: Any
) -> None:
    # given: the test database, migrated to head, and the in-process queue

    # when
    response = await http.get("/ready")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "broker": "ok"},
    }


async def test_health_stays_a_plain_liveness_answer(http: Any) -> None:
    # when
    response = await http.get("/health")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_not_ready_on_a_database_nobody_migrated(unmigrated: Settings) -> None:
    # given: a fresh database
    async with served(unmigrated) as http:
        # when
        response = await http.get("/ready")

    # then: the database answers, but its schema is not there
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] == "ok"
    assert body["checks"]["migrations"] == "not migrated (run `keywarden migrate`)"


@pytest.mark.skipif(BACKEND == "postgres", reason="one behind-by-one migration run is enough")
async def test_not_ready_while_migrations_are_behind_head(one_behind: Settings) -> None:
    # given: a database one migration short of head
    (head,) = head_revisions()

    async with served(one_behind) as http:
        # when
        response = await http.get("/ready")

    # then
    assert response.status_code == 503
    migrations = response.json()["checks"]["migrations"]
    assert migrations.startswith("at ") and f"expected {head}" in migrations


@pytest.mark.parametrize(
    ("variable", "url"),
    [("redis_url", "redis://127.0.0.1:{port}/0"), ("broker_url", "amqp://u:p@127.0.0.1:{port}/")],
    ids=["redis", "rabbitmq"],
)
async def test_not_ready_when_the_configured_broker_is_unreachable(
    settings: Settings, variable: str, url: str
) -> None:
    # given: the broker URL points at a closed loopback port (RabbitMQ: issue 13 item 5)
    broken = settings.model_copy(update={variable: SecretStr(url.format(port=closed_port()))})
    async with served(broken) as http:
        # when
        response = await http.get("/ready")

    # then: 503 naming the broker, and no traceback or address in the answer
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "checks": {"database": "ok", "migrations": "ok", "broker": "unreachable"},
    }


async def test_ready_with_a_reachable_broker(settings: Settings, broker_url: str) -> None:
    # given: the queue on Redis (REDIS_URL) or on RabbitMQ (BROKER_URL, its default vhost)
    on_rabbitmq = broker_url.startswith("amqp")
    configured = (
        {"broker_url": SecretStr(f"{broker_url}/%2F")}
        if on_rabbitmq
        else {"redis_url": SecretStr(broker_url)}
    )
    async with served(settings.model_copy(update=configured)) as http:
        # when
        response = await http.get("/ready")

    # then
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"
