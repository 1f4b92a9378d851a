"""The session's health state machine, driven without sockets and with a fake clock."""

from __future__ import annotations

import pytest

from spark_lsp.errors import (
    AuthError,
    ConfigError,
    ModelNotAvailable,
    ModelUnavailable,
    RateLimited,
)
from spark_lsp.model.health import SessionHealth, SessionStatus


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def seen() -> list[SessionStatus]:
    return []


@pytest.fixture
def health(clock: Clock, seen: list[SessionStatus]) -> SessionHealth:
    return SessionHealth("m", seen.append, timer=clock)


def ready(health: SessionHealth) -> SessionHealth:
    health.link_adopted(rotation=False)
    return health


def states(seen: list[SessionStatus]) -> list[str]:
    return [status.state for status in seen]


def test_a_new_session_connects_then_serves_and_each_change_is_told_once(
    health: SessionHealth, seen: list[SessionStatus]
) -> None:
    assert health.status == SessionStatus("connecting")
    assert not health.halted() and not health.gave_up()
    health.raise_if_unusable()
    assert health.link_adopted(rotation=False) is False  # the first link is no reconnect
    health.link_adopted(rotation=False)  # a second serving link: still ready, not told again
    health.request_succeeded()
    assert states(seen) == ["ready"]


def test_a_rate_limit_holds_requests_back_for_its_retry_after(
    health: SessionHealth, clock: Clock, seen: list[SessionStatus]
) -> None:
    ready(health)
    error = health.request_failed(RateLimited("slow down", retry_after=5.0))
    assert isinstance(error, RateLimited)
    assert health.status == SessionStatus("rate_limited", "rate limited; retrying in 5 s")
    assert health.cooldown_left() == 5.0
    clock.now += 3.0
    with pytest.raises(RateLimited) as raised:
        health.raise_if_unusable()
    assert raised.value.retry_after == 2.0
    clock.now += 2.0
    assert health.cooldown_left() == 0.0
    health.raise_if_unusable()
    health.request_succeeded()  # a response completed: the rate-limited state is over
    assert states(seen) == ["ready", "rate_limited", "ready"]
    assert not health.halted()


def test_a_rate_limit_without_retry_after_waits_a_second(
    health: SessionHealth, clock: Clock
) -> None:
    health.request_failed(RateLimited("slow down"))
    assert health.cooldown_left() == 1.0
    assert health.status.detail == "rate limited; retrying in 1 s"


def test_a_shorter_rate_limit_never_cuts_a_longer_cool_down(
    health: SessionHealth, clock: Clock
) -> None:
    health.request_failed(RateLimited("slow down", retry_after=30.0))
    clock.now += 10.0
    health.request_failed(RateLimited("slow down", retry_after=2.0))
    assert health.cooldown_left() == 20.0


def test_a_refused_key_halts_the_session_for_good(
    health: SessionHealth, clock: Clock, seen: list[SessionStatus]
) -> None:
    ready(health)
    refused = AuthError("the key was refused")
    assert health.request_failed(refused) is refused
    assert health.halted() and health.gave_up()
    assert health.status == SessionStatus("auth_failed", "the key was refused")
    clock.now += 3600.0  # no clock heals it
    with pytest.raises(AuthError):
        health.raise_if_unusable()
    assert health.why_not_ready() is refused
    assert states(seen) == ["ready", "auth_failed"]


def test_a_model_the_key_cannot_use_is_named_and_fatal(health: SessionHealth) -> None:
    error = health.request_failed(ModelNotAvailable(None, "no such model"))
    assert isinstance(error, ModelNotAvailable) and error.model == "m"
    assert "'m'" in str(error) and health.halted()
    assert health.status.detail == str(error)


def test_other_request_failures_leave_the_health_alone(
    health: SessionHealth, seen: list[SessionStatus]
) -> None:
    ready(health)
    dropped = ModelUnavailable("the connection dropped")
    assert health.request_failed(dropped) is dropped
    assert health.status == SessionStatus("ready") and not health.halted()
    assert health.cooldown_left() == 0.0
    assert states(seen) == ["ready"]


def test_dials_failing_with_no_link_serving_go_offline_and_stop_waiters(
    health: SessionHealth,
) -> None:
    refused = ModelUnavailable("connection refused")
    health.dial_failed(refused, serving=False)
    assert health.status == SessionStatus("offline", "connection refused")
    assert health.gave_up() and not health.halted()
    assert health.offline_error() is refused
    assert health.why_not_ready() is refused
    assert health.link_adopted(rotation=False) is False  # a dial that works: no reconnect
    assert health.status == SessionStatus("ready") and not health.gave_up()
    assert health.offline_error() is None  # adopted: the failure is forgotten


def test_a_failed_spare_dial_keeps_a_serving_session_ready(health: SessionHealth) -> None:
    ready(health)
    health.dial_failed(ModelUnavailable("connection refused"), serving=True)
    assert health.status == SessionStatus("ready")


def test_a_rate_limited_dial_sets_the_cool_down_to_its_retry_after(
    health: SessionHealth, clock: Clock
) -> None:
    health.request_failed(RateLimited("slow down", retry_after=30.0))
    health.dial_failed(RateLimited("slow down", retry_after=4.0), serving=False)
    assert health.cooldown_left() == 4.0  # the dial's answer is the newest word
    health.dial_failed(RateLimited("slow down"), serving=False)
    assert health.cooldown_left() == 4.0  # no Retry-After: the back-off decides
    assert health.status.state == "offline"


@pytest.mark.parametrize(
    "error",
    [AuthError("refused"), ConfigError("bad CA file"), ModelNotAvailable(None)],
    ids=["auth", "config", "model"],
)
def test_a_dial_failure_only_the_user_can_fix_halts(
    health: SessionHealth, error: ConfigError | AuthError
) -> None:
    health.dial_failed(error, serving=False)
    assert health.halted() and health.status.state == "auth_failed"
    with pytest.raises(type(error)) as raised:
        health.raise_if_unusable()
    if isinstance(raised.value, ModelNotAvailable):
        assert raised.value.model == "m"


def test_a_lost_link_reconnects_and_counts_one_reconnect(
    health: SessionHealth, seen: list[SessionStatus]
) -> None:
    ready(health)
    dropped = ModelUnavailable("the connection dropped")
    health.link_lost(dropped, was_serving=True, serving=False)
    assert health.status == SessionStatus("connecting", "the connection dropped")
    assert not health.gave_up()
    assert health.offline_error() is None  # a reconnect is under way: waiting is worth it
    assert health.why_not_ready() is dropped
    assert health.link_adopted(rotation=False) is True
    assert health.link_adopted(rotation=False) is False  # one loss, one reconnect
    assert states(seen) == ["ready", "connecting", "ready"]


def test_a_rotation_spare_is_no_reconnect(health: SessionHealth) -> None:
    ready(health)
    health.link_lost(ModelUnavailable("dropped"), was_serving=True, serving=False)
    assert health.link_adopted(rotation=True) is False
    assert health.link_adopted(rotation=False) is True  # the loss is still owed


def test_losing_a_standby_or_one_of_several_links_keeps_the_session_ready(
    health: SessionHealth,
) -> None:
    ready(health)
    health.link_lost(ModelUnavailable("dropped"), was_serving=False, serving=True)
    health.link_lost(ModelUnavailable("dropped"), was_serving=True, serving=True)
    assert health.status == SessionStatus("ready")
    assert health.link_adopted(rotation=False) is True  # only the serving one is owed


def test_a_drop_while_offline_or_halted_does_not_pretend_to_reconnect(
    health: SessionHealth,
) -> None:
    health.dial_failed(ModelUnavailable("refused"), serving=False)
    health.link_lost(ModelUnavailable("dropped"), was_serving=False, serving=False)
    assert health.status.state == "offline"


def test_closing_is_told_once(health: SessionHealth, seen: list[SessionStatus]) -> None:
    ready(health)
    health.closed()
    health.closed()
    assert states(seen) == ["ready", "closed"]
