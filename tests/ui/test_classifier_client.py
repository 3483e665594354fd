"""The board's TorchServe client against a real TorchServe: keys, rotation, error kinds."""

from __future__ import annotations

import pytest
import requests

from serving import torchserve
from ui.classifier_client import ClassifierRejected, ClassifierUnavailable, TorchServeClient

pytestmark = pytest.mark.slow


def test_classifies_with_the_inference_key(live_torchserve) -> None:
    result = TorchServeClient(live_torchserve).classify("오늘 산책", "한강 다녀왔어요")
    assert result.label in {"ad", "normal"} and result.model == "ad-classifier/1"


def test_survives_a_rotated_key(live_torchserve) -> None:
    client = TorchServeClient(live_torchserve)
    old = client.inference_key()
    keys = torchserve.Keys.read(live_torchserve.key_file)
    response = requests.get(
        f"{live_torchserve.management_url}/token",
        params={"type": "inference"},
        headers={"Authorization": f"Bearer {keys.token_api}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    new = torchserve.Keys.read(live_torchserve.key_file).inference
    assert new != old  # TorchServe rewrote key_file.json; the client still holds the old key
    assert client.classify("키 교체 후", "그래도 분류됩니다").label in {"ad", "normal"}
    assert client.inference_key() == new


def test_input_torchserve_refuses_is_rejected_not_retried(live_torchserve) -> None:
    with pytest.raises(ClassifierRejected, match="422"):
        TorchServeClient(live_torchserve).classify("", "   ")


def test_unreachable_torchserve_is_unavailable(live_torchserve) -> None:
    cfg = live_torchserve.model_copy(update={"ts_inference_port": 9, "classify_retries": 1, "classify_timeout_s": 1})
    with pytest.raises(ClassifierUnavailable) as info:
        TorchServeClient(cfg).classify("제목", "본문")
    assert info.value.kind == "connection"


def test_missing_key_file_is_unavailable(live_torchserve, tmp_path) -> None:
    cfg = live_torchserve.model_copy(update={"run_dir": tmp_path})
    with pytest.raises(ClassifierUnavailable) as info:
        TorchServeClient(cfg).classify("제목", "본문")
    assert info.value.kind == "no_key"


def test_a_fixed_key_is_used_as_given(live_torchserve, tmp_path) -> None:
    """ADS_TS_INFERENCE_KEY (Kubernetes' auth proxy token) replaces key_file.json, which may be absent."""
    real = torchserve.Keys.read(live_torchserve.key_file).inference
    good = live_torchserve.model_copy(update={"run_dir": tmp_path, "ts_inference_key": real})
    assert TorchServeClient(good).classify("고정 키", "키 파일 없이 분류").model == "ad-classifier/1"
    wrong = live_torchserve.model_copy(update={"ts_inference_key": "not-the-key", "classify_retries": 0})
    with pytest.raises(ClassifierUnavailable) as info:
        TorchServeClient(wrong).classify("틀린 키", "거절되고 대기")
    assert info.value.kind == "auth"
