"""Run TorchServe for the board: config.properties, start, wait until READY, stop, status, keys.

Security defaults: every address on the configured host (127.0.0.1), token authorization on
(TorchServe writes key_file.json into its start directory), model-control API off unless
ADS_TS_MODEL_API=true (zero-downtime rollouts, see serving/rollout.py), `allowed_urls` limited to
the local model store. Metrics in Prometheus format on the metrics port.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

from stack.settings import MODEL_NAME, Settings, process_environ

log = logging.getLogger(__name__)

PID_FILE = ".model_server.pid"
LOG_CONFIG = Path(__file__).with_name("log4j2.xml")
"""The frontend's logging: each line once, no per-request chatter (see the file's header)."""


class TorchServeError(RuntimeError):
    """TorchServe failed to start, load the model or stop."""


@dataclass(frozen=True)
class Keys:
    """TorchServe's generated API keys (key_file.json)."""

    inference: str
    management: str
    token_api: str

    @classmethod
    def read(cls, key_file: Path) -> Keys:
        """The keys in `key_file`; TorchServeError when it is absent, unreadable or malformed."""
        if not key_file.is_file():
            raise TorchServeError(f"TorchServe key file not found: {key_file} (is TorchServe running?)")
        try:
            data = json.loads(key_file.read_text(encoding="utf-8"))
            return cls(data["inference"]["key"], data["management"]["key"], data["API"]["key"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TorchServeError(f"cannot read TorchServe key file {key_file}: {exc!r}") from exc


def config_properties(cfg: Settings) -> str:
    store = cfg.model_store.resolve()
    host = cfg.host
    lines = {
        "inference_address": f"http://{host}:{cfg.ts_inference_port}",
        "management_address": f"http://{host}:{cfg.ts_management_port}",
        "metrics_address": f"http://{host}:{cfg.ts_metrics_port}",
        "grpc_inference_address": host,
        "grpc_inference_port": cfg.ts_grpc_inference_port,
        "grpc_management_address": host,
        "grpc_management_port": cfg.ts_grpc_management_port,
        "model_store": store,
        "allowed_urls": "file://" + re.escape(str(store)) + "/.*",
        "enable_model_api": "true" if cfg.ts_model_api else "false",
        "disable_token_authorization": "false",
        "token_expiration_min": cfg.ts_token_expiration_min,
        "metrics_mode": "prometheus",
        "model_metrics_auto_detect": "true",
        "install_py_dep_per_model": "false",
        "default_workers_per_model": cfg.ts_workers,
        "job_queue_size": 1000,
        "vmargs": "-Xmx1g -XX:+ExitOnOutOfMemoryError",
    }
    return "".join(f"{key}={value}\n" for key, value in lines.items())


def _env(cfg: Settings) -> dict[str, str]:
    root = cfg.torchserve_dir
    env = process_environ()
    env.update(
        {
            "LOG_LOCATION": str(root / "logs"),
            "METRICS_LOCATION": str(root / "logs"),
            "TEMP": str(root / "tmp"),
            "PYTHONPATH": "",
        }
    )
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def pid(cfg: Settings) -> int | None:
    """PID of the running TorchServe frontend, or None."""
    pid_file = cfg.torchserve_dir / "tmp" / PID_FILE
    if not pid_file.is_file():
        return None
    try:
        value = int(pid_file.read_text().split()[0])
    except (ValueError, IndexError):
        return None
    return value if psutil.pid_exists(value) else None


def start(cfg: Settings, archive: str, timeout_s: float = 180) -> Keys:
    """Start TorchServe serving `archive` (a .mar file name in the model store); wait for READY."""
    root = cfg.torchserve_dir
    for sub in ("logs", "tmp", "model-store"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    if pid(cfg) is not None:
        raise TorchServeError(f"TorchServe is already running (pid {pid(cfg)}); run `make stop` first")
    config = root / "config.properties"
    config.write_text(config_properties(cfg), encoding="utf-8")
    command = [
        str(Path(sys.executable).parent / "torchserve"),
        "--start",
        "--ncs",
        "--ts-config",
        str(config),
        "--log-config",
        str(LOG_CONFIG),
        "--model-store",
        str(cfg.model_store.resolve()),
        "--models",
        f"{MODEL_NAME}={archive}",
    ]
    log.info("starting TorchServe with %s", archive)
    # The JVM inherits the launcher's stdout/stderr: a file, never a pipe (a pipe would never close).
    with open(root / "logs" / "launcher.log", "ab") as launcher_log:
        subprocess.run(
            command,
            cwd=root,
            env=_env(cfg),
            check=True,
            stdout=launcher_log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    wait_ready(cfg, timeout_s)
    return Keys.read(cfg.key_file)


def describe(cfg: Settings, keys: Keys, timeout_s: float = 5) -> list[dict]:
    response = requests.get(
        f"{cfg.management_url}/models/{MODEL_NAME}/all",
        headers={"Authorization": f"Bearer {keys.management}"},
        timeout=timeout_s,
    )
    response.raise_for_status()
    return response.json()


def wait_ready(cfg: Settings, timeout_s: float = 180) -> None:
    """Block until the default version has a READY worker (TorchServe's /ping is not enough)."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if pid(cfg) is None and time.monotonic() > deadline - timeout_s + 10:
            raise TorchServeError(f"TorchServe exited during start; see {cfg.torchserve_dir / 'logs'}")
        try:
            keys = Keys.read(cfg.key_file)
            workers = [w for model in describe(cfg, keys) for w in model.get("workers", [])]
            if any(w.get("status") == "READY" for w in workers):
                return
            last = f"workers {[w.get('status') for w in workers]}"
        except (TorchServeError, requests.RequestException, ValueError) as exc:
            last = str(exc)
        time.sleep(1)
    raise TorchServeError(
        f"TorchServe model not READY after {timeout_s:.0f}s ({last}); "
        f"see {cfg.torchserve_dir / 'logs' / 'model_log.log'}"
    )


def stop(cfg: Settings, timeout_s: float = 60) -> bool:
    """Stop TorchServe and wait for its JVM to exit; True if one was running."""
    running = pid(cfg)
    if running is None:
        return False
    proc = psutil.Process(running)
    children = proc.children(recursive=True)
    subprocess.run(
        [str(Path(sys.executable).parent / "torchserve"), "--stop"],
        cwd=cfg.torchserve_dir,
        env=_env(cfg),
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    _, alive = psutil.wait_procs([proc, *children], timeout=timeout_s)
    for leftover in alive:
        leftover.kill()
    psutil.wait_procs(alive, timeout=10)
    return True
