"""``python -m hardware.bridge``: the same command line as ``keywarden-bridge``."""

from __future__ import annotations

import sys

from hardware.bridge.cli import main

if __name__ == "__main__":
    sys.exit(main())
