"""Every action of the board, as its gradio_client endpoint sees it: JSON in, JSON out, refusals
raised as gr.Error with a Korean message. ui/blocks.py registers each one as a single event with
its `api_name`; the browser's buttons trigger those same events."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import gradio as gr

from ui.limits import BoardLimits, Client, RateLimited
from ui.models import Comment, Post
from ui.moderation import Moderation, NotAuthorized
from ui.service import BoardService, ValidationError

PAGE_SIZE = 10


def board_errors(fn: Callable) -> Callable:
    """Raise the board's refusals (Korean messages) as gr.Error for the browser and API clients."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ValidationError, NotAuthorized, RateLimited) as exc:
            raise gr.Error(str(exc)) from None

    return wrapper


def client_of(request: gr.Request | None) -> Client:
    """The asking client: its Gradio session (a browser tab or a gradio_client) and IP address."""
    if request is None:
        return Client("local", "local")
    address = request.client.host if request.client else "unknown"
    return Client(request.session_hash or address, address)


def page_number(raw: object) -> int:
    """A list page from a URL or form; anything unreadable is page 1."""
    try:
        return max(1, int(float(raw)))
    except (TypeError, ValueError, OverflowError):
        return 1


class BoardActions:
    """The board's public actions; moderator ones check the session token themselves."""

    def __init__(
        self, service: BoardService, moderation: Moderation, limits: BoardLimits, evidence_public: bool = False
    ):
        self.service = service
        self.moderation = moderation
        self.limits = limits
        self.evidence_public = evidence_public
        """Show everyone, not only moderators, why an item was labelled 광고."""

    def item_json(self, item: Post | Comment) -> dict:
        """A post or comment as the API returns it."""
        data = {
            "id": item.id,
            "author": item.author,
            "body": item.body,
            "status": item.status,
            "label": item.label,
            "score": item.score,
            "model_version": item.model_version,
            "moderator_label": item.moderator_label,
            "shown_label": item.shown_label,
            "open_reports": item.open_reports or 0,
            "under_review": self.service.under_review(item),
            "created_at": item.created_at.isoformat() if item.created_at else None,
        }
        if isinstance(item, Post):
            data["title"] = item.title
            data["hidden"] = bool(item.hidden)
        else:
            data["post_id"] = item.post_id
        return data

    @board_errors
    def list_posts(self, page: float | None = 1, hide_ads: bool = False, query: str = "") -> dict:
        """Newest first, PAGE_SIZE per page; hidden posts are never listed."""
        result = self.service.feed(page_number(page), PAGE_SIZE, bool(hide_ads), query or "")
        return {
            "total": result.total,
            "page": result.page,
            "pages": result.pages,
            "posts": [{**self.item_json(p), "comments": result.comment_counts.get(p.id, 0)} for p in result.posts],
        }

    @board_errors
    def get_post(self, post_id: str, token: str | None = None) -> dict:
        """One post with its comments; a hidden post only for a moderator's token."""
        post = self.service.open_post(post_id, include_hidden=self.moderation.is_moderator(token))
        return {**self.item_json(post), "comments": [self.item_json(c) for c in post.comments]}

    @board_errors
    def create_post(self, title: str, body: str, author: str = "", request: gr.Request = None) -> dict:
        """Write a post; returns it with its label (or status pending)."""
        self.limits.check("post", client_of(request))
        return self.item_json(self.service.create_post(title, body, author))

    @board_errors
    def add_comment(self, post_id: str, body: str, author: str = "", request: gr.Request = None) -> dict:
        """Comment on a visible post; returns the comment with its label."""
        self.limits.check("comment", client_of(request))
        return self.item_json(self.service.add_comment(post_id, body, author))

    @board_errors
    def report_item(self, kind: str, item_id: str, reader: str | None = None, request: gr.Request = None) -> dict:
        """Report a post or comment as an ad (신고), once per reader (default: this API client)."""
        client = client_of(request)
        self.limits.check("report", client)
        return self.item_json(self.service.report(kind, item_id, reader or client.session))

    @board_errors
    def moderator_login(self, username: str, password: str, request: gr.Request = None) -> str:
        """A moderator session token (8 hours); repeated wrong passwords lock the client out."""
        client = client_of(request)
        self.limits.check_login(client)
        try:
            token = self.moderation.login(username, password)
        except NotAuthorized:
            self.limits.login_failed(client)
            raise
        self.limits.login_succeeded(client)
        return token

    @board_errors
    def review_queue(self, token: str) -> list[dict]:
        """Reported items first (most reports first), then unreviewed ones least certain first."""
        return [self.item_json(i) for i in self.moderation.queue(token)]

    @board_errors
    def override_label(self, token: str, kind: str, item_id: float, label: str) -> dict:
        """Set the label shown for a post or comment; its open reports are decided with it."""
        return self.item_json(self.moderation.override(token, kind, item_id, label))

    @board_errors
    def dismiss_reports(self, token: str, kind: str, item_id: float) -> dict:
        """Reject the readers' reports on an item; the label shown stays, confirmed by the moderator."""
        return self.item_json(self.moderation.dismiss_reports(token, kind, item_id))

    @board_errors
    def hide_post(self, token: str, post_id: float) -> dict:
        """Hide a post from readers everywhere (moderators still see it, marked hidden)."""
        return self.item_json(self.moderation.hide(token, post_id))

    @board_errors
    def export_reviewed(self, token: str) -> str:
        """Every reviewed item as CSV in the training data format (moderators only)."""
        return self.moderation.export_csv(token)
