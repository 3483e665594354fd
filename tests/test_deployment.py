"""docker-compose.yml, the Dockerfile and the Prometheus config, checked without a Docker engine."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from stack.settings import OFFLINE_ENV, Settings
from tests.helpers import REPO_ROOT

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def compose_schema() -> dict:
    """The Compose Specification schema vendored by check-jsonschema (no network)."""
    import importlib.resources
    import json

    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads(vendor.joinpath("compose-spec.json").read_text(encoding="utf-8"))


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    jsonschema.validate(COMPOSE, compose_schema())


def test_the_compose_validator_rejects_a_broken_file() -> None:
    broken = copy.deepcopy(COMPOSE)
    broken["services"]["board"]["healthcheck"]["retry"] = 3  # typo of `retries`
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, compose_schema())
    broken = copy.deepcopy(COMPOSE)
    broken["services"]["board"]["depends_on"]["postgres"]["condition"] = "service_ready"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, compose_schema())


def test_exactly_one_torchserve_runs_and_the_board_finds_it() -> None:
    services = COMPOSE["services"]
    assert services["torchserve"]["profiles"] == ["cpu"] and services["torchserve-gpu"]["profiles"] == ["gpu"]
    assert services["torchserve-gpu"]["networks"]["default"]["aliases"] == ["torchserve"]
    assert services["board"]["environment"]["ADS_TS_CLIENT_HOST"] == "torchserve"
    assert "COMPOSE_PROFILES=cpu" in (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
    for name in ("torchserve", "torchserve-gpu"):
        assert services["board"]["depends_on"][name] == {"condition": "service_healthy", "required": False}
        assert services[name]["healthcheck"]["test"] == ["CMD", "python", "-m", "serving", "status"]
        assert "torchserve-run:/app/.run/torchserve" in services[name]["volumes"]
    assert "torchserve-run:/app/.run/torchserve:ro" in services["board"]["volumes"]


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
        if name != "grafana":
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


def test_the_image_runs_offline_like_the_local_stack() -> None:
    dockerfile = (REPO_ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    for name, value in OFFLINE_ENV.items():
        assert f"{name}={value}" in dockerfile, name


def test_prometheus_targets_match_local_defaults() -> None:
    cfg = Settings.from_env({})
    config = yaml.safe_load((REPO_ROOT / "monitoring" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets == {
        "torchserve": [f"127.0.0.1:{cfg.ts_metrics_port}"],
        "board": [f"127.0.0.1:{cfg.board_port}"],
        "mlflow": [f"127.0.0.1:{cfg.mlflow_port}"],
    }
    for rule_file in Path(REPO_ROOT / "monitoring" / "rules").glob("*.yml"):
        rules = yaml.safe_load(rule_file.read_text(encoding="utf-8"))
        assert all("alert" in rule and "expr" in rule for group in rules["groups"] for rule in group["rules"])


def test_tracking_uri_is_fixed_when_settings_are_built(monkeypatch, tmp_path) -> None:
    """MLflow exports MLFLOW_TRACKING_URI into the environment; settings built earlier must not follow it."""
    cfg = Settings.from_env({"ADS_MLRUNS_DIR": str(tmp_path)})
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere.db")
    assert cfg.tracking_uri == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert Settings.from_env({"MLFLOW_TRACKING_URI": "http://mlflow:5000"}).tracking_uri == "http://mlflow:5000"


def test_clients_reach_torchserve_where_it_listens() -> None:
    assert Settings.from_env({}).inference_url == "http://127.0.0.1:8080"
    assert Settings.from_env({"ADS_HOST": "0.0.0.0"}).management_url == "http://127.0.0.1:8081"
    remote = Settings.from_env({"ADS_HOST": "0.0.0.0", "ADS_TS_CLIENT_HOST": "torchserve"})
    assert remote.inference_url == "http://torchserve:8080" and remote.host == "0.0.0.0"
