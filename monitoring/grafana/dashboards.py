"""Grafana dashboards as code: `python monitoring/grafana/dashboards.py` rewrites the JSON files.

Serving (TorchServe) and Board. tests/test_dashboards.py checks the committed JSON equals what
this script builds, and runs every panel's query against a real Prometheus.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}


def panel(
    title: str, queries: dict[str, str], unit: str = "short", kind: str = "timeseries", needs: str | None = None
) -> dict:
    """One panel; `needs` marks panels that only have data on some machines (e.g. "gpu")."""
    spec = {
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": DATASOURCE}
            for i, (legend, expr) in enumerate(queries.items())
        ],
    }
    if needs:
        spec["description"] = f"Only has data where the stack has a {needs}."
        spec["tags"] = [f"needs-{needs}"]
    return spec


def quantiles(metric: str) -> dict[str, str]:
    return {f"p{q}": f"histogram_quantile(0.{q}, sum by (le) (rate({metric}_bucket[5m])))" for q in (50, 95, 99)}


def dashboard(uid: str, title: str, panels: list[dict]) -> dict:
    for i, p in enumerate(panels):
        p["id"] = i + 1
        p["gridPos"] = {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)}
    return {
        "uid": uid,
        "title": title,
        "tags": ["ad-guard"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "panels": panels,
    }


SERVING = dashboard(
    "ad-guard-serving",
    "Ad guard · Serving (TorchServe)",
    [
        panel("Requests per second", {"requests/s": "sum(rate(ts_inference_requests_total[1m]))"}, "reqps"),
        panel("Handler latency per request", quantiles("AdRequestLatencyMs"), "ms"),
        panel(
            "Queue latency per request",
            {
                "queue ms": "sum(rate(ts_queue_latency_microseconds[5m])) / 1000"
                " / clamp_min(sum(rate(ts_inference_requests_total[5m])), 1e-9)"
            },
            "ms",
        ),
        panel(
            "Batch size",
            {
                "mean": "sum(rate(AdBatchSize_sum[5m])) / clamp_min(sum(rate(AdBatchSize_count[5m])), 1e-9)",
                "p95": "histogram_quantile(0.95, sum by (le) (rate(AdBatchSize_bucket[5m])))",
            },
        ),
        panel(
            "Tokens per batch",
            {"mean": "sum(rate(AdBatchTokens_sum[5m])) / clamp_min(sum(rate(AdBatchTokens_count[5m])), 1e-9)"},
        ),
        panel("Predictions by label", {"{{Label}}": "sum by (Label) (rate(AdPredictions[5m]))"}, "reqps"),
        panel(
            "Errors",
            {"4xx/s": "sum(rate(Requests4XX[5m]))", "5xx/s": "sum(rate(Requests5XX[5m])) or vector(0)"},
            "reqps",
        ),
        panel(
            "Worker host CPU and memory",
            {"CPU %": "avg(CPUUtilization)", "memory %": "avg(MemoryUtilization)"},
            "percent",
        ),
        panel(
            "GPU utilisation and memory",
            {"GPU %": "avg(GPUUtilization)", "GPU memory %": "avg(GPUMemoryUtilization)"},
            "percent",
            needs="gpu",
        ),
    ],
)

BOARD = dashboard(
    "ad-guard-board",
    "Ad guard · Board",
    [
        panel(
            "Posts and comments classified by label",
            {"{{kind}} {{label}}": "sum by (kind, label) (increase(board_items_classified_total[1h]))"},
        ),
        panel("Ad ratio (newest 200 items)", {"ad ratio": "board_recent_ad_ratio"}, "percentunit", "stat"),
        panel("Pending classification backlog", {"pending": "board_pending_items"}),
        panel("Classification latency (board → TorchServe)", quantiles("board_classify_latency_seconds"), "s"),
        panel(
            "Classification errors by kind",
            {"{{kind}}": "sum by (kind) (increase(board_classify_errors_total[1h])) or vector(0)"},
        ),
        panel(
            "Moderator overrides by direction",
            {"{{direction}}": "sum by (direction) (increase(board_moderator_overrides_total[1d])) or vector(0)"},
        ),
        panel(
            "Score drift (PSI against the model's reference)",
            {"PSI {{model}}": "board_score_psi", "alert line": "0.25 + 0 * board_score_psi"},
        ),
        panel(
            "Ad ratio: live vs reference, and low-confidence share",
            {
                "live ad ratio": "board_recent_ad_ratio",
                "reference {{model}}": "board_reference_ad_ratio",
                "low-confidence {{model}}": "board_low_confidence_ratio",
            },
            "percentunit",
        ),
        panel(
            "Ad score distribution", {"{{le}}": "sum by (le) (increase(board_ad_score_bucket[1h]))"}, kind="bargauge"
        ),
        panel(
            "Model version in service", {"{{model}}": "topk(1, board_model_last_seen_timestamp_seconds)"}, kind="table"
        ),
    ],
)


def write() -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, board in (("serving.json", SERVING), ("board.json", BOARD)):
        path = OUT / name
        path.write_text(json.dumps(board, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write():
        print(written)
