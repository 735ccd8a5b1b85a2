"""Shared fixtures: a migrated database (SQLite, or PostgreSQL with KEYWARDEN_TEST_DB=postgres)."""

from __future__ import annotations

import os
import signal
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.config import Settings
from app.db import Database
from app.migrate import upgrade
from app.models import new_tenant_id
from app.tenants.service import NewTenant, create_tenant

BACKEND = os.environ.get("KEYWARDEN_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("KEYWARDEN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_url(name: str, driver: str = "postgresql+asyncpg") -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].split("://", 1)[1]
    return f"{driver}://{base}/{name}"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    var_dir = tmp_path_factory.mktemp("var")
    if BACKEND != "postgres":
        s = Settings(var_dir=var_dir, KEYWARDEN_MAX_UPLOAD_BYTES=256 * 1024)
        upgrade(s)
        yield s
        return
    name = f"keywarden_test_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    s = Settings(database_url=_pg_url(name), var_dir=var_dir, KEYWARDEN_MAX_UPLOAD_BYTES=256 * 1024)
    upgrade(s)
    yield s
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest) -> str:
    """The job queue's broker a worker test runs on: each such test runs on Redis and on
    RabbitMQ (issue 13 item 5); skipped where one is not reachable, failed in CI."""
    from tests.brokers import reachable_broker

    return reachable_broker(str(request.param))


def _pg_admin(sql: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(autouse=True)
def _empty_in_process_queue() -> None:
    """Each test starts with the embedded default's queue empty (R3). The queue is the
    process's: a message an earlier test's app left in it (a data-center poll its periodic
    sender queued, say) would otherwise run in this test's worker, ahead of the test's own
    messages, and a slow one would hold them up."""
    from dramatiq.brokers.stub import StubBroker

    from app.workers.broker import current_broker

    broker = current_broker()
    if isinstance(broker, StubBroker):
        broker.flush_all()


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings)
    yield db
    await db.dispose()


async def make_tenant(database: Database, name: str = "Acme", **kwargs: object) -> NewTenant:
    tenant_id = new_tenant_id()
    async with database.tenant_session(tenant_id) as session:
        created = await create_tenant(session, name=name, **kwargs)  # type: ignore[arg-type]
        await session.commit()
    return created


@pytest.fixture
async def tenant(database: Database) -> NewTenant:
    return await make_tenant(database, "Acme")


@pytest.fixture
async def other_tenant(database: Database) -> NewTenant:
    return await make_tenant(database, "Other Corp")


def pytest_configure(config: pytest.Config) -> None:
    """A terminated run (SIGTERM: CI's timeout, a killed make) unwinds like Ctrl-C.

    Python's default for SIGTERM is to die on the spot, so fixture teardown never
    runs and the simulators, bridge agents and servers the tests started live on.
    As KeyboardInterrupt, pytest stops and tears every fixture down, ending them.
    """

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"pytest received {signal.Signals(signum).name}")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def pytest_report_header() -> str:
    return f"keywarden test database: {BACKEND}"


__all__ = ["Path", "make_tenant", "text"]


# --- GraphQL over the real ASGI app ---------------------------------------------------


class GraphQLClient:
    """Posts GraphQL to the real application (in-process ASGI), as a partner would over HTTP."""

    def __init__(self, http: Any, token: str | None) -> None:
        self.http = http
        self.token = token

    def headers(self, token: str | None = None) -> dict[str, str]:
        tok = token if token is not None else self.token
        return {"Authorization": f"Bearer {tok}"} if tok else {}

    async def raw(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> Any:
        return await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=self.headers(token),
        )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        response = await self.raw(query, variables, token)
        body = response.json()
        assert response.status_code == 200, body
        assert not body.get("errors"), body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    async def upload(
        self,
        query: str,
        variables: dict[str, Any],
        path: str,
        data: bytes,
        token: str | None = None,
        csrf: bool = True,
    ) -> Any:
        """A GraphQL multipart request (the upload spec) with one file at ``path``."""
        import json as _json

        files = {"0": ("upload.bin", data, "application/octet-stream")}
        form = {
            "operations": _json.dumps({"query": query, "variables": variables}),
            "map": _json.dumps({"0": [path]}),
        }
        headers = self.headers(token)
        if csrf:
            headers["X-Keywarden-CSRF"] = "1"
        return await self.http.post("/graphql", data=form, files=files, headers=headers)


async def superadmin_token(database: Database, tenant: NewTenant, **kwargs: Any) -> str:
    from app.auth.rights import BUILTIN_ROLES
    from app.auth.tokens import create_api_token

    async with database.tenant_session(tenant.tenant_id) as s:
        _, token = await create_api_token(
            s,
            name=kwargs.pop("name", "test"),
            rights=kwargs.pop("rights", BUILTIN_ROLES["Superadmin"]),
            domain_ids=kwargs.pop("domain_ids", None),
        )
        await s.commit()
    return token


@pytest.fixture
async def app(settings: Settings, database: Database) -> Any:
    from app.web import create_app

    return create_app(settings, database)


@pytest.fixture
async def http(app: Any) -> AsyncIterator[Any]:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def gql(http: Any, database: Database, tenant: NewTenant) -> GraphQLClient:
    """A client holding a Superadmin API token of ``tenant``."""
    return GraphQLClient(http, await superadmin_token(database, tenant))


@pytest.fixture
def vendor(settings: Settings) -> Any:
    """The development vendor key (Ed25519) that signs factory data and firmware in tests."""
    from app.factory.vendor import load_or_create_dev_vendor_key

    return load_or_create_dev_vendor_key(settings.var_dir)


@pytest.fixture
async def trusting(database: Database, vendor: Any) -> NewTenant:
    """A tenant that trusts the development vendor key: it imports its factory data and
    firmware (R25, R31)."""
    from app.factory.vendor import public_key_hex

    return await make_tenant(database, "Trusting", vendor_public_keys=[public_key_hex(vendor)])


@pytest.fixture
async def client(http: Any, database: Database, trusting: NewTenant) -> GraphQLClient:
    """A client holding a Superadmin API token of ``trusting``."""
    return GraphQLClient(http, await superadmin_token(database, trusting))


class StatementCounter:
    """Counts SQL statements the application sends, to guard against N+1 queries."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine.sync_engine
        self.statements: list[str] = []

    def _on_execute(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._on_execute)

    @property
    def count(self) -> int:
        return len(self.statements)
