"""``python -m hardware.sim desk``: a simulated desk device on a pty, with its control socket.

The device itself is :class:`hardware.sim.desk.DeskDevice`; the control socket
(:mod:`hardware.sim.control`) lets tests act on the world the device sits in
(insert keys, try cylinders). This module starts both, so neither of them has
to know the other's module.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from hardware.sim.control import ControlServer
from hardware.sim.desk import DeskDevice, load_identity
from hardware.sim.world import World


def point_link(link: Path, target: str) -> None:
    """Point ``link`` at ``target``, replacing it in one step (a reader never finds it missing)."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)


def run(argv: list[str]) -> int:
    """``python -m hardware.sim desk``: serve a desk device on a pty until killed."""
    parser = argparse.ArgumentParser(
        prog="python -m hardware.sim desk",
        description="Serve a simulated desk programming device on a pseudo-terminal.",
    )
    parser.add_argument("--pty", action="store_true", required=True,
                        help="serve on a new pseudo-terminal (the only transport)")
    parser.add_argument("--world", type=Path, required=True,
                        help="the simulator's world file (created if missing)")
    parser.add_argument("--control", type=Path, help="Unix socket for control commands")
    parser.add_argument("--baud", type=int, default=0,
                        help="emulate this line rate (10 bits per byte); 0: as fast as the pty")
    parser.add_argument("--serial", default="DPD-SIM-0001", help="the device's serial number")
    parser.add_argument("--link", type=Path,
                        help="keep this symlink pointing at the current pty, as /dev/serial/by-id "
                             "names a USB serial device whatever ttyUSBn it gets after a replug")
    parser.add_argument("--identity", type=Path,
                        help="the device's Ed25519 identity key file (default: <world>.desk-key)")
    options = parser.parse_args(argv)
    if options.baud < 0:
        parser.error("--baud must be 0 or more")

    world = World.load(options.world, missing_ok=True)
    identity = load_identity(options.identity or options.world.with_name(
        options.world.name + ".desk-key"))
    out_lock = threading.Lock()

    def announce(path: str) -> None:
        if options.link is not None:
            point_link(options.link, path)
        with out_lock:
            print(f"pty: {path}", flush=True)

    device = DeskDevice(
        world,
        world_path=options.world,
        identity=identity,
        serial=options.serial,
        baud=options.baud,
        on_pty=announce,
    )
    device.save()
    device.plug()
    control = None
    if options.control is not None:
        control = ControlServer(options.control, device)
        control.start()
    with out_lock:
        if control is not None:
            print(f"control: {options.control}", flush=True)
        print(f"identity: {device.fingerprint}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        if control is not None:
            control.stop()
        device.unplug()
    print("desk simulator stopped", file=sys.stderr, flush=True)
    return 0
