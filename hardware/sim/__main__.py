"""``python -m hardware.sim``: the simulators' command line.

- ``wall ...`` — the simulated wall programming device (``hardware.sim.wall_device``);
  ``wall program-key ...`` — a programming key inserted there, its jobs loaded or its
  results reported (``hardware.sim.wall_programming``, R17);
- ``desk --pty --world <file> [--control <socket>] [--baud 115200]`` — the simulated desk
  programming device serving hardware/PROTOCOL.md on a pseudo-terminal
  (``hardware.sim.desk_cli``); prints ``pty: /dev/pts/N`` first.
"""

from __future__ import annotations

import sys

USAGE = (
    "usage: python -m hardware.sim wall {new,heartbeat,insert-key,program-key} ... "
    "(--help for more)\n"
    "       python -m hardware.sim desk --pty --world FILE [--control SOCKET] [--baud N]"
)


def main(argv: list[str]) -> int:
    if argv[:2] == ["wall", "program-key"]:
        from hardware.sim.wall_programming import main as program_key_main

        return program_key_main(argv[2:])
    if argv and argv[0] == "wall":
        from hardware.sim.wall_device import main as wall_main

        return wall_main(argv[1:])
    if argv and argv[0] == "desk":
        from hardware.sim.desk_cli import run

        return run(argv[1:])
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
