"""OpenTelemetry tracing (the otel extra): one GraphQL request's spans, in memory
(issue 13 item 6; R37)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from app.config import Settings
from app.db import Database
from app.ops.tracing import NOT_RECORDED
from app.tenants.service import NewTenant
from app.web import create_app
from tests.conftest import superadmin_token
from tests.processes import reachable_redis

NAMED_QUERY = 'query KeysOverview { keys(first: 1, filter: {search: "S3CRET"}) { totalCount } }'


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """Where the spans go; the process-wide instrumentation is undone afterwards."""
    spans = InMemorySpanExporter()
    yield spans
    for instrumentor in (SQLAlchemyInstrumentor(), RedisInstrumentor()):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


@pytest.fixture
async def traced(
    settings: Settings, database: Database, exporter: InMemorySpanExporter
) -> AsyncIterator[httpx.AsyncClient]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with_redis = settings.model_copy(update={"redis_url": SecretStr(reachable_redis())})
    app = create_app(with_redis, database, tracer_provider=provider)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    names = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


async def test_one_graphql_request_is_one_trace_from_http_to_sql(
    traced: httpx.AsyncClient,
    exporter: InMemorySpanExporter,
    database: Database,
    tenant: NewTenant,
) -> None:
    # given
    token = await superadmin_token(database, tenant)
    exporter.clear()

    # when
    response = await traced.post(
        "/graphql", json={"query": NAMED_QUERY}, headers={"Authorization": f"Bearer {token}"}
    )

    # then: the request's spans share one trace, rooted in the HTTP request
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    spans = exporter.get_finished_spans()
    by_id = {span.context.span_id: span for span in spans}
    assert len({span.context.trace_id for span in spans}) == 1
    names = [span.name for span in spans]
    assert "POST /graphql" in names
    operation = next(s for s in spans if s.name == "GraphQL Query: KeysOverview")
    assert ancestors(operation, by_id) == ["POST /graphql"]
    for step in ("GraphQL Parsing", "GraphQL Validation", "GraphQL Resolving: keys"):
        step_span = next(s for s in spans if s.name == step)
        assert ancestors(step_span, by_id)[0] == "GraphQL Query: KeysOverview", step
    sql = [s for s in spans if (s.attributes or {}).get("db.system") in ("sqlite", "postgresql")]
    assert sql, names
    assert any("GraphQL Resolving: keys" in ancestors(s, by_id) for s in sql), names

    # and: neither the document nor an argument is recorded (R37)
    assert operation.attributes is not None
    assert operation.attributes["query"] == NOT_RECORDED
    assert not any("S3CRET" in str(dict(s.attributes or {})) for s in spans)


async def test_redis_commands_are_traced(
    traced: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    # given
    exporter.clear()

    # when: /ready pings the configured Redis
    response = await traced.get("/ready")

    # then
    assert response.status_code == 200, response.text
    spans = exporter.get_finished_spans()
    assert any(span.name == "PING" for span in spans), [span.name for span in spans]

