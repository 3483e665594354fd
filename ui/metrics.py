"""Prometheus metrics of the board (namespace `board`), defined once here."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class BoardMetrics:
    """One instance per board process, on its own registry (tests can build several)."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        ns = "board"
        self.items_created = Counter(
            "items_created", "Posts and comments stored", ["kind"], namespace=ns, registry=self.registry
        )
        self.items_classified = Counter(
            "items_classified",
            "Posts and comments labelled by the model",
            ["kind", "label"],
            namespace=ns,
            registry=self.registry,
        )
        self.classify_latency = Histogram(
            "classify_latency_seconds",
            "Latency of one classification call to TorchServe (with retries)",
            namespace=ns,
            registry=self.registry,
            buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
        )
        self.classify_errors = Counter(
            "classify_errors", "Failed classification attempts", ["kind"], namespace=ns, registry=self.registry
        )
        self.pending = Gauge(
            "pending_items", "Posts and comments waiting for classification", namespace=ns, registry=self.registry
        )
        self.overrides = Counter(
            "moderator_overrides", "Moderator label changes", ["direction"], namespace=ns, registry=self.registry
        )
        self.ad_ratio = Gauge(
            "recent_ad_ratio",
            "Share of ads among the newest 200 classified items",
            namespace=ns,
            registry=self.registry,
        )
        self.model_seen = Gauge(
            "model_last_seen_timestamp_seconds",
            "When a model version last labelled an item (the newest one is in service)",
            ["model"],
            namespace=ns,
            registry=self.registry,
        )
        self.ad_score = Histogram(
            "ad_score",
            "Ad score of classified items",
            namespace=ns,
            registry=self.registry,
            buckets=(0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0),
        )
