"""Score a registered model version on a labeled CSV, beside the TF-IDF baseline, as an MLflow run.

The evaluation run is linked to the model version (tags on both) and logs accuracy, precision,
recall, F1, macro-F1, ROC-AUC, calibration error, the confusion matrix, the PR curve and the
score distribution (the reference for drift monitoring).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow

from handlers.classifier import AdClassifier
from stack.drift import REFERENCE_ARTIFACT, distribution
from stack.settings import MODEL_NAME, Settings
from training import plots, registry, tracking
from training.baseline import baseline_scores
from training.data import PostSet, load_mixture, load_posts
from training.metrics import Scores, score_predictions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalReport:
    version: str
    data: str
    threshold: float
    model: Scores
    baseline: Scores | None
    run_id: str


def score_version(version: str, posts: PostSet) -> tuple[list[float], float]:
    """Ad scores of a registered version on cleaned posts, through the serving inference path."""
    with tempfile.TemporaryDirectory() as tmp:
        classifier = AdClassifier(registry.download_bundle(version, Path(tmp)))
        return classifier.score_texts(posts.texts), classifier.meta.threshold


def baseline_training_data(client, version: str, override: Path | None) -> PostSet | None:
    """The baseline trains on what the model trained on (its `train_data` tag), unless overridden."""
    from training.train import DATA_SPEC_SEPARATOR

    if override is not None:
        return load_posts(override)
    specs = [
        s
        for s in client.get_model_version(MODEL_NAME, version).tags.get("train_data", "").split(DATA_SPEC_SEPARATOR)
        if s
    ]
    if not specs or not all(
        Path(s.rpartition(":")[0] if ":" in s else s).is_file() or Path(s).is_file() for s in specs
    ):
        log.warning("training data of version %s not found (%s); report without baseline", version, specs)
        return None
    return load_mixture(specs)


def evaluate(model: str, data: Path, cfg: Settings, baseline_data: Path | None = None) -> EvalReport:
    client = tracking.configure(cfg)
    version = registry.resolve_version(client, model)
    posts = load_posts(data)
    scores, threshold = score_version(version, posts)
    result = score_predictions(posts.labels, scores, threshold)
    base_train = baseline_training_data(client, version, baseline_data)
    base = score_predictions(posts.labels, baseline_scores(base_train, posts), 0.5) if base_train else None
    with mlflow.start_run(run_name=f"evaluate-v{version}-{data.stem}") as run:
        mlflow.set_tags(
            {
                "kind": "evaluation",
                "model_name": MODEL_NAME,
                "model_version": version,
                "eval_data": str(data),
                "eval_digest": posts.digest,
            }
        )
        dataset = mlflow.data.from_pandas(
            posts.frame(), source=str(data), name=data.name, targets="label", digest=posts.digest
        )
        mlflow.log_input(dataset, context="evaluation")
        mlflow.log_metrics({**result.as_metrics("eval_"), "threshold": threshold, "eval_size": len(posts)})
        if base:
            mlflow.log_metrics(base.as_metrics("baseline_"))
        plots.log_evaluation_artifacts(posts.labels, scores, threshold, prefix="eval")
        mlflow.log_dict({**distribution(scores, threshold), "confusion": result.confusion}, REFERENCE_ARTIFACT)
    client.set_model_version_tag(MODEL_NAME, version, f"eval_macro_f1.{posts.digest}", f"{result.macro_f1:.4f}")
    client.set_model_version_tag(MODEL_NAME, version, "last_evaluation_run", run.info.run_id)
    return EvalReport(version, str(data), threshold, result, base, run.info.run_id)


def format_report(report: EvalReport) -> str:
    rows = [("model v" + report.version, report.model)] + (
        [("tf-idf baseline", report.baseline)] if report.baseline else []
    )
    lines = [
        f"evaluation of {MODEL_NAME} version {report.version} on {report.data} "
        f"(threshold {report.threshold:.3f}; MLflow run {report.run_id})",
        f"{'':<16} {'acc':>6} {'prec':>6} {'rec':>6} {'f1':>6} {'macroF1':>8} {'auc':>6} {'ece':>6}",
    ]
    for name, s in rows:
        lines.append(
            f"{name:<16} {s.accuracy:6.3f} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} "
            f"{s.macro_f1:8.3f} {s.roc_auc:6.3f} {s.ece:6.3f}"
        )
    (tn, fp), (fn, tp) = report.model.confusion
    lines.append(f"confusion (rows true normal/ad): [[{tn} {fp}] [{fn} {tp}]]")
    return "\n".join(lines)
