"""A bundle's optional lexical component, blended with the transformer's ad score.

Character 1-4-grams (within word boundaries) hashed into a fixed feature space, TF-IDF weighted,
then a class-balanced logistic regression: the TF-IDF baseline's features without its vocabulary,
so the fitted component is a few arrays. It reads surface cues (disclosure words such as 협찬 or
체험단, contact formats, price patterns) that a small transformer fine-tuned on a few thousand
posts learns less reliably; the blend is

    score = (1 - lexical_weight) * transformer score + lexical_weight * lexical score

with `lexical_weight` chosen by training on its dev split (training.blend) and stored in the
bundle's classifier.json. A weight of 0 means no lexical component and no file.

The component is stored with skops (`lexical.skops`), which loads only allow-listed scikit-learn
and NumPy types, never arbitrary pickled code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

LEXICAL_FILE = "lexical.skops"
HASH_FEATURES = 2**18
"""Hashed n-gram features: 4 MB on disk; as good as a 300k-term vocabulary on gold_dev."""
CHAR_NGRAMS = {"analyzer": "char_wb", "ngram_range": (1, 4)}
"""Character 1-4-grams within word boundaries: the lexical component's and the baseline's features."""


def balanced_logistic_regression(seed: int = 13) -> LogisticRegression:
    """The regression of the lexical component and of the TF-IDF baseline."""
    return LogisticRegression(class_weight="balanced", max_iter=2000, C=4.0, random_state=seed)


def lexical_pipeline(seed: int = 13) -> Pipeline:
    """An unfitted lexical component."""
    return make_pipeline(
        HashingVectorizer(**CHAR_NGRAMS, n_features=HASH_FEATURES, alternate_sign=False, norm=None),
        TfidfTransformer(sublinear_tf=True),
        balanced_logistic_regression(seed),
    )


def save_lexical(pipeline: Pipeline, bundle_dir: Path) -> Path:
    import skops.io

    path = bundle_dir / LEXICAL_FILE
    skops.io.dump(pipeline, path)
    return path


def load_lexical(bundle_dir: Path) -> Pipeline:
    """Load a bundle's lexical component; refuses a file holding any type skops does not trust."""
    import skops.io

    path = bundle_dir / LEXICAL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{bundle_dir} asks for a lexical blend but has no {LEXICAL_FILE}")
    untrusted = skops.io.get_untrusted_types(file=path)
    if untrusted:
        raise ValueError(f"{path} holds types skops does not trust: {untrusted}")
    return skops.io.load(path)


def lexical_scores(pipeline: Pipeline, texts: list[str]) -> np.ndarray:
    """Ad probability of each cleaned text."""
    return pipeline.predict_proba(texts)[:, 1]


def blend(model_scores, lexical, weight: float) -> np.ndarray:
    """The blended ad score (see the module docstring)."""
    return (1.0 - weight) * np.asarray(model_scores, dtype=float) + weight * np.asarray(lexical, dtype=float)
