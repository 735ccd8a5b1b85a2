"""The bridge agent installs alone on a customer's PC (hardware/pyproject.toml).

A fresh virtual environment without system site packages gets
``pip install`` of a copy of ``hardware/`` (from the same package index as the
development install, with the root lock file's pins as constraints when there
is one); ``keywarden-bridge --help`` must then work and none of the server's
dependencies may be importable there.

This installs packages and does not touch a database: it runs in the SQLite
pass of ``make test`` only, not again in the PostgreSQL pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER_ONLY = ("sqlalchemy", "asyncpg", "dramatiq", "strawberry", "app", "hardware.sim")
AGENT_NEEDS = ("serial", "cryptography", "websockets", "httpx", "hardware.wire")

pytestmark = pytest.mark.skipif(
    os.environ.get("KEYWARDEN_TEST_DB") == "postgres",
    reason="installs packages, no database: the SQLite pass runs it",
)


def _lock_files() -> list[Path]:
    """The root project's pinned versions, when the repository has a lock file."""
    return sorted({*ROOT.glob("requirements*.lock"), *ROOT.glob("constraints*.txt")})


def _run(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    # A clean environment: no PYTHONPATH or virtualenv of the test run leaks in.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_bridge_installs_into_an_empty_venv_without_the_server(tmp_path: Path) -> None:
    # given: a copy of hardware/ (so the build leaves nothing in the checkout) and an empty
    # virtual environment
    source = tmp_path / "src" / "hardware"
    skip = shutil.ignore_patterns("__pycache__", "build", "*.egg-info")
    shutil.copytree(ROOT / "hardware", source, ignore=skip)
    # Commands run in an empty directory: Python puts the working directory on sys.path,
    # and the copy of hardware/ must not be importable from there.
    here = tmp_path / "elsewhere"
    here.mkdir()
    venv = tmp_path / "venv"
    made = _run(sys.executable, "-m", "venv", venv, cwd=here)
    assert made.returncode == 0, made.stderr
    python, bridge = venv / "bin" / "python", venv / "bin" / "keywarden-bridge"
    constraints = [arg for lock in _lock_files() for arg in ("-c", str(lock))]

    # when: the agent's distribution is installed there
    installed = _run(
        python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *constraints, source,
        cwd=here,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    # then: the command runs and prints its usage
    helped = _run(bridge, "--help", cwd=here)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: keywarden-bridge")
    for command in ("enrol", "run", "status"):
        assert command in helped.stdout
    # and: what the agent imports is there, the server and the simulators are not
    probe = (
        "import importlib.util, sys\n"
        "def found(name):\n"
        "    try:\n"
        "        return importlib.util.find_spec(name) is not None\n"
        "    except ModuleNotFoundError:\n"
        "        return False\n"
        "print(' '.join(n for n in sys.argv[1:] if found(n)))\n"
    )
    present = _run(python, "-c", probe, *SERVER_ONLY, *AGENT_NEEDS, cwd=here)
    assert present.returncode == 0, present.stderr
    assert present.stdout.split() == list(AGENT_NEEDS)
    # and: the agent's own modules all import there (a stray server import would fail here)
    agent = _run(
        python, "-c",
        "import hardware.bridge.agent, hardware.bridge.cli, hardware.link.client, "
        "hardware.link.server",
        cwd=here,
    )
    assert agent.returncode == 0, agent.stderr
