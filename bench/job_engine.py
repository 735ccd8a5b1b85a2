"""Benchmark: the job engine at scale (R15, R16, R19), through the GraphQL API.

A tenant with 20,000 keys and N cylinders (default 5,000). Measured, each at a
small size (the baseline, N/10 cylinders) and at full size, in the same run:

- ``changeAuthorizations`` adding one key group to every cylinder (R16);
- ``reportKeyLost`` (deprogram) for a key programmed in every cylinder (R19).

Prints wall time and SQL statement count of each, and the ratios full/baseline:
a statement ratio near 1 means the work is batched, not per cylinder.

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/<empty db> \\
        .venv/bin/python -m bench.job_engine [--cylinders 5000] [--keys 20000]
Without DATABASE_URL it runs on a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, insert, select, update

from app.auth.rights import BUILTIN_ROLES
from app.auth.tokens import create_api_token
from app.config import Settings
from app.db import Database
from app.migrate import upgrade
from app.models import (
    AccessEntry,
    Cylinder,
    CylinderStatus,
    Key,
    KeyGeneration,
    KeyGroup,
    KeyStatus,
    KeyType,
    ProgrammingJob,
    ProgrammingJobStatus,
    Schedule,
    new_tenant_id,
)
from app.schema.relay import to_global_id
from app.tenants.service import create_tenant
from app.web import create_app

CHANGE = """mutation($i: ChangeAuthorizationsInput!) { changeAuthorizations(input: $i)
  { programmingJobs { id } unchangedCylinders { id } errors { message } } }"""
LOST = """mutation($i: ReportKeyLostInput!) { reportKeyLost(input: $i)
  { programmingJobs { id } errors { message } } }"""


async def seed(database: Database, keys: int, cylinders: int) -> dict[str, Any]:
    tenant_id = new_tenant_id()
    async with database.tenant_session(tenant_id) as s:
        t = await create_tenant(s, name=f"Bench {cylinders}")
        _, token = await create_api_token(
            s, name="bench", rights=BUILTIN_ROLES["Superadmin"], domain_ids=None
        )
        schedule = await s.scalar(select(Schedule.id))
        await s.execute(insert(Key), [
            {"tenant_id": tenant_id, "domain_id": t.default_domain_id, "marking": f"K{i:06d}",
             "uid": secrets.token_hex(8), "type": KeyType.E3, "generation": KeyGeneration.GEN2,
             "firmware_version": "16.3.7", "status": KeyStatus.ISSUED, "schedule_id": schedule,
             "always_valid": True, "audit_readout_enabled": False, "withdrawn": False}
            for i in range(keys)
        ])
        await s.execute(insert(Cylinder), [
            {"tenant_id": tenant_id, "domain_id": t.default_domain_id, "marking": f"C{i:06d}",
             "uid": secrets.token_hex(8), "status": CylinderStatus.ACTIVE,
             "security_relevant": i % 10 == 0, "is_clone": False, "needs_reprogramming": False}
            for i in range(cylinders)
        ])
        group = KeyGroup(name="Everyone")
        s.add(group)
        await s.flush()
        lost_key = await s.scalar(select(Key.id).order_by(Key.id).limit(1))
        cylinder_ids = list(await s.scalars(select(Cylinder.id)))
        # The key to be lost is already programmed everywhere.
        await s.execute(insert(AccessEntry), [
            {"tenant_id": tenant_id, "cylinder_id": c, "key_id": lost_key, "desired": True,
             "programmed": True}
            for c in cylinder_ids
        ])
        from app.models import DirectAuthorization

        await s.execute(insert(DirectAuthorization), [
            {"tenant_id": tenant_id, "cylinder_id": c, "key_id": lost_key} for c in cylinder_ids
        ])
        await s.commit()
    return {"tenant_id": tenant_id, "token": token, "group": group.id, "lost_key": lost_key,
            "cylinders": cylinder_ids}


async def measure(database: Database, client: httpx.AsyncClient, token: str, query: str,
                  variables: dict[str, Any]) -> tuple[float, int, int]:
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(database.app_engine.sync_engine, "before_cursor_execute", count)
    start = time.perf_counter()
    response = await client.post("/graphql", json={"query": query, "variables": variables},
                                 headers={"Authorization": f"Bearer {token}"}, timeout=600)
    elapsed = time.perf_counter() - start
    event.remove(database.app_engine.sync_engine, "before_cursor_execute", count)
    body = response.json()
    data = next(iter(body["data"].values()))
    assert not data["errors"], data["errors"]
    return elapsed, statements, len(data["programmingJobs"])


async def run(database: Database, client: httpx.AsyncClient, keys: int, cylinders: int
              ) -> dict[str, tuple[float, int, int]]:
    world = await seed(database, keys, cylinders)
    results = {}
    results["changeAuthorizations"] = await measure(database, client, world["token"], CHANGE, {
        "i": {"cylinderIds": [to_global_id("Cylinder", c) for c in world["cylinders"]],
              "add": [to_global_id("KeyGroup", world["group"])]}})
    # Reset so the lost key's removal is the only change.
    async with database.tenant_session(world["tenant_id"]) as s:
        await s.execute(update(ProgrammingJob).values(status=ProgrammingJobStatus.CANCELLED))
        await s.commit()
    results["reportKeyLost"] = await measure(database, client, world["token"], LOST, {
        "i": {"keyId": to_global_id("Key", world["lost_key"]), "deprogram": True}})
    return results


async def main(keys: int, cylinders: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(var_dir=Path(tmp), database_url=os.environ.get("DATABASE_URL", ""))
        await asyncio.to_thread(upgrade, settings)
        database = Database(settings)
        app = create_app(settings, database)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            small = await run(database, client, keys, max(cylinders // 10, 1))
            full = await run(database, client, keys, cylinders)
        print(f"backend {database.dialect}, {keys} keys")
        for name in full:
            (t0, s0, j0), (t1, s1, j1) = small[name], full[name]
            print(f"{name:21s} {j0:6d} cylinders: {t0 * 1000:8.1f} ms {s0:4d} statements | "
                  f"{j1:6d} cylinders: {t1 * 1000:8.1f} ms {s1:4d} statements | "
                  f"ratio time {t1 / t0:5.2f}x statements {s1 / s0:5.2f}x")
        await database.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument("--cylinders", type=int, default=5_000)
    args = parser.parse_args()
    asyncio.run(main(args.keys, args.cylinders))
