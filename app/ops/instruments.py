"""The process's Prometheus instruments, updated where things happen (issue 13 item 6).

Only counts and durations: no tenant, device, key or token ever appears in a
label (R1, R37). Operation names come from clients, so the label takes a
bounded set of them (:func:`operation_label`). Values that live in the
database or the broker (outbox backlog, bridges online, queue depth) are not
here: ``app.ops.metrics`` reads them when ``/metrics`` is scraped.
"""

from __future__ import annotations

import re
import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

GRAPHQL_DURATION = Histogram(
    "keywarden_graphql_request_duration_seconds",
    "Time to answer a GraphQL query or mutation, by operation name and type.",
    ["operation", "type"],
    registry=REGISTRY,
)
SUBSCRIPTIONS_OPEN = Gauge(
    "keywarden_graphql_subscriptions_open",
    "GraphQL subscriptions this process is serving now, by operation name.",
    ["operation"],
    registry=REGISTRY,
)
HEARTBEATS = Counter(
    "keywarden_device_heartbeats",
    "Remote device heartbeats answered (R23).",
    registry=REGISTRY,
)

ANONYMOUS = "anonymous"
OTHER = "other"
# Distinct operation names a process labels before it counts new ones as "other": a
# client naming every request differently must not grow the scrape without bound.
MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_names_lock = threading.Lock()
_names: set[str] = set()


def operation_label(name: str | None) -> str:
    """The ``operation`` label of ``name``: itself, ``anonymous`` or ``other`` past the bound."""
    if not name:
        return ANONYMOUS
    if not _NAME.fullmatch(name):
        return OTHER
    with _names_lock:
        if name in _names:
            return name
        if len(_names) >= MAX_OPERATION_NAMES:
            return OTHER
        _names.add(name)
        return name
