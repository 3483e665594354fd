"""Evaluation figures logged to MLflow: confusion matrix, precision-recall curve, report."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import mlflow
import numpy as np
from sklearn import metrics as skm


def log_evaluation_artifacts(labels: list[int], scores: list[float], threshold: float, prefix: str) -> None:
    """Log a confusion-matrix PNG, a PR-curve PNG and the classification report of one data set."""
    y = np.asarray(labels)
    pred = (np.asarray(scores) >= threshold).astype(int)
    fig, ax = plt.subplots(figsize=(4, 4))
    skm.ConfusionMatrixDisplay.from_predictions(y, pred, display_labels=["normal", "ad"], ax=ax, colorbar=False)
    ax.set_title(f"{prefix} confusion (threshold {threshold:.2f})")
    mlflow.log_figure(fig, f"{prefix}_confusion_matrix.png")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 4))
    skm.PrecisionRecallDisplay.from_predictions(y, scores, ax=ax, name="ad score")
    ax.set_title(f"{prefix} precision-recall")
    mlflow.log_figure(fig, f"{prefix}_precision_recall.png")
    plt.close(fig)
    report = skm.classification_report(y, pred, target_names=["normal", "ad"], digits=4, zero_division=0)
    mlflow.log_text(report, f"{prefix}_classification_report.txt")
