"""Dramatiq's own Prometheus middleware for the in-process queue, read by ``/metrics``.

``dramatiq.middleware.prometheus.Prometheus`` counts messages, errors, retries
and durations by queue and actor, and is built for the ``dramatiq`` command:
at process boot it points ``PROMETHEUS_MULTIPROC_DIR`` at a shared directory
and the command forks an HTTP server on port 9191 that serves it. Keywarden
runs neither (``keywarden serve`` hosts the embedded queue's workers, R3), so
:class:`QueueMetrics` keeps the middleware's hooks and metrics, undoes the
environment change (prometheus-client is imported long before, so its values
stay in memory), and :data:`DRAMATIQ_METRICS` hands the metrics of the worker
booted last to the API's own ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dramatiq
from dramatiq.middleware.prometheus import Prometheus
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from app.config import environment_kept

_MULTIPROCESS_VARIABLES = ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")


class QueueMetrics(Prometheus):
    """Dramatiq's Prometheus middleware without its multiprocess directory or HTTP server."""

    @property
    def forks(self) -> list[Any]:
        return []  # the exposition server on :9191: /metrics serves these instead

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        with environment_kept(*_MULTIPROCESS_VARIABLES):
            super().after_process_boot(broker)
        DRAMATIQ_METRICS.middleware = self

    def metrics(self) -> list[MetricWrapperBase]:
        """The middleware's metrics (made at process boot; none before)."""
        return [value for value in vars(self).values() if isinstance(value, MetricWrapperBase)]


class _DramatiqMetrics(Collector):
    """The metrics of the in-process queue booted last in this process; none without one."""

    def __init__(self) -> None:
        self.middleware: QueueMetrics | None = None

    def collect(self) -> Iterator[Metric]:
        if self.middleware is not None:
            for metric in self.middleware.metrics():
                yield from metric.collect()


DRAMATIQ_METRICS = _DramatiqMetrics()
