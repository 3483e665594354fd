"""A local Prometheus for `make monitor`: monitoring/prometheus.yml rendered with the configured ports.

The committed config names the default loopback ports; this renders a copy under the run folder
whose targets follow the settings (ADS_TS_METRICS_PORT, ADS_BOARD_PORT, ADS_MLFLOW_PORT) and whose rule files are
absolute paths, then runs Debian's `prometheus` on 127.0.0.1 as a managed process.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from stack.processes import ManagedProcess, ServiceError
from stack.settings import REPO_ROOT, Settings

CONFIG = REPO_ROOT / "monitoring" / "prometheus.yml"
DEFAULT_PORT = 9090


def render_config(cfg: Settings, scrape_interval: str | None = None) -> Path:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    targets = {
        "torchserve": f"{cfg.host}:{cfg.ts_metrics_port}",
        "board": f"{cfg.host}:{cfg.board_port}",
        "mlflow": f"{cfg.host}:{cfg.mlflow_port}",
    }
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
    config["rule_files"] = [str(CONFIG.parent / pattern) for pattern in config["rule_files"]]
    if scrape_interval:
        config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = scrape_interval
    folder = cfg.run_dir / "prometheus"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def process(cfg: Settings) -> ManagedProcess:
    return ManagedProcess("prometheus", cfg.run_dir)


def start(cfg: Settings, port: int = DEFAULT_PORT, scrape_interval: str | None = None) -> str:
    """Start Prometheus (if not running) and wait until it is ready; returns its URL."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise ServiceError("Prometheus is not installed: apt-get install prometheus (make monitor does it as root)")
    url = f"http://{cfg.host}:{port}"
    proc = process(cfg)
    if proc.pid() is None:
        proc.start(
            [
                binary,
                f"--config.file={render_config(cfg, scrape_interval)}",
                f"--storage.tsdb.path={cfg.run_dir / 'prometheus' / 'data'}",
                f"--web.listen-address={cfg.host}:{port}",
                "--storage.tsdb.retention.time=15d",
            ]
        )
    proc.wait_http(f"{url}/-/ready", 60)
    return url
