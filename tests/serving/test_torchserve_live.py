"""A real TorchServe (started on free loopback ports) serving a tiny model archive."""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import psutil
import pytest
import requests

from serving import torchserve
from stack.settings import MODEL_NAME

pytestmark = pytest.mark.slow


def predict(cfg, payload, key: str | None, content_type: str = "application/json") -> requests.Response:
    headers = {"Content-Type": content_type}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = json.dumps(payload, ensure_ascii=False).encode() if not isinstance(payload, bytes) else payload
    return requests.post(f"{cfg.inference_url}/predictions/{MODEL_NAME}", data=data, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def keys(live_torchserve):
    return torchserve.Keys.read(live_torchserve.key_file)


def test_prediction_shape(live_torchserve, keys) -> None:
    response = predict(live_torchserve, {"title": "오늘 산책", "body": "강아지랑 한강 다녀왔어요"}, keys.inference)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["label"] in {"ad", "normal"}
    assert 0 <= body["score"] <= 1
    assert body["threshold"] == 0.5
    assert body["model"] == f"{MODEL_NAME}/1"


def test_plain_text_is_accepted(live_torchserve, keys) -> None:
    response = predict(live_torchserve, "주말에 등산 다녀왔습니다".encode(), keys.inference, "text/plain")
    assert response.status_code == 200 and response.json()["label"] in {"ad", "normal"}


@pytest.mark.parametrize(
    ("payload", "content_type", "status"),
    [
        (b"{broken json", "application/json", 400),
        ({"title": "x", "body": 3}, "application/json", 400),
        ({"body": "   "}, "application/json", 422),
        (b"\xff\xfe", "application/octet-stream", 400),
    ],
)
def test_bad_input_gets_4xx_and_worker_survives(live_torchserve, keys, payload, content_type, status) -> None:
    response = predict(live_torchserve, payload, keys.inference, content_type)
    assert response.status_code == status, response.text
    assert response.json()["error"]
    assert predict(live_torchserve, {"body": "아직 살아있나요"}, keys.inference).status_code == 200


def test_concurrent_good_and_bad_requests_are_answered_individually(live_torchserve, keys) -> None:
    payloads = [{"body": f"평범한 일상 글 {i}번"} if i % 3 else b"{bad" for i in range(24)]
    with ThreadPoolExecutor(12) as pool:
        responses = list(pool.map(lambda p: predict(live_torchserve, p, keys.inference), payloads))
    for payload, response in zip(payloads, responses, strict=True):
        assert response.status_code == (400 if isinstance(payload, bytes) else 200), response.text


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_inference_requires_the_token(live_torchserve, key) -> None:
    response = predict(live_torchserve, {"body": "안녕하세요"}, key)
    assert response.status_code in (400, 401)
    assert "InvalidKeyException" in response.text


def test_management_requires_the_token(live_torchserve, keys) -> None:
    url = f"{live_torchserve.management_url}/models/{MODEL_NAME}"
    assert "InvalidKeyException" in requests.get(url, timeout=10).text
    assert (
        "InvalidKeyException"
        in requests.get(url, headers={"Authorization": f"Bearer {keys.inference}"}, timeout=10).text
    )
    described = torchserve.describe(live_torchserve, keys)
    assert described[0]["batchSize"] == live_torchserve.ts_batch_size


def test_every_address_is_loopback_only(live_torchserve) -> None:
    pid = torchserve.pid(live_torchserve)
    listening = {c.laddr for c in psutil.Process(pid).net_connections(kind="tcp") if c.status == "LISTEN"}
    ports = {
        live_torchserve.ts_inference_port,
        live_torchserve.ts_management_port,
        live_torchserve.ts_metrics_port,
        live_torchserve.ts_grpc_inference_port,
        live_torchserve.ts_grpc_management_port,
    }
    assert {addr.port for addr in listening} == ports
    assert all(addr.ip in ("127.0.0.1", "::ffff:127.0.0.1") for addr in listening)


def metric_values(cfg, name: str) -> dict[str, float]:
    """Samples of one metric family from TorchServe's Prometheus endpoint, keyed by their full series."""
    text = requests.get(f"http://127.0.0.1:{cfg.ts_metrics_port}/metrics", timeout=10).text
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name)
    }


def test_batching_happens_under_concurrent_load(live_torchserve, keys) -> None:
    """Concurrent requests are grouped: the handler's batch-size histogram averages above 1."""

    def sums():
        values = metric_values(live_torchserve, "AdBatchSize")
        return (
            sum(v for k, v in values.items() if k.startswith("AdBatchSize_sum")),
            sum(v for k, v in values.items() if k.startswith("AdBatchSize_count")),
        )

    before_sum, before_count = sums()
    with ThreadPoolExecutor(16) as pool:
        responses = list(
            pool.map(lambda i: predict(live_torchserve, {"body": f"동시 요청 {i}번째 글"}, keys.inference), range(64))
        )
    assert all(r.status_code == 200 for r in responses)
    after_sum, after_count = sums()
    requests_seen, batches = after_sum - before_sum, after_count - before_count
    assert requests_seen == 64
    assert batches < requests_seen, f"{batches} batches for {requests_seen} requests: no batching"


POISON = b'{"title":"","body":"\\ud800 hello"}'
"""A lone UTF-16 surrogate escape: valid JSON, not valid Unicode (it broke whole batches once)."""


def test_poisoned_requests_fail_alone_inside_real_batches(live_torchserve, keys) -> None:
    """One request in four poisoned, at concurrency 16: every good one answers 200, each poisoned one 400,
    and the batch-size histogram shows that good and poisoned requests shared batches."""

    def batch_totals() -> tuple[float, float]:
        values = metric_values(live_torchserve, "AdBatchSize")
        return tuple(
            sum(v for k, v in values.items() if k.startswith(f"AdBatchSize_{part}")) for part in ("sum", "count")
        )

    payloads = [POISON if i % 4 == 0 else {"body": f"평범한 동네 이야기 {i}번째"} for i in range(96)]
    before_sum, before_count = batch_totals()
    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda p: predict(live_torchserve, p, keys.inference), payloads))
    for payload, response in zip(payloads, responses, strict=True):
        if payload is POISON:
            assert response.status_code == 400 and "surrogate" in response.json()["error"], response.text
        else:
            assert response.status_code == 200 and response.json()["label"] in {"ad", "normal"}, response.text
    after_sum, after_count = batch_totals()
    assert after_sum - before_sum == len(payloads)
    assert after_count - before_count < len(payloads), "no batch held more than one request"


def test_explanations_api_answers_with_evidence(live_torchserve, keys) -> None:
    """The explanations call scores like a prediction and adds `evidence` (empty: this bundle has no
    lexical component, whose n-grams are the evidence)."""
    body = {"title": "특가", "body": "카톡 문의 주세요"}
    response = requests.post(
        f"{live_torchserve.inference_url}/explanations/{MODEL_NAME}",
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {keys.inference}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    explained = response.json()
    assert explained["evidence"] == []
    assert explained["score"] == predict(live_torchserve, body, keys.inference).json()["score"]


def test_prometheus_metrics_endpoint(live_torchserve, keys) -> None:
    predict(live_torchserve, {"body": "메트릭 확인용 글"}, keys.inference)
    text = requests.get(f"http://127.0.0.1:{live_torchserve.ts_metrics_port}/metrics", timeout=10).text
    assert "ts_inference_requests_total" in text
    for family in ("AdRequestLatencyMs_bucket", "AdBatchTokens_sum", "AdPredictions{"):
        assert family in text, family


def test_frontend_logs_each_request_once(live_torchserve, keys) -> None:
    """serving/log4j2.xml: one access-log line per request; ts_log.log neither repeats lines nor logs
    per-request chatter (the jar's own config wrote each frontend line twice, plus DEBUG per request)."""
    logs = live_torchserve.torchserve_dir / "logs"
    marker = f"/predictions/{MODEL_NAME}"
    before = (logs / "access_log.log").read_text(encoding="utf-8").count(marker)
    with ThreadPoolExecutor(8) as pool:
        responses = list(
            pool.map(lambda i: predict(live_torchserve, {"body": f"로그 확인 {i}"}, keys.inference), range(24))
        )
    assert all(r.status_code == 200 for r in responses)
    time.sleep(1)  # the frontend writes its lines after answering
    assert (logs / "access_log.log").read_text(encoding="utf-8").count(marker) - before == 24
    ts_log = (logs / "ts_log.log").read_text(encoding="utf-8").splitlines()
    assert ts_log, "the frontend log is written"
    assert not [line for line in ts_log if "[DEBUG]" in line or "Sending response for jobId" in line]
    assert not [line for line in ts_log if "result=[METRICS]" in line], "metrics are on :8082, not echoed"
    repeated = [a for a, b in pairwise(ts_log) if a == b]
    assert not repeated, repeated[:3]


def test_default_cpu_layout_and_stop_waits_for_the_jvm(tiny_bundle, tmp_path) -> None:
    """The default CPU layout (3 workers x 1 torch thread, TorchScript) comes up READY; stop waits for the JVM."""
    from serving.export import export_bundle
    from stack.settings import Settings
    from tests.helpers import make_settings

    defaults = Settings.from_env({})
    cfg, _ = make_settings(
        tmp_path, ADS_TS_WORKERS=str(defaults.ts_workers), ADS_TS_CPU_THREADS=str(defaults.ts_cpu_threads)
    )
    archive = export_bundle(tiny_bundle, "7", cfg)
    keys = torchserve.start(cfg, archive.file_name)
    pid = torchserve.pid(cfg)
    assert pid is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = torchserve.describe(cfg, keys)[0]["workers"]
        if sum(w["status"] == "READY" for w in workers) == defaults.ts_workers:
            break
        time.sleep(1)
    assert [w["status"] for w in workers] == ["READY"] * defaults.ts_workers
    log = (cfg.torchserve_dir / "logs" / "model_log.log").read_text(encoding="utf-8")
    assert log.count(f"(fp32, TorchScript, {defaults.ts_cpu_threads} threads,") == defaults.ts_workers, log[-2000:]
    assert torchserve.stop(cfg)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", cfg.ts_inference_port)) != 0
