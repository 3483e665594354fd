"""Fine-tune a backbone on a labeled CSV, track the run in MLflow and register the model.

The loop: class-weighted (and optionally sample-weighted) cross-entropy, AdamW with linear warmup
and decay, length-padded batches, evaluation on the dev set after every epoch, early stopping on
dev macro-F1, the best epoch's weights kept, optionally a lexical component blended in (weight
chosen on dev, training.blend), and the decision threshold tuned on dev.
"""

from __future__ import annotations

import copy
import logging
import math
import random
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import mlflow
import numpy as np
import torch
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.pipeline import Pipeline
from transformers import get_linear_schedule_with_warmup

from handlers.classifier import PRECISIONS, AdClassifier, BundleMeta, eager_forward, encode_texts, model_scores
from handlers.lexical import save_lexical
from handlers.text import PREPROCESSING_VERSION
from stack.drift import REFERENCE_ARTIFACT, distribution
from stack.requirements import pinned
from stack.settings import MODEL_NAME, REPO_ROOT, Settings
from training import backbones, plots, registry, tracking
from training.blend import fit_blend
from training.data import PostSet, concat, load_mixture, load_posts, split_train_dev
from training.metrics import Scores, best_threshold, choose_cpu_precision, score_predictions

log = logging.getLogger(__name__)

DATA_SPEC_SEPARATOR = ";"
"""Joins several `path[:weight]` training-data specs in params and version tags."""

MODEL_DISTRIBUTIONS = (
    "torch",
    "transformers",
    "tokenizers",
    "sentencepiece",
    "mlflow",
    "scikit-learn",
    "skops",
    "pandas",
)
"""What a logged model needs to load; their pins come from pyproject.toml (stack.requirements)."""


@dataclass(frozen=True)
class TrainConfig:
    data: Path | str | list[str]
    """One CSV, or several as `path[:weight]` specs (see training.data.load_mixture)."""
    dev_data: Path | None = None
    """Separate dev CSV; without it `dev_fraction` of `data` is held out (stratified)."""
    backbone: str = "tiny"
    seed: int = 13
    dev_fraction: float = 0.2
    epochs: int | None = None
    learning_rate: float | None = None
    batch_size: int | None = None
    max_length: int | None = None
    truncation: str | None = None
    """head | head_tail (default: the backbone recipe's, head)."""
    trainable_layers: int | None = None
    """Fine-tune only the top this-many encoder layers (default: the recipe's, all)."""
    patience: int | None = None
    pretrain_data: list[str] | None = None
    """Optional first stage: fine-tune on these `path[:weight]` specs (e.g. relabeled weak posts)
    for `pretrain_epochs`, then on `data` (weak-label pre-training, then clean fine-tuning)."""
    pretrain_epochs: int = 1
    cpu_precision: str | None = None
    """`fp32` or `int8` fixes the CPU serving precision by recipe (dev is not scored in int8);
    None lets the validation run decide (training.metrics.choose_cpu_precision)."""
    lexical_blend: bool = False
    """Fit a lexical component (handlers.lexical) on the same posts and blend it in, with the weight
    chosen on dev (training.blend); a weight of 0 leaves the transformer alone."""
    run_name: str | None = None
    register: bool = True

    def __post_init__(self) -> None:
        if self.cpu_precision not in (None, *PRECISIONS):
            raise ValueError(f"cpu_precision must be one of {PRECISIONS} or None, got {self.cpu_precision!r}")


@dataclass(frozen=True)
class TrainResult:
    run_id: str
    version: str | None
    dev: Scores
    threshold: float
    became_champion: bool


def pick_device() -> torch.device:
    """CUDA when available (unverified on the CPU-only development machines), else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def check_max_length(built: backbones.Built) -> None:
    """Refuse a max_length the backbone cannot read (its position embeddings end there)."""
    limit = built.model.config.max_position_embeddings
    if 0 < built.tokenizer.model_max_length < limit:
        limit = built.tokenizer.model_max_length
    if not 8 <= built.recipe.max_length <= limit:
        raise ValueError(f"max_length must be between 8 and {limit} for this backbone, got {built.recipe.max_length}")


LENGTH_GROUP = 50
"""Batches per mega-batch in length-grouped sampling."""


def batches_per_epoch(size: int, batch_size: int, group: int = LENGTH_GROUP) -> int:
    mega = batch_size * group
    return sum(math.ceil(min(mega, size - start) / batch_size) for start in range(0, size, mega))


def length_grouped_batches(
    lengths: list[int], batch_size: int, generator: torch.Generator, group: int = LENGTH_GROUP
) -> list[list[int]]:
    """Shuffled batches of similar-length posts (like transformers' group_by_length).

    Indices are shuffled, cut into mega-batches of `group` batches, sorted by length inside each,
    split into batches, and the batch order is shuffled again: every epoch differs, yet a batch
    pads little because its posts are about as long as each other.
    """
    order = torch.randperm(len(lengths), generator=generator).tolist()
    mega = batch_size * group
    batches = []
    for start in range(0, len(order), mega):
        chunk = sorted(order[start : start + mega], key=lambda i: lengths[i], reverse=True)
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]


def _class_weights(labels: list[int]) -> torch.Tensor:
    counts = np.bincount(labels, minlength=2).astype(float)
    return torch.tensor(len(labels) / (2.0 * np.maximum(counts, 1.0)), dtype=torch.float32)


def _train_epoch(
    built: backbones.Built, train: PostSet, step: Callable[[torch.Tensor], None], epoch: int, generator
) -> float:
    """One pass over `train` in length-grouped batches; returns the mean weighted loss."""
    model, tokenizer, recipe = built.model, built.tokenizer, built.recipe
    device = next(model.parameters()).device
    loss_fn = torch.nn.CrossEntropyLoss(weight=_class_weights(train.labels).to(device), reduction="none")
    steps = batches_per_epoch(len(train), recipe.batch_size)
    report_every, started, running = max(1, steps // 10), time.perf_counter(), 0.0
    lengths = [len(text) for text in train.texts]
    model.train()
    for done, idx in enumerate(length_grouped_batches(lengths, recipe.batch_size, generator), start=1):
        enc = encode_texts(tokenizer, [train.texts[i] for i in idx], recipe.max_length, recipe.truncation).to(device)
        losses = loss_fn(model(**enc).logits, torch.tensor([train.labels[i] for i in idx], device=device))
        weights = torch.tensor([train.weights[i] for i in idx], device=device)
        loss = (losses * weights).sum() / weights.sum()
        step(loss)
        running += loss.item()
        if steps >= 20 and done % report_every == 0:
            log.info(
                "  epoch %d: step %d/%d  loss %.4f  (%.0fs)",
                epoch,
                done,
                steps,
                running / done,
                time.perf_counter() - started,
            )
    model.eval()
    return running / steps


def fit(
    built: backbones.Built,
    train: PostSet,
    dev: PostSet,
    seed: int,
    log_metrics: Callable[..., None] = mlflow.log_metrics,
    always_score_dev: bool = False,
) -> int:
    """Train in place, keeping the epoch with the best dev macro-F1 at 0.5; returns that epoch.

    `log_metrics(metrics, step=epoch)` receives each epoch's metrics (MLflow by default). A
    single-epoch run has nothing to choose between and skips the per-epoch dev scoring (the
    finished bundle is scored on dev through the serving path anyway, finish_bundle) unless
    `always_score_dev` (a pre-training stage, whose dev figures are its only record).
    """
    model, tokenizer, recipe = built.model, built.tokenizer, built.recipe
    device = pick_device()
    model.to(device)
    generator = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=recipe.learning_rate, weight_decay=recipe.weight_decay)
    total = batches_per_epoch(len(train), recipe.batch_size) * recipe.epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total * recipe.warmup_ratio), total)

    def step(loss: torch.Tensor) -> None:
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)

    shape = BundleMeta(max_length=recipe.max_length, truncation=recipe.truncation)
    best: tuple[float, int, dict] | None = None
    for epoch in range(1, recipe.epochs + 1):
        started = time.perf_counter()
        train_loss = _train_epoch(built, train, step, epoch, generator)
        if recipe.epochs == 1 and not always_score_dev:
            log_metrics({"train_loss": train_loss}, step=epoch)
            log.info("epoch 1/1  loss %.4f  (%.1fs)", train_loss, time.perf_counter() - started)
            model.to("cpu")
            return 1
        dev_scores = model_scores(eager_forward(model), tokenizer, dev.texts, shape, device=device).scores
        scores = score_predictions(dev.labels, dev_scores, 0.5)
        log_metrics({"train_loss": train_loss, **scores.as_metrics("dev_")}, step=epoch)
        log.info(
            "epoch %d/%d  loss %.4f  dev macro-F1 %.3f  acc %.3f  (%.1fs)",
            *(epoch, recipe.epochs, train_loss, scores.macro_f1, scores.accuracy, time.perf_counter() - started),
        )
        if best is None or scores.macro_f1 > best[0]:
            best = (scores.macro_f1, epoch, copy.deepcopy(model.state_dict()))
        elif epoch - best[1] >= recipe.patience:
            log.info("early stop: no dev macro-F1 gain for %d epochs (best epoch %d)", recipe.patience, best[1])
            break
    assert best is not None
    model.load_state_dict(best[2])
    model.to("cpu")
    return best[1]


def pretrain(built: backbones.Built, config: TrainConfig, dev: PostSet) -> None:
    """Stage one of a two-stage run: fine-tune on `config.pretrain_data` in place, metrics as `pretrain_*`."""
    assert config.pretrain_data
    posts = load_mixture(config.pretrain_data)
    log.info(
        "stage 1: %d pre-training posts (ad ratio %.2f), %d epoch(s)",
        len(posts),
        posts.ad_ratio,
        config.pretrain_epochs,
    )
    mlflow.log_params(
        {
            "pretrain_data": DATA_SPEC_SEPARATOR.join(config.pretrain_data),
            "pretrain_size": len(posts),
            "pretrain_epochs": config.pretrain_epochs,
        }
    )
    recipe = built.recipe
    built.recipe = replace(recipe, epochs=config.pretrain_epochs, patience=config.pretrain_epochs)

    def log_stage(metrics: dict[str, float], step: int) -> None:
        mlflow.log_metrics({f"pretrain_{k}": v for k, v in metrics.items()}, step=step)

    try:
        fit(built, posts, dev, config.seed, log_metrics=log_stage, always_score_dev=True)
    finally:
        built.recipe = recipe
    log.info("stage 2: fine-tuning on %s", DATA_SPEC_SEPARATOR.join(map(str, _specs(config))))


def _specs(config: TrainConfig) -> list[str]:
    return config.data if isinstance(config.data, list) else [str(config.data)]


def save_bundle(built: backbones.Built, meta: BundleMeta, folder: Path, lexical: Pipeline | None = None) -> Path:
    """Write model, tokenizer, classifier.json and, when meta blends one in, the lexical component."""
    if (meta.lexical_weight > 0) != (lexical is not None):
        raise ValueError("a lexical component goes with a positive lexical_weight, and only with one")
    folder.mkdir(parents=True, exist_ok=True)
    built.model.save_pretrained(folder)
    built.tokenizer.save_pretrained(folder)
    if lexical is not None:
        save_lexical(lexical, folder)
    meta.write(folder)
    return folder


@dataclass(frozen=True)
class FinishedBundle:
    """A trained bundle's validation through the serving path: what training records and registers."""

    meta: BundleMeta
    scores: list[float]
    """Dev ad scores of the served (fp32) model, blend included."""
    fp32: Scores
    int8: Scores | None
    """None when the recipe fixes the precision (TrainConfig.cpu_precision)."""
    blend_metrics: dict[str, float]
    fixed_precision: str | None = None

    @property
    def cpu_precision(self) -> str:
        return self.fixed_precision or choose_cpu_precision(self.fp32, self.int8)


def finish_bundle(
    built: backbones.Built, train_set: PostSet, dev_set: PostSet, config: TrainConfig, folder: Path
) -> FinishedBundle:
    """Save the bundle, then score dev through AdClassifier (the serving path) to fit the lexical
    blend, tune the threshold and choose the CPU serving precision: the designated validation run."""
    meta = BundleMeta(
        max_length=built.recipe.max_length,
        truncation=built.recipe.truncation,
        backbone=config.backbone,
        model_name=MODEL_NAME,
    )
    save_bundle(built, meta, folder)
    transformer = AdClassifier(folder, precision="fp32").model_scores(dev_set.texts)
    scores = transformer.scores
    blend_metrics: dict[str, float] = {}
    if config.lexical_blend:
        alone = score_predictions(dev_set.labels, scores, best_threshold(dev_set.labels, scores))
        mixed = fit_blend(train_set, dev_set, scores, config.seed)
        blend_metrics = {
            "transformer_dev_macro_f1": alone.macro_f1,
            "transformer_dev_log_loss": mixed.dev_log_loss[0.0],
            "blend_dev_log_loss": mixed.dev_log_loss[mixed.weight],
        }
        if mixed.weight > 0:
            save_lexical(mixed.pipeline, folder)
            meta = replace(meta, lexical_weight=mixed.weight)
            meta.write(folder)
            scores = AdClassifier(folder, precision="fp32").with_lexical(dev_set.texts, transformer).scores
    meta = replace(meta, threshold=best_threshold(dev_set.labels, scores))
    meta.write(folder)
    int8 = None
    if config.cpu_precision is None:
        int8_scores = AdClassifier(folder, precision="int8").score_texts(dev_set.texts)
        int8 = score_predictions(dev_set.labels, int8_scores, meta.threshold)
    fp32 = score_predictions(dev_set.labels, scores, meta.threshold)
    return FinishedBundle(meta, scores, fp32, int8, blend_metrics, config.cpu_precision)


def log_model(meta: BundleMeta, bundle: Path, register: bool) -> str | None:
    """Log the bundle as the run's MLflow pyfunc model; returns the registered version (if registering)."""
    import pandas as pd

    signature = infer_signature(
        pd.DataFrame({"title": ["오늘 날씨 좋네요"], "body": ["산책 다녀왔어요"]}),
        pd.DataFrame({"label": ["normal"], "score": [0.1], "threshold": [meta.threshold]}),
    )
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(REPO_ROOT / "training" / "pyfunc_model.py"),
        artifacts={"bundle": str(bundle)},
        code_paths=[str(REPO_ROOT / "handlers")],
        pip_requirements=pinned(*MODEL_DISTRIBUTIONS),
        signature=signature,
        registered_model_name=MODEL_NAME if register else None,
    )
    return str(info.registered_model_version) if register else None


def train(config: TrainConfig, cfg: Settings) -> TrainResult:
    """Run one tracked training run; register the model and claim `champion` if vacant."""
    with warnings.catch_warnings():
        # MLflow's advisory UserWarnings (ambiguous local dataset source, integer-column schema hint,
        # no input example) would bury the progress output; none of them applies to this pipeline.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"mlflow(\.|$)")
        return _train(config, cfg)


def _datasets(config: TrainConfig, data_specs: list[str]) -> tuple[PostSet, PostSet]:
    """The training and dev posts: dev from --dev-data, else held out of the first (careful) file."""
    if config.dev_data:
        train_set, dev_set = load_mixture(data_specs), load_posts(config.dev_data)
    else:  # the other files only add training data
        train_set, dev_set = split_train_dev(load_mixture(data_specs[:1]), config.dev_fraction, config.seed)
        if len(data_specs) > 1:
            train_set = concat([train_set, load_mixture(data_specs[1:])])
    log.info(
        "data: %d train / %d dev posts (ad ratio %.2f / %.2f)",
        len(train_set),
        len(dev_set),
        train_set.ad_ratio,
        dev_set.ad_ratio,
    )
    return train_set, dev_set


def _log_inputs(built: backbones.Built, config: TrainConfig, sets: tuple[PostSet, PostSet], specs: list[str]) -> None:
    """The run's parameters and its training and validation datasets."""
    train_set, dev_set = sets
    mlflow.log_params(
        {
            **asdict(built.recipe),
            "backbone": config.backbone,
            "seed": config.seed,
            "preprocessing_version": PREPROCESSING_VERSION,
            "train_size": len(train_set),
            "dev_size": len(dev_set),
            "data": DATA_SPEC_SEPARATOR.join(specs),
            "parameters": sum(p.numel() for p in built.model.parameters()),
            "lexical_blend": config.lexical_blend,
        }
    )
    for part, context in ((train_set, "training"), (dev_set, "validation")):
        dataset = mlflow.data.from_pandas(
            part.frame(), source=part.source, name=Path(part.source).name, targets="label", digest=part.digest
        )
        mlflow.log_input(dataset, context=context)


def _tag_version(
    client: MlflowClient, version: str, config: TrainConfig, done: FinishedBundle, decided_by: str
) -> None:
    """What a registered version is: backbone, preprocessing, dev figures, serving precision, data."""
    tags = {
        "backbone": config.backbone,
        "preprocessing_version": PREPROCESSING_VERSION,
        "dev_macro_f1": f"{done.fp32.macro_f1:.4f}",
        "threshold": f"{done.meta.threshold:.4f}",
        "lexical_weight": f"{done.meta.lexical_weight:g}",
        "cpu_precision": done.cpu_precision,
        "precision_decided_by": decided_by,
        "train_data": DATA_SPEC_SEPARATOR.join(_specs(config)),
        **({"pretrain_data": DATA_SPEC_SEPARATOR.join(config.pretrain_data)} if config.pretrain_data else {}),
    }
    for key, value in tags.items():
        client.set_model_version_tag(MODEL_NAME, version, key, value)


def _train(config: TrainConfig, cfg: Settings) -> TrainResult:
    client = tracking.configure(cfg)
    seed_everything(config.seed)
    data_specs = _specs(config)
    train_set, dev_set = _datasets(config, data_specs)
    built = backbones.build(config.backbone, train_set.texts, config.seed)
    overrides = {
        k: getattr(config, k)
        for k in ("epochs", "learning_rate", "batch_size", "max_length", "patience", "truncation", "trainable_layers")
    }
    built.recipe = replace(built.recipe, **{k: v for k, v in overrides.items() if v is not None})
    check_max_length(built)
    backbones.freeze_lower_layers(built)
    with mlflow.start_run(run_name=config.run_name) as run:
        _log_inputs(built, config, (train_set, dev_set), data_specs)
        started = time.perf_counter()
        if config.pretrain_data:
            pretrain(built, config, dev_set)
        best_epoch = fit(built, train_set, dev_set, config.seed)
        with tempfile.TemporaryDirectory() as tmp:
            done = finish_bundle(built, train_set, dev_set, config, Path(tmp) / "bundle")
            mlflow.log_metrics(
                {
                    **done.fp32.as_metrics("best_dev_"),
                    **(done.int8.as_metrics("best_dev_int8_") if done.int8 else {}),
                    **done.blend_metrics,
                    "threshold": done.meta.threshold,
                    "lexical_weight": done.meta.lexical_weight,
                    "best_epoch": best_epoch,
                    "train_seconds": time.perf_counter() - started,
                }
            )
            plots.log_evaluation_artifacts(dev_set.labels, done.scores, done.meta.threshold, prefix="dev")
            mlflow.log_dict(distribution(done.scores, done.meta.threshold), REFERENCE_ARTIFACT)
            log.info(
                "best epoch %d: dev macro-F1 %.3f (int8 %s) at threshold %.3f; CPU serving precision %s",
                best_epoch,
                done.fp32.macro_f1,
                f"{done.int8.macro_f1:.3f}" if done.int8 else "not scored",
                done.meta.threshold,
                done.cpu_precision,
            )
            version = log_model(done.meta, Path(tmp) / "bundle", config.register)
        became_champion = False
        if version is not None:
            decided_by = f"validation run {run.info.run_id} ({dev_set.source})"
            _tag_version(client, version, config, done, "the recipe" if config.cpu_precision else decided_by)
            became_champion = registry.claim_champion_if_vacant(client, version)
            log.info("registered %s version %s%s", MODEL_NAME, version, " (champion)" if became_champion else "")
        return TrainResult(run.info.run_id, version, done.fp32, done.meta.threshold, became_champion)
