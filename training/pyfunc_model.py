"""MLflow "model from code" entry: wraps a classifier bundle as an MLflow pyfunc.

Logged by training/train.py; `mlflow.pyfunc.load_model(registry.champion_uri())` returns
this model. Input: a DataFrame with `body` (and optional `title`). Output: a DataFrame with
`label`, `score` and `threshold`. It runs the same `handlers.classifier.AdClassifier` as serving.
"""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel, PythonModelContext

BUNDLE_ARTIFACT = "bundle"


class AdClassifierPyfunc(PythonModel):
    def load_context(self, context: PythonModelContext) -> None:
        from handlers.classifier import AdClassifier

        self.classifier = AdClassifier(context.artifacts[BUNDLE_ARTIFACT])

    def predict(self, context: PythonModelContext, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        titles = model_input["title"] if "title" in model_input.columns else [""] * len(model_input)
        posts = list(zip(titles, model_input["body"], strict=True))
        predictions = self.classifier.predict_posts(posts)
        return pd.DataFrame(
            {
                "label": [p.label for p in predictions],
                "score": [p.score for p in predictions],
                "threshold": [p.threshold for p in predictions],
            }
        )


mlflow.models.set_model(AdClassifierPyfunc())
