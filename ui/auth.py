"""Moderator credentials and signed session tokens.

Credentials come from ADS_MODERATOR_USER / ADS_MODERATOR_PASSWORD; without a password one is
generated at first start into <run_dir>/secrets/moderator.json (mode 0600, folder 0700) and the
board logs where to find it. Sessions are HMAC-signed tokens with an expiry, verified on every
moderation call (UI and API alike).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stack.settings import Settings, settings

SESSION_HOURS = 8


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    source: str
    """Where they came from: `environment` or the secrets file path."""


def _write_secret(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.chmod(path, 0o600)


def load_credentials(secrets_dir: Path, env: Mapping[str, str] | None = None) -> Credentials:
    """The moderator's credentials from the settings (`env` instead of the process's, if given)."""
    cfg = settings() if env is None else Settings.from_env(env)
    username = cfg.moderator_user
    if cfg.moderator_password is not None:
        return Credentials(username, cfg.moderator_password.get_secret_value(), "environment")
    path = secrets_dir / "moderator.json"
    if not path.is_file():
        _write_secret(path, {"username": username, "password": secrets.token_urlsafe(12)})
    data = json.loads(path.read_text(encoding="utf-8"))
    return Credentials(data["username"], data["password"], str(path))


def session_key(secrets_dir: Path) -> bytes:
    """The HMAC key for session tokens, generated once (0600)."""
    path = secrets_dir / "session_key.json"
    if not path.is_file():
        _write_secret(path, {"key": secrets.token_hex(32)})
    return bytes.fromhex(json.loads(path.read_text(encoding="utf-8"))["key"])


class Sessions:
    def __init__(self, credentials: Credentials, key: bytes, hours: float = SESSION_HOURS):
        self.credentials = credentials
        self.key = key
        self.seconds = int(hours * 3600)

    def login(self, username: str, password: str) -> str | None:
        """A session token for the right credentials, else None (constant-time comparison)."""
        ok_user = hmac.compare_digest(username.encode(), self.credentials.username.encode())
        ok_password = hmac.compare_digest(password.encode(), self.credentials.password.encode())
        if not (ok_user and ok_password):
            return None
        payload = json.dumps({"u": username, "exp": int(time.time()) + self.seconds}).encode()
        return self._b64(payload) + "." + self._b64(self._sign(payload))

    def verify(self, token: str | None) -> str | None:
        """The moderator's name for a valid, unexpired token, else None."""
        if not token or "." not in token:
            return None
        body, signature = token.split(".", 1)
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            given = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        except ValueError:
            return None
        if not hmac.compare_digest(given, self._sign(payload)):
            return None
        data = json.loads(payload)
        return data["u"] if data["exp"] > time.time() else None

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self.key, payload, hashlib.sha256).digest()

    @staticmethod
    def _b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
