"""Benchmark: the desk link over a pty — frames/s, round-trip latency, loading 30 jobs (issue 5).

Starts the desk simulator (``python -m hardware.sim desk --pty``) once paced at
115200 baud (10 bit times per byte, as a real UART line) and once unpaced
(``--baud 0``: as fast as the pty and the two processes go), and measures in
the same run, over the same pty:

- the **baseline**: raw, unauthenticated ECHO frames (PROTOCOL.md §2.3) of the
  size of a small request frame — CRC framing only, no crypto, no JSON, no
  acknowledgements;
- the **link**: SLOTS requests through :class:`DeskClient` — an encrypted,
  acknowledged request, the encrypted answer, the PC's acknowledgement —
  round trips per second, latency p50/p99, frames per second on the line;
- **loading 30 programming jobs** (``WRITE_JOBS``, R17) onto a programming key,
  against the line time of the same bytes sent as ECHO frames (which the desk
  echoes back whole, so it moves twice the bytes) and the physical floor: the
  request's bytes at the line rate.

    .venv/bin/python -m bench.serial_link [--rounds 300] [--jobs 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import serial

from hardware.link.client import DeskClient
from hardware.link.framing import FrameDecoder, FrameType, seal_frame
from hardware.sim.control import ControlClient

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def start_desk(tmp: Path, baud: int) -> tuple[subprocess.Popen[str], str, ControlClient]:
    sock = tmp / f"desk-{baud}.sock"
    process = subprocess.Popen(
        [sys.executable, "-m", "hardware.sim", "desk", "--pty",
         "--world", str(tmp / f"world-{baud}.json"), "--control", str(sock),
         "--baud", str(baud)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    if not first.startswith("pty: "):
        raise SystemExit(f"the simulator did not start: {first!r}")
    process.stdout.readline()  # control: ...
    process.stdout.readline()  # identity: ...
    return process, first.split(": ", 1)[1].strip(), ControlClient(sock)


def echo_round_trips(port: str, sizes: list[int]) -> list[float]:
    """Send one ECHO frame per size, wait for its reply; the round-trip times."""
    line = serial.Serial(port, 115200, timeout=2, exclusive=True)
    decoder = FrameDecoder()
    times: list[float] = []
    try:
        for size in sizes:
            wire = seal_frame(bytes([FrameType.ECHO]) + os.urandom(size))
            started = time.perf_counter()
            line.write(wire)
            answered = False
            while not answered:
                data = line.read(line.in_waiting or 1)
                if not data:
                    raise SystemExit("no ECHO_REPLY within 2 s")
                answered = any(f[0] == FrameType.ECHO_REPLY for f in decoder.feed(data))
            times.append(time.perf_counter() - started)
    finally:
        line.close()
    return times


def thirty_jobs(count: int) -> list[dict[str, Any]]:
    """Jobs as the server loads them: a few access-list changes per cylinder."""
    return [
        {
            "jobId": f"UHJvZ3JhbW1pbmdKb2I6{i:06d}",
            "cylinderUid": f"CYL-{i:05d}",
            "fullReprogram": False,
            "changes": [
                {"op": "ADD", "keyUid": f"04A1B2C3{i:04X}", "groupId": None},
                {"op": "REMOVE", "keyUid": f"04FFEE01{i:04X}", "groupId": None},
                {"op": "ADD", "keyUid": None, "groupId": 100 + i},
            ],
            "accessList": None,
        }
        for i in range(count)
    ]


def measure(baud: int, rounds: int, job_count: int, tmp: Path) -> dict[str, Any]:
    process, pty, control = start_desk(tmp, baud)
    try:
        control.add_programming_key("P-BENCH", "PR-BENCH", None, "1234")
        control.insert("left", "P-BENCH")
        jobs = thirty_jobs(job_count)
        request = json.dumps(
            {"id": "0123456789abcdef", "op": "WRITE_JOBS", "args": {"slot": "left", "jobs": jobs}},
            separators=(",", ":"),
        ).encode()
        small = len(b'{"id":"0123456789abcdef","op":"SLOTS","args":{}}') + 16 + 12

        # Baseline, same pty, before the session: raw ECHO frames.
        echo = echo_round_trips(pty, [small] * rounds)
        chunks = [1024] * (len(request) // 1024) + [len(request) % 1024 or 1]
        echo_jobs = [sum(echo_round_trips(pty, chunks)) for _ in range(5)]

        with DeskClient.open(pty, baudrate=baud or 115200, timeout=1.0) as desk:
            desk.slots()  # warm up
            before = desk.stats.frames_sent + desk.stats.frames_received
            link: list[float] = []
            started = time.perf_counter()
            for _ in range(rounds):
                t0 = time.perf_counter()
                desk.slots()
                link.append(time.perf_counter() - t0)
            elapsed = time.perf_counter() - started
            frames = desk.stats.frames_sent + desk.stats.frames_received - before
            loads = []
            for _ in range(5):
                t0 = time.perf_counter()
                assert desk.write_jobs("left", jobs) == job_count
                loads.append(time.perf_counter() - t0)
            retransmissions = desk.stats.retransmissions
        return {
            "baud": baud,
            "echo_rps": len(echo) / sum(echo),
            "echo_p50": percentile(echo, 0.5),
            "echo_p99": percentile(echo, 0.99),
            "link_rps": rounds / elapsed,
            "link_p50": percentile(link, 0.5),
            "link_p99": percentile(link, 0.99),
            "link_fps": frames / elapsed,
            "echo_fps": 2 * len(echo) / sum(echo),
            "jobs": job_count,
            "request_bytes": len(request),
            "load_median": statistics.median(loads),
            "load_min": min(loads),
            "echo_jobs_median": statistics.median(echo_jobs),
            "floor": len(request) * 10 / baud if baud else None,
            "retransmissions": retransmissions,
        }
    finally:
        control.close()
        process.terminate()
        process.wait(timeout=10)


def report(r: dict[str, Any]) -> None:
    name = f"{r['baud']} baud (paced)" if r["baud"] else "full speed (unpaced pty)"
    ms = 1000.0
    print(f"\n== {name} ==")
    print(
        f"baseline raw ECHO   : {r['echo_rps']:8.1f} round trips/s  {r['echo_fps']:8.1f} frames/s"
        f"  p50 {r['echo_p50'] * ms:7.2f} ms  p99 {r['echo_p99'] * ms:7.2f} ms"
    )
    print(
        f"link SLOTS request  : {r['link_rps']:8.1f} round trips/s  {r['link_fps']:8.1f} frames/s"
        f"  p50 {r['link_p50'] * ms:7.2f} ms  p99 {r['link_p99'] * ms:7.2f} ms"
    )
    print(
        f"  ratio link/baseline: throughput x{r['link_rps'] / r['echo_rps']:.2f}, "
        f"p50 latency x{r['link_p50'] / r['echo_p50']:.2f}"
    )
    print(
        f"load {r['jobs']} jobs         : median {r['load_median'] * ms:8.1f} ms "
        f"(min {r['load_min'] * ms:.1f} ms) for a {r['request_bytes']}-byte request"
    )
    print(
        f"  baseline: same bytes as ECHO frames (echoed back) {r['echo_jobs_median'] * ms:8.1f} ms"
        f", ratio x{r['load_median'] / r['echo_jobs_median']:.2f}"
    )
    if r["floor"]:
        print(
            f"  floor: the request's bytes at {r['baud']} baud {r['floor'] * ms:8.1f} ms, "
            f"ratio x{r['load_median'] / r['floor']:.2f}"
        )
    print(f"  retransmissions during the run: {r['retransmissions']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=300, help="round trips per measurement")
    parser.add_argument("--jobs", type=int, default=30, help="programming jobs to load")
    parser.add_argument("--bauds", default="115200,0", help="line rates to measure (0: unpaced)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kw-serial-bench-") as tmp:
        for baud in (int(b) for b in options.bauds.split(",")):
            report(measure(baud, options.rounds, options.jobs, Path(tmp)))


if __name__ == "__main__":
    main()
