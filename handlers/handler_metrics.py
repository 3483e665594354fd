"""The TorchServe handler's custom metrics (TorchServe metrics API; on :8082/metrics with metrics_mode=prometheus).

A module of its own: TorchServe loads the handler module expecting exactly one class in it.
"""

from __future__ import annotations

from collections import Counter


class HandlerMetrics:
    """The handler's custom metrics, registered once with TorchServe's metrics cache."""

    def __init__(self, cache) -> None:
        from ts.metrics.metric_type_enum import MetricTypes

        histogram, counter = MetricTypes.HISTOGRAM, MetricTypes.COUNTER
        self.latency = cache.add_metric_to_cache("AdRequestLatencyMs", "ms", [], histogram)
        self.batch_size = cache.add_metric_to_cache("AdBatchSize", "count", [], histogram)
        self.batch_tokens = cache.add_metric_to_cache("AdBatchTokens", "count", [], histogram)
        self.predictions = cache.add_metric_to_cache("AdPredictions", "count", ["Label"], counter)

    def record(self, latency_ms: float, labels: list[str], tokens: int) -> None:
        """One batch: a latency observation per request, its size, its tokens, predictions by label."""
        for _ in labels:
            self.latency.add_or_update(latency_ms, [])
        self.batch_size.add_or_update(len(labels), [])
        self.batch_tokens.add_or_update(tokens, [])
        for label, count in Counter(labels).items():
            self.predictions.add_or_update(count, [label])
