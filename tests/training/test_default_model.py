"""The model a fresh `make run` trains: the default recipe on a fixed subset of the committed corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient

from handlers.text import PREPROCESSING_VERSION
from stack.settings import MODEL_NAME
from tests.helpers import make_settings
from training import registry, tracking
from training.default_model import DEV_NOTE, real_posts_figure, reason_to_train, train_default
from training.seed_corpus import load_corpus

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("default")
    corpus = load_corpus()
    subset = corpus.groupby("case", group_keys=False).apply(lambda g: g.sample(6, random_state=1))
    data, real_dev = root / "subset.csv", root / "real_dev.csv"
    subset.iloc[: len(subset) * 3 // 4].to_csv(data, index=False)
    subset.iloc[len(subset) * 3 // 4 :].to_csv(real_dev, index=False)
    cfg, _ = make_settings(root, ADS_BACKBONE="e5", ADS_SEED_DATA=str(data))
    assert reason_to_train(cfg) == "no champion yet"
    return cfg, train_default(cfg, real_dev=real_dev), real_dev


def test_default_training_reports_what_its_dev_split_is(trained) -> None:
    cfg, printed, real_dev = trained
    client = tracking.configure(cfg)
    champion = registry.get_alias(client, registry.CHAMPION)
    assert champion is not None and reason_to_train(cfg) is None
    run = MlflowClient(tracking_uri=cfg.tracking_uri).get_run(champion.run_id)
    assert run.data.tags["dev_set"] == DEV_NOTE and run.data.params["trainable_layers"] == "3"
    assert DEV_NOTE in printed and f"on real posts ({real_dev}" in printed
    tags = client.get_model_version(MODEL_NAME, champion.version).tags
    assert "real_posts_macro_f1" in tags
    assert tags["cpu_precision"] == "fp32" and tags["precision_decided_by"] == "the recipe"
    assert "best_dev_int8_macro_f1" not in run.data.metrics


def test_a_champion_of_another_preprocessing_is_retrained(trained) -> None:
    cfg, _, _ = trained
    client = tracking.configure(cfg)
    champion = registry.get_alias(client, registry.CHAMPION)
    client.set_model_version_tag(MODEL_NAME, champion.version, "preprocessing_version", "0")
    try:
        assert f"this code applies v{PREPROCESSING_VERSION}" in reason_to_train(cfg)
    finally:
        client.set_model_version_tag(MODEL_NAME, champion.version, "preprocessing_version", PREPROCESSING_VERSION)


def test_without_real_posts_the_default_says_so(trained, tmp_path: Path) -> None:
    cfg, _, _ = trained
    champion = registry.get_alias(tracking.configure(cfg), registry.CHAMPION)
    assert "not measured on real posts" in real_posts_figure(cfg, champion.version, tmp_path / "absent.csv")


def test_a_precision_outside_the_served_ones_is_refused() -> None:
    from training.train import TrainConfig

    with pytest.raises(ValueError, match="cpu_precision must be one of"):
        TrainConfig(data="posts.csv", cpu_precision="fp16")
