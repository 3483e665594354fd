"""The board keeps working while TorchServe is down, and classifies everything once it is back."""

from __future__ import annotations

import time

import pytest
from gradio_client import Client

from serving import torchserve
from serving.export import export_bundle
from tests.conftest import ServedBoard, make_settings

pytestmark = pytest.mark.slow


def test_posts_survive_torchserve_stop_and_restart(tiny_bundle, tmp_path) -> None:
    cfg, _ = make_settings(tmp_path, ADS_CLASSIFY_TIMEOUT_S="2", ADS_CLASSIFY_RETRIES="1", ADS_PENDING_POLL_S="0.5")
    archive = export_bundle(tiny_bundle, "1", cfg)
    torchserve.start(cfg, archive.file_name)
    try:
        with ServedBoard(cfg) as served:
            client = Client(served.url, verbose=False)
            before = client.predict("점검 전 글", "정상적으로 분류됩니다", "", api_name="/create_post")
            assert before["status"] == "classified"

            assert torchserve.stop(cfg)  # also deletes key_file.json, as TorchServe does
            started = time.monotonic()
            during = [
                client.predict(f"점검 중 글 {i}", "서버가 멈춘 동안 쓴 글", "", api_name="/create_post")
                for i in range(5)
            ]
            comment = client.predict(before["id"], "점검 중 댓글", "", api_name="/add_comment")
            assert time.monotonic() - started < 30, "the board must answer promptly while TorchServe is down"
            assert {p["status"] for p in during} == {"pending"} and comment["status"] == "pending"
            assert served.board.service.repo.pending_count() == 6

            torchserve.start(cfg, archive.file_name)  # new keys: the board must pick them up by itself
            deadline = time.monotonic() + 60
            while served.board.service.repo.pending_count() and time.monotonic() < deadline:
                time.sleep(0.5)
            listed = client.predict(1, False, "", api_name="/list_posts")
            assert listed["total"] == 6
            assert len({p["id"] for p in listed["posts"]}) == 6
            assert {p["status"] for p in listed["posts"]} == {"classified"}
            detail = client.predict(before["id"], api_name="/get_post")
            assert [c["status"] for c in detail["comments"]] == ["classified"]
    finally:
        torchserve.stop(cfg)
