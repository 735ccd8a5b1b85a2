"""A sub key's programming jobs through a wall device, every component a separate process
(issue 10 item 11; R15, R17, R33).

The API runs as ``keywarden serve`` and the job queue as a worker process (the
module stack of ``tests/test_device_stories.py``: PostgreSQL, Redis, an SMTP
server); the wall device is the simulator's command line, ``python -m
hardware.sim wall program-key``, a process of its own for each insertion, which
signs its requests, checks the server's signed answers and writes the jobs onto
the programming key of the simulator's world file. Between the two insertions
the holder carries the key to the cylinders of that world, which carry out the
jobs and read their trails out first.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from app.db import Database
from app.models import OutboxMessage
from app.schema.relay import to_global_id
from hardware.sim.wall_device import DeviceStore, SimulatedWallDevice
from hardware.sim.world import World
from tests import test_device_stories as stories
from tests.conftest import GraphQLClient, make_tenant, superadmin_token
from tests.harness import eventually, patience
from tests.test_devices import add_device
from tests.test_programming_keys_jobs import CYLINDER
from tests.test_remote_programming import assigned_site, statuses, world_of

pytestmark = stories.pytestmark
stack = stories.stack

ROOT = Path(__file__).resolve().parents[1]


async def program_key(tmp: Path, serial: str, uid: str, url: str) -> dict[str, Any]:
    """One insertion of programming key ``uid`` in the wall device simulator, as a process."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hardware.sim", "wall", "program-key",
        "--state", str(tmp / "devices.json"), "--serial", serial,
        "--world", str(tmp / "world.json"), "--uid", uid, "--url", url,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), patience(60))
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    return json.loads(out)  # type: ignore[no-any-return]


async def test_a_sub_keys_jobs_load_and_close_through_a_wall_device_process(
    stack: stories.Stack, database: Database, tmp_path: Path
) -> None:
    """R17: assigned over GraphQL, loaded and reported at the wall device over the signed
    protocol, the cylinders programmed (R15: their trails kept), the holder mailed (R33)."""
    tenant = await make_tenant(database, f"Story {secrets.token_hex(3)}")
    token = await superadmin_token(database, tenant)
    async with httpx.AsyncClient(base_url=stack.api.url, timeout=patience(10)) as http:
        gql = GraphQLClient(http, token)
        # given: PN-A with three assigned jobs; a wall device fresh from the factory
        site = await assigned_site(gql, database, tenant)
        private = Ed25519PrivateKey.generate()
        serial = f"WPD-{secrets.token_hex(3)}"
        await add_device(database, tenant, private, serial)
        device = SimulatedWallDevice("", tenant.tenant_id, serial, private)
        DeviceStore(tmp_path / "devices.json").put(serial, device.state())
        world, pkey, rows = await world_of(database, site)
        world.save(tmp_path / "world.json")

        # when: the key is inserted in the wall device
        loaded = await program_key(tmp_path, serial, pkey.uid, stack.api.url)
        # then: its three jobs are on the key in the world file
        assert (loaded["action"], loaded["answer"]["loaded"]) == ("load", 3)
        world = World.load(tmp_path / "world.json")
        assert len(world.programming_key(pkey.uid).jobs) == 3
        assert set((await statuses(database, site)).values()) == {"ON_KEY"}

        # when: the holder programs every cylinder and inserts the key again
        at = datetime.now(UTC) - timedelta(minutes=1)
        for row in rows.values():
            world.visit(row.uid, pkey.uid, at)
        world.save(tmp_path / "world.json")
        reported = await program_key(tmp_path, serial, pkey.uid, stack.api.url)

        # then: all jobs are closed, the key is cleared, the cylinders programmed
        answer = reported["answer"]
        assert (reported["action"], answer["done"], answer["allCompleted"]) == ("report", 3, True)
        assert answer["auditEventsStored"] == 1
        assert set((await statuses(database, site)).values()) == {"DONE"}
        world = World.load(tmp_path / "world.json")
        assert world.programming_key(pkey.uid).jobs == []
        assert world.programming_key(pkey.uid).results == []
        for row in rows.values():
            node = (await gql(CYLINDER, {"id": to_global_id("Cylinder", row.id)}))["node"]
            assert [e["programmed"] for e in node["accessList"]] == [True]
            assert node["programmingJobs"]["edges"] == [{"node": {"status": "DONE"}}]

    # then: the worker process sends the holder's final e-mail (R33)
    async def sent() -> bool:
        async with database.tenant_session(tenant.tenant_id) as s:
            rows_sent = await s.scalars(
                select(OutboxMessage.sent_at).where(
                    OutboxMessage.kind == "programming_jobs_report"
                )
            )
            return [r is not None for r in rows_sent] == [True]

    await eventually(sent, "the final e-mail to be sent by the worker")

