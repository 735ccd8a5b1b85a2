"""GraphQL metrics (issue 13 item 6): latency by operation, open subscriptions.

A query or mutation is timed from its arrival at the schema (parsing and
validation included) to its answer, labelled by operation name and type; a
subscription counts as open from its start to its end. Operations that never
reach execution (unparsable, invalid, over a limit) are not timed: they have
no dependable type or name. Names are bounded by ``operation_label``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from app.ops.instruments import GRAPHQL_DURATION, SUBSCRIPTIONS_OPEN, operation_label


class OperationMetrics(SchemaExtension):
    """Observes each operation's duration, or holds its subscription's place in the gauge."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        self._executed: tuple[OperationType, str] | None = None
        try:
            yield
        finally:
            if self._executed is not None:
                kind, operation = self._executed
                if kind is OperationType.SUBSCRIPTION:
                    SUBSCRIPTIONS_OPEN.labels(operation).dec()
                else:
                    GRAPHQL_DURATION.labels(operation, kind.value).observe(
                        time.perf_counter() - started
                    )

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        kind = context.operation_type
        operation = operation_label(context.operation_name)
        if kind is OperationType.SUBSCRIPTION:
            SUBSCRIPTIONS_OPEN.labels(operation).inc()
        self._executed = (kind, operation)
        yield
