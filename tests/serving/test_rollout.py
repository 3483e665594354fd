"""`make deploy`'s switch between model versions, under load, on a real TorchServe.

Archives of the tiny bundle stamped as versions 1 and 2 stand for the old and the new champion
(what the registry resolves is covered by tests/training); in the API rollout the new one blends a
lexical component in, as `make train-real` versions do.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import requests

from handlers.classifier import AdClassifier
from serving import torchserve
from serving.export import export_bundle
from serving.rollout import served_versions, switch
from tests.helpers import ServedBoard, make_settings

pytestmark = pytest.mark.slow


def hammer(cfg, stop: threading.Event, seen: Counter, failures: list, workers: int = 4) -> list[threading.Thread]:
    """Clients classifying straight through TorchServe until `stop` is set."""

    def loop(n: int) -> None:
        session = requests.Session()
        i = 0
        while not stop.is_set():
            key = torchserve.Keys.read(cfg.key_file).inference
            try:
                response = session.post(
                    f"{cfg.inference_url}/predictions/ad-classifier",
                    json={"title": f"배포 중 {n}-{i}", "body": "버전이 바뀌는 동안에도 답합니다"},
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=30,
                )
                if response.status_code == 200:
                    seen[response.json()["model"]] += 1
                else:
                    failures.append((response.status_code, response.text[:200]))
            except requests.RequestException as exc:
                failures.append(("exception", repr(exc)))
            i += 1

    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    return threads


def test_api_rollout_switches_versions_without_a_failed_request(tiny_bundle, blended_bundle, tmp_path) -> None:
    cfg, _ = make_settings(tmp_path, ADS_TS_MODEL_API="true")
    old, new = export_bundle(tiny_bundle, "1", cfg), export_bundle(blended_bundle, "2", cfg)
    torchserve.start(cfg, old.file_name)
    try:
        stop, seen, failures = threading.Event(), Counter(), []
        threads = hammer(cfg, stop, seen, failures)
        time.sleep(2)
        result = switch(cfg, new, drain_s=2)
        time.sleep(2)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert result.mode == "api" and result.previous == ["1"]
        assert failures == []
        assert seen["ad-classifier/1"] > 0 and seen["ad-classifier/2"] > 0, seen
        assert served_versions(cfg, torchserve.Keys.read(cfg.key_file)) == ["2"]
        assert switch(cfg, new).mode == "unchanged"
        post = {"title": "신상 입고", "body": "주문 문의는 디엠 주세요 010-1234-5678"}
        served = requests.post(
            f"{cfg.inference_url}/predictions/ad-classifier",
            json=post,
            headers={"Authorization": f"Bearer {torchserve.Keys.read(cfg.key_file).inference}"},
            timeout=30,
        ).json()
        expected = AdClassifier(blended_bundle).predict_posts([(post["title"], post["body"])])[0]
        assert served["score"] == pytest.approx(expected.score, abs=1e-4), "TorchServe serves the blended score"
    finally:
        torchserve.stop(cfg)


def test_registration_outside_the_model_store_is_refused(tiny_bundle, tmp_path) -> None:
    cfg, _ = make_settings(tmp_path, ADS_TS_MODEL_API="true")
    outside = export_bundle(tiny_bundle, "3", cfg, export_dir=tmp_path / "elsewhere")
    torchserve.start(cfg, export_bundle(tiny_bundle, "1", cfg).file_name)
    try:
        keys = torchserve.Keys.read(cfg.key_file)
        management = f"{cfg.management_url}/models"
        anywhere = requests.post(
            management,
            params={"url": outside.path.as_uri(), "model_name": "ad-classifier"},
            headers={"Authorization": f"Bearer {keys.management}"},
            timeout=60,
        )
        assert anywhere.status_code >= 400, anywhere.text
        no_key = requests.post(management, params={"url": "ad-classifier-v1.mar"}, timeout=10)
        assert no_key.status_code in (400, 401) and "InvalidKeyException" in no_key.text
    finally:
        torchserve.stop(cfg)


@pytest.mark.parametrize("model_api", ["true", "false"])
def test_board_under_load_loses_nothing_when_the_champion_moves(tiny_bundle, tmp_path, model_api: str) -> None:
    """The alias moved during load: every post is stored once and classified, by v1 or v2.

    With the model-control API the board never sees TorchServe go away; without it TorchServe
    restarts and the posts written meanwhile wait as pending, then get classified.
    """
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    cfg, _ = make_settings(tmp_path, ADS_TS_MODEL_API=model_api, ADS_CLASSIFY_TIMEOUT_S="10")
    old, new = export_bundle(tiny_bundle, "1", cfg), export_bundle(tiny_bundle, "2", cfg)
    torchserve.start(cfg, old.file_name)
    try:
        with ServedBoard(cfg) as served:
            stop, errors, written = threading.Event(), [], []

            def writer(n: int) -> None:
                client = Client(served.url, verbose=False, httpx_kwargs={"timeout": 60})
                i = 0
                while not stop.is_set():
                    try:
                        title, body = f"배포 {n}-{i}", "챔피언이 바뀌는 동안 쓴 글"
                        post = client.predict(title, body, "", api_name="/create_post")
                        written.append(post["id"])
                    except Exception as exc:  # any error is a failure of the test
                        errors.append(repr(exc))
                    i += 1

            with ThreadPoolExecutor(6) as pool:
                for n in range(6):
                    pool.submit(writer, n)
                time.sleep(2)
                result = switch(cfg, new, drain_s=2)
                time.sleep(3)
                stop.set()
            assert errors == [] and result.mode == ("api" if model_api == "true" else "restart")
            repo = served.board.service.repo
            deadline = time.monotonic() + 90
            while repo.pending_count() and time.monotonic() < deadline:
                time.sleep(0.5)
            stored = repo.list_posts(1, 10_000, False, "")
            assert stored.total == len(written) == len(set(written)) > 0
            assert {p.status for p in stored.posts} == {"classified"}
            versions = Counter(p.model_version for p in stored.posts)
            assert versions["ad-classifier/1"] > 0 and versions["ad-classifier/2"] > 0, versions
            failed = {
                sample.labels["kind"]: sample.value
                for metric in served.board.service.metrics.registry.collect()
                if metric.name == "board_classify_errors"
                for sample in metric.samples
                if sample.name.endswith("_total")
            }
            if model_api == "true":  # TorchServe never went away: no connection error, no 5xx
                assert not {k for k, v in failed.items() if v and k != "timeout"}, failed
    finally:
        torchserve.stop(cfg)
