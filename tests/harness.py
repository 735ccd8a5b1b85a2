"""Waiting, ports and child processes for the tests, with nothing of app/.

The hardware tests (the desk simulator, the bridge agent) and the server tests
share these. A deadline grows when the machine is busy (``patience``); a wait
polls for what it waits for and quotes a process's log when it gives up; no
port is chosen and then released (``listening_socket``, ``refused_port``); a
child process runs in a process group of its own and is always ended and reaped
(``LoggedProcess``).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30.0
# Seen: a load of 9 per core when several whole suites and stress-ng shared two cores.
MOST_PATIENCE = 12.0

T = TypeVar("T")


def patience(seconds: float) -> float:
    """``seconds`` stretched by how busy the machine is, at most ``MOST_PATIENCE`` times.

    The load average per core says how many processes compete for each one: on a
    machine running twice as many as it has cores, everything takes about twice as
    long, and a deadline meant for an idle machine would fail a test that is only slow.
    """
    busy = os.getloadavg()[0] / (os.cpu_count() or 1)
    return seconds * min(MOST_PATIENCE, max(1.0, busy))


def _timed_out(allowed: float, what: str, details: Callable[[], str] | None) -> AssertionError:
    told = f"\n{details()}" if details is not None else ""
    return AssertionError(f"timed out after {allowed:.0f}s waiting for {what}{told}")


async def eventually(
    condition: Callable[[], Awaitable[T] | T],
    what: str,
    seconds: float = TIMEOUT,
    details: Callable[[], str] | None = None,
) -> T:
    """Wait until ``condition()`` (sync or async) is truthy, and return that value;
    AssertionError naming ``what`` after ``seconds`` (stretched on a busy machine,
    ``patience``), quoting ``details()`` (a process's log)."""
    allowed = patience(seconds)
    deadline = time.monotonic() + allowed
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise _timed_out(allowed, what, details)
        await asyncio.sleep(0.1)


def wait_until(
    condition: Callable[[], T],
    what: str,
    seconds: float = TIMEOUT,
    details: Callable[[], str] | None = None,
) -> T:
    """``eventually`` for code without an event loop (fixtures, threads)."""
    allowed = patience(seconds)
    deadline = time.monotonic() + allowed
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise _timed_out(allowed, what, details)
        time.sleep(0.02)
    return value


# --- ports ---------------------------------------------------------------------------


def listening_socket() -> socket.socket:
    """A loopback TCP socket on a port the kernel chose, already listening.

    A server given this socket (in a thread, or inherited by a process) serves on a
    port no other process can have taken, and connections made before it accepts
    them wait in the backlog instead of being refused.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port where connections are refused for as long as the block runs.

    The port is bound but never listened on: nothing answers there, and no other
    process can start listening there meanwhile (as it could on a port merely
    found free and released).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


# --- processes ----------------------------------------------------------------------


class LoggedProcess:
    """A child process in a process group of its own, its output going to a log file.

    ``pass_fds``: descriptors the child inherits (a listening socket). ``close`` ends
    the process and whatever it started: SIGTERM to the group, a grace period, SIGKILL,
    and the process reaped (no zombie, nothing left running).
    """

    def __init__(
        self, argv: list[str], env: Mapping[str, str], log: Path, pass_fds: Sequence[int] = ()
    ) -> None:
        self.log = log
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=dict(env), stdout=self._out, stderr=subprocess.STDOUT,
            pass_fds=tuple(pass_fds), process_group=0,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(
                f"{self.log.name}: the process exited early ({self.process.returncode}):\n"
                f"{self.output()}"
            )
        return True

    def wait_logged(self, text: str, count: int = 1, seconds: float = TIMEOUT) -> None:
        """Wait until the process has written ``text`` (``count`` times); it must not exit."""
        wait_until(
            lambda: self.alive() and self.output().count(text) >= count,
            f"{self.log.name} to say {text!r}", seconds, details=self.output,
        )

    async def logged(self, text: str, count: int = 1, seconds: float = TIMEOUT) -> None:
        """``wait_logged`` without blocking the event loop."""
        await eventually(
            lambda: asyncio.to_thread(lambda: self.alive() and self.output().count(text) >= count),
            f"{self.log.name} to say {text!r}", seconds, details=self.output,
        )

    def signal(self, signum: int) -> int:
        """Send ``signum`` and wait for the process to end; its exit status."""
        self.process.send_signal(signum)
        allowed = patience(TIMEOUT)
        try:
            return self.process.wait(timeout=allowed)
        except subprocess.TimeoutExpired:
            self.close()
            raise AssertionError(
                f"{self.log.name}: still running {allowed:.0f}s after "
                f"{signal.Signals(signum).name}:\n{self.output()}"
            ) from None

    def close(self) -> None:
        """End the process and its group (SIGTERM, then SIGKILL after a grace period)."""
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=patience(10))
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait()
        # Whatever it started and left behind (a supervisor's workers) goes too.
        self._signal_group(signal.SIGKILL)
        self._out.close()

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass
