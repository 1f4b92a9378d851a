"""The circuit breaker on the model endpoint and the one-call-per-pick resolutions."""

from __future__ import annotations

import asyncio

import pytest

from spark_lsp.engine.breaker import CircuitBreaker, CircuitOpen, counts_as_failure
from spark_lsp.engine.resolutions import Remembered, Resolutions
from spark_lsp.errors import (
    AuthError,
    ModelRequestError,
    ModelTimeout,
    ModelUnavailable,
    ProtocolError,
    RateLimited,
    SparkError,
    Superseded,
    UnsupportedTask,
)

DROPPED = ModelUnavailable("the model connection dropped")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, said: list[str | None]) -> CircuitBreaker:
    """A breaker whose announced pauses and resumptions go to ``said`` (re-pauses of failed
    trials, which are not announced, are left out)."""

    def changed(detail: str | None, announce: bool) -> None:
        if announce or detail is None:
            said.append(detail)

    return CircuitBreaker(changed, threshold=3, cooldown_s=10, max_cooldown_s=40, timer=clock)


def test_what_counts_as_an_endpoint_failure() -> None:
    for failing in (DROPPED, ModelTimeout("slow"), ProtocolError("garbage"),
                    ModelRequestError("boom", status=503)):
        assert counts_as_failure(failing), failing
    for fine in (RateLimited("slow down"), AuthError("bad key"), Superseded("newer"),
                 UnsupportedTask("no edits", status=400), CircuitOpen("paused"),
                 SparkError("no change")):
        assert not counts_as_failure(fine), fine


def test_opens_after_three_failures_in_a_row_and_says_so_once() -> None:
    clock, said = Clock(), []
    b = breaker(clock, said)
    for _ in range(2):
        b.check()
        b.failed(DROPPED)
    b.succeeded()  # a success in between: the count starts again
    for _ in range(3):
        b.check()
        b.failed(DROPPED)
    assert b.is_open and len(said) == 1 and said[0] is not None
    assert "paused for 10 s after 3 failures" in said[0] and "dropped" in said[0]
    for _ in range(50):
        with pytest.raises(CircuitOpen, match="paused"):
            b.check()
    assert b.refused == 50 and len(said) == 1


def test_one_trial_after_the_back_off_then_closed_or_longer() -> None:
    clock, said = Clock(), []
    b = breaker(clock, said)
    for _ in range(3):
        b.failed(DROPPED)
    clock.now = 10.0
    b.check()  # the trial
    with pytest.raises(CircuitOpen):
        b.check()  # only one while it runs
    b.failed(DROPPED)  # the trial failed: 20 s now, not said again
    clock.now = 29.0
    with pytest.raises(CircuitOpen):
        b.check()
    clock.now = 30.0
    b.check()
    b.succeeded()
    assert not b.is_open and said[1:] == [None]
    b.check()


def test_a_trial_that_says_nothing_about_the_endpoint_lets_another_try() -> None:
    clock, said = Clock(), []
    b = breaker(clock, said)
    for _ in range(3):
        b.failed(DROPPED)
    clock.now = 10.0
    b.check()
    b.failed(Superseded("the user typed on"))
    b.check()  # another trial at once


def test_back_off_is_capped_and_reset_closes() -> None:
    clock, said = Clock(), []
    b = breaker(clock, said)
    for _ in range(3):
        b.failed(DROPPED)
    for _ in range(5):  # failed trials: 20, 40, 40, 40 s...
        clock.now += 40.0
        b.check()
        b.failed(DROPPED)
    clock.now += 39.0
    with pytest.raises(CircuitOpen):
        b.check()
    clock.now += 1.0
    b.check()
    b.reset()
    assert not b.is_open and said == [said[0], None]


def test_an_endpoint_that_is_back_is_tried_at_once() -> None:
    clock, said = Clock(), []
    b = breaker(clock, said)
    for _ in range(3):
        b.failed(ModelUnavailable("cannot connect to the model"))
    clock.now = 1.0
    b.endpoint_back()  # the session connected again after being offline
    assert said[1:] == [None]
    b.check()  # the trial, 9 s before the back-off ends
    with pytest.raises(CircuitOpen):
        b.check()
    b.succeeded()
    assert not b.is_open
    b.endpoint_back()  # closed: nothing to do
    assert said[2:] == []


async def test_resolutions_share_a_running_call_and_remember_a_failure() -> None:
    clock = Clock()
    resolutions: Resolutions[str] = Resolutions(remember_s=15, timer=clock)
    calls = 0
    release = asyncio.Event()

    async def compute() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        raise ModelUnavailable("dropped")

    asks = [asyncio.ensure_future(resolutions.run("a", compute)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*asks, return_exceptions=True)
    assert calls == 1 and all(isinstance(r, ModelUnavailable) for r in results)
    with pytest.raises(Remembered, match="dropped"):
        await resolutions.run("a", compute)
    assert calls == 1
    clock.now = 15.0
    with pytest.raises(ModelUnavailable):
        await resolutions.run("a", compute)
    assert calls == 2


async def test_resolutions_do_not_remember_success_or_a_superseded_call() -> None:
    resolutions: Resolutions[str] = Resolutions()
    outcomes: list[BaseException | str] = [Superseded("newer"), "edit", "edit again"]

    async def compute() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    with pytest.raises(Superseded):
        await resolutions.run("a", compute)
    assert await resolutions.run("a", compute) == "edit"
    assert await resolutions.run("a", compute) == "edit again"


async def test_a_cancelled_asker_leaves_the_others_their_answer() -> None:
    resolutions: Resolutions[str] = Resolutions()
    release = asyncio.Event()

    async def compute() -> str:
        await release.wait()
        return "edit"

    first = asyncio.ensure_future(resolutions.run("a", compute))
    second = asyncio.ensure_future(resolutions.run("a", compute))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    assert await second == "edit"


async def test_refusals_made_without_a_model_call_are_not_remembered() -> None:
    from spark_lsp.engine.messages import Refused

    resolutions: Resolutions[str] = Resolutions(forget=(Refused, CircuitOpen))
    outcomes: list[BaseException | str] = [
        Refused("an edit of this file is still being computed"), CircuitOpen("paused"), "edit"]

    async def compute() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    with pytest.raises(Refused):
        await resolutions.run("a", compute)
    with pytest.raises(CircuitOpen):
        await resolutions.run("a", compute)
    assert await resolutions.run("a", compute) == "edit"
