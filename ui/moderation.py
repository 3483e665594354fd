"""Moderator actions: log in, review the least certain labels first, override, hide, export.

Every action checks the session token itself, so the API is as protected as the UI.
"""

from __future__ import annotations

import csv
import io

from ui.auth import Sessions
from ui.metrics import BoardMetrics
from ui.models import Comment, Post
from ui.repository import BoardRepository, Item
from ui.service import ValidationError

KINDS: dict[str, type[Item]] = {"post": Post, "comment": Comment}
LABELS = {"ad", "normal"}
EXPORT_COLUMNS = ["title", "body", "label", "weight", "kind", "id", "model_label", "model_score", "model_version"]


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

    def queue(self, token: str | None, limit: int = 20) -> list[Item]:
        self.moderator(token)
        return self.repo.review_queue(limit)

    def override(self, token: str | None, kind: str, item_id: int, label: str) -> Item:
        """Set the label people see; the model's label stays beside it."""
        name = self.moderator(token)
        if kind not in KINDS or label not in LABELS:
            raise ValidationError("종류는 post/comment, 라벨은 ad/normal 중 하나여야 합니다.")
        try:
            before, item = self.repo.set_moderator_label(KINDS[kind], int(item_id), label, name)
        except LookupError as exc:
            raise ValidationError("해당 글이나 댓글이 없습니다.") from exc
        direction = f"{before or 'none'}_to_{label}"
        self.metrics.overrides.labels(direction).inc()
        return item

    def hide(self, token: str | None, post_id: int, hidden: bool = True) -> Post:
        name = self.moderator(token)
        try:
            return self.repo.set_hidden(int(post_id), hidden, name)
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
                }
            )
        return out.getvalue()
