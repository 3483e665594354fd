"""docker-compose.yml, the Dockerfile and the Prometheus config, checked without a Docker engine."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from stack.settings import Settings
from tests.conftest import REPO_ROOT

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_has_the_whole_stack() -> None:
    assert {"postgres", "mlflow", "torchserve", "torchserve-gpu", "board", "prometheus", "grafana"} <= set(
        COMPOSE["services"]
    )
    assert COMPOSE["services"]["torchserve-gpu"]["profiles"] == ["gpu"]
    devices = COMPOSE["services"]["torchserve-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]


def test_only_board_and_grafana_are_published() -> None:
    published = {name for name, svc in COMPOSE["services"].items() if svc.get("ports")}
    assert published == {"board", "grafana"}
    assert COMPOSE["services"]["board"]["ports"] == [f"{Settings.from_env({}).board_port}:7860"]


def test_every_service_has_a_healthcheck_or_is_a_dashboard() -> None:
    for name, svc in COMPOSE["services"].items():
        if name not in {"grafana", "torchserve-gpu"}:
            assert "healthcheck" in svc, name


def test_referenced_files_exist() -> None:
    for svc in COMPOSE["services"].values():
        build = svc.get("build")
        if build:
            assert (REPO_ROOT / build["context"] / build["dockerfile"]).is_file()
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO_ROOT / source).exists(), source


def test_secrets_come_from_an_uncommitted_env_file() -> None:
    used = set(re.findall(r"\$\{(\w+)\}", (REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8")))
    example = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    assert used and all(f"{var}=" in example for var in used)
    assert ".env" in (REPO_ROOT / ".gitignore").read_text(encoding="utf-8").split()


def test_dockerfile_copies_only_existing_paths() -> None:
    for line in (REPO_ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY "):
            source = line.split()[1]
            assert (REPO_ROOT / source).exists(), source


def test_prometheus_targets_match_local_defaults() -> None:
    cfg = Settings.from_env({})
    config = yaml.safe_load((REPO_ROOT / "monitoring" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets == {"torchserve": [f"127.0.0.1:{cfg.ts_metrics_port}"], "board": [f"127.0.0.1:{cfg.board_port}"]}
    for rule_file in Path(REPO_ROOT / "monitoring" / "rules").glob("*.yml"):
        rules = yaml.safe_load(rule_file.read_text(encoding="utf-8"))
        assert all("alert" in rule and "expr" in rule for group in rules["groups"] for rule in group["rules"])


def test_tracking_uri_is_fixed_when_settings_are_built(monkeypatch, tmp_path) -> None:
    """MLflow exports MLFLOW_TRACKING_URI into the environment; settings built earlier must not follow it."""
    cfg = Settings.from_env({"ADS_MLRUNS_DIR": str(tmp_path)})
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere.db")
    assert cfg.tracking_uri == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert Settings.from_env({"MLFLOW_TRACKING_URI": "http://mlflow:5000"}).tracking_uri == "http://mlflow:5000"
