"""The board keeps working while TorchServe is down, and classifies everything once it is back."""

from __future__ import annotations

import time

import pytest
from gradio_client import Client

from serving import torchserve
from serving.export import export_bundle
from tests.helpers import ServedBoard, make_settings

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


def test_slow_classifier_does_not_keep_a_writer_waiting(tmp_path) -> None:
    """TorchServe answering after the timeout: the post is saved as pending within one timeout."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.helpers import free_ports
    from ui.classifier_client import TorchServeClient
    from ui.db import make_engine, make_sessions, migrate
    from ui.metrics import BoardMetrics
    from ui.repository import BoardRepository
    from ui.service import BoardService

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            time.sleep(3)
            body = json.dumps({"label": "normal", "score": 0.1, "threshold": 0.5, "model": "slow/1"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    port = free_ports(1)[0]
    server = ThreadingHTTPServer(("127.0.0.1", port), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cfg, _ = make_settings(
        tmp_path, ADS_TS_INFERENCE_PORT=str(port), ADS_CLASSIFY_TIMEOUT_S="1", ADS_CLASSIFY_RETRIES="3"
    )
    cfg.key_file.parent.mkdir(parents=True)
    cfg.key_file.write_text(json.dumps({"inference": {"key": "k"}, "management": {"key": "m"}, "API": {"key": "a"}}))
    engine = make_engine(cfg.board_database_url)
    migrate(engine)
    service = BoardService(BoardRepository(make_sessions(engine)), TorchServeClient(cfg), BoardMetrics())
    try:
        started = time.monotonic()
        post = service.create_post("느린 서버", "응답이 늦어도 바로 저장됩니다", "")
        assert time.monotonic() - started < 2.5
        assert post.status == "pending"
    finally:
        server.shutdown()
