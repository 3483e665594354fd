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
from ui.models import KINDS, Comment, Post
from ui.repository import AlreadyReported, BoardRepository, Item, Page

log = logging.getLogger(__name__)

MAX_TITLE = 100
MAX_BODY = 5000
MAX_COMMENT = 1000
MAX_AUTHOR = 20
DEFAULT_AUTHOR = "익명"
MAX_ID = 2**31 - 1
"""The largest id every supported database stores (PostgreSQL INTEGER); larger numbers name no post."""
NO_SUCH_POST = "존재하지 않는 게시글입니다."
NO_SUCH_ITEM = "해당 글이나 댓글이 없습니다."


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


_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")


def parse_item_id(value: object, missing: str = NO_SUCH_ITEM) -> int:
    """A post or comment number from a URL, form or API call; ValidationError (Korean) when it
    cannot be one: `missing` for numbers no row can have (below 1, beyond the database's range)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("번호는 숫자로 입력해 주세요.")
    if not 1 <= value <= MAX_ID:
        raise ValidationError(missing)
    return value


def parse_post_id(value: object) -> int:
    """A post number (see parse_item_id)."""
    return parse_item_id(value, NO_SUCH_POST)


def _author(author: object) -> str:
    text = _CONTROL.sub("", author if isinstance(author, str) else "").strip()
    return text[:MAX_AUTHOR] or DEFAULT_AUTHOR


class BoardService:
    def __init__(self, repo: BoardRepository, client: TorchServeClient, metrics: BoardMetrics, review_at: int = 3):
        self.repo = repo
        self.client = client
        self.metrics = metrics
        self.review_at = review_at
        """Distinct readers' reports that put an item under review (검토 중)."""

    def create_post(self, title: str, body: str, author: str = "") -> Post:
        title = _require(title, "제목", MAX_TITLE)
        body = _require(body, "본문", MAX_BODY)
        author = _author(author)
        post = self.repo.add_post(author, title, body)
        self.metrics.items_created.labels("post").inc()
        return self.classify(post, interactive=True)

    def add_comment(self, post_id: object, body: str, author: str = "") -> Comment:
        """Comment on a visible post; ValidationError for a missing or hidden one."""
        post_id = parse_post_id(post_id)
        body = _require(body, "댓글", MAX_COMMENT)
        author = _author(author)
        try:
            comment = self.repo.add_comment(post_id, author, body)
        except LookupError as exc:
            raise ValidationError(NO_SUCH_POST) from exc
        self.metrics.items_created.labels("comment").inc()
        return self.classify(comment, interactive=True)

    def report(self, kind: str, item_id: object, reader: str) -> Item:
        """A reader's report that a visible post or comment is an ad (once per reader and item)."""
        if kind not in KINDS:
            raise ValidationError("신고할 수 있는 것은 글(post)과 댓글(comment)입니다.")
        if not reader:
            raise ValidationError("신고한 사람을 알 수 없습니다.")
        try:
            item = self.repo.add_report(KINDS[kind], parse_item_id(item_id), reader[:80])
        except AlreadyReported as exc:
            raise ValidationError("이미 신고하셨습니다.") from exc
        except LookupError as exc:
            raise ValidationError(NO_SUCH_ITEM) from exc
        self.metrics.reports.labels(kind).inc()
        return item

    def evidence(self, item: Item) -> tuple[str, ...]:
        """For an item shown as an ad: the phrases that pushed its score up, asked from TorchServe
        (nothing when it is unreachable or the served bundle has none)."""
        if not item.is_ad:
            return ()
        title = item.title if isinstance(item, Post) else ""
        try:
            return tuple(text for text, _weight in self.client.explain(title, item.body))
        except (ClassifierUnavailable, ClassifierRejected) as exc:
            log.warning("no evidence for %s %d: %s", type(item).__name__.lower(), item.id, exc)
            return ()

    def under_review(self, item: Item) -> bool:
        """Reported by enough readers to show as 검토 중 until a moderator decides."""
        return item.open_reports >= self.review_at

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

    def post(self, post_id: int, include_hidden: bool = False) -> Post | None:
        """A post by its id (None when missing, or hidden unless `include_hidden`)."""
        return self.repo.get_post(post_id, include_hidden)

    def open_post(self, post_id: object, include_hidden: bool = False) -> Post:
        """A post for a reader (or a moderator with `include_hidden`); ValidationError when it cannot be shown."""
        post = self.repo.get_post(parse_post_id(post_id), include_hidden)
        if post is None:
            raise ValidationError(NO_SUCH_POST)
        return post


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
