"""Prometheus metrics of the board (namespace `board`), defined once here."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ui.drift import DriftReading

NAMESPACE = "board"


class BoardMetrics:
    """One instance per board process, on its own registry (tests can build several)."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self._define_writing(NAMESPACE)
        self._define_moderation(NAMESPACE)
        self._define_model_watch(NAMESPACE)

    def _define_writing(self, ns: str) -> None:
        """Posts and comments stored, classified, pending, and the calls to TorchServe."""
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

    def _define_moderation(self, ns: str) -> None:
        """Moderators' overrides, readers' reports and their outcomes, rate-limit refusals."""
        self.overrides = Counter(
            "moderator_overrides", "Moderator label changes", ["direction"], namespace=ns, registry=self.registry
        )
        self.reports = Counter("reports", "Readers' ad reports stored", ["kind"], namespace=ns, registry=self.registry)
        self.reports_decided = Counter(
            "reports_decided",
            "Readers' ad reports a moderator decided: upheld (labelled ad) or rejected",
            ["outcome"],
            namespace=ns,
            registry=self.registry,
        )
        self.refused = Counter(
            "rate_limited",
            "Requests refused by a per-client rate limit or login lockout",
            ["action"],
            namespace=ns,
            registry=self.registry,
        )

    def _define_model_watch(self, ns: str) -> None:
        """What the model in service labels: ad ratio, versions seen, drift against its reference."""
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
        self.score_psi = Gauge(
            "score_psi",
            "Population stability index of recent ad scores against the model's reference distribution",
            ["model"],
            namespace=ns,
            registry=self.registry,
        )
        self.low_confidence = Gauge(
            "low_confidence_ratio",
            "Share of recent predictions whose score lies within the margin of the threshold",
            ["model"],
            namespace=ns,
            registry=self.registry,
        )
        self.reference_ad_ratio = Gauge(
            "reference_ad_ratio",
            "Share of ads the model predicted on its reference (evaluation) data",
            ["model"],
            namespace=ns,
            registry=self.registry,
        )
        self.drift_items = Gauge(
            "drift_window_items",
            "Recent items of the model in service behind the drift gauges",
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

    def record_drift(self, reading: DriftReading) -> None:
        """Export one drift reading; gauges of models no longer in service are removed."""
        gauges = (self.score_psi, self.low_confidence, self.reference_ad_ratio, self.drift_items)
        for gauge in gauges:
            gauge.clear()
        self.low_confidence.labels(reading.model).set(reading.low_confidence_ratio)
        self.drift_items.labels(reading.model).set(reading.items)
        if reading.psi is not None:
            self.score_psi.labels(reading.model).set(reading.psi)
        if reading.reference_ad_ratio is not None:
            self.reference_ad_ratio.labels(reading.model).set(reading.reference_ad_ratio)
