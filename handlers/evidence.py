"""Why a post was scored as an ad: the character n-grams that pushed its lexical score up.

The bundle's lexical component (handlers.lexical) is a linear model over hashed, TF-IDF weighted
character n-grams, so each n-gram's push is exactly its TF-IDF value times its coefficient. The
n-grams of the cleaned text are hashed the way the component's HashingVectorizer hashes them
(signed 32-bit MurmurHash3, absolute value modulo the feature count, checked by the tests) to
read those two numbers. Served by the TorchServe handler's explanations call, so the board never
holds a second copy of the model's logic.
"""

from __future__ import annotations

from dataclasses import dataclass

from sklearn.pipeline import Pipeline
from sklearn.utils import murmurhash3_32

MIN_NGRAM_CHARS = 2
"""Shorter n-grams (single characters) explain nothing a reader can see."""


@dataclass(frozen=True)
class Evidence:
    text: str
    """An n-gram of the cleaned text (handlers.text.clean), without its word-boundary padding."""
    weight: float
    """Its contribution to the lexical component's log-odds of 'ad'."""


def lexical_evidence(pipeline: Pipeline, text: str, top: int = 5) -> list[Evidence]:
    """The `top` n-grams of `text` that push the lexical ad score up most, strongest first.

    An n-gram inside a stronger, longer one already listed is left out, so phrases are not repeated.
    """
    hashing, tfidf, regression = (step for _, step in pipeline.steps)
    row = tfidf.transform(hashing.transform([text])).tocsr()
    values = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
    coefficients = regression.coef_[0]
    pushes: dict[str, float] = {}
    for gram in set(hashing.build_analyzer()(text)):
        shown = gram.strip()
        if len(shown) < MIN_NGRAM_CHARS:
            continue
        index = abs(murmurhash3_32(gram, positive=False)) % hashing.n_features
        weight = values.get(index, 0.0) * float(coefficients[index])
        if weight > 0 and weight > pushes.get(shown, 0.0):
            pushes[shown] = weight
    chosen: list[Evidence] = []
    for shown, weight in sorted(pushes.items(), key=lambda kv: (-kv[1], -len(kv[0]))):
        if not any(shown in kept.text or kept.text in shown for kept in chosen):
            chosen.append(Evidence(shown, round(weight, 4)))
        if len(chosen) == top:
            break
    return chosen
