"""Moderator actions: log in, review the least certain labels first, override, hide, export.

Every action checks the session token itself, so the API is as protected as the UI.
"""

from __future__ import annotations

import csv
import io

from ui.auth import Sessions
from ui.metrics import BoardMetrics
from ui.models import KINDS, Post
from ui.repository import BoardRepository, Decision, Item
from ui.service import NO_SUCH_ITEM, ValidationError, parse_item_id

LABELS = {"ad", "normal"}
EXPORT_COLUMNS = [
    "title",
    "body",
    "label",
    "weight",
    "kind",
    "id",
    "model_label",
    "model_score",
    "model_version",
    "reports",
]


class NotAuthorized(PermissionError):
    """A moderation call without a valid session."""


class Moderation:
    def __init__(self, repo: BoardRepository, sessions: Sessions, metrics: BoardMetrics):
        self.repo = repo
        self.sessions = sessions
        self.metrics = metrics

    def login(self, username: str, password: str) -> str:
        token = self.sessions.login(username or "", password or "")
        if token is None:
            raise NotAuthorized("아이디 또는 비밀번호가 올바르지 않습니다.")
        return token

    def moderator(self, token: str | None) -> str:
        name = self.sessions.verify(token)
        if name is None:
            raise NotAuthorized("관리자 로그인이 필요합니다.")
        return name

    def is_moderator(self, token: str | None) -> bool:
        """Whether `token` is a valid moderator session (no error for readers)."""
        return self.sessions.verify(token) is not None

    def queue(self, token: str | None, limit: int = 20) -> list[Item]:
        self.moderator(token)
        return self.repo.review_queue(limit)

    def override(self, token: str | None, kind: str, item_id: object, label: str) -> Item:
        """Set the label people see; the model's label stays beside it."""
        name = self.moderator(token)
        if kind not in KINDS or label not in LABELS:
            raise ValidationError("종류는 post/comment, 라벨은 ad/normal 중 하나여야 합니다.")
        try:
            decision = self.repo.set_moderator_label(KINDS[kind], parse_item_id(item_id), label, name)
        except LookupError as exc:
            raise ValidationError(NO_SUCH_ITEM) from exc
        self.metrics.overrides.labels(f"{decision.before or 'none'}_to_{label}").inc()
        return self._decided(decision, "upheld" if label == "ad" else "rejected")

    def dismiss_reports(self, token: str | None, kind: str, item_id: object) -> Item:
        """Reject readers' reports: the item keeps the label shown now, confirmed by the moderator."""
        name = self.moderator(token)
        if kind not in KINDS:
            raise ValidationError("종류는 post/comment 중 하나여야 합니다.")
        try:
            decision = self.repo.dismiss_reports(KINDS[kind], parse_item_id(item_id), name)
        except LookupError as exc:
            raise ValidationError(NO_SUCH_ITEM) from exc
        return self._decided(decision, "rejected")

    def _decided(self, decision: Decision, outcome: str) -> Item:
        if decision.closed_reports:
            self.metrics.reports_decided.labels(outcome).inc(decision.closed_reports)
        return decision.item

    def hide(self, token: str | None, post_id: object, hidden: bool = True) -> Post:
        name = self.moderator(token)
        try:
            return self.repo.set_hidden(parse_item_id(post_id), hidden, name)
        except LookupError as exc:
            raise ValidationError("해당 글이 없습니다.") from exc

    @staticmethod
    def exported_rows(text: str) -> int:
        """How many items an export holds: CSV records after the header (a body may span lines)."""
        return max(0, sum(1 for _ in csv.reader(io.StringIO(text))) - 1)

    def export_csv(self, token: str | None) -> str:
        """Every reviewed item in the training data format (title, body, label [+ context columns])."""
        self.moderator(token)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        for item in self.repo.reviewed():
            writer.writerow(
                {
                    "title": item.title if isinstance(item, Post) else "",
                    "body": item.body,
                    "label": 1 if item.moderator_label == "ad" else 0,
                    "weight": 1.0,
                    "kind": "post" if isinstance(item, Post) else "comment",
                    "id": item.id,
                    "model_label": item.label or "",
                    "model_score": "" if item.score is None else f"{item.score:.4f}",
                    "model_version": item.model_version or "",
                    "reports": self.repo.report_count(item),
                }
            )
        return out.getvalue()
