"""The ASGI app: GraphQL, CSV export, device files, health and readiness; auth and upload limits
(R1, R9)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from app.auth.principal import parse_token
from app.auth.tokens import authenticate
from app.bridges.routes import bridge_routes
from app.browser_session import CSRF_HEADER, foreign_origin, has_csrf_header, session_cookie
from app.config import Settings, get_settings
from app.db import Database
from app.devices.api import remote_routes
from app.devices.files import configuration_file, device_for_file, trace_log_request_file
from app.errors import DomainError
from app.events.pubsub import get_pubsub
from app.logs import RequestLogMiddleware, note_tenant
from app.models import RemoteDevice, Tenant
from app.ops.routes import ops_routes
from app.rate_limits import (
    TOKEN_FAILURES_PER_ADDRESS,
    RateLimiter,
    client_address,
    limiter_of,
)
from app.schema import build_schema
from app.schema.context import Context
from app.schema.subscriptions import SubscriptionContext, authenticate_connection
from app.web_manager import WebManager

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider


class BodyTooLarge(Exception):
    """The request body exceeds KEYWARDEN_MAX_UPLOAD_BYTES."""


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """The GraphQL shape of an error: its message, and its code with ``extra`` in extensions."""
    extensions = {"code": code, **extra}
    return JSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]}, status, headers=headers
    )


# Over HTTPS, browsers are told to use nothing else for this host for a year (R37).
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
# No answer is ever run as another type than it says (R37): JSON, CSV and files alike.
NOSNIFF = (b"x-content-type-options", b"nosniff")


class SecurityHeaders:
    """Adds ``X-Content-Type-Options: nosniff`` to every HTTP answer, and
    ``Strict-Transport-Security`` to those given over HTTPS (a trusted proxy's
    ``X-Forwarded-Proto`` counts); plain HTTP (development) gets no HSTS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = [NOSNIFF, HSTS] if scope.get("scheme") == "https" else [NOSNIFF]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in added if h[0] not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _limit_body(request: Request, limit: int) -> None:
    """Count the body as it streams in and stop at ``limit`` bytes, whatever Content-Length says."""
    receive = request._receive
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge()
        return message

    request._receive = limited


async def open_context(
    request: Request, database: Database, settings: Settings
) -> Context | Response:
    """Authenticate the request and open its tenant-scoped session.

    The credential is the bearer token, else the browser's session cookie
    (``app.browser_session``): a POST authenticated by the cookie must carry the
    CSRF header (403 otherwise). Without a credential the context has no
    principal (only sign-in operations work); a bearer token that is malformed,
    unknown, revoked or expired is a 401, a stale cookie counts as no credential.
    """
    header = request.headers.get("authorization", "")
    anonymous = Context(
        database=database, settings=settings, principal=None, session=None, request=request
    )
    if not header:
        token = session_cookie(request)
        if token is None:
            return anonymous
        if request.method == "POST" and not has_csrf_header(request):
            return _error(
                403, "CSRF", f"requests signed in by cookie need the {CSRF_HEADER} header"
            )
        return await _authenticated(request, database, settings, token) or anonymous
    # An address that keeps presenting bad tokens is refused before its next guess is checked.
    limiter, address = limiter_of(request), client_address(request)
    refused = limiter and await limiter.exhausted(TOKEN_FAILURES_PER_ADDRESS, address)
    if refused:
        return _error(429, refused.code, refused.message, refused.headers,
                      retryAfterSeconds=refused.retry_after)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    opened = await _authenticated(request, database, settings, token) \
        if scheme.lower() == "bearer" else None
    if opened is None:
        if limiter is not None:
            await limiter.count(TOKEN_FAILURES_PER_ADDRESS, address)
        return _error(
            401, "UNAUTHENTICATED",
            "Authorization must be 'Bearer <token>' with a known, unrevoked, unexpired token",
        )
    return opened


async def _authenticated(
    request: Request, database: Database, settings: Settings, token: str
) -> Context | None:
    """The context of a valid ``token``; None when it is malformed, unknown, revoked or expired."""
    parsed = parse_token(token)
    if parsed is None:
        return None
    session = database.session(parsed.tenant_id)
    try:
        principal = await authenticate(session, token)
        if principal is None:
            await session.close()
            return None
        if session.dirty:  # last-used time, at most once a minute
            await session.commit()
    except BaseException:
        await session.close()
        raise
    note_tenant(principal.tenant_id)
    if principal.domain_ids is not None:
        session.info["domain_ids"] = principal.domain_ids
    return Context(
        database=database, settings=settings, principal=principal, session=session,
        request=request, credential=token,
    )


@dataclass(frozen=True)
class Download:
    """A file answered to a GET: never mutating, for the caller's tenant and domains.

    A ``body`` that is an iterator is streamed: the session stays open until its last chunk.
    """

    body: bytes | AsyncIterator[bytes]
    media_type: str
    filename: str


async def download(
    request: Request,
    database: Database,
    settings: Settings,
    *,
    right: str,
    produce: Callable[[AsyncSession], Awaitable[Download]],
) -> Response:
    """Authenticate, check ``right``, and answer the file ``produce`` makes with the session."""
    opened = await open_context(request, database, settings)
    if isinstance(opened, Response):
        return opened
    streaming = False
    try:
        if opened.principal is None or opened.session is None:
            return _error(401, "UNAUTHENTICATED", "send Authorization: Bearer <token>")
        if not opened.principal.has(right):
            return _error(403, "FORBIDDEN", f"missing right: {right}")
        try:
            file = await produce(opened.session)
        except DomainError as exc:
            return _error(404 if exc.code == "NOT_FOUND" else 400, exc.code, exc.message)
        headers = {"Content-Disposition": f'attachment; filename="{file.filename}"'}
        if isinstance(file.body, bytes):
            return Response(file.body, media_type=file.media_type, headers=headers)
        streaming = True
        return StreamingResponse(
            _closing(file.body, opened), media_type=file.media_type, headers=headers
        )
    finally:
        if not streaming:
            await opened.close()


async def _closing(chunks: AsyncIterator[bytes], opened: Context) -> AsyncIterator[bytes]:
    """``chunks``, then the request's session closed, however the stream ends."""
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        await opened.close()


def csv_file(
    filename: str, make: Callable[[AsyncSession], Awaitable[str]]
) -> Callable[[AsyncSession], Awaitable[Download]]:
    async def produce(session: AsyncSession) -> Download:
        text = await make(session)
        return Download(text.encode("utf-8"), "text/csv; charset=utf-8", filename)

    return produce


def device_file_routes(database: Database, settings: Settings) -> list[Route]:
    """GET /devices/<id>/configuration-file and /devices/<id>/trace-log-request (R27)."""

    def route(suffix: str, right: str, make: Callable[[Tenant, RemoteDevice], bytes]) -> Route:
        async def handle(request: Request) -> Response:
            async def produce(session: AsyncSession) -> Download:
                tenant, device = await device_for_file(session, request.path_params["device"])
                return Download(
                    make(tenant, device), "application/json", f"{device.serial}-{suffix}.json"
                )

            return await download(request, database, settings, right=right, produce=produce)

        return Route(f"/devices/{{device}}/{suffix}", handle, methods=["GET"])

    return [
        route("configuration-file", "devices.read", configuration_file),
        route("trace-log-request", "devices.write", trace_log_request_file),
    ]


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context lifecycle, body limit and CSRF rule."""

    def __init__(
        self, database: Database, settings: Settings, tracer_provider: TracerProvider | None = None
    ) -> None:
        super().__init__(
            build_schema(settings, tracer_provider=tracer_provider),
            graphql_ide="graphiql" if settings.keywarden_debug else None,
            allow_queries_via_get=False,
            multipart_uploads_enabled=True,
            # Subscriptions (R23): graphql-transport-ws only, authenticated at connection_init.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=20,
        )
        self.database = database
        self.settings = settings

    async def get_context(self, request: Any, response: Any) -> Context:
        # Only WebSocket connections get here: HTTP requests bring their own context (run).
        return SubscriptionContext(
            database=self.database,
            settings=self.settings,
            principal=None,
            session=None,
            request=request,
            response=response,
        )

    async def on_ws_connect(self, context: Context) -> None:
        assert isinstance(context, SubscriptionContext)
        await authenticate_connection(context)  # refuses the connection without a valid token

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if isinstance(request, WebSocket):
            if foreign_origin(request):
                # Another site's page would ride on the browser's session cookie: refused
                # before the upgrade is accepted (the browser sees a 403).
                await request.close(code=1008)
                return None
            return await super().run(request, context, root_value)
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/") and not has_csrf_header(request):
            # Browsers send multipart without a CORS preflight; a custom header forces one.
            return _error(400, "CSRF", f"multipart requests need the {CSRF_HEADER} header")
        limit = self.settings.max_upload_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return _error(413, "TOO_LARGE", f"request body larger than {limit} bytes")
        _limit_body(request, limit)
        opened = await open_context(request, self.database, self.settings)
        if isinstance(opened, Response):
            return opened
        # Mutations set and clear the session cookie on it (sign-in, sign-out).
        opened.response = request.state.sub_response = await super().get_sub_response(request)
        try:
            return await super().run(request, opened, root_value)
        except BodyTooLarge:
            return _error(413, "TOO_LARGE", f"request body larger than {limit} bytes")
        finally:
            await opened.close()

    async def get_sub_response(self, request: Any) -> Response:
        # The one the context got in run(), so that its cookies reach the answer.
        given = getattr(request.state, "sub_response", None)
        return given if given is not None else await super().get_sub_response(request)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if result.errors:
            response["errors"] = [_format_error(e) for e in result.errors]
        return response


def _format_error(error: GraphQLError) -> dict[str, Any]:
    formatted = error.formatted
    original = error.original_error
    if isinstance(original, DomainError):
        formatted["extensions"] = {"code": original.code, "field": original.field}
    elif original is not None and original.__class__.__name__ == "NotAuthenticated":
        formatted["extensions"] = {"code": "UNAUTHENTICATED"}
    return dict(formatted)


async def health(request: Request) -> Response:
    """Liveness: the process answers. Whether it can serve is ``/ready`` (app.ops)."""
    return JSONResponse({"status": "ok"})


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    *,
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    """The application; traced to ``tracer_provider``, else to KEYWARDEN_OTEL_ENDPOINT if set."""
    settings = settings or get_settings()
    database = database or Database(settings)
    owned_provider = None
    if tracer_provider is None and settings.otel_endpoint:
        from app.ops.tracing import exporting_provider

        tracer_provider = owned_provider = exporting_provider(settings)
    tracing: list[Middleware] = []
    if tracer_provider is not None:
        from app.ops.tracing import instrument

        tracing.append(instrument(database, tracer_provider))
    graphql = GraphQLApp(database, settings, tracer_provider)

    async def export_employees_csv(request: Request) -> Response:
        from app.employees.service import export_employees

        return await download(
            request,
            database,
            settings,
            right="employees.read",
            produce=csv_file("employees.csv", export_employees),
        )

    async def export_readout_history(request: Request) -> Response:
        from app.approval.service import approver_history_csv

        return await download(
            request,
            database,
            settings,
            right="readout.read",
            produce=csv_file("readout-history.csv", approver_history_csv),
        )

    async def export_audit_events(request: Request) -> Response:
        from app.audit.trail import audit_events_csv, filter_from_query

        async def produce(session: AsyncSession) -> Download:
            # Parsed before the first byte goes out: a bad parameter is a 400, not a cut stream.
            wanted = filter_from_query(request.query_params.multi_items())
            return Download(
                audit_events_csv(session, wanted), "text/csv; charset=utf-8", "audit-events.csv"
            )

        return await download(request, database, settings, right="audit.read", produce=produce)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from app.workers.broker import configure_broker, start_in_process_worker

        configure_broker(settings)
        worker = start_in_process_worker(settings)  # the embedded default's queue (R3)
        pubsub = get_pubsub(settings)  # live events (R23): this process's listener
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            await pubsub.close()
            await database.dispose()
            if owned_provider is not None:
                owned_provider.shutdown()  # sends the spans still waiting

    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/export/employees.csv", export_employees_csv, methods=["GET"]),
        Route("/export/readout-history.csv", export_readout_history, methods=["GET"]),
        Route("/export/audit-events.csv", export_audit_events, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        *ops_routes(database, settings),
        *device_file_routes(database, settings),
        *remote_routes(database, settings),
        *bridge_routes(database, settings),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            *tracing,
            Middleware(RequestLogMiddleware, access_log=settings.access_log),
            Middleware(SecurityHeaders),
        ],
        lifespan=lifespan,
    )
    # What no route matched: the web manager's files and client routes (issue 11), gzipped
    # for browsers that accept it. Only these static files: an API answer that carries a
    # secret next to reflected input is never compressed (BREACH).
    api_prefixes = frozenset(route.path.split("/")[1] for route in routes)
    app.router.default = GZipMiddleware(
        WebManager(settings.frontend_path, api_prefixes), minimum_size=1024, compresslevel=6
    )
    app.state.database = database
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter(settings)
    return app
