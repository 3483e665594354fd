"""Points MLflow at the project's local store (SQLite + artifacts under mlruns/)."""

from __future__ import annotations

import mlflow
from mlflow import MlflowClient

from stack.settings import Settings, apply_offline_env

EXPERIMENT = "ad-classifier"


def configure(cfg: Settings, experiment: str = EXPERIMENT) -> MlflowClient:
    """Use the configured tracking store and experiment; create both on first use."""
    apply_offline_env()
    cfg.artifact_root.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(cfg.tracking_uri)
    mlflow.set_registry_uri(cfg.tracking_uri)
    client = MlflowClient()
    if client.get_experiment_by_name(experiment) is None:
        client.create_experiment(experiment, artifact_location=cfg.artifact_root.as_uri())
    mlflow.set_experiment(experiment)
    return client
