"""Board rules: validate, save first (pending), then classify; never lose or block a post.

`BoardService` is what the UI calls. `PendingWorker` is the background thread that classifies
whatever is still pending (TorchServe was down or slow when it was written).
"""

from __future__ import annotations

import logging
import re
import threading
import time

from ui.classifier_client import ClassifierRejected, ClassifierUnavailable, TorchServeClient
from ui.metrics import BoardMetrics
from ui.models import Comment, Post
from ui.repository import BoardRepository, Item, Page

log = logging.getLogger(__name__)

MAX_TITLE = 100
MAX_BODY = 5000
MAX_COMMENT = 1000
MAX_AUTHOR = 20
DEFAULT_AUTHOR = "익명"


class ValidationError(ValueError):
    """Input the board refuses; the message is shown to the user (Korean)."""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""C0 control characters other than tab/newline: never stored (PostgreSQL refuses NUL in text)."""


def _require(text: str | None, field: str, limit: int) -> str:
    if text is not None and not isinstance(text, str):
        raise ValidationError(f"{field}은 글자여야 합니다.")
    text = _CONTROL.sub("", text or "").strip()
    if not text:
        raise ValidationError(f"{field}을 입력해 주세요.")
    if len(text) > limit:
        raise ValidationError(f"{field}은 {limit:,}자 이하로 입력해 주세요. (현재 {len(text):,}자)")
    return text


def _author(author: object) -> str:
    text = _CONTROL.sub("", author if isinstance(author, str) else "").strip()
    return text[:MAX_AUTHOR] or DEFAULT_AUTHOR


class BoardService:
    def __init__(self, repo: BoardRepository, client: TorchServeClient, metrics: BoardMetrics):
        self.repo = repo
        self.client = client
        self.metrics = metrics

    def create_post(self, title: str, body: str, author: str = "") -> Post:
        title = _require(title, "제목", MAX_TITLE)
        body = _require(body, "본문", MAX_BODY)
        author = _author(author)
        post = self.repo.add_post(author, title, body)
        self.metrics.items_created.labels("post").inc()
        return self.classify(post, interactive=True)

    def add_comment(self, post_id: int, body: str, author: str = "") -> Comment:
        body = _require(body, "댓글", MAX_COMMENT)
        author = _author(author)
        try:
            comment = self.repo.add_comment(post_id, author, body)
        except LookupError as exc:
            raise ValidationError("존재하지 않는 게시글입니다.") from exc
        self.metrics.items_created.labels("comment").inc()
        return self.classify(comment, interactive=True)

    def classify(self, item: Item, interactive: bool = False) -> Item:
        """Try to classify a saved item now; on a transient failure it simply stays pending.

        `interactive` (a person is waiting): one attempt within the timeout, no retries; the
        background worker retries later. Otherwise the configured bounded retries apply.
        """
        kind = "post" if isinstance(item, Post) else "comment"
        title = item.title if isinstance(item, Post) else None
        started = time.perf_counter()
        try:
            result = self.client.classify(title or "", item.body, retries=0 if interactive else None)
        except ClassifierUnavailable as exc:
            self.metrics.classify_errors.labels(exc.kind).inc()
            log.warning("%s %d left pending: %s", kind, item.id, exc)
            return self.repo.record_failure(item, str(exc), final=False)
        except ClassifierRejected as exc:
            self.metrics.classify_errors.labels("rejected").inc()
            log.warning("%s %d refused by the classifier: %s", kind, item.id, exc)
            return self.repo.record_failure(item, str(exc), final=True)
        finally:
            self.metrics.classify_latency.observe(time.perf_counter() - started)
        self.metrics.items_classified.labels(kind, result.label).inc()
        self.metrics.ad_score.observe(result.score)
        self.metrics.model_seen.labels(result.model).set_to_current_time()
        return self.repo.record_result(item, result.label, result.score, result.model, result.threshold)

    def classify_pending(self, limit: int = 32) -> int:
        """Classify pending items oldest first; stops at the first transient failure. Returns done count."""
        done = 0
        for item in self.repo.pending(limit):
            updated = self.classify(item)
            if updated.status == "pending":
                break
            done += 1
        self.metrics.pending.set(self.repo.pending_count())
        return done

    def feed(self, page: int = 1, page_size: int = 10, hide_ads: bool = False, query: str = "") -> Page:
        return self.repo.list_posts(page, page_size, hide_ads, query.strip())

    def post(self, post_id: int) -> Post | None:
        return self.repo.get_post(post_id)


class PendingWorker(threading.Thread):
    """Retries pending items every `interval_s` seconds until stopped."""

    def __init__(self, service: BoardService, interval_s: float):
        super().__init__(name="pending-classifier", daemon=True)
        self.service = service
        self.interval_s = interval_s
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            try:
                done = self.service.classify_pending()
                if done:
                    log.info("classified %d pending items", done)
            except Exception:  # keep the worker alive whatever one round does
                log.exception("pending classification round failed")

    def stop(self) -> None:
        self._stop_event.set()
