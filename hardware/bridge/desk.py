"""The desk programming device on the serial port, kept open by the agent (R22).

:class:`hardware.link.client.DeskClient` is synchronous; every call runs in one
dedicated worker thread (the link is a single conversation, so calls are
serialised there as well as by an asyncio lock). When the port fails — the
cable is pulled, the device resets, a frame is tampered with — the client is
dropped and the port reopened with back-off; while idle the agent polls the
device's key inserted/removed events, which also notices a dead port early.

The desk device's identity is pinned on first use in ``known_desks.json`` of the
state directory (PROTOCOL.md §3.4): another device answering on the cable later
is refused (logged, retried) until a person trusts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hardware.bridge.backoff import Backoff

log = logging.getLogger("keywarden.bridge.desk")
EVENT_POLL_SECONDS = 0.2
SLOTS = ("left", "right")


class DeskFailure(Exception):
    """A desk command failed: the device's error code (NO_KEY, WRONG_PIN, KEY_LOCKED,
    UNSUPPORTED, MEMORY_FULL, BAD_REQUEST, BUSY) or LINK when the serial link failed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def link(self) -> bool:
        """The link failed (not the device refusing): the command may be retried after reopening."""
        return self.code == "LINK"


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Desk:
    """The serial port with the desk device behind it, as the agent sees it."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 115200,
        timeout: float = 1.0,
        backoff: Backoff | None = None,
        on_change: Callable[[], None] | None = None,
        known_desks: Path | None = None,
    ) -> None:
        self.port = port
        self.known_desks = known_desks
        self.baudrate = baudrate
        self.timeout = timeout
        self.backoff = backoff or Backoff(base=0.5, cap=30.0, stable_after=10.0)
        self.on_change = on_change or (lambda: None)
        self.client: Any | None = None
        self.state = "closed"  # closed | open | error
        self.since: str | None = None
        self.info: dict[str, Any] | None = None
        self.slots: dict[str, Any] = {}
        self.last_error: str | None = None
        self._opened_at = 0.0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desk")
        self._lock = asyncio.Lock()
        self._open = asyncio.Event()
        self._link: Any = None

    # --- the link module (hardware.link), imported when first needed ------------------------

    def _link_module(self) -> Any:
        if self._link is None:
            self._link = importlib.import_module("hardware.link.client")
        return self._link

    async def _in_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, functools.partial(fn, *args, **kwargs))

    def _failure(self, exc: BaseException) -> DeskFailure:
        """Our form of a DeskClient error; OSError (pyserial) counts as the link failing."""
        link = self._link_module()
        if isinstance(exc, link.LinkError):
            return DeskFailure("LINK", exc.message)
        if isinstance(exc, link.DeskError):
            return DeskFailure(exc.code, exc.message)
        return DeskFailure("LINK", f"{type(exc).__name__}: {exc}")

    # --- keeping the port open ----------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.client is not None

    async def wait_open(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the port to be open; whether it is."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._open.wait()
        return self.is_open

    async def maintain(self, stopping: asyncio.Event) -> None:
        """Until ``stopping``: open the port (with back-off), then poll key events while idle."""
        while not stopping.is_set():
            if self.client is None:
                if not await self._try_open():
                    delay = self.backoff.next_delay()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await stopping.wait()
                continue
            await self._poll_event()
            await asyncio.sleep(0)  # let a waiting command take the lock

    async def _try_open(self) -> bool:
        async with self._lock:
            try:
                link = self._link_module()
                client = await self._in_thread(
                    link.DeskClient.open, self.port, baudrate=self.baudrate,
                    timeout=self.timeout, known_desks=self.known_desks,
                )
            except Exception as exc:
                message = f"{type(exc).__name__}: {exc}"
                if self.state != "error" or message != self.last_error:
                    log.warning("desk device on %s unavailable: %s", self.port, message)
                self._set_state("error", message)
                return False
            try:
                self.info = await self._in_thread(client.info)
                self.slots = await self._in_thread(client.slots)
            except Exception as exc:
                await self._in_thread(_close_quietly, client)
                self._set_state("error", f"{type(exc).__name__}: {exc}")
                log.warning("desk device on %s did not answer: %s", self.port, exc)
                return False
            self.client = client
            self._opened_at = time.monotonic()
            self._open.set()
            self._set_state("open", None)
            info = self.info or {}
            log.info(
                "serial port %s open: desk device %s serial %s firmware %s",
                self.port, info.get("model"), info.get("serial"), info.get("firmware"),
            )
            return True

    async def _poll_event(self) -> None:
        async with self._lock:
            client = self.client
            if client is None:
                return
            try:
                event = await self._in_thread(client.next_event, EVENT_POLL_SECONDS)
            except Exception as exc:
                await self._lost(exc)
                return
        if event:
            self._on_event(event)

    def _on_event(self, event: dict[str, Any]) -> None:
        slot = event.get("slot")
        if event.get("event") == "KEY_INSERTED" and slot in SLOTS:
            self.slots[slot] = {"kind": event.get("kind"), "uid": event.get("uid")}
            log.info("%s key %s inserted in the %s slot", event.get("kind"), event.get("uid"), slot)
        elif event.get("event") == "KEY_REMOVED" and slot in SLOTS:
            self.slots[slot] = None
            log.info("key removed from the %s slot", slot)
        self.on_change()

    async def _lost(self, exc: BaseException) -> None:
        """The port failed: drop the client (the caller holds the lock)."""
        client, self.client = self.client, None
        self._open.clear()
        self.slots = {}
        self.backoff.connection_lasted(time.monotonic() - self._opened_at)
        message = f"{type(exc).__name__}: {exc}"
        log.warning("serial link to the desk device on %s lost: %s", self.port, message)
        self._set_state("error", message)
        if client is not None:
            await self._in_thread(_close_quietly, client)

    def _set_state(self, state: str, error: str | None) -> None:
        if state != self.state:
            self.since = _now()
        self.state = state
        self.last_error = error
        self.on_change()

    # --- commands ---------------------------------------------------------------------------

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call DeskClient.``name``; a :class:`DeskFailure` on any error (LINK if the port died)."""
        async with self._lock:
            client = self.client
            if client is None:
                raise DeskFailure(
                    "LINK", f"the desk device on {self.port} is not connected"
                    + (f" ({self.last_error})" if self.last_error else "")
                )
            try:
                answer = await self._in_thread(getattr(client, name), *args, **kwargs)
            except Exception as exc:
                failure = self._failure(exc)
                if failure.link:
                    await self._lost(exc)
                raise failure from exc
            if name == "slots" and isinstance(answer, dict):
                self.slots = dict(answer)
            return answer

    async def close(self) -> None:
        """Close the port and stop the worker thread."""
        async with self._lock:
            client, self.client = self.client, None
            self._open.clear()
            if client is not None:
                await self._in_thread(_close_quietly, client)
            self._set_state("closed", None)
        self._thread.shutdown(wait=False, cancel_futures=True)


def _close_quietly(client: Any) -> None:
    with contextlib.suppress(Exception):
        client.close()
