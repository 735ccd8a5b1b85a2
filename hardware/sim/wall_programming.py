"""A simulated wall device's programming-key slot: loading jobs, taking results back (R17).

FAQ "Assigning programming tasks to other programming keys": the holder of a
sub key downloads its assigned jobs at a remote device, programs the
cylinders, and inserts the key again, which reports what it did; "the
programming jobs are deleted from the key". :func:`insert_programming_key`
does what the device does when a programming key (``hardware.sim.programming``,
the chip of the simulator's world) is inserted:

- the key holds results or jobs from an earlier loading: they are reported
  (``programming-results``) and, once the server has them, the key is cleared;
- otherwise its assigned jobs are loaded (``programming-key-inserted``) and
  written onto the key.

A refusal (``status: "refused"``: the key's or the device's firmware is too
old, the key not active) changes nothing on the key; its ``message`` is what
the device displays. The key then visits cylinders in the world
(``World.visit``), which read out their trail and carry out its jobs.

Command line (the device from ``python -m hardware.sim wall new``, the key
from a world file as the desk simulator uses)::

    python -m hardware.sim wall program-key --serial WPD-9001 --world world.json \\
        --uid 5F0C1E9A --url http://127.0.0.1:8000

prints the server's answer as JSON and saves both the device and the world.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from hardware.sim.programming import ProgrammingKey
from hardware.sim.user_key import SimError
from hardware.sim.wall_device import DeviceRefused, DeviceStore, SimulatedWallDevice, SimulatorError
from hardware.sim.world import World

LOAD = "programming-key-inserted"
REPORT = "programming-results"


async def insert_programming_key(
    device: SimulatedWallDevice, pkey: ProgrammingKey
) -> dict[str, Any]:
    """The key is inserted: report what it carries, or load its jobs (module doc).

    Returns ``{"action": "report"|"load", "answer": <the server's answer>}``.
    """
    if pkey.results or pkey.jobs:
        answer = await device.request(
            REPORT,
            {"programmingKeyUid": pkey.uid, "keyFirmware": pkey.firmware,
             "results": pkey.read_results()},
        )
        if answer.get("status") == "ok":
            pkey.clear_results(r["jobId"] for r in pkey.read_results())
            pkey.jobs = []
        return {"action": "report", "answer": answer}
    answer = await device.request(
        LOAD, {"programmingKeyUid": pkey.uid, "keyFirmware": pkey.firmware}
    )
    if answer.get("status") == "ok":
        pkey.load_jobs(answer.get("jobs") or [])
    return {"action": "load", "answer": answer}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hardware.sim wall program-key",
        description="a programming key is inserted in a simulated wall device (R17)",
    )
    parser.add_argument("--var-dir", type=Path, default=Path(os.environ.get("VAR_DIR", "var")))
    parser.add_argument("--state", type=Path, help="device file (default VAR_DIR/sim-devices.json)")
    parser.add_argument("--serial", required=True)
    parser.add_argument("--world", type=Path, required=True, help="the world holding the key")
    parser.add_argument("--uid", required=True, help="the programming key's UID")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    return parser


async def _run(args: argparse.Namespace, store: DeviceStore) -> dict[str, Any]:
    world = World.load(args.world)
    pkey = world.programming_key(args.uid)
    device = SimulatedWallDevice.from_state(args.url, store.get(args.serial))
    try:
        result = await insert_programming_key(device, pkey)
    finally:
        store.put(args.serial, device.state())
        await device.aclose()
    world.save(args.world)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hardware.sim wall program-key ...``: prints JSON."""
    args = _parser().parse_args(argv)
    store = DeviceStore(args.state or args.var_dir / "sim-devices.json")
    try:
        result = asyncio.run(_run(args, store))
    except DeviceRefused as exc:
        print(json.dumps({"error": {"status": exc.status, "code": exc.code,
                                    "message": exc.message}}), file=sys.stderr)
        return 1
    except (SimulatorError, SimError, httpx.HTTPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0
