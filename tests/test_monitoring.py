"""Prometheus config and alert rules with promtool, and a real Prometheus scraping TorchServe and the board."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests.helpers import REPO_ROOT, free_ports

MONITORING = REPO_ROOT / "monitoring"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (apt-get install prometheus; make test installs it as root)"
)


@needs_promtool
@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus.compose.yml"])
def test_promtool_checks_the_configs(config: str) -> None:
    result = subprocess.run([PROMTOOL, "check", "config", str(MONITORING / config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_alert_rules_unit_tests_pass() -> None:
    tests = sorted((MONITORING / "rules" / "tests").glob("*.yml"))
    result = subprocess.run(
        [PROMTOOL, "test", "rules", *map(str, tests)],
        capture_output=True,
        text=True,
        cwd=MONITORING / "rules" / "tests",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test() -> None:
    alerts = {
        rule["alert"]
        for path in (MONITORING / "rules").glob("*.yml")
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
    }
    tested = {
        case["alertname"]
        for path in (MONITORING / "rules" / "tests").glob("*.yml")
        for test in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]
        for case in test.get("alert_rule_test", [])
    }
    assert alerts == tested


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus not installed (make test installs it)")
def test_prometheus_scrapes_torchserve_and_the_board(board, tmp_path: Path) -> None:

    from stack import prometheus

    cfg = board.cfg.model_copy(update={"run_dir": tmp_path / "run"})
    port = free_ports(1)[0]
    url = prometheus.start(cfg, port=port, scrape_interval="1s")
    try:
        board.board.service.create_post("모니터링", "프로메테우스가 읽어 갑니다", "")
        deadline = time.monotonic() + 60
        up: dict[str, str] = {}
        while time.monotonic() < deadline and (up.get("torchserve"), up.get("board")) != ("1", "1"):
            result = requests.get(f"{url}/api/v1/query", params={"query": "up"}, timeout=5).json()["data"]["result"]
            up = {r["metric"]["job"]: r["value"][1] for r in result}
            time.sleep(1)
        # No MLflow server in this test: its job is configured and reported down.
        assert up == {"torchserve": "1", "board": "1", "mlflow": "0"}
        rules = requests.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
        assert {r["name"] for g in rules for r in g["rules"]} >= {"TorchServeDown", "BoardDown"}
    finally:
        prometheus.process(cfg).stop()
