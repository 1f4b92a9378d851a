"""AdaptiveDelay with an injected clock; Supersession with real (short) asyncio waits."""

from __future__ import annotations

import asyncio

import pytest

from spark_lsp.engine import debounce
from spark_lsp.engine.debounce import AdaptiveDelay, Supersession, related

#: Generous bound for "returns early": far below the long delays used, far above CI jitter.
EARLY = 2.0
LONG = 30.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _typed(
    gaps: list[float],
    *,
    key: str = "a",
    delay: AdaptiveDelay | None = None,
    clock: Clock | None = None,
) -> tuple[AdaptiveDelay, Clock]:
    clock = clock or Clock()
    delay = delay or AdaptiveDelay(timer=clock)
    delay.record_keystroke(key)
    for gap in gaps:
        clock.now += gap
        delay.record_keystroke(key)
    return delay, clock


# --- AdaptiveDelay -------------------------------------------------------------------------


def test_cold_start_uses_default() -> None:
    delay, _ = _typed([0.1, 0.1])
    assert delay.rhythm is None
    assert delay.delay() == pytest.approx(debounce.COLD_DELAY)


def test_learns_rhythm_from_gaps() -> None:
    delay, _ = _typed([0.1] * 10)
    assert delay.rhythm == pytest.approx(0.1)
    assert debounce.MIN_DELAY < delay.delay() < debounce.MAX_DELAY


def test_slow_typist_waits_longer_than_fast_typist() -> None:
    fast, _ = _typed([0.06] * 10)
    slow, _ = _typed([0.2] * 10)
    assert fast.delay() < slow.delay()


def test_high_percentile_ignores_one_slow_key() -> None:
    steady, _ = _typed([0.1] * 12)
    with_outlier, _ = _typed([0.1] * 11 + [0.9])
    assert with_outlier.delay() == pytest.approx(steady.delay())


def test_pauses_are_not_rhythm() -> None:
    delay, _ = _typed([0.1] * 6 + [5.0, 30.0, 1.5])
    assert delay.rhythm == pytest.approx(0.1)


def test_keys_read_together_are_not_rhythm() -> None:
    # A server that was busy reads the queued keys back to back: those gaps say nothing
    # about the typist, whose real gaps (40 ms) must still set the wait.
    delay, _ = _typed([0.0005] * 9 + [0.04] * 10)
    assert delay.rhythm == pytest.approx(0.04)
    assert delay.delay() > 0.04


def test_switching_document_is_not_a_gap() -> None:
    clock = Clock()
    delay = AdaptiveDelay(timer=clock)
    for i in range(10):
        clock.now += 0.05
        delay.record_keystroke("a" if i % 2 else "b")
    assert delay.rhythm is None


def test_clamped() -> None:
    slowest, _ = _typed([0.9] * 10)
    slowest.record_model_latency(2.0)
    assert slowest.delay() == pytest.approx(debounce.MAX_DELAY)
    fastest, _ = _typed([debounce.BUNCHED_GAP] * 10)
    assert debounce.MIN_DELAY <= fastest.delay() < 2 * debounce.BUNCHED_GAP


def test_fast_model_never_waits_less_than_the_rhythm() -> None:
    fast, _ = _typed([0.12] * 10)
    slow, _ = _typed([0.12] * 10)
    for _ in range(10):
        fast.record_model_latency(0.03)
        slow.record_model_latency(0.8)
    assert 0.12 < fast.delay() < slow.delay()
    assert slow.delay() == pytest.approx(0.12 * debounce.RHYTHM_FACTOR * 1.25)


def test_failures_back_off_and_success_resets() -> None:
    delay, _ = _typed([0.1] * 10)
    normal = delay.delay()
    delay.record_failure()
    once = delay.delay()
    for _ in range(10):
        delay.record_failure()
    assert normal < once < delay.delay() <= debounce.FAILURE_CEILING
    delay.record_model_latency(0.1)
    assert delay.delay() <= normal


def test_fixed_override_bypasses_learning() -> None:
    delay, _ = _typed([0.3] * 10)
    delay.fixed = 0.05
    delay.record_failure()
    assert delay.delay() == 0.05
    delay.fixed = -1.0
    assert delay.delay() == 0.0


# --- Supersession --------------------------------------------------------------------------


async def test_wait_elapses_when_not_superseded() -> None:
    ticket = Supersession().begin("doc")
    assert await ticket.wait(0.01) is True
    assert not ticket.superseded


async def test_zero_delay_returns_at_once() -> None:
    ticket = Supersession().begin("doc")
    assert await asyncio.wait_for(ticket.wait(0), EARLY) is True


async def test_newer_ticket_wakes_older_wait() -> None:
    session = Supersession()
    old = session.begin("doc")
    waiting = asyncio.ensure_future(old.wait(LONG))
    await asyncio.sleep(0)
    new = session.begin("doc")
    assert await asyncio.wait_for(waiting, EARLY) is False
    assert old.superseded and not new.superseded


async def test_superseded_ticket_does_not_wait() -> None:
    session = Supersession()
    old = session.begin("doc")
    session.begin("doc")
    assert await asyncio.wait_for(old.wait(LONG), EARLY) is False


async def test_keys_are_independent() -> None:
    session = Supersession()
    a = session.begin("a")
    session.begin("b")
    assert not a.superseded
    assert await a.wait(0.01) is True


async def test_only_newest_of_many_survives() -> None:
    session = Supersession()
    tickets = [session.begin("doc") for _ in range(5)]
    results = await asyncio.wait_for(asyncio.gather(*(t.wait(0.02) for t in tickets)), LONG)
    assert results == [False, False, False, False, True]


async def test_cancel_supersedes_without_successor() -> None:
    session = Supersession()
    ticket = session.begin("doc")
    session.cancel("doc")
    session.cancel("missing")
    assert ticket.superseded
    assert len(session) == 0


async def test_done_releases_key_only_for_current_ticket() -> None:
    session = Supersession()
    old = session.begin("doc")
    new = session.begin("doc")
    old.done()
    assert len(session) == 1
    with new:
        pass
    assert len(session) == 0
    assert not new.superseded


async def test_cancelled_wait_cleans_up_and_ticket_stays_usable() -> None:
    session = Supersession()
    ticket = session.begin("doc")
    waiting = asyncio.ensure_future(ticket.wait(LONG))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await ticket.wait(0.01) is True
    session.begin("doc")
    assert await ticket.wait(LONG) is False


async def test_begin_creates_no_tasks() -> None:
    session = Supersession()
    before = len(asyncio.all_tasks())
    tickets = [session.begin(f"doc{i}") for i in range(50)]
    assert len(asyncio.all_tasks()) == before
    assert len(tickets) == len(session) == 50


# --- Leading edge and trailing wait ------------------------------------------------------


def test_first_key_in_a_document_goes_at_once() -> None:
    delay, _ = _typed([])
    assert delay.wait_for("a") == 0.0
    assert delay.wait_for("b") == 0.0  # no key typed there at all (a cursor move)


def test_first_key_after_a_pause_goes_at_once() -> None:
    delay, clock = _typed([0.05] * 10)
    clock.now += 0.6
    delay.record_keystroke("a")
    assert delay.wait_for("a") == 0.0


def test_keys_inside_the_rhythm_wait_from_the_last_key() -> None:
    delay, clock = _typed([0.05] * 10)
    clock.now += 0.004  # the editor's request comes a few ms after its change
    assert delay.wait_for("a") == pytest.approx(delay.delay() - 0.004)
    clock.now += delay.delay()
    assert delay.wait_for("a") == 0.0  # the wait already passed: nothing left to wait


def test_a_hiccup_inside_a_burst_is_not_a_pause() -> None:
    delay, clock = _typed([0.05] * 10)
    clock.now += delay.delay() * 1.5  # slower than the rhythm, far from a pause
    delay.record_keystroke("a")
    assert delay.wait_for("a") == pytest.approx(delay.delay())


def test_fixed_delay_has_no_leading_edge() -> None:
    delay, _ = _typed([])
    delay.fixed = 0.2
    assert delay.wait_for("a") == 0.2


def test_the_last_call_of_a_burst_waits_for_a_pause() -> None:
    delay, clock = _typed([0.05] * 10)
    normal = delay.delay()
    delay.record_call()  # the leading edge
    delay.record_keystroke("a")
    assert delay.wait_for("a") == pytest.approx(normal)
    delay.record_call()  # a misfire: only the final call is left
    delay.record_keystroke("a")
    assert delay.wait_for("a") == pytest.approx(delay.pause_gap())
    clock.now += 0.2  # a stall of the machine inside the spent burst: still no call
    delay.record_keystroke("a")
    assert delay.wait_for("a") == pytest.approx(delay.pause_gap())
    clock.now += delay.pause_gap() + 0.001  # a real pause: the next key is a new burst
    delay.record_keystroke("a")
    assert delay.wait_for("a") == 0.0


def test_a_burst_never_makes_more_than_its_budget_of_calls() -> None:
    """Whatever the gaps inside a burst (a loaded machine's stalls included), the leading edge,
    the misfires and the final request stay within the budget."""
    delay, clock = _typed([0.04] * 10)
    gaps = [0.04, 0.09, 0.04, 0.19, 0.04, 0.04, 0.12, 0.07, 0.29, 0.04] * 5
    clock.now += 1.0
    delay.record_keystroke("a")
    assert delay.wait_for("a") == 0.0
    delay.record_call()  # the leading edge
    calls = 1
    for gap in gaps:
        if delay.wait_for("a") < gap:  # the wait ran out before the next key: a misfire
            delay.record_call()
            calls += 1
        clock.now += gap
        delay.record_keystroke("a")
        assert delay.wait_for("a") > 0.0, "every gap here is inside the burst"
    calls += 1  # the final request, after the last key
    assert calls <= debounce.BURST_CALLS


def test_a_pause_starts_a_new_budget_and_a_new_leading_edge() -> None:
    delay, clock = _typed([0.05] * 10)
    delay.record_call()
    delay.record_call()
    clock.now += 0.6
    delay.record_keystroke("a")
    assert delay.wait_for("a") == 0.0
    delay.record_call()
    clock.now += 0.05
    delay.record_keystroke("a")
    assert delay.wait_for("a") == pytest.approx(delay.delay())


def test_the_leading_edge_fires_once_per_burst() -> None:
    delay, clock = _typed([])
    assert delay.wait_for("a") == 0.0
    delay.record_call()
    assert delay.wait_for("a") > 0.0  # the same key asking again waits


# --- Ticket.race --------------------------------------------------------------------------


async def test_race_returns_when_the_awaitable_finishes() -> None:
    ticket = Supersession().begin("doc")
    assert await asyncio.wait_for(ticket.race(asyncio.sleep(0.01), LONG), EARLY) is True


async def test_race_times_out_and_cancels_the_awaitable() -> None:
    ticket = Supersession().begin("doc")
    slow = asyncio.ensure_future(asyncio.sleep(LONG))
    assert await asyncio.wait_for(ticket.race(slow, 0.01), EARLY) is False
    await asyncio.sleep(0)
    assert slow.cancelled()


async def test_race_ends_when_superseded() -> None:
    session = Supersession()
    ticket = session.begin("doc")
    racing = asyncio.ensure_future(ticket.race(asyncio.sleep(LONG), None))
    await asyncio.sleep(0)
    session.begin("doc")
    assert await asyncio.wait_for(racing, EARLY) is False
    assert await ticket.race(asyncio.sleep(0), None) is False


def test_an_edit_supersedes_the_related_requests_of_its_document_only() -> None:
    session = Supersession()
    main = session.begin("file:///a.py")
    alternative = session.begin(related("file:///a.py", "alternative 2"))
    other_doc = session.begin(related("file:///a.py2", "alternative 2"))
    newer = session.begin("file:///a.py")  # a newer request leaves the alternatives alone
    assert main.superseded and not alternative.superseded
    session.cancel_related("file:///a.py")
    assert alternative.superseded
    assert not newer.superseded and not other_doc.superseded
