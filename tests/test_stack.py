"""`make run` / `make stop` as a user runs them: `python -m stack up|down` in an isolated folder.

Trains the tiny backbone on a slice of the seed set (the real default, e5, is exercised by
`make run` itself), brings up TorchServe, MLflow UI and the board, uses them, restarts without
retraining, and checks that `down` leaves nothing running or listening.
"""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from gradio_client import Client

from tests.helpers import REPO_ROOT, SEED_DATA, make_settings

pytestmark = pytest.mark.slow


def run_stack(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stack", command], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def stack_env(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("stack")
    with open(SEED_DATA, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:160]
    seed = root / "seed.csv"
    with open(seed, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["title", "body", "label"])
        writer.writeheader()
        writer.writerows(rows)
    cfg, overrides = make_settings(root, ADS_SEED_DATA=str(seed))
    env = {**os.environ, **overrides}
    env.pop("MLFLOW_TRACKING_URI", None)
    yield cfg, env
    run_stack("down", env)


def test_up_serves_everything_and_prints_urls(stack_env) -> None:
    cfg, env = stack_env
    result = run_stack("up", env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "registered ad-classifier version 1" in result.stderr + result.stdout
    for url in (f"http://127.0.0.1:{cfg.board_port}", f"http://127.0.0.1:{cfg.mlflow_port}"):
        assert url in result.stdout
    assert requests.get(f"http://127.0.0.1:{cfg.mlflow_port}/health", timeout=10).status_code == 200
    post = Client(f"http://127.0.0.1:{cfg.board_port}", verbose=False).predict(
        "동네 소식", "오늘 시장에 사람이 많네요", "", api_name="/create_post"
    )
    assert post["status"] == "classified" and post["model_version"] == "ad-classifier/1"


def test_services_listen_on_loopback_only_and_mlflow_refuses_foreign_hosts(stack_env) -> None:
    import psutil

    cfg, _ = stack_env
    for name in ("mlflow", "board"):
        pid = int(Path(cfg.run_dir, "pids", f"{name}.pid").read_text())
        group = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        addresses = {c.laddr.ip for p in group for c in p.net_connections(kind="tcp") if c.status == "LISTEN"}
        assert addresses == {"127.0.0.1"}, (name, addresses)
    api = f"http://127.0.0.1:{cfg.mlflow_port}/api/2.0/mlflow/experiments/search?max_results=1"
    assert requests.get(api, timeout=10).status_code == 200
    # MLflow's --allowed-hosts guards the API and UI (its /health is exempt by design).
    assert requests.get(api, headers={"Host": "evil.example"}, timeout=10).status_code == 403


def test_mlflow_exposes_prometheus_metrics(stack_env) -> None:
    cfg, _ = stack_env
    text = requests.get(f"http://127.0.0.1:{cfg.mlflow_port}/metrics", timeout=10).text
    assert "mlflow_http_request_total" in text


def test_second_up_reuses_the_champion(stack_env) -> None:
    _, env = stack_env
    assert run_stack("down", env).returncode == 0
    result = run_stack("up", env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reusing it" in result.stdout and "already exported" in result.stdout


def test_down_leaves_nothing_running(stack_env) -> None:
    cfg, env = stack_env
    result = run_stack("down", env)
    assert result.returncode == 0
    ports = [
        cfg.board_port,
        cfg.mlflow_port,
        cfg.ts_inference_port,
        cfg.ts_management_port,
        cfg.ts_metrics_port,
        cfg.ts_grpc_inference_port,
        cfg.ts_grpc_management_port,
    ]
    assert [p for p in ports if listening(p)] == []
    assert not list(Path(cfg.run_dir, "pids").glob("*.pid"))
    assert "stopped" in run_stack("status", env).stdout
