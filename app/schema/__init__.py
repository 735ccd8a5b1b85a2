"""The GraphQL schema: per-area modules composed at the root, with the limits every request gets."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from app.config import Settings
from app.errors import DomainError
from app.logs import RecordOperationName
from app.schema.context import NotAuthenticated
from app.schema.limits import make_cost_rule
from app.schema.metrics import OperationMetrics
from app.schema.mutations import Mutation
from app.schema.nodes import NODES
from app.schema.root import Query
from app.schema.subscriptions import Subscription

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

logger = logging.getLogger("keywarden.graphql")

# Errors whose message is meant for the client; everything else is masked (no internals).
VISIBLE_ERRORS = (DomainError, NotAuthenticated)


def _visible(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return True  # parse, validation and coercion errors: about the client's own request
    return isinstance(original, VISIBLE_ERRORS)


class KeywardenSchema(strawberry.Schema):
    """Logs unexpected errors with their traceback; client mistakes are not server errors."""

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        # HTTP carries queries and mutations; subscriptions live on the WebSocket (R23).
        allowed = kwargs.get("allowed_operation_types")
        if allowed is not None:
            kwargs["allowed_operation_types"] = set(allowed) - {OperationType.SUBSCRIPTION}
        return await super().execute(*args, **kwargs)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if _visible(error):
                logger.debug("client error: %s", error.message)
            else:
                logger.error("unexpected error", exc_info=error.original_error)


def build_schema(
    settings: Settings,
    *,
    introspection: bool | None = None,
    tracer_provider: TracerProvider | None = None,
) -> strawberry.Schema:
    """The schema with depth, token, alias and cost limits; introspection only in debug;
    each operation traced to ``tracer_provider`` when one is given (app.ops.tracing)."""
    # Factories, not instances: an instance would carry state from one request to the next.
    # The limit rules are classes made once here, not by each request's limiter: the
    # validation cache is keyed by the rules, so new classes per request would never hit it.
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=30).validation_rules,
        make_cost_rule(settings.max_query_cost),
    ]
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        lambda: AddValidationRules(rules),
        lambda: MaskErrors(should_mask_error=lambda e: not _visible(e)),
        # A partner's few query shapes are parsed and validated (cost rule included) once.
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        RecordOperationName,  # the operation's name in the request's log line
        OperationMetrics,  # latency and open subscriptions on /metrics
    ]
    if tracer_provider is not None:
        from app.ops.tracing import GraphQLTracing

        extensions.append(lambda: GraphQLTracing(tracer_provider=tracer_provider))
    allow_introspection = settings.keywarden_debug if introspection is None else introspection
    if not allow_introspection:
        extensions.append(DisableIntrospection)
    return KeywardenSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[kind.graphql_type for kind in NODES.values()],
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not settings.keywarden_debug),
    )


def printed_schema() -> str:
    from strawberry.printer import print_schema

    return print_schema(build_schema(Settings(), introspection=True))
