"""`make deploy`: switch TorchServe to the version the champion alias points at.

With the model-control API on (ADS_TS_MODEL_API=true) the switch drops nothing: register the new
version beside the old one and wait for its worker, make it the default (new requests go to it),
let the old version finish what it holds, then unregister it. With the API off (the default) the
only way is a restart: TorchServe is down for the restart and the board keeps new posts pending
until the new version answers, then classifies them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import requests

from serving import torchserve
from serving.export import Archive, archive_name, export_model
from stack.settings import MODEL_NAME, Settings
from training import registry

log = logging.getLogger(__name__)

DRAIN_S = 3.0
"""Time the old version keeps its worker after the switch, for requests it already queued."""


@dataclass(frozen=True)
class Rollout:
    version: str
    previous: list[str]
    mode: str
    """`unchanged`, `api` (no downtime) or `restart`."""
    seconds: float


def _management(cfg: Settings, keys: torchserve.Keys, method: str, path: str, **params) -> requests.Response:
    response = requests.request(
        method,
        f"{cfg.management_url}{path}",
        params=params,
        headers={"Authorization": f"Bearer {keys.management}"},
        timeout=max(cfg.ts_response_timeout_s, 30) * 4,
    )
    if response.status_code >= 400:
        raise torchserve.TorchServeError(f"{method} {path}: HTTP {response.status_code} {response.text[:300]}")
    return response


def served_versions(cfg: Settings, keys: torchserve.Keys) -> list[str]:
    return [str(model["modelVersion"]) for model in torchserve.describe(cfg, keys)]


def deploy(cfg: Settings, model_uri: str | None = None, drain_s: float = DRAIN_S) -> Rollout:
    """Serve `model_uri`'s version (default: the champion); raises TorchServeError when TorchServe is not
    running or refuses."""
    model_uri = model_uri or registry.champion_uri()
    if torchserve.pid(cfg) is None:
        raise torchserve.TorchServeError("TorchServe is not running; `make run` starts it with the champion")
    return switch(cfg, _archive(model_uri, cfg), drain_s)


def switch(cfg: Settings, archive: Archive, drain_s: float = DRAIN_S) -> Rollout:
    """Make `archive` (a .mar in the model store) the only version TorchServe serves."""
    started = time.perf_counter()
    keys = torchserve.Keys.read(cfg.key_file)
    previous = served_versions(cfg, keys)
    if previous == [archive.version]:
        log.info("TorchServe already serves version %s", archive.version)
        return Rollout(archive.version, previous, "unchanged", time.perf_counter() - started)
    if not cfg.ts_model_api:
        log.warning("model-control API off: restarting TorchServe with version %s", archive.version)
        torchserve.stop(cfg)
        torchserve.start(cfg, archive.file_name)
        return Rollout(archive.version, previous, "restart", time.perf_counter() - started)
    if archive.version not in previous:
        log.info("registering version %s beside %s", archive.version, previous)
        _management(
            cfg,
            keys,
            "POST",
            "/models",
            url=archive.file_name,
            model_name=MODEL_NAME,
            initial_workers=cfg.ts_workers,
            synchronous="true",
        )
    _management(cfg, keys, "PUT", f"/models/{MODEL_NAME}/{archive.version}/set-default")
    log.info("version %s is the default; draining %s for %.0fs", archive.version, previous, drain_s)
    time.sleep(drain_s)
    for old in previous:
        if old != archive.version:
            _management(cfg, keys, "DELETE", f"/models/{MODEL_NAME}/{old}")
    return Rollout(archive.version, previous, "api", time.perf_counter() - started)


def _archive(model_uri: str, cfg: Settings) -> Archive:
    """The version's .mar in the model store, exported unless it is already there."""
    from training import registry, tracking

    version = registry.resolve_version(tracking.configure(cfg), model_uri)
    path = cfg.model_store / f"{archive_name(version)}.mar"
    if path.is_file():
        return Archive(path, MODEL_NAME, version)
    return export_model(model_uri, cfg)
