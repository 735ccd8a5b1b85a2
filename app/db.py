"""Engines and sessions. The API connects as the application role; migrations as the owner (R1)."""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import BigInteger, DateTime, any_, bindparam, event, insert, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

import app.tenants.scoping  # noqa: F401  (registers the scoping events)
from app.config import Settings, get_settings
from app.tenants.scoping import SKIP_SCOPE

APP_ROLE = "keywarden_app"


def app_database_url(settings: Settings) -> str:
    """The URL the API uses: on PostgreSQL the non-owner role RLS applies to."""
    if settings.is_sqlite:
        return settings.effective_database_url
    if url := settings.app_database_url.get_secret_value():
        return url
    url = make_url(settings.effective_database_url).set(username=APP_ROLE, password=None)
    return url.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # hide_parameters: PINs, tokens and personal data never reach a log through an error (R37).
    # Bulk inserts of a few thousand rows (the list function, R16) go out as one statement.
    engine = create_async_engine(
        url, pool_size=10, max_overflow=10, hide_parameters=True,
        insertmanyvalues_page_size=5000,
    )
    check_when_idle(engine)
    return engine


# A pooled connection that waited longer than this is pinged before it is used again.
IDLE_PING_SECONDS = 30.0


def check_when_idle(engine: AsyncEngine, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """Hand out only live connections, without a ping on every checkout.

    SQLAlchemy's ``pool_pre_ping`` costs three round trips on asyncpg (BEGIN, a
    query, ROLLBACK) for every request. Instead: a connection the server closed
    and the driver noticed (a restart, ``pg_terminate_backend``) is replaced for
    free, and only one that sat in the pool for ``idle_seconds`` (where a
    firewall or an idle timeout may have cut it silently) is pinged. Under load
    connections come back within milliseconds and are never pinged.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def stamp(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed the connection")
        checked_in = record.info.get("checked_in")
        if checked_in is not None and time.monotonic() - checked_in > idle_seconds:
            try:
                dbapi_connection.ping()
            except Exception as error:
                raise DisconnectionError("the idle connection is gone") from error


class Database:
    """The application's engines: ``app`` for requests, ``owner`` for migrations and system work."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.app_engine = make_engine(app_database_url(self.settings))
        self.owner_engine = (
            self.app_engine
            if self.settings.is_sqlite
            else make_engine(self.settings.effective_database_url)
        )
        self._driver_engine: AsyncEngine | None = None
        self._app_sessions = async_sessionmaker(self.app_engine, expire_on_commit=False)
        self._owner_sessions = async_sessionmaker(self.owner_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.app_engine.dialect.name

    def session(self, tenant_id: str, domain_ids: Iterable[int] | None = None) -> AsyncSession:
        """A session scoped to one tenant (and, optionally, to some of its domains, R8)."""
        info: dict[str, Any] = {"tenant_id": tenant_id}
        if domain_ids is not None:
            info["domain_ids"] = frozenset(domain_ids)
        return self._app_sessions(info=info)

    async def snapshot_session(
        self, tenant_id: str, domain_ids: Iterable[int] | None = None
    ) -> AsyncSession:
        """A read-only session whose every statement sees one snapshot of the database.

        On PostgreSQL each statement of a READ COMMITTED transaction sees what was
        committed when it started, so fields read one after the other can come from
        different moments (a device's version from before an update, its firmware
        progress from after it). REPEATABLE READ pins the transaction's first snapshot;
        a transaction that only reads never fails for it. SQLite reads one snapshot anyway.
        """
        session = self.session(tenant_id, domain_ids)
        if self.dialect == "postgresql":
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return session

    @asynccontextmanager
    async def tenant_session(
        self, tenant_id: str, domain_ids: Iterable[int] | None = None
    ) -> AsyncIterator[AsyncSession]:
        async with self.session(tenant_id, domain_ids) as session:
            yield session

    @asynccontextmanager
    async def system_session(self) -> AsyncIterator[AsyncSession]:
        """Unscoped session as the owner (tenant creation, schedulers); never for request data."""
        async with self._owner_sessions(info={SKIP_SCOPE: True}) as session:
            yield session

    @property
    def driver_engine(self) -> AsyncEngine:
        """The application role's engine for hot paths that speak to the driver directly
        (PostgreSQL only): no ping at checkout, which costs three round trips on asyncpg; a
        caller that finds a connection broken renews the pool and tries once more
        (``app.devices.fast_heartbeat``)."""
        if self._driver_engine is None:
            self._driver_engine = create_async_engine(
                app_database_url(self.settings),
                # Sized for a process answering thousands of heartbeats a second: connections
                # opened beyond the pool are closed on return, and reopening one costs more
                # than the heartbeat it serves.
                pool_size=20,
                max_overflow=10,
                pool_pre_ping=False,
                hide_parameters=True,
            )
        return self._driver_engine

    async def dispose(self) -> None:
        if self._driver_engine is not None:
            await self._driver_engine.dispose()
        await self.app_engine.dispose()
        if self.owner_engine is not self.app_engine:
            await self.owner_engine.dispose()


class SerialSession:
    """One request's session, used by concurrently resolved fields one statement at a time.

    Strawberry resolves sibling fields concurrently and an AsyncSession allows one
    operation at a time; the request serialises on purpose so that it runs in one
    transaction (one tenant setting, one snapshot).
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.lock = asyncio.Lock()

    async def execute(self, stmt: Any, params: Any = None) -> Any:
        async with self.lock:
            return await self.session.execute(stmt, params)

    async def scalars(self, stmt: Any) -> list[Any]:
        async with self.lock:
            return list((await self.session.scalars(stmt)).all())

    async def scalar(self, stmt: Any) -> Any:
        async with self.lock:
            return await self.session.scalar(stmt)

    async def get(self, cls: type, ident: Any) -> Any:
        async with self.lock:
            return await self.session.get(cls, ident)


# Values per IN (...) list on SQLite; PostgreSQL takes one array parameter (``id_in``).
IN_CHUNK = 5000
T = TypeVar("T")


def chunked(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``values`` in pieces of at most ``size``, for statements that list them (``id_in``)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def id_in(session: Any, column: Any, ids: Iterable[int]) -> Any:
    """``column IN ids`` that stays one bind parameter on PostgreSQL (``= ANY(array)``).

    Thousands of ids (the list function on every cylinder, R16) would otherwise be
    rendered and sent as thousands of bind parameters on every statement.
    """
    values = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(BigInteger)))
    return column.in_(values)


_PG_ARRAY_TYPES = {"BIGINT": "bigint", "INTEGER": "bigint", "BOOLEAN": "boolean"}


def _pg_array_type(column: Any) -> str:
    type_ = getattr(column.type, "impl", column.type)
    if isinstance(type_, DateTime):
        return "timestamptz"
    name = type_.compile(dialect=postgresql.dialect()).split("(")[0].upper()
    return _PG_ARRAY_TYPES.get(name, "text")


def _pg_value(value: Any) -> Any:
    return value.name if isinstance(value, enum.Enum) else value


async def bulk_insert(
    session: Any, table: Any, rows: list[dict[str, Any]], *, returning: str | None = None
) -> list[Any]:
    """Insert many rows of ``table`` in one statement; the ``returning`` column's values.

    On PostgreSQL the rows travel as one array per column through ``unnest``, a few
    parameters whatever the row count (thousands of access-list lines and jobs at
    once, R16, R19); elsewhere as an executemany. Every row must have the same keys.
    """
    if not rows:
        return []
    columns = list(rows[0])
    if session.get_bind().dialect.name != "postgresql":
        stmt = insert(table)
        if returning is None:
            await session.execute(stmt, rows)
            return []
        return [
            (await session.execute(stmt.returning(table.c[returning]), [row])).scalar_one()
            for row in rows
        ]
    arrays = ", ".join(
        f"CAST(:p{i} AS {_pg_array_type(table.c[name])}[])" for i, name in enumerate(columns)
    )
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"SELECT * FROM unnest({arrays})"
        + (f" RETURNING {returning}" if returning else "")
    )
    params = {f"p{i}": [_pg_value(row[name]) for row in rows] for i, name in enumerate(columns)}
    result = await session.execute(text(sql), params)
    return list(result.scalars()) if returning else []
