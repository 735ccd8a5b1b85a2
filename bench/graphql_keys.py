"""Benchmark: the partner's keys page through GraphQL, against a hand-written ORM baseline.

Seeds a tenant with N keys (holders, two access profiles each) in a fresh database,
then measures, in the same run:
- baseline: hand-written SQLAlchemy fetches of the same page, its total and relations
  (keys, count, holders, domains, profiles) — what the data costs without the API;
- graphql: the full HTTP request through the ASGI app (auth, parsing, validation,
  cost rule, resolvers, DataLoaders, JSON), in-process via httpx.ASGITransport.

Prints p50/p99 latency and requests per second of each, the ratio, and the SQL
statement count of one GraphQL request.

    .venv/bin/python -m bench.graphql_keys [--keys 20000] [--requests 300]
    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/bench \
        .venv/bin/python -m bench.graphql_keys     # an existing, empty database
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import event, func, select

from app.auth.rights import BUILTIN_ROLES
from app.auth.tokens import create_api_token
from app.config import Settings
from app.db import Database
from app.migrate import upgrade
from app.models import AccessProfile, Domain, Employee, Key, KeyAccessProfile, new_tenant_id
from app.tenants.service import create_tenant
from app.web import create_app
from tests.factories import seed_elements

QUERY = """query($after: String) { keys(first: 50, after: $after) { totalCount
  pageInfo { endCursor } edges { node { marking holder { lastName } domain { name }
  accessProfiles { name } } } } }"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(keys: int, requests: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        import os

        settings = Settings(var_dir=Path(tmp), database_url=os.environ.get("DATABASE_URL", ""))
        await asyncio.to_thread(upgrade, settings)  # alembic runs its own event loop
        database = Database(settings)
        tenant_id = new_tenant_id()
        async with database.tenant_session(tenant_id) as s:
            tenant = await create_tenant(s, name="Bench")
            _, token = await create_api_token(
                s, name="bench", rights=BUILTIN_ROLES["Superadmin"], domain_ids=None
            )
            await s.commit()
        t0 = time.perf_counter()
        await seed_elements(database, tenant, keys=keys, cylinders=20)
        print(f"backend {database.dialect}: seeded {keys} keys in {time.perf_counter() - t0:.1f}s")

        async def baseline_once() -> None:
            async with database.tenant_session(tenant_id) as s:
                rows = list(await s.scalars(select(Key).order_by(Key.marking, Key.id).limit(50)))
                await s.scalar(select(func.count()).select_from(Key))
                holder_ids = {k.holder_id for k in rows}
                list(await s.scalars(select(Employee).where(Employee.id.in_(holder_ids))))
                domain_ids = {k.domain_id for k in rows}
                list(await s.scalars(select(Domain).where(Domain.id.in_(domain_ids))))
                list(
                    await s.execute(
                        select(KeyAccessProfile.key_id, AccessProfile.name)
                        .join(AccessProfile)
                        .where(KeyAccessProfile.key_id.in_([k.id for k in rows]))
                    )
                )

        app = create_app(settings, database)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def graphql_once() -> None:
                response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
                assert response.status_code == 200 and "errors" not in response.json()

            statements: list[str] = []
            listener = lambda *a: statements.append(a[2])  # noqa: E731
            await graphql_once()  # warm: token last-used time written, caches filled
            event.listen(database.app_engine.sync_engine, "before_cursor_execute", listener)
            await graphql_once()
            event.remove(database.app_engine.sync_engine, "before_cursor_execute", listener)

            results = {}
            for name, fn in (("baseline", baseline_once), ("graphql", graphql_once)):
                for _ in range(10):
                    await fn()
                times = []
                start = time.perf_counter()
                for _ in range(requests):
                    t = time.perf_counter()
                    await fn()
                    times.append((time.perf_counter() - t) * 1000)
                wall = time.perf_counter() - start
                results[name] = (percentile(times, 0.5), percentile(times, 0.99), requests / wall)
        for name, (p50, p99, rps) in results.items():
            print(f"{name:9s} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  {rps:8.1f} req/s")
        ratio = results["graphql"][0] / results["baseline"][0]
        print(f"ratio graphql/baseline (p50): {ratio:.2f}x")
        print(f"SQL statements per GraphQL request (keys page of 50 with relations): "
              f"{len(statements)}")
        await database.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.keys, args.requests))
