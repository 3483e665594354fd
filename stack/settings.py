"""All configuration of the stack, in one place.

Every value has a documented default and an environment override (the variable named beside it).
Nothing is read at import time: call `settings()` (cached) or build `Settings.from_env(environ)`.
Paths are relative to the repository root unless given absolute.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

MODEL_NAME = "ad-classifier"
"""Name of the registered model in MLflow and of the model in TorchServe."""

OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
}
"""Environment every process of the stack runs with: nothing phones home or downloads at run time."""


def _path(env: Mapping[str, str], name: str, default: str) -> Path:
    path = Path(env.get(name, default)).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, default)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _reachable(bind: str) -> str:
    """An address a local client can connect to for a service bound to `bind`."""
    return "127.0.0.1" if bind in {"0.0.0.0", ""} else "::1" if bind == "::" else bind


@dataclass(frozen=True)
class Settings:
    """Settings of the whole local stack (see README "Configuration")."""

    run_dir: Path
    """ADS_RUN_DIR (.run): PIDs, logs, secrets, TorchServe state and the board database."""
    mlruns_dir: Path
    """ADS_MLRUNS_DIR (mlruns): MLflow's local store (SQLite database + artifacts)."""
    cache_dir: Path
    """ADS_CACHE_DIR (.cache): converted backbones and other derived files."""
    host: str
    """ADS_HOST (127.0.0.1): the address every local service binds to."""
    mlflow_port: int
    """ADS_MLFLOW_PORT (5000): MLflow UI / tracking server."""
    board_port: int
    """ADS_BOARD_PORT (7860): the Gradio board (also serves /metrics)."""
    ts_inference_port: int
    """ADS_TS_INFERENCE_PORT (8080)."""
    ts_management_port: int
    """ADS_TS_MANAGEMENT_PORT (8081)."""
    ts_metrics_port: int
    """ADS_TS_METRICS_PORT (8082): Prometheus metrics of TorchServe."""
    ts_grpc_inference_port: int
    """ADS_TS_GRPC_INFERENCE_PORT (7070)."""
    ts_grpc_management_port: int
    """ADS_TS_GRPC_MANAGEMENT_PORT (7071)."""
    ts_client_host: str
    """ADS_TS_CLIENT_HOST (ADS_HOST, or 127.0.0.1 when that is 0.0.0.0): where the board and the
    health checks reach TorchServe (e.g. `torchserve` in docker-compose)."""
    ts_inference_key: str | None
    """ADS_TS_INFERENCE_KEY (unset): a fixed bearer token for inference instead of TorchServe's
    key_file.json (Kubernetes: the auth proxy's shared token, see deploy/k8s)."""
    ts_token_expiration_min: int
    """ADS_TS_TOKEN_EXPIRATION_MIN (1440): lifetime of TorchServe's inference/management keys.
    The board refreshes an expired key through TorchServe's token API, so any value works."""
    ts_batch_size: int
    """ADS_TS_BATCH_SIZE (4): TorchServe dynamic batching, most requests per batch. On CPU a few
    waiting requests let the handler run posts of similar length together (handlers.classifier
    .plan_micro_batches), which costs less per post than one at a time; with a short window
    (below) an idle worker takes a lone request at once, so batches form only under load
    (measured: README "Benchmarks"). On a GPU raise it (e.g. 128)."""
    ts_max_batch_delay_ms: int
    """ADS_TS_MAX_BATCH_DELAY_MS (2): how long TorchServe waits to fill a batch. A long window holds
    a lone request for batch-mates and lets one worker take requests other workers could run."""
    ts_workers: int
    """ADS_TS_WORKERS (3): worker processes per model. On CPU, single-threaded workers, one more than
    the cores: on the 2-core development machine 2 single-threaded workers serve 4% (fp32) to 26%
    (int8) more than 1 worker with 2 threads, and a third one lets a short post run beside a long
    one instead of queueing behind it (p99/p50 at half load 2.78 -> 1.88 for e5 int8, same peak
    within 4%; README "Benchmarks"). On a GPU, 1 worker per GPU."""
    ts_micro_batch: int
    """ADS_TS_MICRO_BATCH (16): most posts per forward pass inside one TorchServe batch."""
    ts_padding_slack: float
    """ADS_TS_PADDING_SLACK (0.1): how much padding a forward pass may add, as a share of its real
    tokens (handlers.classifier.plan_micro_batches). Low suits CPUs, where padding costs more than
    batching gains (measured: README "Benchmarks"); raise it on a GPU (e.g. 3.0)."""
    ts_cpu_threads: int
    """ADS_TS_CPU_THREADS (1; 0 = torch's default, one per core): intra-op threads of a CPU worker."""
    ts_torchscript: bool
    """ADS_TS_TORCHSCRIPT (true): CPU workers run a TorchScript trace of the model, checked against
    the eager model when the worker loads (handlers.classifier.traced_forward); false runs it eagerly."""
    ts_model_api: bool
    """ADS_TS_MODEL_API (false): TorchServe's model-control API (register/unregister). Off, `make
    deploy` switches versions by restarting TorchServe (the board keeps new posts pending meanwhile);
    on, it registers the new version beside the old one and switches with no failed request.
    Registration stays limited to archives in the local model store and needs the management key."""
    ts_cpu_precision: str
    """ADS_TS_CPU_PRECISION (auto): what TorchServe runs on CPU. `auto` follows the version's
    `cpu_precision` tag, which `make eval` sets to int8 only when int8 stays within 1 macro-F1
    point of fp32; `fp32` or `int8` force it."""
    ts_response_timeout_s: int
    """ADS_TS_RESPONSE_TIMEOUT_S (60): TorchServe kills a worker whose batch takes longer."""
    board_database_url: str
    """ADS_DATABASE_URL (sqlite:///<run_dir>/board.sqlite3): any SQLAlchemy URL (e.g. PostgreSQL)."""
    classify_timeout_s: float
    """ADS_CLASSIFY_TIMEOUT_S (5): the board's timeout for one call to TorchServe."""
    classify_retries: int
    """ADS_CLASSIFY_RETRIES (2): extra attempts after a failed call before a post stays pending."""
    pending_poll_s: float
    """ADS_PENDING_POLL_S (5): how often the board retries pending posts and comments."""
    drift_window: int
    """ADS_DRIFT_WINDOW (500): newest classified items the drift gauges compare with the reference."""
    low_confidence_margin: float
    """ADS_LOW_CONFIDENCE_MARGIN (0.1): a score this close to the threshold counts as low-confidence."""
    report_review_at: int
    """ADS_REPORT_REVIEW_AT (3): distinct readers' reports that show an item as 검토 중 until a
    moderator decides."""
    limit_posts: str
    """ADS_LIMIT_POSTS (5/60): posts one client may write per that many seconds."""
    limit_comments: str
    """ADS_LIMIT_COMMENTS (10/60): comments one client may write per that many seconds."""
    limit_reports: str
    """ADS_LIMIT_REPORTS (10/60): reports one client may send per that many seconds."""
    limit_per_address: int
    """ADS_LIMIT_PER_ADDRESS (5): one IP address may act as often as this many clients together."""
    login_max_failures: int
    """ADS_LOGIN_MAX_FAILURES (5): wrong moderator logins in a row before a client is locked out."""
    login_lockout_s: float
    """ADS_LOGIN_LOCKOUT_S (30): the first lockout; it doubles with each further wrong login."""
    evidence_public: bool
    """ADS_EVIDENCE_PUBLIC (false): show everyone, not only moderators, why an item was labelled 광고."""
    backbone: str
    """ADS_BACKBONE (e5): backbone `make run` trains when no champion exists."""
    seed_data: Path
    """ADS_SEED_DATA (training/data/board_corpus.csv): data `make run` trains on (training.default_model)."""
    mlflow_tracking_uri: str | None = None
    """MLFLOW_TRACKING_URI (unset): another tracking server instead of the local SQLite store.
    Captured when settings are built: MLflow itself writes this variable into the environment."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        run_dir = _path(env, "ADS_RUN_DIR", ".run")
        return cls(
            run_dir=run_dir,
            mlruns_dir=_path(env, "ADS_MLRUNS_DIR", "mlruns"),
            cache_dir=_path(env, "ADS_CACHE_DIR", ".cache"),
            host=env.get("ADS_HOST", "127.0.0.1"),
            mlflow_port=_int(env, "ADS_MLFLOW_PORT", 5000),
            board_port=_int(env, "ADS_BOARD_PORT", 7860),
            ts_inference_port=_int(env, "ADS_TS_INFERENCE_PORT", 8080),
            ts_management_port=_int(env, "ADS_TS_MANAGEMENT_PORT", 8081),
            ts_metrics_port=_int(env, "ADS_TS_METRICS_PORT", 8082),
            ts_grpc_inference_port=_int(env, "ADS_TS_GRPC_INFERENCE_PORT", 7070),
            ts_grpc_management_port=_int(env, "ADS_TS_GRPC_MANAGEMENT_PORT", 7071),
            ts_client_host=env.get("ADS_TS_CLIENT_HOST") or _reachable(env.get("ADS_HOST", "127.0.0.1")),
            ts_inference_key=env.get("ADS_TS_INFERENCE_KEY") or None,
            ts_token_expiration_min=_int(env, "ADS_TS_TOKEN_EXPIRATION_MIN", 1440),
            ts_batch_size=_int(env, "ADS_TS_BATCH_SIZE", 4),
            ts_max_batch_delay_ms=_int(env, "ADS_TS_MAX_BATCH_DELAY_MS", 2),
            ts_workers=_int(env, "ADS_TS_WORKERS", 3),
            ts_micro_batch=_int(env, "ADS_TS_MICRO_BATCH", 16),
            ts_padding_slack=float(env.get("ADS_TS_PADDING_SLACK", "0.1")),
            ts_cpu_threads=_int(env, "ADS_TS_CPU_THREADS", 1),
            ts_torchscript=_choice(env, "ADS_TS_TORCHSCRIPT", "true", ("true", "false")) == "true",
            ts_model_api=_choice(env, "ADS_TS_MODEL_API", "false", ("true", "false")) == "true",
            ts_cpu_precision=_choice(env, "ADS_TS_CPU_PRECISION", "auto", ("auto", "fp32", "int8")),
            ts_response_timeout_s=_int(env, "ADS_TS_RESPONSE_TIMEOUT_S", 60),
            board_database_url=env.get("ADS_DATABASE_URL", f"sqlite:///{run_dir / 'board.sqlite3'}"),
            classify_timeout_s=float(env.get("ADS_CLASSIFY_TIMEOUT_S", "5")),
            classify_retries=_int(env, "ADS_CLASSIFY_RETRIES", 2),
            pending_poll_s=float(env.get("ADS_PENDING_POLL_S", "5")),
            drift_window=_int(env, "ADS_DRIFT_WINDOW", 500),
            low_confidence_margin=float(env.get("ADS_LOW_CONFIDENCE_MARGIN", "0.1")),
            report_review_at=_int(env, "ADS_REPORT_REVIEW_AT", 3),
            limit_posts=env.get("ADS_LIMIT_POSTS", "5/60"),
            limit_comments=env.get("ADS_LIMIT_COMMENTS", "10/60"),
            limit_reports=env.get("ADS_LIMIT_REPORTS", "10/60"),
            limit_per_address=_int(env, "ADS_LIMIT_PER_ADDRESS", 5),
            login_max_failures=_int(env, "ADS_LOGIN_MAX_FAILURES", 5),
            login_lockout_s=float(env.get("ADS_LOGIN_LOCKOUT_S", "30")),
            evidence_public=_choice(env, "ADS_EVIDENCE_PUBLIC", "false", ("true", "false")) == "true",
            backbone=env.get("ADS_BACKBONE", "e5"),
            seed_data=_path(env, "ADS_SEED_DATA", "training/data/board_corpus.csv"),
            mlflow_tracking_uri=env.get("MLFLOW_TRACKING_URI") or None,
        )

    # Derived locations -------------------------------------------------------------------------
    @property
    def tracking_uri(self) -> str:
        """MLflow tracking/registry store: SQLite under mlruns/ (MLFLOW_TRACKING_URI overrides)."""
        return self.mlflow_tracking_uri or f"sqlite:///{self.mlruns_dir / 'mlflow.db'}"

    @property
    def artifact_root(self) -> Path:
        return self.mlruns_dir / "artifacts"

    @property
    def torchserve_dir(self) -> Path:
        """TorchServe's start directory (its key_file.json lands here), logs, metrics, temp."""
        return self.run_dir / "torchserve"

    @property
    def model_store(self) -> Path:
        return self.torchserve_dir / "model-store"

    @property
    def key_file(self) -> Path:
        return self.torchserve_dir / "key_file.json"

    @property
    def secrets_dir(self) -> Path:
        return self.run_dir / "secrets"

    @property
    def inference_url(self) -> str:
        return f"http://{self.ts_client_host}:{self.ts_inference_port}"

    @property
    def management_url(self) -> str:
        return f"http://{self.ts_client_host}:{self.ts_management_port}"


@cache
def settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings.from_env(os.environ)
