"""``python -m hardware.sim wall ...``: the simulated wall programming device's command line."""

from __future__ import annotations

import sys

USAGE = "usage: python -m hardware.sim wall {new,heartbeat,insert-key} ... (--help for more)"


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "wall":
        print(USAGE, file=sys.stderr)
        return 2
    from hardware.sim.wall_device import main as wall_main

    return wall_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
