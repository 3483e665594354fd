"""TorchServe handler: a batch of requests -> per-request {label, score, threshold, model}.

Template method as in TorchServe's BaseHandler: `initialize` loads the bundle once; `handle`
parses every request on its own (a bad one gets its own 4xx and never fails its batch-mates),
scores the valid ones together and answers in request order.

Settings come from the `handler:` block of model-config.yaml:
  micro_batch (16): most posts per forward pass inside one TorchServe batch;
  padding_slack (0.1): padding a forward pass may add, as a share of its real tokens
    (handlers.classifier.plan_micro_batches);
  cpu_threads (0 = torch default; the export writes ADS_TS_CPU_THREADS, default 1): intra-op threads on CPU;
  torchscript (true): on CPU, run the model as a TorchScript trace (handlers.classifier.traced_forward).

Custom metrics (TorchServe metrics API; on :8082/metrics with metrics_mode=prometheus):
  AdRequestLatencyMs  histogram, one observation per request (its batch's handling time);
  AdBatchSize         histogram, requests per TorchServe batch;
  AdBatchTokens       histogram, real tokens the model read per batch;
  AdPredictions       counter by Label (ad | normal | error).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

import torch
from ts.torch_handler.base_handler import BaseHandler

from handlers.classifier import AdClassifier
from handlers.payload import BadRequest, ParsedPost, parse_payload

log = logging.getLogger(__name__)

BUNDLE_DIR = "bundle"


def pick_device(properties: dict[str, Any]) -> torch.device:
    """CUDA when TorchServe assigned this worker a GPU and CUDA works, else CPU."""
    gpu_id = properties.get("gpu_id")
    if gpu_id is not None and torch.cuda.is_available():
        return torch.device(f"cuda:{gpu_id}")
    return torch.device("cpu")


class AdHandler(BaseHandler):
    def initialize(self, context) -> None:
        properties = context.system_properties
        options = (getattr(context, "model_yaml_config", None) or {}).get("handler", {}) or {}
        threads = int(options.get("cpu_threads", 0))
        if threads > 0:
            torch.set_num_threads(threads)
        self.device = pick_device(properties)
        bundle = Path(properties["model_dir"]) / BUNDLE_DIR
        self.classifier = AdClassifier(
            bundle,
            self.device,
            micro_batch=int(options.get("micro_batch", 16)),
            padding_slack=float(options.get("padding_slack", 0.1)),
            torchscript=bool(options.get("torchscript", True)),
        )
        self.context = context
        self.initialized = True
        log.info(
            "loaded %s on %s (%s%s, %d threads, truncation %s)",
            self.classifier.model_id,
            self.device,
            self.classifier.precision,
            ", TorchScript" if self.classifier.torchscript else "",
            torch.get_num_threads(),
            self.classifier.meta.truncation,
        )

    def handle(self, data: list[dict[str, Any]], context) -> list[dict[str, Any]]:
        started = time.perf_counter()
        parsed: list[ParsedPost | BadRequest] = []
        for row in data:
            try:
                parsed.append(parse_payload(row))
            except BadRequest as exc:
                parsed.append(exc)
        valid = [i for i, item in enumerate(parsed) if isinstance(item, ParsedPost)]
        scored = self.classifier.score_batch([parsed[i].text for i in valid]) if valid else None
        by_index = dict(zip(valid, scored.scores, strict=True)) if scored else {}
        threshold = self.classifier.meta.threshold
        responses: list[dict[str, Any]] = []
        for i, item in enumerate(parsed):
            if isinstance(item, BadRequest):
                context.set_response_status(code=item.status, phrase=item.message, idx=i)
                responses.append({"error": item.message, "code": item.status})
                continue
            score = by_index[i]
            responses.append(
                {
                    "label": self.classifier.label(score),
                    "score": round(score, 6),
                    "threshold": threshold,
                    "model": self.classifier.model_id,
                }
            )
        labels = [r.get("label", "error") for r in responses]
        record_metrics(
            getattr(context, "metrics", None),
            (time.perf_counter() - started) * 1000,
            labels,
            scored.tokens if scored else 0,
        )
        return responses


def record_metrics(metrics, latency_ms: float, labels: list[str], tokens: int) -> None:
    """Emit the handler's custom metrics for one batch (no-op without a metrics cache)."""
    if metrics is None:
        return
    from ts.metrics.dimension import Dimension
    from ts.metrics.metric_type_enum import MetricTypes

    for _ in labels:
        metrics.add_metric("AdRequestLatencyMs", latency_ms, "ms", None, [], MetricTypes.HISTOGRAM)
    metrics.add_metric("AdBatchSize", len(labels), "count", None, [], MetricTypes.HISTOGRAM)
    metrics.add_metric("AdBatchTokens", tokens, "count", None, [], MetricTypes.HISTOGRAM)
    for label, count in Counter(labels).items():
        metrics.add_metric("AdPredictions", count, "count", None, [Dimension("Label", label)], MetricTypes.COUNTER)
