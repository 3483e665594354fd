"""A slow model inside a real TorchServe: the board answers within its timeout, then catches up."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from gradio_client import Client

from serving import torchserve
from serving.export import build_archive, model_config, stage_archive
from tests.helpers import REPO_ROOT, ServedBoard, make_settings

pytestmark = pytest.mark.slow


def slow_archive(bundle: Path, cfg, flag: Path) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        stage = stage_archive(bundle, "1", cfg, Path(tmp))
        shutil.copy(REPO_ROOT / "tests" / "fixtures" / "slow_handler.py", stage / "handlers" / "slow_handler.py")
        config = model_config(cfg)
        config["handler"].update({"slow_flag": str(flag), "slow_delay_s": 6})
        config_file = Path(tmp) / "model-config.yaml"
        config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
        return build_archive(stage, "1", config_file, cfg.model_store, handler="slow_handler.py").name


def test_slow_model_leaves_posts_pending_then_classifies_them(tiny_bundle, tmp_path) -> None:
    cfg, _ = make_settings(tmp_path, ADS_CLASSIFY_TIMEOUT_S="2", ADS_CLASSIFY_RETRIES="0", ADS_PENDING_POLL_S="1")
    flag = tmp_path / "slow"
    flag.touch()
    torchserve.start(cfg, slow_archive(tiny_bundle, cfg, flag))
    try:
        worker_pids = {
            w["pid"] for m in torchserve.describe(cfg, torchserve.Keys.read(cfg.key_file)) for w in m["workers"]
        }
        with ServedBoard(cfg) as served:
            client = Client(served.url, verbose=False)
            answered = []
            for i in range(3):
                started = time.monotonic()
                post = client.predict(
                    f"느린 모델 {i}", "모델이 느려도 글은 바로 저장됩니다", "", api_name="/create_post"
                )
                answered.append(time.monotonic() - started)
                assert post["status"] == "pending", post
            assert max(answered) < 5, f"the board kept a writer waiting: {answered}"

            flag.unlink()  # the model recovers
            repo = served.board.service.repo
            deadline = time.monotonic() + 90
            while repo.pending_count() and time.monotonic() < deadline:
                time.sleep(0.5)
            stored = repo.list_posts(1, 50, False, "")
            assert stored.total == 3 and {p.status for p in stored.posts} == {"classified"}
        workers = torchserve.describe(cfg, torchserve.Keys.read(cfg.key_file))[0]["workers"]
        assert {w["pid"] for w in workers} == worker_pids, "a slow handler must not cost the worker"
    finally:
        torchserve.stop(cfg)
