"""Concurrent clients writing through the board's API: every item stored exactly once and classified.

Short form in `make test` (ADS_LOAD_POSTS=60 by default); `make soak` runs 1,000 posts and 1,000
comments from 20 clients and prints throughput and latency.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client
from sqlalchemy import func, select

from tests.helpers import ServedBoard, make_settings
from ui.models import Comment, Post

pytestmark = pytest.mark.slow

POSTS = int(os.environ.get("ADS_LOAD_POSTS", "60"))
CLIENTS = int(os.environ.get("ADS_LOAD_CLIENTS", "20"))


def test_concurrent_clients_lose_and_duplicate_nothing(live_torchserve, tmp_path_factory) -> None:
    own, _ = make_settings(tmp_path_factory.mktemp("load"))
    cfg = live_torchserve.model_copy(
        update={"board_port": own.board_port, "board_database_url": own.board_database_url, "pending_poll_s": 0.5}
    )
    with ServedBoard(cfg) as served:
        # One gradio_client Client per thread: a Client shared by threads that call it at the same
        # time can close its event stream under a newer call, which then fails with CancelledError
        # on the client side (intermittently). Each of the CLIENTS threads is one client.
        local = threading.local()
        latencies: list[float] = []
        errors: list[str] = []

        def call(i: int, api: str, *args):
            started = None
            try:
                if not hasattr(local, "client"):  # connecting is not part of the call's latency
                    local.client = Client(served.url, verbose=False, httpx_kwargs={"timeout": 120})
                started = time.perf_counter()
                return local.client.predict(*args, api_name=api)
            except Exception as exc:  # every failure is counted and reported, none hidden
                errors.append(f"{api} #{i}: {type(exc).__module__}.{type(exc).__name__}: {exc!r}")
                return None
            finally:
                if started is not None:
                    latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            posts = list(
                pool.map(
                    lambda i: call(i, "/create_post", f"부하 {i}", f"동시에 쓰는 글 {i}", f"u{i % 7}"), range(POSTS)
                )
            )
            ids = [p["id"] for p in posts if p]
            list(pool.map(lambda i: call(i, "/add_comment", ids[i % len(ids)], f"동시 댓글 {i}", ""), range(POSTS)))
        elapsed = time.perf_counter() - started

        deadline = time.monotonic() + 120
        while served.board.service.repo.pending_count() and time.monotonic() < deadline:
            time.sleep(0.5)
        with served.board.service.repo.sessions() as session:
            per_title = session.execute(select(Post.title, func.count()).group_by(Post.title)).all()
            comments = session.scalar(select(func.count(Comment.id)))
            unclassified = session.scalar(select(func.count(Post.id)).where(Post.status != "classified"))
        latencies.sort()
        p50, p99 = statistics.median(latencies), latencies[int(0.99 * (len(latencies) - 1))]
        print(
            f"\nload: {POSTS} posts + {POSTS} comments from {CLIENTS} clients in {elapsed:.1f}s "
            f"({2 * POSTS / elapsed:.1f} items/s); latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; "
            f"errors {len(errors)}"
        )
        assert errors == []
        assert len(per_title) == POSTS and all(count == 1 for _, count in per_title)
        assert comments == POSTS
        assert unclassified == 0
