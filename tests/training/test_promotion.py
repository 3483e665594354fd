"""`promote` moves the champion alias only on an improvement; evaluation is an MLflow run linked to the version.

Two real tiny runs: a weak one (1 epoch, registered first, so champion) and a stronger one.
"""

from __future__ import annotations

import csv

import pytest
from mlflow import MlflowClient

from stack.settings import MODEL_NAME
from tests.helpers import SEED_DATA, make_settings
from training import registry, tracking
from training.data import load_posts, split_train_dev
from training.evaluate import evaluate, format_report
from training.promotion import promote
from training.train import TrainConfig, train

pytestmark = pytest.mark.slow  # trains models and keeps an MLflow store: not part of make test-fast


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("promotion")
    cfg, _ = make_settings(root)
    weak = train(TrainConfig(data=SEED_DATA, backbone="tiny", epochs=1, learning_rate=1e-5, run_name="weak"), cfg)
    strong = train(TrainConfig(data=SEED_DATA, backbone="tiny", epochs=8, run_name="strong"), cfg)
    _, dev = split_train_dev(load_posts(SEED_DATA), 0.2, 13)  # the runs' held-out split
    eval_csv = root / "eval.csv"
    with open(eval_csv, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(zip(dev.texts, dev.labels, strict=True))
    return cfg, weak, strong, eval_csv


def test_weak_first_model_is_champion(store) -> None:
    _, weak, strong, _ = store
    assert weak.became_champion and not strong.became_champion
    assert strong.dev.macro_f1 > weak.dev.macro_f1


def test_evaluation_is_a_linked_run_with_baseline(store) -> None:
    cfg, weak, _, eval_csv = store
    report = evaluate("champion", eval_csv, cfg)
    assert report.version == weak.version and report.baseline is not None
    client = MlflowClient(tracking_uri=cfg.tracking_uri)
    run = client.get_run(report.run_id)
    assert run.data.tags["model_version"] == weak.version and run.data.tags["kind"] == "evaluation"
    assert {"eval_macro_f1", "eval_roc_auc", "eval_ece", "baseline_macro_f1"} <= set(run.data.metrics)
    tags = client.get_model_version(MODEL_NAME, weak.version).tags
    assert tags["last_evaluation_run"] == report.run_id
    assert "tf-idf baseline" in format_report(report)
    # The int8 variant is scored beside fp32; what serving runs stays the validation run's decision.
    delta = run.data.metrics["int8_macro_f1_delta"]
    assert delta == pytest.approx(report.model.macro_f1 - report.int8.macro_f1)
    assert tags["precision_decided_by"].startswith(f"validation run {weak.run_id}")
    assert "int8 variant" in format_report(report)


def test_evaluation_changes_serving_precision_only_when_asked(store) -> None:
    cfg, weak, _, eval_csv = store
    client = MlflowClient(tracking_uri=cfg.tracking_uri)
    client.set_model_version_tag(MODEL_NAME, weak.version, "cpu_precision", "sentinel")
    evaluate(weak.version, eval_csv, cfg)
    assert client.get_model_version(MODEL_NAME, weak.version).tags["cpu_precision"] == "sentinel"
    report = evaluate(weak.version, eval_csv, cfg, decide_precision=True)
    tags = client.get_model_version(MODEL_NAME, weak.version).tags
    assert tags["cpu_precision"] == report.cpu_precision
    assert tags["precision_decided_by"] == f"evaluation run {report.run_id}"


def test_what_if_truncation_leaves_the_version_alone(store) -> None:
    cfg, _, strong, eval_csv = store
    client = MlflowClient(tracking_uri=cfg.tracking_uri)
    before = client.get_model_version(MODEL_NAME, strong.version).tags
    report = evaluate(strong.version, eval_csv, cfg, int8=False, truncation="head_tail")
    assert report.truncation == "head_tail" and report.int8 is None
    assert client.get_run(report.run_id).data.tags["truncation"] == "head_tail"
    assert client.get_model_version(MODEL_NAME, strong.version).tags == before


def test_drift_reference_is_the_evaluation_run_else_the_training_run(store) -> None:
    from ui.drift import mlflow_reference_loader

    cfg, weak, strong, eval_csv = store
    report = evaluate(weak.version, eval_csv, cfg)
    load = mlflow_reference_loader(cfg)
    evaluated = load(weak.version)
    assert evaluated.run_id == report.run_id
    assert sum(evaluated.counts) == len(load_posts(eval_csv))
    expected = MlflowClient(tracking_uri=cfg.tracking_uri).get_model_version(MODEL_NAME, strong.version)
    trained = load(strong.version)
    assert trained.run_id == expected.tags.get("last_evaluation_run", strong.run_id)
    if trained.run_id == strong.run_id:  # the dev-set distribution logged at training time
        assert sum(trained.counts) == len(split_train_dev(load_posts(SEED_DATA), 0.2, 13)[1])
    assert 0 <= trained.predicted_ad_ratio <= 1


def test_promote_moves_alias_only_on_improvement(store) -> None:
    cfg, weak, strong, eval_csv = store
    client = tracking.configure(cfg)
    better = promote(strong.version, eval_csv, cfg)
    assert better.promoted and better.candidate_macro_f1 > better.champion_macro_f1
    assert str(registry.get_alias(client, registry.CHAMPION).version) == strong.version
    assert str(registry.get_alias(client, registry.CHALLENGER).version) == weak.version

    worse = promote(weak.version, eval_csv, cfg)
    assert not worse.promoted
    assert str(registry.get_alias(client, registry.CHAMPION).version) == strong.version
    assert "kept champion" in client.get_model_version(MODEL_NAME, weak.version).tags["promotion"]


def test_promoting_the_champion_itself_is_refused(store) -> None:
    cfg, _, _, eval_csv = store
    with pytest.raises(ValueError, match="already is the champion"):
        promote("champion", eval_csv, cfg)


@pytest.mark.parametrize("ref", ["models:/other@champion", "models:/ad-classifier", "nonsense"])
def test_bad_model_references_are_explained(store, ref: str) -> None:
    cfg, *_ = store
    with pytest.raises(ValueError, match="expected models:/"):
        registry.resolve_version(tracking.configure(cfg), ref)


def test_a_blending_version_is_also_reported_without_its_lexical_part(store) -> None:
    cfg, _, _, eval_csv = store
    blended = train(
        TrainConfig(data=SEED_DATA, backbone="tiny", epochs=2, seed=3, lexical_blend=True, run_name="blended"), cfg
    )
    report = evaluate(blended.version, eval_csv, cfg, int8=False)
    assert report.transformer is not None and "no lexical" in format_report(report)
    metrics = MlflowClient(tracking_uri=cfg.tracking_uri).get_run(report.run_id).data.metrics
    assert metrics["transformer_only_macro_f1"] == pytest.approx(report.transformer.macro_f1)
    assert report.model.ece != pytest.approx(report.transformer.ece), "the lexical part changes the scores"
    plain = evaluate("champion", eval_csv, cfg, int8=False)
    assert plain.transformer is None and "no lexical" not in format_report(plain)


def test_evaluation_reports_tags_worst_errors_and_evasion(store, tmp_path) -> None:
    import mlflow
    import pandas as pd

    cfg, weak, _, eval_csv = store
    frame = pd.read_csv(eval_csv)
    frame["source_tag"] = ["홍보" if i % 2 else "후기" for i in range(len(frame))]
    tagged = tmp_path / "tagged.csv"
    frame.to_csv(tagged, index=False)
    report = evaluate(weak.version, tagged, cfg, int8=False, evasion_seed=0)
    assert set(report.by_tag["tag"]) == {"홍보", "후기"} and report.by_tag["posts"].sum() == len(frame)
    assert report.evasion is not None and report.baseline_evasion is not None
    text = format_report(report)
    assert "clean vs evasion macro-F1" in text and "by tag" in text
    client = MlflowClient(tracking_uri=cfg.tracking_uri)
    metrics = client.get_run(report.run_id).data.metrics
    assert metrics["evasion_macro_f1_delta"] == pytest.approx(report.model.macro_f1 - report.evasion.macro_f1)
    artifacts = {a.path for a in client.list_artifacts(report.run_id)}
    assert {"eval_scores.json", "eval_worst_errors.json", "eval_by_tag.json"} <= artifacts
    tracking.configure(cfg)
    scores = mlflow.load_table("eval_scores.json", run_ids=[report.run_id])
    assert len(scores) == len(frame) and scores["score"].between(0, 1).all()
    worst = mlflow.load_table("eval_worst_errors.json", run_ids=[report.run_id])
    assert set(worst["error"]) <= {"false positive", "false negative"}
    assert len(worst) == (scores["label"] != scores["predicted"]).sum() or len(worst) <= 40
