"""Score a registered model version on a labeled CSV, beside the TF-IDF baseline, as an MLflow run.

The evaluation run is linked to the model version (tags on both) and logs accuracy, precision,
recall, F1, macro-F1, ROC-AUC, calibration error, the confusion matrix, the PR curve, the score
distribution (the reference for drift monitoring), every post's score (`eval_scores.json`), the
worst false positives and false negatives (`eval_worst_errors.json`) and, when the CSV has a
`source_tag` (or `case`) column, macro-F1 and error rate per tag (`eval_by_tag.json`).

With `evasion_seed`, the CSV's ads are also scored disguised by training.evasion (normal posts
untouched) and the run reports clean and evasion macro-F1 side by side.

The version's CPU serving precision (`cpu_precision` tag) is decided by its validation run in
training (training.train.finish_bundle); an evaluation re-decides it only when asked
(`decide_precision`, `python -m training evaluate --decide-precision`), so scoring a version on
another CSV never changes what production serves.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import mlflow
import pandas as pd
from sklearn.metrics import f1_score

from handlers.classifier import AdClassifier, BundleMeta
from stack.drift import REFERENCE_ARTIFACT, distribution
from stack.settings import MODEL_NAME, Settings
from training import plots, registry, tracking
from training.baseline import baseline_scores
from training.data import PostSet, load_mixture, load_posts
from training.evasion import evade
from training.metrics import Scores, choose_cpu_precision, score_predictions

log = logging.getLogger(__name__)

WORST_ERRORS = 20
"""False positives and false negatives each, listed in eval_worst_errors.json."""
PREVIEW_CHARS = 120


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
    by_tag: pd.DataFrame | None = None
    evasion: Scores | None = None
    """The model (fp32) on the same CSV with its ads disguised (training.evasion)."""
    baseline_evasion: Scores | None = None

    @property
    def cpu_precision(self) -> str:
        """What serving should run on CPU according to this evaluation (used with decide_precision)."""
        return choose_cpu_precision(self.model, self.int8) if self.int8 is not None else "fp32"


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
    tag = client.get_model_version(MODEL_NAME, version).tags.get("train_data", "")
    specs = [s for s in tag.split(DATA_SPEC_SEPARATOR) if s]
    if not specs or not all(Path(s.rpartition(":")[0] if ":" in s else s).exists() or Path(s).exists() for s in specs):
        log.warning("training data of version %s not found (%s); report without baseline", version, specs)
        return None
    return load_mixture(specs)


def score_version(version: str, posts: PostSet) -> tuple[list[float], float]:
    """fp32 ad scores and threshold of a registered version, through the serving inference path."""
    with tempfile.TemporaryDirectory() as tmp:
        scores, threshold, _ = score_bundle(registry.download_bundle(version, Path(tmp)), posts, "fp32")
    return scores, threshold


def scores_table(
    posts: PostSet, scores: list[float], threshold: float, int8: list[float] | None = None
) -> pd.DataFrame:
    """One row per post: preview, label, score, decision, tag (and the int8 score): `eval_scores.json`."""
    table = pd.DataFrame(
        {
            "preview": [t[:PREVIEW_CHARS] for t in posts.texts],
            "label": posts.labels,
            "score": scores,
            "predicted": [int(s >= threshold) for s in scores],
            "tag": posts.tags or [""] * len(posts),
        }
    )
    if int8 is not None:
        table["score_int8"] = int8
    return table


def worst_errors(table: pd.DataFrame, count: int = WORST_ERRORS) -> pd.DataFrame:
    """The most confident false positives (highest scores of normal posts) and false negatives."""
    wrong = table[table["label"] != table["predicted"]].copy()
    wrong["error"] = wrong["label"].map({0: "false positive", 1: "false negative"})
    positives = wrong[wrong["label"] == 0].nlargest(count, "score")
    negatives = wrong[wrong["label"] == 1].nsmallest(count, "score")
    return pd.concat([positives, negatives])[["error", "score", "tag", "preview"]]


def metrics_by_tag(table: pd.DataFrame) -> pd.DataFrame | None:
    """Per tag: posts, ad share, error rate and macro-F1 (NaN where the tag holds one class only)."""
    if not table["tag"].astype(bool).any():
        return None
    rows = []
    for tag, group in table.groupby("tag", sort=True):
        both = group["label"].nunique() == 2
        rows.append(
            {
                "tag": tag,
                "posts": len(group),
                "ad_share": round(float(group["label"].mean()), 3),
                "error_rate": round(float((group["label"] != group["predicted"]).mean()), 3),
                "macro_f1": round(f1_score(group["label"], group["predicted"], average="macro"), 3)
                if both
                else float("nan"),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Scored:
    """Everything one evaluation scored, before it is logged."""

    posts: PostSet
    scores: list[float]
    threshold: float
    truncation: str
    int8: list[float] | None
    transformer: list[float] | None
    evaded: PostSet | None
    evasion: list[float] | None


def score_everything(
    version: str, posts: PostSet, data: Path, int8: bool, truncation: str | None, evasion_seed: int | None
) -> Scored:
    """fp32, int8, transformer-alone and evasion scores of one version, all through AdClassifier."""
    evaded = load_posts(data, rewrite_ads=lambda text: evade(text, evasion_seed)) if evasion_seed is not None else None
    with tempfile.TemporaryDirectory() as tmp:
        bundle = registry.download_bundle(version, Path(tmp))
        scores, threshold, used_truncation = score_bundle(bundle, posts, "fp32", truncation)
        int8_scores = score_bundle(bundle, posts, "int8", truncation)[0] if int8 else None
        blends = BundleMeta.read(bundle).lexical_weight > 0
        alone = score_bundle(bundle, posts, "fp32", truncation, blend=False)[0] if blends else None
        evasion = score_bundle(bundle, evaded, "fp32", truncation)[0] if evaded is not None else None
    return Scored(posts, scores, threshold, used_truncation, int8_scores, alone, evaded, evasion)


def evaluate(
    model: str,
    data: Path,
    cfg: Settings,
    baseline_data: Path | None = None,
    int8: bool = True,
    truncation: str | None = None,
    evasion_seed: int | None = None,
    decide_precision: bool = False,
) -> EvalReport:
    """Score a version (fp32 and, with `int8`, its int8 variant) and the baseline; log it as a linked run.

    `truncation` overrides the bundle's for a what-if measurement; such a run does not update the
    version's tags. `decide_precision` (with `int8`) re-decides the version's `cpu_precision` tag
    from this evaluation: the documented override of the training validation run's decision.
    """
    client = tracking.configure(cfg)
    version = registry.resolve_version(client, model)
    posts = load_posts(data)
    scored = score_everything(version, posts, data, int8, truncation, evasion_seed)
    report = _report(client, version, data, scored, baseline_data)
    with mlflow.start_run(run_name=f"evaluate-v{version}-{data.stem}") as run:
        _log_run(version, data, scored, report)
    report = replace(report, run_id=run.info.run_id)
    if truncation is None:  # what-if runs leave the version's tags alone
        client.set_model_version_tag(
            MODEL_NAME, version, f"eval_macro_f1.{posts.digest}", f"{report.model.macro_f1:.4f}"
        )
        client.set_model_version_tag(MODEL_NAME, version, "last_evaluation_run", run.info.run_id)
        if decide_precision and report.int8 is not None:
            client.set_model_version_tag(MODEL_NAME, version, "cpu_precision", report.cpu_precision)
            client.set_model_version_tag(
                MODEL_NAME, version, "precision_decided_by", f"evaluation run {run.info.run_id}"
            )
    return report


def _report(client, version: str, data: Path, scored: Scored, baseline_data: Path | None) -> EvalReport:
    labels, threshold = scored.posts.labels, scored.threshold
    base_train = baseline_training_data(client, version, baseline_data)
    base, base_evasion = None, None
    if base_train:
        base = score_predictions(labels, baseline_scores(base_train, scored.posts), 0.5)
        if scored.evaded is not None:
            base_evasion = score_predictions(labels, baseline_scores(base_train, scored.evaded), 0.5)
    return EvalReport(
        version=version,
        data=str(data),
        threshold=threshold,
        model=score_predictions(labels, scored.scores, threshold),
        baseline=base,
        run_id="",
        int8=score_predictions(labels, scored.int8, threshold) if scored.int8 else None,
        truncation=scored.truncation,
        transformer=score_predictions(labels, scored.transformer, threshold) if scored.transformer else None,
        by_tag=metrics_by_tag(scores_table(scored.posts, scored.scores, threshold)),
        evasion=score_predictions(labels, scored.evasion, threshold) if scored.evasion else None,
        baseline_evasion=base_evasion,
    )


def _log_run(version: str, data: Path, scored: Scored, report: EvalReport) -> None:
    posts = scored.posts
    mlflow.set_tags(
        {
            "kind": "evaluation",
            "model_name": MODEL_NAME,
            "model_version": version,
            "eval_data": str(data),
            "eval_digest": posts.digest,
            "truncation": scored.truncation,
        }
    )
    dataset = mlflow.data.from_pandas(
        posts.frame(), source=str(data), name=data.name, targets="label", digest=posts.digest
    )
    mlflow.log_input(dataset, context="evaluation")
    metrics = {**report.model.as_metrics("eval_"), "threshold": report.threshold, "eval_size": len(posts)}
    for prefix, result in (
        ("baseline_", report.baseline),
        ("transformer_only_", report.transformer),
        ("int8_", report.int8),
        ("evasion_", report.evasion),
        ("baseline_evasion_", report.baseline_evasion),
    ):
        metrics |= result.as_metrics(prefix) if result else {}
    if report.int8:
        metrics["int8_macro_f1_delta"] = report.model.macro_f1 - report.int8.macro_f1
    if report.evasion:
        metrics["evasion_macro_f1_delta"] = report.model.macro_f1 - report.evasion.macro_f1
    mlflow.log_metrics(metrics)
    table = scores_table(posts, scored.scores, report.threshold, scored.int8)
    mlflow.log_table(table, "eval_scores.json")
    mlflow.log_table(worst_errors(table), "eval_worst_errors.json")
    if report.by_tag is not None:
        mlflow.log_table(report.by_tag, "eval_by_tag.json")
    plots.log_evaluation_artifacts(posts.labels, scored.scores, report.threshold, prefix="eval")
    confusion = report.model.confusion
    mlflow.log_dict({**distribution(scored.scores, report.threshold), "confusion": confusion}, REFERENCE_ARTIFACT)


def format_report(report: EvalReport) -> str:
    rows = (
        [("model v" + report.version, report.model)]
        + ([("  int8 variant", report.int8)] if report.int8 else [])
        + ([("  no lexical", report.transformer)] if report.transformer else [])
        + ([("  evasion", report.evasion)] if report.evasion else [])
        + ([("tf-idf baseline", report.baseline)] if report.baseline else [])
        + ([("  evasion", report.baseline_evasion)] if report.baseline_evasion else [])
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
    if report.evasion:
        lines.append(
            f"clean vs evasion macro-F1: {report.model.macro_f1:.3f} -> {report.evasion.macro_f1:.3f} "
            f"({report.evasion.macro_f1 - report.model.macro_f1:+.3f})"
        )
    if report.int8:
        lines.append(
            f"int8 vs fp32 macro-F1: {report.int8.macro_f1 - report.model.macro_f1:+.3f}: "
            f"int8 {'within' if report.cpu_precision == 'int8' else 'outside'} the tolerance "
            "(the version's cpu_precision tag is decided by its validation run)"
        )
    if report.by_tag is not None:
        lines.append("by tag:\n" + report.by_tag.to_string(index=False))
    return "\n".join(lines)
