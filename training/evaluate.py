"""Score a registered model version on a labeled CSV, beside the TF-IDF baseline, as an MLflow run.

The evaluation run is linked to the model version (tags on both) and logs accuracy, precision,
recall, F1, macro-F1, ROC-AUC, calibration error, the confusion matrix, the PR curve and the
score distribution (the reference for drift monitoring).
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow

from handlers.classifier import AdClassifier, BundleMeta
from stack.drift import REFERENCE_ARTIFACT, distribution
from stack.settings import MODEL_NAME, Settings
from training import plots, registry, tracking
from training.baseline import baseline_scores
from training.data import PostSet, load_mixture, load_posts
from training.metrics import Scores, score_predictions

log = logging.getLogger(__name__)


INT8_TOLERANCE = 0.01
"""int8 serving is allowed when it loses at most this much macro-F1 against fp32 on the evaluation data."""


@dataclass(frozen=True)
class EvalReport:
    version: str
    data: str
    threshold: float
    model: Scores
    baseline: Scores | None
    run_id: str
    int8: Scores | None = None
    truncation: str = "head"
    transformer: Scores | None = None
    """A blending version's transformer alone (fp32, same threshold): what the lexical part adds."""

    @property
    def cpu_precision(self) -> str:
        """What serving should run on CPU according to this evaluation."""
        ok = self.int8 is not None and self.model.macro_f1 - self.int8.macro_f1 <= INT8_TOLERANCE
        return "int8" if ok else "fp32"


def score_bundle(
    bundle: Path, posts: PostSet, precision: str | None = None, truncation: str | None = None, blend: bool = True
) -> tuple[list[float], float, str]:
    """Ad scores through the serving inference path; returns scores, threshold and the truncation used.

    `blend=False` scores with the transformer alone even when the bundle blends a lexical component.
    """
    classifier = AdClassifier(bundle, precision=precision, truncation=truncation)
    started = time.perf_counter()
    scores = classifier.score_texts(posts.texts) if blend else classifier.model_scores(posts.texts).scores
    log.info(
        "%s %s: %d posts in %.1fs", classifier.model_id, classifier.precision, len(posts), time.perf_counter() - started
    )
    return scores, classifier.meta.threshold, classifier.meta.truncation


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


def score_version(version: str, posts: PostSet) -> tuple[list[float], float]:
    """fp32 ad scores and threshold of a registered version, through the serving inference path."""
    with tempfile.TemporaryDirectory() as tmp:
        scores, threshold, _ = score_bundle(registry.download_bundle(version, Path(tmp)), posts, "fp32")
    return scores, threshold


def evaluate(
    model: str,
    data: Path,
    cfg: Settings,
    baseline_data: Path | None = None,
    int8: bool = True,
    truncation: str | None = None,
) -> EvalReport:
    """Score a version (fp32 and, with `int8`, its int8 variant) and the baseline; log it as a linked run.

    `truncation` overrides the bundle's for a what-if measurement; such a run does not update the
    version's drift reference or precision tags.
    """
    client = tracking.configure(cfg)
    version = registry.resolve_version(client, model)
    posts = load_posts(data)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = registry.download_bundle(version, Path(tmp))
        scores, threshold, used_truncation = score_bundle(bundle, posts, "fp32", truncation)
        int8_scores = score_bundle(bundle, posts, "int8", truncation)[0] if int8 else None
        blends = BundleMeta.read(bundle).lexical_weight > 0
        alone = score_bundle(bundle, posts, "fp32", truncation, blend=False)[0] if blends else None
    result = score_predictions(posts.labels, scores, threshold)
    transformer = score_predictions(posts.labels, alone, threshold) if alone else None
    int8_result = score_predictions(posts.labels, int8_scores, threshold) if int8_scores else None
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
                "truncation": used_truncation,
            }
        )
        dataset = mlflow.data.from_pandas(
            posts.frame(), source=str(data), name=data.name, targets="label", digest=posts.digest
        )
        mlflow.log_input(dataset, context="evaluation")
        mlflow.log_metrics({**result.as_metrics("eval_"), "threshold": threshold, "eval_size": len(posts)})
        if base:
            mlflow.log_metrics(base.as_metrics("baseline_"))
        if transformer:
            mlflow.log_metrics(transformer.as_metrics("transformer_only_"))
        if int8_result:
            mlflow.log_metrics(
                {**int8_result.as_metrics("int8_"), "int8_macro_f1_delta": result.macro_f1 - int8_result.macro_f1}
            )
        plots.log_evaluation_artifacts(posts.labels, scores, threshold, prefix="eval")
        mlflow.log_dict({**distribution(scores, threshold), "confusion": result.confusion}, REFERENCE_ARTIFACT)
    report = EvalReport(
        version, str(data), threshold, result, base, run.info.run_id, int8_result, used_truncation, transformer
    )
    if truncation is None:  # what-if runs leave the version's tags alone
        client.set_model_version_tag(MODEL_NAME, version, f"eval_macro_f1.{posts.digest}", f"{result.macro_f1:.4f}")
        client.set_model_version_tag(MODEL_NAME, version, "last_evaluation_run", run.info.run_id)
        if int8_result:
            client.set_model_version_tag(MODEL_NAME, version, "cpu_precision", report.cpu_precision)
    return report


def format_report(report: EvalReport) -> str:
    rows = (
        [("model v" + report.version, report.model)]
        + ([("  int8 variant", report.int8)] if report.int8 else [])
        + ([("  no lexical", report.transformer)] if report.transformer else [])
        + ([("tf-idf baseline", report.baseline)] if report.baseline else [])
    )
    lines = [
        f"evaluation of {MODEL_NAME} version {report.version} on {report.data} "
        f"(threshold {report.threshold:.3f}, truncation {report.truncation}; MLflow run {report.run_id})",
        f"{'':<16} {'acc':>6} {'prec':>6} {'rec':>6} {'f1':>6} {'macroF1':>8} {'auc':>6} {'ece':>6}",
    ]
    for name, s in rows:
        lines.append(
            f"{name:<16} {s.accuracy:6.3f} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} "
            f"{s.macro_f1:8.3f} {s.roc_auc:6.3f} {s.ece:6.3f}"
        )
    (tn, fp), (fn, tp) = report.model.confusion
    lines.append(f"confusion (rows true normal/ad): [[{tn} {fp}] [{fn} {tp}]]")
    if report.int8:
        lines.append(
            f"int8 vs fp32 macro-F1: {report.int8.macro_f1 - report.model.macro_f1:+.3f} "
            f"(tolerance {INT8_TOLERANCE}): serve {report.cpu_precision} on CPU"
        )
    return "\n".join(lines)
