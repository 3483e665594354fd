"""MLflow registry conventions: one registered model, aliases instead of stages.

`champion` is what serving deploys; `challenger` marks the runner-up of the last comparison.
Moving `champion` (here or by hand in the MLflow UI) is how a model is deployed: `make deploy`
and `make run` follow the alias, never a hard-coded version.
"""

from __future__ import annotations

import logging

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from stack.settings import MODEL_NAME

CHAMPION = "champion"
CHALLENGER = "challenger"

log = logging.getLogger(__name__)


def champion_uri(name: str = MODEL_NAME) -> str:
    return f"models:/{name}@{CHAMPION}"


def get_alias(client: MlflowClient, alias: str, name: str = MODEL_NAME) -> ModelVersion | None:
    """The version holding `alias`, or None when no version holds it (or no model exists)."""
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def set_alias(client: MlflowClient, alias: str, version: str, name: str = MODEL_NAME) -> None:
    client.set_registered_model_alias(name, alias, version)
    log.info("%s@%s -> version %s", name, alias, version)


def claim_champion_if_vacant(client: MlflowClient, version: str, name: str = MODEL_NAME) -> bool:
    """Give `version` the champion alias when no version holds it yet (the first model)."""
    if get_alias(client, CHAMPION, name) is not None:
        return False
    set_alias(client, CHAMPION, version, name)
    client.set_model_version_tag(name, version, "promotion", "first model: champion alias was vacant")
    return True


def list_versions(client: MlflowClient, name: str = MODEL_NAME) -> list[ModelVersion]:
    """All versions, newest first."""
    versions = client.search_model_versions(f"name = '{name}'")
    return sorted(versions, key=lambda v: int(v.version), reverse=True)
