"""Per-client limits for the open internet: how often one client may write, and how many wrong
moderator passwords it may try before it is locked out (for longer after each further failure).

State is in memory, per board process: a restart forgets it, and several board processes each
count on their own (see SECURITY.md).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


class RateLimited(Exception):
    """A request refused by a limit; the message is shown to the client (Korean)."""


@dataclass(frozen=True)
class Rate:
    """At most `count` actions per `seconds`."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """`5/60` is five per minute."""
        count, _, seconds = text.partition("/")
        rate = cls(int(count), float(seconds))
        if rate.count < 1 or rate.seconds <= 0:
            raise ValueError(f"a rate is count/seconds, both positive, got {text!r}")
        return rate


class RateLimiter:
    """A sliding window of recent actions per client key."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, key: str) -> float:
        """0 and the action is counted, or the seconds until `key` may act again."""
        now = self.clock()
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - self.rate.seconds:
                seen.popleft()
            if len(seen) >= self.rate.count:
                return seen[0] + self.rate.seconds - now
            seen.append(now)
            return 0.0


class LoginGuard:
    """Locks a client out after `max_failures` wrong logins in a row: `lockout_s`, doubled for each
    further failure (capped at a day). A successful login clears the client's record."""

    MAX_LOCKOUT_S = 86_400.0

    def __init__(self, max_failures: int, lockout_s: float, clock: Callable[[], float] = time.monotonic):
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}
        """key -> (failures in a row, locked until)."""
        self._lock = threading.Lock()

    def locked_s(self, key: str) -> float:
        """Seconds `key` must still wait before it may try again (0: it may)."""
        with self._lock:
            _, until = self._failures.get(key, (0, 0.0))
        return max(0.0, until - self.clock())

    def failed(self, key: str) -> None:
        with self._lock:
            failures, _ = self._failures.get(key, (0, 0.0))
            failures += 1
            over = failures - self.max_failures
            until = self.clock() + min(self.lockout_s * 2**over, self.MAX_LOCKOUT_S) if over >= 0 else 0.0
            self._failures[key] = (failures, until)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


def wait_message(seconds: float) -> str:
    """`n초 후에 다시 시도해 주세요.` rounded up to whole seconds."""
    return f"{max(1, int(-(-seconds // 1)))}초 후에 다시 시도해 주세요."


@dataclass(frozen=True)
class Client:
    """Who is asking: the browser session or API client (`session`) and its IP address."""

    session: str
    address: str


TOO_OFTEN = {
    "post": "글을 너무 자주 쓰고 있습니다.",
    "comment": "댓글을 너무 자주 달고 있습니다.",
    "report": "신고를 너무 자주 하고 있습니다.",
}


class BoardLimits:
    """The board's limits per action, per client and (`per_address` times looser) per address."""

    def __init__(self, rates: dict[str, Rate], per_address: int, login: LoginGuard, on_refusal: Callable[[str], None]):
        self.rates = rates
        self.per_client = {action: RateLimiter(rate) for action, rate in rates.items()}
        self.per_address = {
            action: RateLimiter(Rate(rate.count * per_address, rate.seconds)) for action, rate in rates.items()
        }
        self.login_by_client = login
        self.login_by_address = LoginGuard(login.max_failures * per_address, login.lockout_s, login.clock)
        self.on_refusal = on_refusal

    def check(self, action: str, client: Client) -> None:
        """Count one `action` of `client`, or raise RateLimited (Korean) when it is over a limit."""
        wait = self.per_client[action].wait_s(client.session) or self.per_address[action].wait_s(client.address)
        if wait:
            self.on_refusal(action)
            raise RateLimited(f"{TOO_OFTEN[action]} {wait_message(wait)}")

    def check_login(self, client: Client) -> None:
        wait = max(self.login_by_client.locked_s(client.session), self.login_by_address.locked_s(client.address))
        if wait:
            self.on_refusal("login")
            raise RateLimited(f"로그인 실패가 너무 많아 잠시 잠겼습니다. {wait_message(wait)}")

    def login_failed(self, client: Client) -> None:
        self.login_by_client.failed(client.session)
        self.login_by_address.failed(client.address)

    def login_succeeded(self, client: Client) -> None:
        self.login_by_client.succeeded(client.session)
