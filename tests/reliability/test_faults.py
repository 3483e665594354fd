"""Faults under load, each ending with a check that nothing was lost or duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
import requests
from gradio_client import Client

from serving import torchserve
from serving.export import export_bundle
from tests.helpers import REPO_ROOT, SUITE_LIMITS, ServedBoard, make_settings

pytestmark = pytest.mark.slow


def wait_until(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def test_killed_worker_is_replaced_and_no_post_is_lost(tiny_bundle, tmp_path) -> None:
    cfg, _ = make_settings(tmp_path, ADS_CLASSIFY_RETRIES="3", ADS_PENDING_POLL_S="0.5")
    archive = export_bundle(tiny_bundle, "1", cfg)
    torchserve.start(cfg, archive.file_name)
    try:
        keys = torchserve.Keys.read(cfg.key_file)
        old_pid = torchserve.describe(cfg, keys)[0]["workers"][0]["pid"]
        with ServedBoard(cfg) as served:
            client = Client(served.url, verbose=False)
            with ThreadPoolExecutor(8) as pool:
                futures = [
                    pool.submit(
                        client.predict, f"작업자 종료 {i}", "워커가 죽어도 글은 남습니다", "", api_name="/create_post"
                    )
                    for i in range(30)
                ]
                time.sleep(1.0)
                os.kill(old_pid, signal.SIGKILL)
                posts = [f.result() for f in futures]
            repo = served.board.service.repo
            assert wait_until(lambda: repo.pending_count() == 0, 120)
            listed = repo.list_posts(page_size=100)
            assert listed.total == 30 and len({p.id for p in listed.posts}) == 30
            assert {p.status for p in listed.posts} == {"classified"}
            assert sorted(p["id"] for p in posts) == sorted(p.id for p in listed.posts)
        workers = torchserve.describe(cfg, keys)[0]["workers"]
        assert workers[0]["status"] == "READY" and workers[0]["pid"] != old_pid
    finally:
        torchserve.stop(cfg)


def test_killed_board_keeps_every_acknowledged_post(live_torchserve, tmp_path) -> None:
    own, _ = make_settings(tmp_path)
    env = {
        **os.environ,
        "ADS_RUN_DIR": str(live_torchserve.run_dir),
        "ADS_TS_INFERENCE_PORT": str(live_torchserve.ts_inference_port),
        "ADS_TS_MANAGEMENT_PORT": str(live_torchserve.ts_management_port),
        "ADS_BOARD_PORT": str(own.board_port),
        "ADS_DATABASE_URL": own.board_database_url,
        **SUITE_LIMITS,
    }
    url = f"http://127.0.0.1:{own.board_port}"

    def start_board() -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ui.app"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def healthy() -> bool:
            try:
                return requests.get(f"{url}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        assert wait_until(healthy, 90), "board did not start"
        return proc

    board = start_board()
    try:
        client = Client(url, verbose=False)
        acknowledged = {
            client.predict(f"저장 확인 {i}", "확인 응답을 받은 글", "", api_name="/create_post")["id"]
            for i in range(20)
        }
        board.send_signal(signal.SIGKILL)
        board.wait(timeout=30)
        board = start_board()
        listed = Client(url, verbose=False).predict(1, False, "", api_name="/list_posts")
        pages = [listed] + [
            Client(url, verbose=False).predict(n, False, "", api_name="/list_posts")
            for n in range(2, listed["pages"] + 1)
        ]
        stored = {p["id"] for page in pages for p in page["posts"]}
        assert stored == acknowledged
    finally:
        board.kill()
        psutil.wait_procs([psutil.Process(board.pid)] if psutil.pid_exists(board.pid) else [], timeout=10)
