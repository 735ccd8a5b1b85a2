"""A graphql-transport-ws client: the bridge's one outbound WebSocket to the server.

The protocol (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md):
the client sends ``connection_init`` (here with the bridge's signed identity,
interfaces section 4) and waits for ``connection_ack``; each operation is a
``subscribe`` with a client-chosen id, answered by ``next`` messages and a
``complete`` (or one ``error``); ``ping`` is answered with ``pong``. The
subscription ``bridgeCommands`` and the ``reportBridgeCommand`` mutations share
the connection, each with its own id.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")
MAX_MESSAGE_BYTES = 32 * 1024 * 1024  # a key firmware image may come inline, base64
FORBIDDEN = 4403  # the server refused the connection_init (bad signature, replay, revoked)


class TransportError(Exception):
    """The connection could not be opened, or it closed."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class ConnectionRefused(TransportError):
    """The server closed the connection during the handshake (e.g. 4403 Forbidden)."""


class OperationFailed(Exception):
    """The server answered an operation with ``error``: this operation will not succeed."""

    def __init__(self, errors: Any) -> None:
        messages = [e.get("message", str(e)) for e in errors] if isinstance(errors, list) else []
        super().__init__("; ".join(messages) or str(errors))
        self.errors = errors


_CLOSED = object()


class GraphQLConnection:
    """An acknowledged graphql-transport-ws connection with its reader task."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._ops: dict[str, asyncio.Queue[Any]] = {}
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None
        self._closed: TransportError | None = None

    @classmethod
    async def connect(
        cls,
        url: str,
        init_payload: dict[str, Any],
        *,
        open_timeout: float = 10.0,
        ack_timeout: float = 10.0,
    ) -> GraphQLConnection:
        """Open the WebSocket, send connection_init and wait for connection_ack."""
        try:
            ws = await connect(
                url, subprotocols=[PROTOCOL], open_timeout=open_timeout,
                max_size=MAX_MESSAGE_BYTES, ping_interval=20, ping_timeout=20,
            )
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            raise TransportError(f"cannot connect to {url}: {exc or type(exc).__name__}") from exc
        if ws.subprotocol != PROTOCOL:
            await ws.close()
            raise TransportError(f"{url} does not speak {PROTOCOL}")
        connection = cls(ws)
        try:
            await ws.send(json.dumps({"type": "connection_init", "payload": init_payload}))
            async with asyncio.timeout(ack_timeout):
                while True:
                    message = json.loads(await ws.recv())
                    if message.get("type") == "connection_ack":
                        break
                    if message.get("type") == "ping":
                        await ws.send(json.dumps({"type": "pong"}))
        except ConnectionClosed as exc:
            code, reason = _close_of(exc)
            raise ConnectionRefused(
                _describe("the server refused the connection", code, reason), code
            ) from None
        except TimeoutError:
            await ws.close()
            raise TransportError("no connection_ack from the server") from None
        connection._reader = asyncio.create_task(connection._read(), name="graphql-ws-reader")
        return connection

    @property
    def closed(self) -> bool:
        return self._closed is not None

    async def wait_closed(self) -> TransportError:
        """Wait until the connection ends; why it ended."""
        assert self._reader is not None
        await asyncio.shield(self._reader)
        assert self._closed is not None
        return self._closed

    async def close(self) -> None:
        await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await self._ws.send(json.dumps({"type": "pong"}))
                elif kind in ("next", "error", "complete"):
                    queue = self._ops.get(message.get("id"))
                    if queue is not None:
                        queue.put_nowait(message)
            code, reason = _close_of(None, self._ws)
            self._closed = TransportError(_describe("connection closed", code, reason), code)
        except ConnectionClosed as exc:
            code, reason = _close_of(exc)
            self._closed = TransportError(_describe("connection lost", code, reason), code)
        except (json.JSONDecodeError, AttributeError) as exc:
            self._closed = TransportError(f"malformed message from the server: {exc}")
            await self._ws.close(1002)
        finally:
            if self._closed is None:
                self._closed = TransportError("connection closed")
            for queue in self._ops.values():
                queue.put_nowait(_CLOSED)

    def _open_operation(self, query: str, variables: dict[str, Any] | None) -> tuple[
        str, asyncio.Queue[Any], dict[str, Any]
    ]:
        if self._closed is not None:
            raise self._closed
        op_id = str(next(self._ids))
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._ops[op_id] = queue
        message = {"id": op_id, "type": "subscribe",
                   "payload": {"query": query, "variables": variables or {}}}
        return op_id, queue, message

    async def _send(self, message: dict[str, Any]) -> None:
        try:
            await self._ws.send(json.dumps(message))
        except ConnectionClosed as exc:
            code, reason = _close_of(exc)
            raise TransportError(_describe("connection lost", code, reason), code) from None

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Start a subscription; an iterator of its ``next`` payloads (``data``/``errors``).

        It ends on ``complete``, raises :class:`OperationFailed` on ``error`` and
        :class:`TransportError` when the connection ends.
        """
        op_id, queue, message = self._open_operation(query, variables)
        await self._send(message)
        return self._iterate(op_id, queue)

    async def _iterate(
        self, op_id: str, queue: asyncio.Queue[Any]
    ) -> AsyncIterator[dict[str, Any]]:
        try:
            while True:
                message = await queue.get()
                if message is _CLOSED:
                    assert self._closed is not None
                    raise self._closed
                if message["type"] == "next":
                    yield message.get("payload") or {}
                elif message["type"] == "error":
                    raise OperationFailed(message.get("payload"))
                else:
                    return
        finally:
            self._ops.pop(op_id, None)

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, wait: float = 30.0
    ) -> dict[str, Any]:
        """Run a single-result operation (a mutation) over the socket; its payload.

        Raises :class:`OperationFailed` (``error``), :class:`TransportError`, TimeoutError.
        """
        op_id, queue, message = self._open_operation(query, variables)
        result: dict[str, Any] | None = None
        try:
            await self._send(message)
            async with asyncio.timeout(wait):
                while True:
                    answer = await queue.get()
                    if answer is _CLOSED:
                        assert self._closed is not None
                        raise self._closed
                    if answer["type"] == "next":
                        result = answer.get("payload") or {}
                    elif answer["type"] == "error":
                        raise OperationFailed(answer.get("payload"))
                    else:
                        break
        finally:
            self._ops.pop(op_id, None)
        if result is None:
            raise OperationFailed([{"message": "the operation completed without a result"}])
        return result


def _close_of(
    exc: ConnectionClosed | None, ws: ClientConnection | None = None
) -> tuple[int | None, str]:
    """The close code and reason the server sent, if it sent a close frame."""
    close = exc.rcvd if exc is not None else (ws.close_rcvd if ws is not None else None)
    if close is None:
        return None, ""
    return close.code, close.reason


def _describe(what: str, code: int | None, reason: str) -> str:
    if code is None:
        return f"{what} (no close frame)"
    return f"{what} ({code}{' ' + reason if reason else ''})"
