"""Moderator credentials and session tokens."""

from __future__ import annotations

import stat
from pathlib import Path

from ui.auth import Sessions, load_credentials, session_key


def test_generated_credentials_are_private_and_stable(tmp_path: Path) -> None:
    first = load_credentials(tmp_path / "secrets", env={})
    again = load_credentials(tmp_path / "secrets", env={})
    assert first == again and len(first.password) >= 16
    assert stat.S_IMODE((tmp_path / "secrets" / "moderator.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700


def test_environment_wins(tmp_path: Path) -> None:
    creds = load_credentials(tmp_path, env={"ADS_MODERATOR_USER": "kim", "ADS_MODERATOR_PASSWORD": "pw"})
    assert (creds.username, creds.password, creds.source) == ("kim", "pw", "environment")
    assert not (tmp_path / "moderator.json").exists()


def test_tokens(tmp_path: Path) -> None:
    creds = load_credentials(tmp_path, env={"ADS_MODERATOR_PASSWORD": "secret"})
    sessions = Sessions(creds, session_key(tmp_path))
    assert sessions.login("moderator", "wrong") is None
    assert sessions.login("someone", "secret") is None
    token = sessions.login("moderator", "secret")
    assert sessions.verify(token) == "moderator"
    body, signature = token.split(".")
    assert sessions.verify(body + "." + signature[::-1]) is None
    assert sessions.verify("garbage") is None and sessions.verify(None) is None
    other_key = Sessions(creds, b"x" * 32)
    assert other_key.verify(token) is None
    expired = Sessions(creds, session_key(tmp_path), hours=-1)
    assert expired.verify(expired.login("moderator", "secret")) is None
