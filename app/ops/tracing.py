"""OpenTelemetry tracing, an optional extra (``pip install keywarden[otel]``; issue 13 item 6).

With ``KEYWARDEN_OTEL_ENDPOINT`` set (a collector's OTLP/HTTP address, e.g.
``http://127.0.0.1:4318``) ``keywarden serve`` traces every HTTP request (ASGI),
each GraphQL operation with its parsing, validation and resolvers (strawberry's
``OpenTelemetryExtension``), and the SQL and Redis commands they send, as the
service ``keywarden``. Without the setting nothing of OpenTelemetry is imported.

What a span never carries (R37): the GraphQL document's text (a literal in it may
be a PIN) and resolver arguments (PINs, PUKs, codes); ``hide_parameters`` keeps
SQL parameters out already, and request headers are not recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from starlette.middleware import Middleware
from strawberry.extensions.base_extension import LifecycleStep
from strawberry.extensions.tracing import OpenTelemetryExtension

from app.config import Settings
from app.db import Database

if TYPE_CHECKING:
    from opentelemetry.sdk import trace as sdk_trace
    from opentelemetry.trace import TracerProvider

SERVICE_NAME = "keywarden"
NOT_RECORDED = "(not recorded: it may carry PINs or codes)"


class GraphQLTracing(OpenTelemetryExtension):
    """Strawberry's OpenTelemetry extension without the document's text or any argument."""

    def __init__(self, *, tracer_provider: TracerProvider) -> None:
        super().__init__(arg_filter=lambda args, info: {}, tracer_provider=tracer_provider)

    def on_operation(self) -> Iterator[None]:
        hook = super().on_operation()
        next(hook)
        self._span_holder[LifecycleStep.OPERATION].set_attribute("query", NOT_RECORDED)
        try:
            yield
        finally:
            next(hook, None)  # names the span after the operation, and ends it


def exporting_provider(settings: Settings) -> sdk_trace.TracerProvider:
    """A tracer provider sending spans in batches to ``KEYWARDEN_OTEL_ENDPOINT`` (OTLP/HTTP)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = SdkTracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    endpoint = f"{settings.otel_endpoint}/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def instrument(database: Database, provider: TracerProvider) -> Middleware:
    """Trace the database's engines and Redis commands; the middleware that traces requests.

    The SQLAlchemy and Redis instrumentors patch process-wide: the application made
    last in a process is the one they report to.
    """
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    engines = {id(e): e.sync_engine for e in (database.app_engine, database.owner_engine)}
    instrumentors: list[tuple[Any, dict[str, Any]]] = [
        # Its declared range ends before SQLAlchemy 2.1, whose engine events it uses unchanged
        # (tests/test_ops_tracing.py sees the statements' spans).
        (SQLAlchemyInstrumentor(), {"engines": list(engines.values()), "skip_dep_check": True}),
        (RedisInstrumentor(), {}),
    ]
    for instrumentor, options in instrumentors:
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
        instrumentor.instrument(tracer_provider=provider, **options)
    # One span per request; none for each chunk received or sent.
    return Middleware(
        OpenTelemetryMiddleware, tracer_provider=provider, exclude_spans=["receive", "send"]
    )
