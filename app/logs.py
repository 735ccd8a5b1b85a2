"""Logging of the server and its workers, and the line per request.

The set-up is the one every Keywarden process shares (``hardware.logconfig``):
plain text, or JSON lines with ``KEYWARDEN_LOG_FORMAT=json``, at
``KEYWARDEN_LOG_LEVEL``. ``keywarden serve`` gives the same configuration to
uvicorn, so uvicorn's own lines take the same way.

Every HTTP request gets a request id: the caller's ``X-Request-ID`` when it is
a plain token (letters, digits, ``.-_:``, at most 128), else a new one; the
answer carries it back in ``X-Request-ID``. While the request runs, every log
line carries ``request_id`` (and ``tenant`` once the caller is known). When it
ends, one line on ``keywarden.request`` says method, path (never the query
string), status, duration, request id, tenant and GraphQL operation name
(``KEYWARDEN_ACCESS_LOG=false`` drops that line). Headers, bodies and
variables are never logged: they carry tokens, PINs and personal data (R37).
"""

from __future__ import annotations

import logging
import logging.config
import re
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from app.config import Settings
from hardware.logconfig import logging_config

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_log = logging.getLogger("keywarden.request")


@dataclass
class RequestInfo:
    """What the logs know about the request being handled."""

    request_id: str
    tenant: str | None = None
    operation: str | None = None


_current: ContextVar[RequestInfo | None] = ContextVar("keywarden_request", default=None)


def current_request() -> RequestInfo | None:
    """The request this code runs for, if any."""
    return _current.get()


def note_tenant(tenant_id: str) -> None:
    """Record the tenant the request acts for, once the caller is known (for its log lines)."""
    info = _current.get()
    if info is not None:
        info.tenant = tenant_id


def note_operation(name: str | None) -> None:
    """Record the GraphQL operation the request runs (for its request line)."""
    info = _current.get()
    if info is not None and name:
        info.operation = name if info.operation is None else f"{info.operation},{name}"


class RequestContextFilter(logging.Filter):
    """Adds the current request's id and tenant to every log line written while it runs."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = _current.get()
        if info is not None:
            if not hasattr(record, "request_id"):
                record.request_id = info.request_id
            if info.tenant is not None and not hasattr(record, "tenant"):
                record.tenant = info.tenant
        return True


def server_logging_config(settings: Settings) -> dict[str, Any]:
    """The logging configuration of ``keywarden serve`` and ``keywarden worker``."""
    return logging_config(
        settings.log_level,
        settings.log_format,
        filters={"request": {"()": RequestContextFilter}},
    )


def configure_server_logging(settings: Settings) -> dict[str, Any]:
    """Apply :func:`server_logging_config` to this process and return it."""
    config = server_logging_config(settings)
    logging.config.dictConfig(config)
    return config


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's X-Request-ID when it is a plain token, else a new id."""
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER.encode():
            text = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Gives each request its id (X-Request-ID both ways) and logs one line when it ends."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        info = RequestInfo(request_id_from(scope.get("headers", [])))
        token = _current.set(info)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] in ("http.response.start", "websocket.accept"):
                status = message.get("status", 101)
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", info.request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log and scope["type"] == "http":
                request_log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "request_id": info.request_id,
                        "tenant": info.tenant,
                        "operation": info.operation,
                    },
                )
            _current.reset(token)


class RecordOperationName(SchemaExtension):
    """Notes the name of each GraphQL operation run for the request line."""

    def on_execute(self) -> Iterator[None]:
        note_operation(self.execution_context.operation_name)
        yield
