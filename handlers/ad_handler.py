"""TorchServe handler: a batch of requests -> per-request {label, score, threshold, model}.

TorchServe's BaseHandler lifecycle: `initialize` loads the bundle and registers the metrics once;
BaseHandler.handle runs `preprocess` (parse and clean each request on its own) -> `inference`
(score the valid ones together) -> `postprocess` (answer in request order) and records TorchServe's
own HandlerTime (and, with `profile: true` in the handler block, the time of each stage).
Every stage keeps failures per request: a request that cannot be parsed, cleaned, tokenized or
scored gets its own 4xx and never fails its batch-mates. `describe_handle` answers TorchServe's
describe call (`GET /models/{name}?customized=true` on the management API) with the bundle's meta;
`explain_handle` answers the explanations API (`POST /explanations/{name}`, same body as a
prediction) with the prediction plus `evidence`: the n-grams that pushed the score up
(handlers.evidence; empty for a bundle without a lexical component).

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
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from ts.handler_utils.timer import timed
from ts.torch_handler.base_handler import BaseHandler

from handlers.classifier import AdClassifier
from handlers.handler_metrics import HandlerMetrics
from handlers.payload import BadRequest, Outcome, ParsedPost, read_request, unscorable

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
        self.classifier = AdClassifier(
            Path(properties["model_dir"]) / BUNDLE_DIR,
            self.device,
            micro_batch=int(options.get("micro_batch", 16)),
            padding_slack=float(options.get("padding_slack", 0.1)),
            torchscript=bool(options.get("torchscript", True)),
        )
        self.handler_metrics = HandlerMetrics(context.metrics)
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

    @timed
    def preprocess(self, data: list[dict[str, Any]]) -> list[ParsedPost | BadRequest]:
        """Each request parsed and cleaned on its own; a bad one becomes its BadRequest."""
        self._started = time.perf_counter()
        return [read_request(row) for row in data]

    @timed
    def inference(self, data: list[ParsedPost | BadRequest], *args, **kwargs) -> Outcome:
        """Score the valid posts together; if the batch fails, one by one so only the culprit fails."""
        texts = {i: item.text for i, item in enumerate(data) if isinstance(item, ParsedPost)}
        results: list[float | BadRequest] = [item if isinstance(item, BadRequest) else 0.0 for item in data]
        try:
            scored = self.classifier.score_batch(list(texts.values()))
        except Exception:  # isolate: find the request that broke the batch
            log.warning("a batch of %d posts failed to score; scoring them one by one", len(texts), exc_info=True)
            return self._score_each(texts, results)
        for i, score in zip(texts, scored.scores, strict=True):
            results[i] = score
        return Outcome(results, scored.tokens)

    def _score_each(self, texts: dict[int, str], results: list[float | BadRequest]) -> Outcome:
        tokens = 0
        for i, text in texts.items():
            try:
                scored = self.classifier.score_batch([text])
            except Exception as exc:  # this request's own failure
                results[i] = unscorable(exc)
                continue
            results[i], tokens = scored.scores[0], tokens + scored.tokens
        return Outcome(results, tokens)

    @timed
    def postprocess(self, data: Outcome) -> list[dict[str, Any]]:
        """Answers in request order; each failed request gets its own status code."""
        responses = [self._answer(i, result) for i, result in enumerate(data.results)]
        latency_ms = (time.perf_counter() - self._started) * 1000
        self.handler_metrics.record(latency_ms, [r.get("label", "error") for r in responses], data.tokens)
        return responses

    def _answer(self, index: int, result: float | BadRequest) -> dict[str, Any]:
        if isinstance(result, BadRequest):
            self.context.set_response_status(code=result.status, phrase=result.message, idx=index)
            return {"error": result.message, "code": result.status}
        return {
            "label": self.classifier.label(result),
            "score": round(result, 6),
            "threshold": self.classifier.meta.threshold,
            "model": self.classifier.model_id,
        }

    def explain_handle(self, data_preprocess: list[ParsedPost | BadRequest], raw_data) -> list[dict[str, Any]]:
        """TorchServe's explanations call: each answer plus the n-grams that pushed its score up."""
        answers = self.postprocess(self.inference(data_preprocess))
        for item, answer in zip(data_preprocess, answers, strict=True):
            if isinstance(item, ParsedPost) and "error" not in answer:
                answer["evidence"] = [asdict(e) for e in self.classifier.evidence(item.text)]
        return answers

    def describe_handle(self) -> dict[str, Any]:
        """The served bundle's meta, device and precision (TorchServe's describe call)."""
        return {
            "model": self.classifier.model_id,
            "device": str(self.device),
            "precision": self.classifier.precision,
            "torchscript": self.classifier.torchscript,
            **asdict(self.classifier.meta),
        }
