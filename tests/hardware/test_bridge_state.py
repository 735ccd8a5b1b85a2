"""The bridge agent's state directory, command line and status (issue 5): the device key is
private (0600 in a 0700 directory) and refused when it is not, enrolment happens once, and
``status`` tells a person (or a script, ``--json``) what the running service is doing.

The agent runs as a real process here; the server is unreachable and the serial port
missing, which it must survive (retrying with back-off) and show in its status.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hardware.bridge.state import ConfigError, Enrolment, StateDir, public_key_b64
from tests.harness import LoggedProcess, patience, refused_port, wait_until

ROOT = Path(__file__).resolve().parents[2]


def bridge(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``python -m hardware.bridge ARGS`` to completion."""
    return subprocess.run([sys.executable, "-m", "hardware.bridge", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=patience(timeout))


def enrolled_state(path: Path, server: str = "http://127.0.0.1:9") -> StateDir:
    """A state directory as ``enrol`` leaves it (for tests that need no server)."""
    state = StateDir(path)
    state.ensure()
    key = Ed25519PrivateKey.generate()
    state.store_private_key(key)
    state.store_enrolment(Enrolment(
        server=server, tenant_id="6f1f3c1e-5b7e-4a57-9a53-1b1d8f0f2a10",
        bridge_id="QnJpZGdlOjE=", name="front desk", public_key=public_key_b64(key),
        enrolled_at="2025-01-01T00:00:00+00:00",
    ))
    return state


def status_json(state: StateDir) -> dict[str, Any]:
    done = bridge("status", "--state-dir", str(state.path), "--json")
    report: dict[str, Any] = json.loads(done.stdout)
    report["exit"] = done.returncode
    return report


@pytest.fixture
def agent_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], StateDir, Path]]:
    """A running agent whose server refuses connections and whose serial port is missing."""
    with refused_port() as port:
        state = enrolled_state(tmp_path / "state", server=f"http://127.0.0.1:{port}")
        agent = LoggedProcess(
            [sys.executable, "-m", "hardware.bridge", "run", "--state-dir", str(state.path),
             "--port", str(tmp_path / "no-such-tty"), "--max-backoff", "1"],
            os.environ, tmp_path / "agent.log",
        )
        try:
            yield agent.process, state, agent.log
        finally:
            agent.close()


# --- the key and the state directory ------------------------------------------------------


def test_the_private_key_is_stored_0600_in_a_0700_directory(tmp_path: Path) -> None:
    state = enrolled_state(tmp_path / "state")
    assert stat.S_IMODE(state.path.stat().st_mode) == 0o700
    assert stat.S_IMODE(state.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.config_path.stat().st_mode) == 0o600
    assert state.key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    # no temporary files are left behind by the atomic writes
    assert sorted(p.name for p in state.path.iterdir()) == ["bridge.json", "bridge.key"]
    key = state.load_private_key()
    assert public_key_b64(key) == state.load_enrolment().public_key  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_key_file_readable_by_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    # given: an enrolled bridge whose key someone made readable to others
    state = enrolled_state(tmp_path / "state")
    os.chmod(state.key_path, mode)
    # then: the library refuses to load it ...
    with pytest.raises(ConfigError, match="chmod 600"):
        state.load_private_key()
    # ... and the service refuses to start, with the fix in its message and a non-zero exit
    done = bridge("run", "--state-dir", str(state.path), "--port", "/dev/null")
    assert done.returncode == 2
    assert "readable or writable by group/others" in done.stderr
    assert "chmod 600" in done.stderr


def test_running_without_enrolment_is_a_clear_fatal_error(tmp_path: Path) -> None:
    done = bridge("run", "--state-dir", str(tmp_path / "nothing"), "--port", "/dev/null")
    assert done.returncode == 2
    assert "enrol first" in done.stderr


def test_a_second_enrolment_is_refused_without_force(tmp_path: Path) -> None:
    state = enrolled_state(tmp_path / "state")
    key_before = state.key_path.read_bytes()
    done = bridge("enrol", "--state-dir", str(state.path), "--server", "http://127.0.0.1:9",
                  "--tenant", "t", "--code", "AAAA-BBBB")
    assert done.returncode == 2
    assert "already enrolled" in done.stderr and "--force" in done.stderr
    assert state.key_path.read_bytes() == key_before


def test_an_enrolment_the_server_cannot_take_leaves_no_key_behind(tmp_path: Path) -> None:
    # when: the server cannot be reached
    state_dir = tmp_path / "state"
    with refused_port() as port:
        done = bridge("enrol", "--state-dir", str(state_dir), "--server",
                      f"http://127.0.0.1:{port}", "--tenant", "t", "--code", "AAAA-BBBB")
    # then: a clear failure, and nothing that looks enrolled
    assert done.returncode == 1
    assert "enrolment failed: cannot reach" in done.stderr
    assert sorted(p.name for p in state_dir.iterdir()) == []
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700


# --- the running service and its status ---------------------------------------------------


def test_status_shows_a_running_agent_its_link_problems_and_queue(
    agent_process: tuple[subprocess.Popen[bytes], StateDir, Path],
) -> None:
    process, state, log_path = agent_process
    # when: the service has tried both the server and the serial port
    report = wait_until(
        lambda: (r := status_json(state))["service"]
        and (r["service"].get("server") or {}).get("lastError")
        and (r["service"].get("serial") or {}).get("state") == "error"
        and r,
        "the agent to report both link problems",
        10,
    )
    # then: --json says who the bridge is and that it runs, and why it is not connected
    assert report["exit"] == 0
    assert report["running"] is True and report["pid"] == process.pid
    assert report["enrolment"]["bridgeId"] == "QnJpZGdlOjE="
    assert report["enrolment"]["tenantId"] == "6f1f3c1e-5b7e-4a57-9a53-1b1d8f0f2a10"
    service = report["service"]
    assert service["server"]["connected"] is False
    assert "cannot connect" in service["server"]["lastError"]
    assert service["serial"]["port"].endswith("no-such-tty")
    assert service["queuedReports"] == 0
    assert service["lastCommand"] is None
    # and: the human form says the same in words
    text = bridge("status", "--state-dir", str(state.path)).stdout
    assert "bridge QnJpZGdlOjE= of tenant 6f1f3c1e-5b7e-4a57-9a53-1b1d8f0f2a10" in text
    assert f"running (pid {process.pid}" in text
    assert "server link:   not connected: cannot connect" in text
    assert "no-such-tty error" in text
    assert "queued reports: 0" in text
    # and: it keeps retrying the server with back-off, saying so
    wait_until(
        lambda: log_path.read_text().count("reconnecting in") >= 2,
        "two reconnection attempts",
        10,
    )
    # and: a second service on the same state directory is refused
    second = bridge("run", "--state-dir", str(state.path), "--port", "/dev/null")
    assert second.returncode == 2
    assert "already running" in second.stderr and str(process.pid) in second.stderr


def test_sigterm_stops_the_agent_cleanly_and_status_says_it_is_not_running(
    agent_process: tuple[subprocess.Popen[bytes], StateDir, Path],
) -> None:
    process, state, log_path = agent_process
    wait_until(lambda: status_json(state)["running"], "the agent to run", 10)
    # when: systemd stops the service
    process.send_signal(signal.SIGTERM)
    # then: it exits 0 promptly
    assert process.wait(patience(15)) == 0
    assert "stopped (0 reports still queued)" in log_path.read_text()
    # and: status reports it stopped (exit 3, as systemctl does), with when it was last seen
    report = status_json(state)
    assert report["exit"] == 3
    assert report["running"] is False and report["pid"] is None
    assert report["service"]["stoppedAt"]
    assert "service:       not running (last seen" in bridge(
        "status", "--state-dir", str(state.path)).stdout


def test_status_of_a_bridge_never_enrolled(tmp_path: Path) -> None:
    done = bridge("status", "--state-dir", str(tmp_path / "none"))
    assert done.returncode == 3
    assert "enrolled:      no" in done.stdout
    assert "service:       not running" in done.stdout
