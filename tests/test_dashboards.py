"""Grafana dashboards: generated JSON is committed, well formed, and every query works on real data."""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests.helpers import REPO_ROOT, free_ports

GRAFANA = REPO_ROOT / "monitoring" / "grafana"


def load_generator():
    spec = importlib.util.spec_from_file_location("dashboards", GRAFANA / "dashboards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def committed() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted((GRAFANA / "dashboards").glob("*.json"))}


def test_committed_json_is_what_the_generator_builds() -> None:
    generator = load_generator()
    built = json.loads(json.dumps({"board.json": generator.BOARD, "serving.json": generator.SERVING}))
    assert committed() == built, "run `python monitoring/grafana/dashboards.py` and commit the JSON"


def test_structure_and_provisioning_agree() -> None:
    datasource = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "ad-guard.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    uids = set()
    for name, board in committed().items():
        assert board["title"] and board["uid"] not in uids, name
        uids.add(board["uid"])
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)) >= 6
        for p in board["panels"]:
            assert p["datasource"]["uid"] == uid and p["targets"], p["title"]
            assert all(t["expr"] and t["datasource"]["uid"] == uid for t in p["targets"])


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus not installed (make test installs it)")
def test_every_panel_query_returns_data(board, live_torchserve, tmp_path: Path) -> None:

    from serving import torchserve
    from stack import prometheus
    from stack.drift import distribution
    from ui.drift import Reference

    cfg = board.cfg.model_copy(update={"run_dir": tmp_path / "run"})
    url = prometheus.start(cfg, port=free_ports(1)[0], scrape_interval="1s")
    try:
        service, moderation = board.board.service, board.board.moderation
        keys = torchserve.Keys.read(live_torchserve.key_file)
        requests.post(
            f"{live_torchserve.inference_url}/predictions/ad-classifier",
            data=b"{broken",
            headers={"Authorization": f"Bearer {keys.inference}", "Content-Type": "application/json"},
            timeout=10,
        )
        # The session's TorchServe serves a bundle that was never registered in MLflow: give the drift
        # monitor the reference distribution an evaluation run would have logged for it.
        reference = distribution([0.1, 0.2, 0.3, 0.8, 0.9], threshold=0.5)
        board.board.drift.load_reference = lambda version: Reference(
            reference["counts"], reference["predicted_ad_ratio"], "dashboard-test"
        )
        board.board.drift.refresh()
        creds = moderation.sessions.credentials
        token = moderation.login(creds.username, creds.password)
        for round_ in range(4):
            post = service.create_post(f"대시보드 {round_}", "패널마다 데이터가 있어야 합니다", "")
            service.add_comment(post.id, "댓글도 분류됩니다", "")
            if round_ == 0:
                moderation.override(token, "post", post.id, "ad" if post.label == "normal" else "normal")
            time.sleep(2)
        time.sleep(3)
        failures = []
        for name, dashboard in committed().items():
            for p in dashboard["panels"]:
                for target in p["targets"]:
                    body = requests.get(f"{url}/api/v1/query", params={"query": target["expr"]}, timeout=10).json()
                    if body["status"] != "success":
                        failures.append((name, p["title"], target["expr"], body.get("error")))
                    elif not body["data"]["result"] and "needs-gpu" not in p.get("tags", []):
                        failures.append((name, p["title"], target["expr"], "no data"))
        assert failures == []
    finally:
        prometheus.process(cfg).stop()
