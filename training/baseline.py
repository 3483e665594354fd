"""The comparison every evaluation carries: character 1-4-gram TF-IDF + class-balanced logistic regression."""

from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline

from handlers.lexical import CHAR_NGRAMS, balanced_logistic_regression
from training.data import PostSet


def tfidf_features() -> TfidfVectorizer:
    """Character 1-4-grams within word boundaries, sublinear term frequency."""
    return TfidfVectorizer(**CHAR_NGRAMS, sublinear_tf=True, min_df=1, max_features=300_000)


def fit_tfidf_baseline(train: PostSet, seed: int = 13) -> Pipeline:
    pipeline = make_pipeline(tfidf_features(), balanced_logistic_regression(seed))
    pipeline.fit(train.texts, train.labels, logisticregression__sample_weight=train.weights)
    return pipeline


def baseline_scores(train: PostSet, test: PostSet) -> list[float]:
    """Ad probability of each test post from a baseline fitted on `train`."""
    return fit_tfidf_baseline(train).predict_proba(test.texts)[:, 1].tolist()
