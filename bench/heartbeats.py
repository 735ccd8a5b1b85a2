"""Benchmark: device heartbeats per second, and heartbeat → subscriber latency (R23).

Sets up a tenant with N registered wall devices (default 10,000) in a fresh
database, starts one API process (`keywarden serve`) and, with Redis, one worker
(`keywarden worker`), then runs the load generator in a separate process:
signed heartbeats (Ed25519, fresh nonce each) from random devices, with C
connections in flight, for T seconds. Measured in the same run:

- the generator's own ceiling: the same signing and HTTP work against the
  server's /health (no database), so the heartbeat figure can be read against
  what the generator could deliver at all;
- heartbeats/s and p50/p99 latency;
- heartbeat → `deviceStatus` subscriber latency: devices set offline, then one
  heartbeat each; time until the subscriber (graphql-transport-ws) has the event.

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/<empty db> \\
    REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python -m bench.heartbeats [--devices 10000] [--seconds 10] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

BIN = Path(sys.executable).parent


def device_key(i: int) -> Ed25519PrivateKey:
    """Deterministic keys, so the generator process derives them without a key file."""
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"bench-device-{i}".encode()).digest()
    )


def serial(i: int) -> str:
    return f"BENCH-{i:06d}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- the load generator (its own process) ----------------------------------------------


class RawConnection:
    """A minimal keep-alive HTTP/1.1 client: the generator must not be the bottleneck."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        answer = await self.reader.readexactly(length)
        return int(status_line.split()[1]), answer


async def generate(
    url: str,
    tenant: str,
    list_version: int,
    devices: int,
    seconds: float,
    concurrency: int,
    health: bool,
) -> dict[str, Any]:
    from app.devices.protocol import request_path, sign_request
    from app.models import utcnow

    host, port = url.removeprefix("http://").split(":")
    keys = [device_key(i) for i in range(devices)]
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    # Like a real device, each one sends the blocking list version it holds (learnt from its
    # previous answer), so the list itself travels only when it changed.
    held = dict.fromkeys(range(devices), list_version)

    async def one_connection() -> None:
        nonlocal errors
        conn = RawConnection(host, int(port))
        await conn.open()
        while time.monotonic() < deadline:
            i = random.randrange(devices)
            report: dict[str, Any] = {"firmwareVersion": "5.2.0", "bootloaderVersion": "2.1.0"}
            report["blockingListVersion"] = held[i]
            body = json.dumps(report).encode()
            path = request_path(tenant, serial(i), "heartbeat")
            headers = sign_request(keys[i], "POST", path, body, now=utcnow())
            headers["Content-Type"] = "application/json"
            start = time.perf_counter()
            if health:
                status, _ = await conn.request("GET", "/health", headers, b"")
            else:
                status, answer = await conn.request("POST", path, headers, body)
            latencies.append((time.perf_counter() - start) * 1000)
            if status != 200:
                errors += 1
            elif not health:
                held[i] = json.loads(answer)["blockingListVersion"]
        conn.writer.close()

    started = time.monotonic()
    await asyncio.gather(*(one_connection() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
    }


# --- setup and orchestration -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def seed(settings: Any, devices: int) -> dict[str, str]:
    from sqlalchemy import insert

    from app.auth.rights import BUILTIN_ROLES
    from app.auth.tokens import create_api_token
    from app.db import Database
    from app.devices.heartbeat import fresh_blocking_list
    from app.models import RemoteDevice, RemoteDeviceKind, new_tenant_id, utcnow
    from app.tenants.service import create_tenant

    database = Database(settings)
    tenant_id = new_tenant_id()
    now = utcnow()
    async with database.tenant_session(tenant_id) as s:
        t = await create_tenant(s, name="Heartbeat bench")
        _, token = await create_api_token(
            s, name="bench", rights=BUILTIN_ROLES["Superadmin"], domain_ids=None
        )
        rows = [
            {
                "tenant_id": tenant_id,
                "domain_id": t.default_domain_id,
                "name": f"Wall {i}",
                "kind": RemoteDeviceKind.WALL,
                "serial": serial(i),
                "firmware_version": "5.2.0",
                "bootloader_version": "2.1.0",
                "heartbeat_interval_seconds": 60,
                # In service: online, as a fleet is between two heartbeats.
                "online": True,
                "last_heartbeat_at": now,
                "system_linked": False,
                "potential_free_output": False,
                "updater_gen1": False,
                "updater_gen2": False,
                "public_key": device_key(i)
                .public_key()
                .public_bytes(Encoding.Raw, PublicFormat.Raw),
            }
            for i in range(devices)
        ]
        for start in range(0, len(rows), 2000):
            await s.execute(insert(RemoteDevice), rows[start : start + 2000])
        # The devices are in service: each holds the tenant's current blocking list.
        blocking_list = await fresh_blocking_list(s, utcnow())
        await s.commit()
    await database.dispose()
    return {"tenant": tenant_id, "token": token, "list_version": blocking_list.version}


def run_generator(
    url: str,
    tenant: str,
    list_version: int,
    devices: int,
    seconds: float,
    concurrency: int,
    health: bool,
) -> dict[str, Any]:
    args = [
        sys.executable,
        "-m",
        "bench.heartbeats",
        "--generate",
        "--url",
        url,
        "--tenant",
        tenant,
        "--list-version",
        str(list_version),
        "--devices",
        str(devices),
        "--seconds",
        str(seconds),
        "--concurrency",
        str(concurrency),
    ] + (["--health"] if health else [])
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=seconds + 120)
    return json.loads(out.stdout.strip().splitlines()[-1])


async def subscriber_latency(
    url: str, tenant: str, token: str, list_version: int, settings: Any, events: int
) -> list[float]:
    """Heartbeat of an offline device → its deviceStatus event at a WebSocket subscriber."""
    from sqlalchemy import update
    from websockets.asyncio.client import connect

    from app.db import Database
    from app.devices.protocol import request_path, sign_request
    from app.models import RemoteDevice, utcnow

    database = Database(settings)
    async with database.tenant_session(tenant) as s:
        await s.execute(update(RemoteDevice).values(online=False))
        await s.commit()
    await database.dispose()
    body = json.dumps({"blockingListVersion": list_version}).encode()
    latencies = []
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with (
        connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": "subscription { deviceStatus { online device { serial } } }"
                    },
                }
            )
        )
        await asyncio.sleep(0.5)
        for i in range(events):
            path = request_path(tenant, serial(i), "heartbeat")
            headers = sign_request(device_key(i), "POST", path, body, now=utcnow())
            headers["Content-Type"] = "application/json"
            start = time.perf_counter()
            response = await client.post(path, content=body, headers=headers)
            assert response.status_code == 200, response.text
            while True:
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                except TimeoutError:
                    print(f"no deviceStatus event within 10 s for {serial(i)}")
                    return latencies
                if message["type"] == "next" and message["payload"]["data"]["deviceStatus"][
                    "device"
                ]["serial"] == serial(i):
                    break
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def main(devices: int, seconds: float, concurrency: int) -> None:
    from app.config import Settings
    from app.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        # Access logging off, as behind a proxy that logs: at these rates it is a third of
        # the server's time.
        env = {**os.environ, "VAR_DIR": tmp, "KEYWARDEN_ACCESS_LOG": "false"}
        settings = Settings(
            var_dir=Path(tmp),
            database_url=env.get("DATABASE_URL", ""),
            redis_url=env.get("REDIS_URL", ""),
        )
        upgrade(settings)
        t0 = time.perf_counter()
        world = asyncio.run(seed(settings, devices))
        print(
            f"backend {'postgresql' if settings.database_url else 'sqlite'}, "
            f"redis {'on' if settings.redis_url else 'off'}: {devices} devices seeded in "
            f"{time.perf_counter() - t0:.1f}s"
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        procs = [
            subprocess.Popen(
                [str(BIN / "keywarden"), "serve", "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        ]
        if settings.redis_url:
            procs.append(
                subprocess.Popen(
                    [str(BIN / "keywarden"), "worker"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            tenant, version = world["tenant"], world["list_version"]
            ceiling = run_generator(url, tenant, version, devices, seconds, concurrency, True)
            load = run_generator(url, tenant, version, devices, seconds, concurrency, False)
            latency = asyncio.run(
                subscriber_latency(
                    url, tenant, world["token"], version, settings, min(100, devices)
                )
            )
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(timeout=30)
        for name, r in (("generator ceiling (/health, signed)", ceiling), ("heartbeats", load)):
            print(
                f"{name:36s} {r['requests'] / r['seconds']:8.0f} req/s  p50 {r['p50']:6.1f} ms  "
                f"p99 {r['p99']:6.1f} ms  errors {r['errors']}"
            )
        print(
            f"ratio heartbeats / generator ceiling: "
            f"{(load['requests'] / load['seconds']) / (ceiling['requests'] / ceiling['seconds']):.2f}"  # noqa: E501
        )
        print(
            f"heartbeat -> deviceStatus subscriber ({len(latency)} events): "
            f"p50 {percentile(latency, 0.5):.1f} ms  p99 {percentile(latency, 0.99):.1f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--health", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--tenant", help=argparse.SUPPRESS)
    parser.add_argument("--list-version", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        result = asyncio.run(
            generate(
                args.url,
                args.tenant,
                args.list_version,
                args.devices,
                args.seconds,
                args.concurrency,
                args.health,
            )
        )
        print(json.dumps(result))
    else:
        main(args.devices, args.seconds, args.concurrency)
