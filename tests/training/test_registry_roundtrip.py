"""A real MLflow registry (SQLite) round trip: train -> register -> champion alias -> load by alias."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from handlers.text import PREPROCESSING_VERSION
from stack.settings import MODEL_NAME
from tests.helpers import SEED_DATA, make_settings
from training import registry, tracking
from training.train import TrainConfig, train

pytestmark = pytest.mark.slow  # trains models and keeps an MLflow store: not part of make test-fast


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory):
    cfg, _ = make_settings(tmp_path_factory.mktemp("registry"))
    first = train(TrainConfig(data=SEED_DATA, backbone="tiny", epochs=3, run_name="first"), cfg)
    second = train(
        TrainConfig(data=SEED_DATA, backbone="tiny", epochs=2, seed=3, run_name="second", lexical_blend=True), cfg
    )
    return cfg, first, second


def test_first_run_becomes_champion_second_does_not(two_runs) -> None:
    cfg, first, second = two_runs
    client = tracking.configure(cfg)
    assert (first.version, second.version) == ("1", "2")
    assert first.became_champion and not second.became_champion
    assert str(registry.get_alias(client, registry.CHAMPION).version) == "1"
    assert [(str(v.version), v.aliases) for v in registry.list_versions(client)] == [("2", []), ("1", ["champion"])]


def test_run_logs_params_metrics_inputs_and_figures(two_runs) -> None:
    cfg, first, _ = two_runs
    client = MlflowClient(tracking_uri=cfg.tracking_uri)
    run = client.get_run(first.run_id)
    assert run.data.params["backbone"] == "tiny"
    assert run.data.params["preprocessing_version"] == PREPROCESSING_VERSION
    for key in ("best_dev_macro_f1", "best_dev_roc_auc", "threshold", "train_seconds"):
        assert key in run.data.metrics
    assert len(client.get_metric_history(first.run_id, "dev_macro_f1")) >= 1
    contexts = {inp.tags[0].value for inp in run.inputs.dataset_inputs}
    assert contexts == {"training", "validation"}
    artifacts = {a.path for a in client.list_artifacts(first.run_id)}
    assert {"dev_confusion_matrix.png", "dev_precision_recall.png", "dev_classification_report.txt"} <= artifacts
    version = client.get_model_version(MODEL_NAME, "1")
    assert version.tags["backbone"] == "tiny" and float(version.tags["dev_macro_f1"]) == pytest.approx(
        first.dev.macro_f1, abs=1e-4
    )


def test_champion_loads_by_alias_and_predicts(two_runs) -> None:
    cfg, _, _ = two_runs
    tracking.configure(cfg)
    model = mlflow.pyfunc.load_model(registry.champion_uri())
    out = model.predict(pd.DataFrame({"title": ["오늘 산책", "특가"], "body": ["강아지랑 산책", "문의 010-0000-1234"]}))
    assert list(out.columns) == ["label", "score", "threshold"]
    assert set(out["label"]) <= {"ad", "normal"}
    assert out["score"].between(0, 1).all()


def test_moving_the_alias_is_what_downstream_follows(two_runs, tmp_path: Path) -> None:
    from serving.export import export_model

    cfg, _, _ = two_runs
    client = tracking.configure(cfg)
    registry.set_alias(client, registry.CHAMPION, "2")
    try:
        archive = export_model(registry.champion_uri(), cfg, export_dir=tmp_path)
        assert archive.version == "2" and archive.path.name == "ad-classifier-v2.mar"
    finally:
        registry.set_alias(client, registry.CHAMPION, "1")


def test_export_serves_the_precision_validation_chose(two_runs, tmp_path: Path) -> None:
    import json
    import zipfile

    from serving.export import export_model

    cfg, _, _ = two_runs
    client = tracking.configure(cfg)

    def exported_precision(settings, name: str) -> str:
        archive = export_model("2", settings, export_dir=tmp_path / name)
        with zipfile.ZipFile(archive.path) as mar:
            return json.loads(mar.read("bundle/classifier.json"))["cpu_precision"]

    validated = client.get_model_version(MODEL_NAME, "2").tags["cpu_precision"]
    assert validated in {"fp32", "int8"}, "training's validation run decides the serving precision"
    assert exported_precision(cfg, "validated") == validated
    other = "fp32" if validated == "int8" else "int8"
    client.set_model_version_tag(MODEL_NAME, "2", "cpu_precision", other)
    try:
        assert exported_precision(cfg, "tagged") == other
        assert exported_precision(cfg.model_copy(update={"ts_cpu_precision": "fp32"}), "forced") == "fp32"
    finally:
        client.set_model_version_tag(MODEL_NAME, "2", "cpu_precision", validated)


def test_two_stage_run_pretrains_then_fine_tunes_and_logs_both_stages(tmp_path: Path) -> None:
    cfg, _ = make_settings(tmp_path)
    pre = tmp_path / "pre.csv"
    pd.read_csv(SEED_DATA)[:120].to_csv(pre, index=False)
    config = TrainConfig(data=SEED_DATA, backbone="tiny", epochs=2, pretrain_data=[str(pre)], pretrain_epochs=2)
    result = train(config, cfg)
    run = MlflowClient(tracking_uri=cfg.tracking_uri).get_run(result.run_id)
    assert run.data.params["pretrain_size"] == "120" and run.data.params["pretrain_epochs"] == "2"
    history = MlflowClient(tracking_uri=cfg.tracking_uri).get_metric_history(result.run_id, "pretrain_dev_macro_f1")
    assert [m.step for m in history] == [1, 2], "stage one logs its own epochs"
    assert len(MlflowClient(tracking_uri=cfg.tracking_uri).get_metric_history(result.run_id, "dev_macro_f1")) >= 1
    tags = MlflowClient(tracking_uri=cfg.tracking_uri).get_model_version(MODEL_NAME, result.version).tags
    assert tags["pretrain_data"] == str(pre) and tags["train_data"] == str(SEED_DATA), "the version records both stages"


def test_a_blended_version_carries_its_lexical_component_to_serving(two_runs, tmp_path: Path) -> None:
    import json
    import zipfile

    from handlers.lexical import LEXICAL_FILE
    from serving.export import export_model

    cfg, first, second = two_runs
    client = tracking.configure(cfg)
    run = client.get_run(second.run_id)
    weight = run.data.metrics["lexical_weight"]
    assert (
        run.data.params["lexical_blend"] == "True"
        and client.get_run(first.run_id).data.params["lexical_blend"] == "False"
    )
    assert weight > 0, "two epochs of a tiny model on the seed set leave room for the character n-grams"
    assert run.data.metrics["blend_dev_log_loss"] < run.data.metrics["transformer_dev_log_loss"]
    assert float(client.get_model_version(MODEL_NAME, second.version).tags["lexical_weight"]) == weight
    with zipfile.ZipFile(export_model(second.version, cfg, export_dir=tmp_path).path) as mar:
        assert json.loads(mar.read("bundle/classifier.json"))["lexical_weight"] == weight
        assert f"bundle/{LEXICAL_FILE}" in mar.namelist()
    with zipfile.ZipFile(export_model(first.version, cfg, export_dir=tmp_path / "plain").path) as mar:
        assert f"bundle/{LEXICAL_FILE}" not in mar.namelist()


def test_scores_make_eval_logs_are_what_torchserve_answers(two_runs, tmp_path: Path) -> None:
    """One scoring path: a real TorchServe serving version 2 (blended) answers each post with the
    score `evaluate` logged for it (fp32, within 1e-5), and with int8 it takes the same badge decision."""

    import requests

    from serving import torchserve
    from serving.export import export_model
    from training.evaluate import evaluate

    cfg, _, second = two_runs
    posts = pd.read_csv(SEED_DATA).sample(32, random_state=5)
    csv = tmp_path / "posts.csv"
    posts.to_csv(csv, index=False)
    report = evaluate(second.version, csv, cfg)
    tracking.configure(cfg)
    logged = mlflow.load_table("eval_scores.json", run_ids=[report.run_id])
    for precision, column in (("fp32", "score"), ("int8", "score_int8")):
        serving = cfg.model_copy(update={"ts_cpu_precision": precision})
        keys = torchserve.start(serving, export_model(second.version, serving).file_name)
        try:
            answers = [
                requests.post(
                    f"{serving.inference_url}/predictions/{MODEL_NAME}",
                    json={"title": title, "body": body},
                    headers={"Authorization": f"Bearer {keys.inference}"},
                    timeout=30,
                ).json()
                for title, body in zip(posts["title"], posts["body"], strict=True)
            ]
        finally:
            torchserve.stop(serving)
        served = [a["score"] for a in answers]
        if precision == "fp32":
            assert served == pytest.approx(logged[column].tolist(), abs=1e-5)
        decisions = [a["label"] == "ad" for a in answers]
        assert decisions == [s >= report.threshold for s in logged[column]], precision
