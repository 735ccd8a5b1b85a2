"""``keywarden-bridge status``: is this bridge enrolled, is its service running, how is it doing.

The running agent holds an exclusive ``flock`` on ``agent.lock`` (with its pid
inside) and rewrites ``status.json`` whenever something changes: since when it
is connected to the server, the serial port's state, how many reports wait in
the queue, the last command. ``status`` reads both without disturbing the
service; a status file without a held lock is what a stopped agent last saw.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from datetime import UTC, datetime
from typing import Any

from hardware.bridge.state import ConfigError, StateDir, write_atomically

EXIT_RUNNING = 0
EXIT_NOT_RUNNING = 3  # as systemctl/LSB status: "program is not running"


class AgentLock:
    """The running agent's lock: one service per state directory."""

    def __init__(self, state: StateDir) -> None:
        self.path = state.lock_path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise ConfigError naming the pid that holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                pid = running_pid(StateDir(self.path.parent))
                raise ConfigError(
                    f"another bridge agent (pid {pid}) is already running with "
                    f"{self.path.parent}"
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the flock
            self._fd = None


def running_pid(state: StateDir) -> int | None:
    """The pid of the agent running with ``state``, or None if none runs."""
    try:
        fd = os.open(state.lock_path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            text = os.pread(fd, 32, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class StatusFile:
    """The running agent's view of itself, rewritten atomically on every change."""

    def __init__(self, state: StateDir) -> None:
        self.path = state.status_path
        self.data: dict[str, Any] = {}

    def update(self, **fields: Any) -> None:
        self.data.update(fields)
        self.data["updatedAt"] = datetime.now(UTC).isoformat()
        text = json.dumps(self.data, indent=2, default=str) + "\n"
        write_atomically(self.path, text.encode(), 0o600, durable=False)


def collect(state: StateDir) -> dict[str, Any]:
    """Everything ``status`` shows, as one JSON-ready dict."""
    report: dict[str, Any] = {"stateDir": str(state.path)}
    try:
        enrolment = state.load_enrolment()
    except ConfigError as exc:
        enrolment = None
        report["problem"] = str(exc)
    report["enrolled"] = enrolment is not None
    if enrolment is not None:
        report["enrolment"] = {
            "tenantId": enrolment.tenant_id, "bridgeId": enrolment.bridge_id,
            "server": enrolment.server, "name": enrolment.name,
            "enrolledAt": enrolment.enrolled_at,
        }
    pid = running_pid(state) if state.path.is_dir() else None
    report["running"] = pid is not None
    report["pid"] = pid
    try:
        report["service"] = json.loads(state.status_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        report["service"] = None
    return report


def render(report: dict[str, Any]) -> str:
    """The human-readable form of :func:`collect`."""
    lines = [f"Keywarden bridge agent — state in {report['stateDir']}"]
    enrolment = report.get("enrolment")
    if enrolment:
        lines.append(
            f"  enrolled:      bridge {enrolment['bridgeId']} of tenant {enrolment['tenantId']}"
            f" ({enrolment['name']}), server {enrolment['server']}"
        )
    else:
        lines.append("  enrolled:      no (run: keywarden-bridge enrol --server URL "
                     "--tenant ID --code CODE)")
    if report.get("problem"):
        lines.append(f"  problem:       {report['problem']}")
    service = report.get("service") or {}
    if report["running"]:
        lines.append(f"  service:       running (pid {report['pid']}, "
                     f"since {service.get('startedAt', '?')})")
    else:
        stopped = service.get("stoppedAt") or service.get("updatedAt")
        lines.append("  service:       not running"
                     + (f" (last seen {stopped})" if stopped else ""))
    if service:
        server = service.get("server") or {}
        if server.get("connected"):
            lines.append(f"  server link:   connected since {server.get('since')}")
        else:
            detail = f": {server['lastError']}" if server.get("lastError") else ""
            lines.append(f"  server link:   not connected{detail}")
        serial = service.get("serial") or {}
        if serial:
            text = f"  serial port:   {serial.get('port')} {serial.get('state')}"
            if serial.get("since"):
                text += f" since {serial['since']}"
            if serial.get("lastError"):
                text += f" ({serial['lastError']})"
            lines.append(text)
            slots = serial.get("slots") or {}
            if serial.get("state") == "open":
                shown = ", ".join(
                    f"{slot}: {(key or {}).get('kind', '?')} {(key or {}).get('uid', '?')}"
                    if key else f"{slot}: empty"
                    for slot, key in sorted(slots.items())
                )
                lines.append(f"  desk slots:    {shown or 'unknown'}")
        lines.append(f"  queued reports: {service.get('queuedReports', 0)}"
                     + (f" ({service['rejectedReports']} refused by the server)"
                        if service.get("rejectedReports") else ""))
        last = service.get("lastCommand")
        if last:
            outcome = "ok" if last.get("ok") else f"failed {last.get('errorCode')}"
            lines.append(f"  last command:  {last.get('kind')} {last.get('id')} {outcome} "
                         f"at {last.get('at')}")
        else:
            lines.append("  last command:  none")
    return "\n".join(lines)
