"""The TorchServe handler in-process with a fake context, before the live-server tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handlers.ad_handler import BUNDLE_DIR, AdHandler


class RecordingMetrics:
    """Records what the handler emits through TorchServe's metrics cache API."""

    def __init__(self):
        self.calls: list[tuple[str, float, str, list]] = []
        self.registered: list[str] = []

    def add_metric_to_cache(self, name, unit, dimension_names=(), metric_type=None):
        self.registered.append(name)
        calls = self.calls

        class Recorder:
            def add_or_update(self, value, dimension_values=(), request_id=""):
                assert len(dimension_values) == len(dimension_names)
                calls.append((name, value, str(metric_type), list(zip(dimension_names, dimension_values, strict=True))))

        return Recorder()

    def add_time(self, name, value, idx=None, unit="ms", dimensions=()) -> None:
        self.calls.append((name, value, "TIME", []))


class FakeContext:
    """The parts of ts.context.Context the handler uses."""

    def __init__(self, model_dir: Path):
        self.system_properties = {"model_dir": str(model_dir), "gpu_id": None, "batch_size": 8}
        self.model_yaml_config = {"handler": {"micro_batch": 4, "cpu_threads": 1}}
        self.metrics = RecordingMetrics()
        self.statuses: dict[int, tuple[int, str]] = {}
        self.headers: dict[str, str] = {}

    def get_request_header(self, idx: int, key: str) -> str | None:
        return self.headers.get(key)

    def set_response_status(self, code: int = 200, phrase: str = "", idx: int = 0) -> None:
        self.statuses[idx] = (code, phrase)


@pytest.fixture(scope="module")
def handler_and_context(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory):
    model_dir = tmp_path_factory.mktemp("model_dir")
    shutil.copytree(tiny_bundle, model_dir / BUNDLE_DIR)
    context = FakeContext(model_dir)
    handler = AdHandler()
    handler.initialize(context)
    return handler, context


def test_batch_with_bad_requests_answers_each_in_order(handler_and_context) -> None:
    handler, context = handler_and_context
    batch = [
        {"body": {"title": "오늘 산책", "body": "날씨가 좋아서 한강 다녀왔어요"}},
        {"body": b"{broken"},
        {"body": "★오픈 특가★ 카톡 문의 010-0000-1234".encode()},
        {"body": {"body": "   "}},
    ]
    out = handler.handle(batch, context)
    assert len(out) == 4
    for i in (0, 2):
        assert out[i]["label"] in {"ad", "normal"}
        assert 0.0 <= out[i]["score"] <= 1.0
        assert out[i]["model"] == "ad-classifier/1"
        assert i not in context.statuses
    assert context.statuses[1][0] == 400 and out[1]["code"] == 400
    assert context.statuses[3][0] == 422 and out[3]["code"] == 422


HOSTILE = [
    {"body": {"title": "", "body": "\ud800 hello"}},
    {"body": {"title": "\udfff", "body": "본문"}},
    {"body": b'{"body": "\\udc00"}'},
    {"body": {"body": 12}},
    {"body": b"\xff\xfe"},
    {"body": [1, 2]},
    None,
]


def test_hostile_requests_fail_alone(handler_and_context) -> None:
    handler, context = handler_and_context
    good = [{"body": {"body": f"동네 산책 {i}번째 이야기"}} for i in range(len(HOSTILE))]
    batch = [row for pair in zip(good, HOSTILE, strict=True) for row in pair]
    context.statuses.clear()
    out = handler.handle(batch, context)
    for i, answer in enumerate(out):
        if i % 2 == 0:
            assert answer["label"] in {"ad", "normal"} and i not in context.statuses
        else:
            assert 400 <= answer["code"] < 500 and context.statuses[i][0] == answer["code"], answer


def test_a_post_that_breaks_scoring_fails_alone(handler_and_context, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever breaks inside tokenization or the model for one post: the batch is rescored one by one."""
    handler, context = handler_and_context
    real = handler.classifier.score_batch

    def breaks_on_marker(texts):
        if any("독약" in t for t in texts):
            raise TypeError("TextEncodeInput must be Union[TextInputSequence, ...]")
        return real(texts)

    monkeypatch.setattr(handler.classifier, "score_batch", breaks_on_marker)
    context.statuses.clear()
    out = handler.handle(
        [{"body": {"body": "좋은 아침"}}, {"body": {"body": "독약"}}, {"body": {"body": "점심 뭐 먹지"}}], context
    )
    assert out[0]["label"] in {"ad", "normal"} and out[2]["label"] in {"ad", "normal"}
    assert out[1]["code"] == 400 and context.statuses == {1: (400, out[1]["error"])}


def test_lifecycle_metrics_and_describe(handler_and_context) -> None:
    """Metrics are registered once at initialize; BaseHandler.handle records HandlerTime; describe works."""
    handler, context = handler_and_context
    assert sorted(context.metrics.registered) == ["AdBatchSize", "AdBatchTokens", "AdPredictions", "AdRequestLatencyMs"]
    handler.handle([{"body": {"body": "주말 등산 후기"}}], context)
    assert any(c[0] == "HandlerTime" for c in context.metrics.calls)
    context.headers["describe"] = "True"
    try:
        described = handler.handle([{"body": {"body": "무엇이든"}}], context)
    finally:
        context.headers.clear()
    assert described[0]["model"] == "ad-classifier/1" and described[0]["precision"] == "fp32"
    assert len(context.metrics.registered) == 4


def test_scores_do_not_depend_on_batch_mates(handler_and_context) -> None:
    handler, context = handler_and_context
    alone = handler.handle([{"body": {"body": "주말에 등산 다녀왔어요"}}], context)[0]["score"]
    together = handler.handle(
        [{"body": {"body": "아주 길고 긴 글입니다 " * 20}}, {"body": {"body": "주말에 등산 다녀왔어요"}}], context
    )[1]["score"]
    assert alone == pytest.approx(together, abs=1e-4)


def test_device_is_cpu_without_gpu(handler_and_context) -> None:
    handler, _ = handler_and_context
    assert handler.device.type == "cpu"


def test_custom_metrics_per_batch(handler_and_context) -> None:
    handler, context = handler_and_context
    context.metrics.calls.clear()
    handler.handle(
        [{"body": {"body": "주말 등산 후기"}}, {"body": b"{bad"}, {"body": {"body": "동네 맛집 질문"}}], context
    )
    calls = context.metrics.calls
    latency = [c for c in calls if c[0] == "AdRequestLatencyMs"]
    assert len(latency) == 3 and all(c[1] > 0 and "HISTOGRAM" in c[2] for c in latency)
    assert [c[1] for c in calls if c[0] == "AdBatchSize"] == [3]
    assert next(c[1] for c in calls if c[0] == "AdBatchTokens") > 4
    by_label = {c[3][0][1]: c[1] for c in calls if c[0] == "AdPredictions"}
    assert by_label["error"] == 1 and sum(by_label.values()) == 3


def test_int8_bundle_is_served_quantized_on_cpu(tiny_bundle: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    from handlers.classifier import BundleMeta

    model_dir = tmp_path / "model_dir"
    shutil.copytree(tiny_bundle, model_dir / BUNDLE_DIR)
    replace(BundleMeta.read(model_dir / BUNDLE_DIR), cpu_precision="int8").write(model_dir / BUNDLE_DIR)
    context = FakeContext(model_dir)
    handler = AdHandler()
    handler.initialize(context)
    assert handler.classifier.precision == "int8"
    out = handler.handle([{"body": {"title": "특가", "body": "오늘만 할인 문의 주세요"}}], context)
    assert out[0]["label"] in {"ad", "normal"} and context.statuses == {}


def test_gpu_torchserve_assigns_is_used_when_cuda_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    """CUDA is faked here (no GPU on these machines): only the device choice is checked."""
    import torch

    from handlers.ad_handler import pick_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device({"gpu_id": 1}) == torch.device("cuda:1")
    assert pick_device({"gpu_id": None}) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device({"gpu_id": 0}) == torch.device("cpu")


# On a real GPU -----------------------------------------------------------------------------------
# Skipped where torch sees no CUDA device (CI and the development machines have none). On a GPU
# machine without MLflow, ADS_TEST_BUNDLE names a bundle built elsewhere (e.g. by this suite's
# tiny_bundle fixture) instead of training one here.


@pytest.fixture(scope="module")
def gpu_handlers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The handler on cuda:0 (TorchServe's gpu_id 0) and on the CPU, over the same bundle."""
    import os

    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine: the GPU path needs one (CUDA is faked only in the test above)")
    bundle = Path(os.environ["ADS_TEST_BUNDLE"]) if "ADS_TEST_BUNDLE" in os.environ else None
    bundle = bundle or request.getfixturevalue("tiny_bundle")
    model_dir = tmp_path_factory.mktemp("gpu_model_dir")
    shutil.copytree(bundle, model_dir / BUNDLE_DIR)
    handlers = {}
    for name, gpu_id in (("gpu", 0), ("cpu", None)):
        context = FakeContext(model_dir)
        context.system_properties["gpu_id"] = gpu_id
        handler = AdHandler()
        handler.initialize(context)
        handlers[name] = (handler, context)
    return handlers


GPU_BATCH = [
    {"body": {"title": "오늘 산책", "body": "날씨가 좋아서 한강 다녀왔어요"}},
    {"body": b"{broken"},
    {"body": "★오픈 특가★ 카톡 문의 010-0000-1234".encode()},
    {"body": {"body": "   "}},
    {"body": {"body": "아주 길고 긴 글입니다 " * 40}},
]


def test_gpu_handler_runs_fp16_on_the_assigned_device(gpu_handlers) -> None:
    import torch

    handler, _ = gpu_handlers["gpu"]
    assert handler.device == torch.device("cuda:0")
    assert handler.classifier.precision == "fp16"
    assert next(handler.classifier.model.parameters()).dtype == torch.float16


def test_gpu_answers_match_cpu_and_bad_requests_stay_isolated(gpu_handlers) -> None:
    gpu, gpu_context = gpu_handlers["gpu"]
    cpu, cpu_context = gpu_handlers["cpu"]
    on_gpu, on_cpu = gpu.handle(GPU_BATCH, gpu_context), cpu.handle(GPU_BATCH, cpu_context)
    assert gpu_context.statuses[1][0] == 400 and gpu_context.statuses[3][0] == 422
    for i in (0, 2, 4):
        assert on_gpu[i]["score"] == pytest.approx(on_cpu[i]["score"], abs=5e-3)
        assert on_gpu[i]["label"] == on_cpu[i]["label"] or abs(on_cpu[i]["score"] - on_cpu[i]["threshold"]) < 5e-3


def test_gpu_scores_do_not_depend_on_batch_mates(gpu_handlers) -> None:
    handler, context = gpu_handlers["gpu"]
    alone = handler.handle([{"body": {"body": "주말에 등산 다녀왔어요"}}], context)[0]["score"]
    together = handler.handle(
        [{"body": {"body": "아주 길고 긴 글입니다 " * 20}}, {"body": {"body": "주말에 등산 다녀왔어요"}}], context
    )[1]["score"]
    assert alone == pytest.approx(together, abs=5e-3)


def test_handler_module_defines_one_class() -> None:
    """TorchServe refuses a handler module that defines more than one class."""
    import inspect

    from handlers import ad_handler

    defined = [c for _, c in inspect.getmembers(ad_handler, inspect.isclass) if c.__module__ == ad_handler.__name__]
    assert defined == [AdHandler]
