"""Per-client rate limits and the moderator login lockout, on a clock the test moves."""

from __future__ import annotations

import pytest

from ui.limits import LoginGuard, Rate, RateLimiter, wait_message


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_over_its_rate_waits_while_others_go_on() -> None:
    clock = Clock()
    limiter = RateLimiter(Rate(2, 60), clock)
    assert [limiter.wait_s("a"), limiter.wait_s("a")] == [0.0, 0.0]
    assert limiter.wait_s("a") == 60.0
    assert limiter.wait_s("b") == 0.0
    clock.now += 30
    assert limiter.wait_s("a") == 30.0
    clock.now += 30
    assert limiter.wait_s("a") == 0.0


def test_login_lockout_backs_off_and_clears_on_success() -> None:
    clock = Clock()
    guard = LoginGuard(max_failures=3, lockout_s=10, clock=clock)
    for _ in range(2):
        guard.failed("x")
    assert guard.locked_s("x") == 0
    guard.failed("x")
    assert guard.locked_s("x") == 10
    clock.now += 10
    guard.failed("x")
    assert guard.locked_s("x") == 20
    assert guard.locked_s("y") == 0
    guard.succeeded("x")
    assert guard.locked_s("x") == 0


@pytest.mark.parametrize(("text", "rate"), [("5/60", Rate(5, 60.0)), ("1/0.5", Rate(1, 0.5))])
def test_rates_are_read_as_count_per_seconds(text: str, rate: Rate) -> None:
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["0/60", "5/0", "5", "a/b"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Rate.parse(text)


def test_wait_message_rounds_up() -> None:
    assert wait_message(0.2) == "1초 후에 다시 시도해 주세요."
    assert wait_message(59.1) == "60초 후에 다시 시도해 주세요."
