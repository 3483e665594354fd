"""Move the `champion` alias only when a candidate beats the champion on the same evaluation set.

The loser keeps or gets `challenger`; the comparison is recorded as tags on both versions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from stack.settings import MODEL_NAME, Settings
from training import registry, tracking
from training.data import load_posts
from training.evaluate import score_version
from training.metrics import score_predictions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PromotionResult:
    candidate: str
    champion: str | None
    candidate_macro_f1: float
    champion_macro_f1: float | None
    promoted: bool

    def summary(self) -> str:
        if self.champion is None:
            return f"version {self.candidate} is the first champion (macro-F1 {self.candidate_macro_f1:.4f})"
        verdict = "promoted to champion" if self.promoted else "not promoted (challenger)"
        return (
            f"candidate v{self.candidate} macro-F1 {self.candidate_macro_f1:.4f} vs champion "
            f"v{self.champion} {self.champion_macro_f1:.4f}: {verdict}"
        )


def promote(candidate: str, data: Path, cfg: Settings) -> PromotionResult:
    client = tracking.configure(cfg)
    candidate = registry.resolve_version(client, candidate)
    posts = load_posts(data)

    def macro_f1(version: str) -> float:
        scores, threshold = score_version(version, posts)
        return score_predictions(posts.labels, scores, threshold).macro_f1

    champion = registry.get_alias(client, registry.CHAMPION)
    cand_f1 = macro_f1(candidate)
    if champion is None:
        registry.set_alias(client, registry.CHAMPION, candidate)
        return PromotionResult(candidate, None, cand_f1, None, True)
    champ = str(champion.version)
    if champ == candidate:
        raise ValueError(f"version {candidate} already is the champion")
    champ_f1 = macro_f1(champ)
    promoted = cand_f1 > champ_f1
    winner, loser = (candidate, champ) if promoted else (champ, candidate)
    if promoted:
        registry.set_alias(client, registry.CHAMPION, winner)
    registry.set_alias(client, registry.CHALLENGER, loser)
    note = (
        f"v{candidate} {cand_f1:.4f} vs v{champ} {champ_f1:.4f} on {data.name} "
        f"(digest {posts.digest}): {'promoted' if promoted else 'kept champion'}"
    )
    for version in (candidate, champ):
        client.set_model_version_tag(MODEL_NAME, version, "promotion", note)
    log.info(note)
    return PromotionResult(candidate, champ, cand_f1, champ_f1, promoted)
