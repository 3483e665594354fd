"""Helpers the tests share: paths, free ports, isolated settings, the board under uvicorn.

Fixtures live in conftest.py; test modules import these names from here.
"""

from __future__ import annotations

from pathlib import Path

from stack.processes import free_ports
from stack.settings import Settings

__all__ = ["BLEND_WEIGHT", "REPO_ROOT", "SEED_DATA", "ServedBoard", "free_ports", "make_settings"]

REPO_ROOT = Path(__file__).resolve().parents[1]
KOBERT_DIR = REPO_ROOT / "tests" / "fixtures" / "kobert"
KOBERT_MODEL = KOBERT_DIR / "tokenizer_78b3253a26.model"
KOBERT_VOCAB = KOBERT_DIR / "kobertvocab_f38b8a4d6d.json"
BLEND_WEIGHT = 0.3
"""Weight of the lexical component in the `blended_bundle` fixture."""

SEED_DATA = REPO_ROOT / "training" / "data" / "seed_posts.csv"


SUITE_LIMITS = {"ADS_LIMIT_POSTS": "100000/60", "ADS_LIMIT_COMMENTS": "100000/60", "ADS_LIMIT_REPORTS": "100000/60"}
"""Suites write from one client far faster than a person; the limits have their own tests."""


def make_settings(root: Path, **overrides: str) -> tuple[Settings, dict[str, str]]:
    """Settings for an isolated stack under `root`, every port free, and the variables behind them."""
    ports = free_ports(7)
    env = {
        "ADS_RUN_DIR": str(root / "run"),
        "ADS_MLRUNS_DIR": str(root / "mlruns"),
        "ADS_CACHE_DIR": str(REPO_ROOT / ".cache"),
        "ADS_BOARD_PORT": str(ports[0]),
        "ADS_MLFLOW_PORT": str(ports[1]),
        "ADS_TS_INFERENCE_PORT": str(ports[2]),
        "ADS_TS_MANAGEMENT_PORT": str(ports[3]),
        "ADS_TS_METRICS_PORT": str(ports[4]),
        "ADS_TS_GRPC_INFERENCE_PORT": str(ports[5]),
        "ADS_TS_GRPC_MANAGEMENT_PORT": str(ports[6]),
        "ADS_BACKBONE": "tiny",
        "ADS_SEED_DATA": str(SEED_DATA),
        "ADS_PENDING_POLL_S": "0.5",
        # One worker per test server: batching and fault tests need one queue to observe, and
        # CI's two cores are shared with pytest. The default worker count is measured by make bench.
        "ADS_TS_WORKERS": "1",
        "ADS_TS_CPU_THREADS": "0",
        **SUITE_LIMITS,
        **overrides,
    }
    return Settings.from_env(env), env


class ServedBoard:
    """The board's ASGI app under uvicorn in a background thread."""

    def __init__(self, cfg):
        import threading

        import uvicorn

        from ui.app import SHUTDOWN_GRACE_S, create_board

        self.cfg = cfg
        self.board = create_board(cfg)
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.board.app,
                host=cfg.host,
                port=cfg.board_port,
                log_level="warning",
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://{cfg.host}:{cfg.board_port}"

    def __enter__(self) -> ServedBoard:
        import time

        import requests

        self.thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("board did not start")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
