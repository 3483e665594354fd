"""Registry model -> TorchServe model archive (.mar).

`export_model(registry.champion_uri())` resolves the alias to a version, downloads that
version's classifier bundle, stamps the registry name/version into it and packs it with the
`handlers` package and a model-config.yaml (dynamic batching, workers, timeout) into
`<model_store>/ad-classifier-v<version>.mar`.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from handlers.classifier import BundleMeta
from stack.settings import MODEL_NAME, REPO_ROOT, Settings

log = logging.getLogger(__name__)

HANDLER_PACKAGE = REPO_ROOT / "handlers"
ARCHIVE_FORMAT = "zip-store"
"""An uncompressed .mar: the weights barely compress (the e5 default's 492 MB archive deflates to
208 MB), and deflating them took most of the export (75 s against 3-5 s stored, on two cores).
Every exported version stays in the model store for rollbacks, at its full size."""


@dataclass(frozen=True)
class Archive:
    path: Path
    model_name: str
    version: str

    @property
    def file_name(self) -> str:
        return self.path.name


def model_config(cfg: Settings) -> dict:
    """TorchServe per-model settings baked into the archive (model-config.yaml)."""
    return {
        "minWorkers": cfg.ts_workers,
        "maxWorkers": cfg.ts_workers,
        "batchSize": cfg.ts_batch_size,
        "maxBatchDelay": cfg.ts_max_batch_delay_ms,
        "responseTimeout": cfg.ts_response_timeout_s,
        "handler": {
            "micro_batch": cfg.ts_micro_batch,
            "padding_slack": cfg.ts_padding_slack,
            "cpu_threads": cfg.ts_cpu_threads,
            "torchscript": cfg.ts_torchscript,
        },
    }


def archive_name(version: str) -> str:
    return f"{MODEL_NAME}-v{version}"


def stage_archive(bundle: Path, version: str, cfg: Settings, workdir: Path, precision: str = "fp32") -> Path:
    """Lay out what goes into the .mar: handlers/ package, bundle/, model-config.yaml."""
    stage = workdir / "stage"
    shutil.copytree(HANDLER_PACKAGE, stage / "handlers", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(bundle, stage / "bundle")
    meta = replace(
        BundleMeta.read(stage / "bundle"), model_name=MODEL_NAME, model_version=version, cpu_precision=precision
    )
    meta.write(stage / "bundle")
    (workdir / "model-config.yaml").write_text(yaml.safe_dump(model_config(cfg)), encoding="utf-8")
    return stage


def build_archive(
    stage: Path, version: str, config_file: Path, export_dir: Path, handler: str = "ad_handler.py"
) -> Path:
    """Run torch-model-archiver on a staged folder; `handler` is a file in the staged handlers/."""
    export_dir.mkdir(parents=True, exist_ok=True)
    name = archive_name(version)
    command = [
        sys.executable,
        "-m",
        "model_archiver.model_packaging",
        "--model-name",
        name,
        "--version",
        version,
        "--handler",
        str(stage / "handlers" / handler),
        "--extra-files",
        str(stage),
        "--config-file",
        str(config_file),
        "--export-path",
        str(export_dir),
        "--archive-format",
        ARCHIVE_FORMAT,
        "--force",
    ]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return export_dir / f"{name}.mar"


def export_bundle(
    bundle: Path, version: str, cfg: Settings, export_dir: Path | None = None, precision: str = "fp32"
) -> Archive:
    """Archive a local bundle folder (used by export_model and by tests without a registry)."""
    with tempfile.TemporaryDirectory() as tmp:
        stage = stage_archive(bundle, version, cfg, Path(tmp), precision)
        path = build_archive(stage, version, Path(tmp) / "model-config.yaml", export_dir or cfg.model_store)
    log.info("archived %s version %s (CPU precision %s) -> %s", MODEL_NAME, version, precision, path)
    return Archive(path, MODEL_NAME, version)


def export_model(model_uri: str, cfg: Settings, export_dir: Path | None = None) -> Archive:
    """Export a registry model (alias, version URI or version number) to a .mar."""
    from training import registry, tracking

    client = tracking.configure(cfg)
    version = registry.resolve_version(client, model_uri)
    precision = cfg.ts_cpu_precision
    if precision == "auto":
        precision = client.get_model_version(MODEL_NAME, version).tags.get("cpu_precision", "fp32")
    with tempfile.TemporaryDirectory() as tmp:
        return export_bundle(registry.download_bundle(version, Path(tmp)), version, cfg, export_dir, precision)
