"""Kubernetes manifests (deploy/k8s): schema-valid, consistent with each other and with the code,
and the TorchServe auth proxy's config run for real (nginx in front of a real TorchServe)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import kubernetes_validate
import pytest
import requests
import yaml

from stack.settings import Settings
from tests.helpers import REPO_ROOT, free_ports

K8S = REPO_ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.37.0"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def documents(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")) if d]


def resources() -> dict[tuple[str, str], dict]:
    found = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            for doc in documents(path.name):
                found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


@pytest.mark.parametrize("name", sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"))
def test_manifest_is_valid_against_the_kubernetes_schema(name: str) -> None:
    for doc in documents(name):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_a_broken_manifest() -> None:
    deployment = documents("board.yaml")[0]
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"  # typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment = documents("board.yaml")[0]
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_kustomization_applies_everything_but_the_secret_template() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}


def containers() -> list[tuple[str, dict]]:
    return [
        (name, c)
        for (kind, name), doc in resources().items()
        if kind == "Deployment"
        for c in doc["spec"]["template"]["spec"]["containers"]
    ]


def test_services_and_autoscaler_point_at_what_exists() -> None:
    found = resources()
    for (kind, name), doc in found.items():
        if kind == "Service":
            target = next(d for (k, n), d in found.items() if k == "Deployment" and n == name)
            pod = target["spec"]["template"]
            assert doc["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
            named = {p["name"] for c in pod["spec"]["containers"] for p in c.get("ports", [])}
            assert {p["targetPort"] for p in doc["spec"]["ports"]} <= named, name
    hpa = found[("HorizontalPodAutoscaler", "torchserve")]
    assert ("Deployment", hpa["spec"]["scaleTargetRef"]["name"]) in found
    adapter = yaml.safe_load(found[("ConfigMap", "ad-guard-adapter-rules")]["data"]["config.yaml"])
    exposed = {rule["name"]["as"] for rule in adapter["rules"]}
    assert {m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"} <= exposed


def test_secret_keys_and_settings_exist() -> None:
    secret_keys = set(documents("secret.example.yaml")[0]["stringData"])
    documented = {Settings.env_name(field) for field in Settings.model_fields}
    for name, container in containers():
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["name"] == "ad-guard" and ref["key"] in secret_keys, (name, ref)
            if env["name"].startswith("ADS_"):
                assert env["name"] in documented, (name, env["name"])
    board = next(c for n, c in containers() if n == "board")
    env = {e["name"]: e for e in board["env"]}
    service_port = resources()[("Service", "torchserve")]["spec"]["ports"][0]["port"]
    assert env["ADS_TS_CLIENT_HOST"]["value"] == "torchserve"
    assert int(env["ADS_TS_INFERENCE_PORT"]["value"]) == service_port


def test_torchserve_binds_loopback_inside_the_pod() -> None:
    torchserve = next(c for n, c in containers() if c["name"] == "torchserve")
    assert {"name": "ADS_HOST", "value": "127.0.0.1"} in torchserve["env"]
    assert "ports" not in torchserve, "only the auth proxy's ports leave the pod"


def test_autoscaler_metric_comes_from_series_torchserve_exports(live_torchserve) -> None:
    rules = yaml.safe_load(resources()[("ConfigMap", "ad-guard-adapter-rules")]["data"]["config.yaml"])["rules"]
    exported = requests.get(f"http://127.0.0.1:{live_torchserve.ts_metrics_port}/metrics", timeout=10).text
    for rule in rules:
        for series in re.findall(r"\b(ts_[a-z_]+)\{", rule["seriesQuery"] + rule["metricsQuery"]):
            assert f"\n{series}{{" in "\n" + exported or f"# TYPE {series} " in exported, series


@pytest.mark.slow
@pytest.mark.skipif(NGINX is None, reason="nginx not installed (make test installs it as root)")
def test_auth_proxy_guards_torchserve_with_the_shared_token(live_torchserve, tmp_path: Path) -> None:
    """start.sh and nginx.conf.template from the ConfigMap, run as the pod runs them."""
    config = resources()[("ConfigMap", "torchserve-auth-proxy")]["data"]
    for name, text in config.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    listen, metrics = free_ports(2)
    env = {
        **os.environ,
        "KEY_FILE": str(live_torchserve.key_file),
        "TEMPLATE": str(tmp_path / "nginx.conf.template"),
        "PROXY_DIR": str(tmp_path),
        "LISTEN_PORT": str(listen),
        "METRICS_PORT": str(metrics),
        "TS_INFERENCE_PORT": str(live_torchserve.ts_inference_port),
        "TS_METRICS_PORT": str(live_torchserve.ts_metrics_port),
        "PROXY_TOKEN": "cluster-token",
        "NGINX": NGINX,
    }
    proxy = subprocess.Popen(["sh", str(tmp_path / "start.sh")], env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{listen}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                assert proxy.poll() is None, proxy.stderr.read()
                time.sleep(0.2)
        url = f"{base}/predictions/ad-classifier"
        post = {"title": "프록시", "body": "토큰을 바꿔 전달합니다"}
        assert requests.post(url, json=post, timeout=10).status_code == 401
        wrong = requests.post(url, json=post, headers={"Authorization": "Bearer nope"}, timeout=10)
        assert wrong.status_code == 401 and "InvalidKeyException" in wrong.text
        good = requests.post(url, json=post, headers={"Authorization": "Bearer cluster-token"}, timeout=30)
        assert good.status_code == 200 and good.json()["model"] == "ad-classifier/1"
        management = requests.get(f"{base}/models", headers={"Authorization": "Bearer cluster-token"}, timeout=5)
        assert management.status_code == 404, "only predictions pass the proxy"
        assert "ts_inference_requests_total" in requests.get(f"http://127.0.0.1:{metrics}/metrics", timeout=10).text
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
