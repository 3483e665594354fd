"""Parsing one TorchServe request into a post; every problem becomes a `BadRequest` with a 4xx code.

Accepted bodies:
  - JSON object `{"title": str | null, "body": str}` (`text` is accepted as an alias of `body`);
  - plain text (the whole body is the post's text).
One post per request: TorchServe's dynamic batching groups concurrent requests, so a JSON array is
refused with a clear message rather than silently scored as one post.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from handlers.text import MAX_INPUT_CHARS, EmptyTextError, TextTooLongError, model_text

MAX_REQUEST_BYTES = 4 * MAX_INPUT_CHARS  # UTF-8 Korean is 3 bytes a syllable
EMPTY_REQUEST = 'empty request: send JSON {"title": ..., "body": ...} as application/json, or the text as text/plain'


class BadRequest(ValueError):
    """A request the handler refuses; `status` is the HTTP status TorchServe returns for it."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ParsedPost:
    title: str | None
    body: str
    text: str
    """The cleaned model input (handlers.text.model_text)."""


def _decode(raw: bytes | bytearray) -> Any:
    if len(raw) > MAX_REQUEST_BYTES:
        raise BadRequest(413, f"request body is {len(raw)} bytes; the limit is {MAX_REQUEST_BYTES}")
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(400, f"request body is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadRequest(400, f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    return text


_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_surrogates(title: str, body: str) -> None:
    """A lone UTF-16 surrogate (JSON's "\\ud800") is not Unicode text; refuse it instead of guessing."""
    for field, value in (("title", title), ("body", body)):
        found = _SURROGATE.search(value)
        if found:
            raise BadRequest(
                400, f"field '{field}' holds a lone UTF-16 surrogate (U+{ord(found.group()):04X}) at {found.start()}"
            )


def parse_payload(row: dict[str, Any]) -> ParsedPost:
    """Turn one entry of TorchServe's batch (`{"data"|"body": ...}`) into a cleaned post."""
    if not isinstance(row, dict) or not row:
        raise BadRequest(400, EMPTY_REQUEST)
    if "data" not in row and "body" not in row:
        # TorchServe turns a form-encoded body into fields; a form without a `body` field lands here.
        raise BadRequest(415, "unsupported content type: send application/json or text/plain")
    value = row["data"] if "data" in row else row["body"]
    if value is None:
        raise BadRequest(400, EMPTY_REQUEST)
    if isinstance(value, bytes | bytearray):
        value = _decode(value)
    elif isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        value = _decode(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, list):
        raise BadRequest(400, "one post per request: send each post as its own request (they are batched)")
    if isinstance(value, str):
        title, body = None, value
    elif isinstance(value, dict):
        body = value.get("body", value.get("text"))
        title = value.get("title")
        if not isinstance(body, str):
            raise BadRequest(400, "field 'body' is required and must be a string")
        if title is not None and not isinstance(title, str):
            raise BadRequest(400, "field 'title' must be a string or null")
    else:
        raise BadRequest(400, f"unsupported request body of type {type(value).__name__}")
    _refuse_surrogates(title or "", body)
    try:
        text = model_text(title, body)
    except TextTooLongError as exc:
        raise BadRequest(413, str(exc)) from None
    except EmptyTextError as exc:
        raise BadRequest(422, f"{exc}: nothing to classify") from None
    return ParsedPost(title, body, text)


def read_request(row: Any) -> ParsedPost | BadRequest:
    """parse_payload that never raises: any failure, foreseen or not, becomes this request's BadRequest."""
    try:
        return parse_payload(row)
    except BadRequest as exc:
        return exc
    except Exception as exc:  # an input nobody foresaw must still fail alone
        return BadRequest(400, f"request could not be read ({type(exc).__name__})")


@dataclass(frozen=True)
class Outcome:
    """What inference made of one TorchServe batch: per request a score or its own error."""

    results: list[float | BadRequest]
    tokens: int
    """Real tokens the model read for the batch."""


def unscorable(exc: Exception) -> BadRequest:
    """A post the model could not score on its own: the input's fault (400) or the server's (500)."""
    if isinstance(exc, TypeError | ValueError | UnicodeError):
        return BadRequest(400, f"this post could not be tokenized ({type(exc).__name__}); check its characters")
    return BadRequest(500, f"this post could not be classified ({type(exc).__name__})")
