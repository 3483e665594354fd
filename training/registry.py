"""MLflow registry conventions: one registered model, aliases instead of stages.

`champion` is what serving deploys; `challenger` marks the runner-up of the last comparison.
Moving `champion` (here or by hand in the MLflow UI) is how a model is deployed: `make deploy`
and `make run` follow the alias, never a hard-coded version.
"""

from __future__ import annotations

import logging
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from stack.settings import MODEL_NAME

CHAMPION = "champion"
CHALLENGER = "challenger"
BUNDLE_PATH = Path("artifacts") / "bundle"
"""Where a registered model keeps its classifier bundle (training/pyfunc_model.py's artifact)."""

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
    """All versions with their aliases, newest first.

    MLflow's search leaves `aliases` empty, so each version is read back with get_model_version.
    """
    found = client.search_model_versions(f"name = '{name}'")
    versions = [client.get_model_version(name, v.version) for v in found]
    return sorted(versions, key=lambda v: int(v.version), reverse=True)


def resolve_version(client: MlflowClient, model: str, name: str = MODEL_NAME) -> str:
    """`models:/name@alias`, `models:/name/3`, an alias, `latest` or a bare version -> version string."""
    if model.isdigit():
        return model
    if model == "latest":
        versions = list_versions(client, name)
        if not versions:
            raise ValueError(f"no versions of {name} registered yet")
        return str(versions[0].version)
    target = model.removeprefix("models:/")
    if target in (CHAMPION, CHALLENGER):
        target = f"{name}@{target}"
    model_name, sep, ref = target.partition("@") if "@" in target else target.partition("/")
    if model_name != name or not sep or not ref:
        raise ValueError(f"expected models:/{name}@<alias>, models:/{name}/<version> or a version; got {model!r}")
    if "@" in target:
        version = get_alias(client, ref, name)
        if version is None:
            raise ValueError(f"no version of {name} has the alias {ref!r}")
        return str(version.version)
    return ref


def download_bundle(version: str, dst: Path, name: str = MODEL_NAME) -> Path:
    """Download a registered version's classifier bundle folder into `dst`."""
    local = Path(mlflow.artifacts.download_artifacts(f"models:/{name}/{version}", dst_path=str(dst)))
    bundle = local / BUNDLE_PATH
    if not (bundle / "classifier.json").is_file():
        raise RuntimeError(f"{name} version {version} has no classifier bundle ({BUNDLE_PATH})")
    return bundle
