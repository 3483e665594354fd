"""`python -m stack up|down|status|monitor`: the local stack as processes (`make run`/`stop`/`monitor`).

up:   train the default classifier unless a champion exists -> export the champion to a .mar ->
      TorchServe -> MLflow UI -> the board; prints each phase's time and the URLs.
monitor: a local Prometheus scraping TorchServe and the board, with the alert rules.
down: stops everything `up` and `monitor` started, by PID, and waits until it has exited.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from stack.processes import ManagedProcess, ServiceError
from stack.settings import MODEL_NAME, Settings, apply_offline_env, process_environ, settings


@contextmanager
def phase(name: str, timings: list[tuple[str, float]]):
    print(f"==> {name}", flush=True)
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    timings.append((name, elapsed))
    print(f"    {name}: {elapsed:.1f}s", flush=True)


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def mlflow_process(cfg: Settings) -> ManagedProcess:
    return ManagedProcess("mlflow", cfg.run_dir)


def board_process(cfg: Settings) -> ManagedProcess:
    return ManagedProcess("board", cfg.run_dir)


def up(cfg: Settings) -> int:
    apply_offline_env()
    from serving import torchserve
    from serving.export import archive_name, export_model
    from training import registry, tracking

    timings: list[tuple[str, float]] = []
    with phase("train default classifier (skipped when a usable champion exists)", timings):
        from training.default_model import reason_to_train, train_default

        reason = reason_to_train(cfg)
        if reason is not None:
            print(f"    training the default model: {reason}", flush=True)
            print("    " + train_default(cfg).replace("\n", "\n    "))
        champion = registry.get_alias(tracking.configure(cfg), registry.CHAMPION)
        if reason is None:
            print(f"    champion is {MODEL_NAME} version {champion.version}; reusing it")
    with phase("export champion to a TorchServe archive", timings):
        mar = cfg.model_store / f"{archive_name(str(champion.version))}.mar"
        if mar.is_file():
            print(f"    {mar.name} already exported")
        else:
            export_model(registry.champion_uri(), cfg)
    with phase("start TorchServe and wait for a READY worker", timings):
        if torchserve.pid(cfg) is None:
            torchserve.start(cfg, mar.name)
        else:
            print("    TorchServe already running")
    with phase("start MLflow UI", timings):
        mlflow = mlflow_process(cfg)
        if mlflow.pid() is None:
            mlflow.start(
                [
                    _bin("mlflow"),
                    "server",
                    "--host",
                    cfg.host,
                    "--port",
                    str(cfg.mlflow_port),
                    "--backend-store-uri",
                    cfg.tracking_uri,
                    "--default-artifact-root",
                    cfg.artifact_root.as_uri(),
                    "--workers",
                    "1",
                    "--allowed-hosts",
                    f"{cfg.host}:{cfg.mlflow_port},localhost:{cfg.mlflow_port}",
                    "--expose-prometheus",
                    str(cfg.run_dir / "mlflow-metrics"),
                ],
                env=process_environ(),
            )
        mlflow.wait_http(f"http://{cfg.host}:{cfg.mlflow_port}/health", 120)
    with phase("start the board", timings):
        board = board_process(cfg)
        if board.pid() is None:
            board.start([sys.executable, "-m", "ui.app"], env=process_environ())
        board.wait_http(f"http://{cfg.host}:{cfg.board_port}/healthz", 120)
    total = sum(seconds for _, seconds in timings)
    print("\nPhase timings:")
    for name, seconds in timings:
        print(f"  {seconds:7.1f}s  {name}")
    print(f"  {total:7.1f}s  total\n")
    print(f"Board (광고 분류 게시판):  http://{cfg.host}:{cfg.board_port}")
    print(f"MLflow UI:               http://{cfg.host}:{cfg.mlflow_port}")
    print(f"TorchServe inference:    {cfg.inference_url}/predictions/{MODEL_NAME}  (key: {cfg.key_file})")
    from ui.auth import load_credentials

    moderator = load_credentials(cfg.secrets_dir)
    print(f"Moderator login (관리자): user {moderator.username!r}, password in {moderator.source}")
    print("Stop everything with `make stop`.")
    return 0


def monitor(cfg: Settings) -> int:
    from stack import prometheus

    url = prometheus.start(cfg)
    print(f"Prometheus: {url}  (targets: {url}/targets, alerts: {url}/alerts); `make stop` stops it")
    return 0


def down(cfg: Settings) -> int:
    from serving import torchserve
    from stack import prometheus

    steps: list[tuple[str, Callable[[], bool]]] = [
        ("Prometheus", prometheus.process(cfg).stop),
        ("board", board_process(cfg).stop),
        ("MLflow UI", mlflow_process(cfg).stop),
        ("TorchServe", lambda: torchserve.stop(cfg)),
    ]
    for name, stop in steps:
        print(f"{name}: {'stopped' if stop() else 'not running'}")
    return 0


def status(cfg: Settings) -> int:
    from serving import torchserve

    rows = [
        ("board", board_process(cfg).pid()),
        ("mlflow", mlflow_process(cfg).pid()),
        ("torchserve", torchserve.pid(cfg)),
    ]
    for name, pid in rows:
        print(f"{name:<11} {f'running (pid {pid})' if pid else 'stopped'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["up", "down", "status", "monitor"])
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    for noisy in ("mlflow", "alembic", "urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    cfg = settings()
    try:
        return {"up": up, "down": down, "status": status, "monitor": monitor}[args.command](cfg)
    except (ServiceError, RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
