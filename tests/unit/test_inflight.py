"""InflightCompletions: joining calls that are still streaming."""

from __future__ import annotations

import asyncio

import pytest

from spark_lsp.engine.inflight import InflightCompletions, typed_since

URI = "file:///a.ts"
EARLY = 2.0


def test_identical_request_joins_with_nothing_typed() -> None:
    registry = InflightCompletions()
    call = registry.start(URI, "const x = ", ";")
    assert registry.join(URI, "const x = ", ";") == (call, "")


def test_typed_text_agreeing_with_stream_joins() -> None:
    registry = InflightCompletions()
    call = registry.start(URI, "x = ", "")
    call.append("comp")
    call.append("ute()")
    assert registry.join(URI, "x = com", "") == (call, "com")


def test_typed_ahead_of_stream_joins_while_streaming() -> None:
    registry = InflightCompletions()
    call = registry.start(URI, "x = ", "")
    call.append("co")
    assert registry.join(URI, "x = comp", "") == (call, "comp")


@pytest.mark.parametrize(
    ("before", "after"),
    [("x = cx", ""), ("x = ", ")"), ("y = ", ""), ("x ", "")],
)
def test_disagreeing_requests_do_not_join(before: str, after: str) -> None:
    registry = InflightCompletions()
    call = registry.start(URI, "x = ", "")
    call.append("compute()")
    assert registry.join(URI, before, after) is None
    assert registry.join("file:///other.ts", "x = ", "") is None


def test_newest_matching_call_wins() -> None:
    registry = InflightCompletions()
    registry.start(URI, "a", "")
    newer = registry.start(URI, "ab", "")
    assert registry.join(URI, "ab", "") == (newer, "")


def test_sliding_window_prefixes_join() -> None:
    """Callers that keep only the last N chars before the cursor still match."""
    text = "0123456789"
    registry = InflightCompletions()
    call = registry.start(URI, text[-6:], "")
    call.append("abc")
    typed = text + "ab"
    assert registry.join(URI, typed[-6:], "") == (call, "ab")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("abc", "abc", ""),
        ("abc", "abcde", "de"),
        ("", "xy", "xy"),
        ("abc", "ab", None),
        ("abcdef", "cdefgh", "gh"),
        ("abcdef", "zzzzzz", None),
        ("abcdef", "abcdeX", None),
    ],
)
def test_typed_since(old: str, new: str, expected: str | None) -> None:
    assert typed_since(old, new) == expected


async def test_finish_resolves_joiners_and_removes_entry() -> None:
    registry = InflightCompletions()
    call = registry.start(URI, "x = ", "")
    joined = registry.join(URI, "x = ", "")
    assert joined is not None
    waiting = asyncio.ensure_future(call.result())
    rest = asyncio.ensure_future(call.result_after("com"))
    await asyncio.sleep(0)
    assert call.has_waiters
    call.finish("compute()")
    assert await asyncio.wait_for(waiting, EARLY) == "compute()"
    assert await asyncio.wait_for(rest, EARLY) == "pute()"
    assert call.done and len(registry) == 0
    assert registry.join(URI, "x = ", "") is None
    assert await call.result() == "compute()"


@pytest.mark.parametrize(("final", "typed"), [(None, ""), ("abc", "abc"), ("abc", "x")])
async def test_result_after_declines_unusable_results(final: str | None, typed: str) -> None:
    call = InflightCompletions().start(URI, "", "")
    call.finish(final)
    assert await call.result_after(typed) is None


async def test_fail_propagates_to_every_joiner() -> None:
    registry = InflightCompletions()
    call = registry.start(URI, "a", "")
    waiters = [asyncio.ensure_future(call.result()) for _ in range(3)]
    await asyncio.sleep(0)
    call.fail(RuntimeError("boom"))
    for waiter in waiters:
        with pytest.raises(RuntimeError, match="boom"):
            await asyncio.wait_for(waiter, EARLY)
    with pytest.raises(RuntimeError):
        await call.result()
    assert len(registry) == 0


async def test_cancelled_joiner_does_not_disturb_others() -> None:
    call = InflightCompletions().start(URI, "a", "")
    gone = asyncio.ensure_future(call.result())
    kept = asyncio.ensure_future(call.result())
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    assert call.has_waiters
    call.finish("b")
    assert await asyncio.wait_for(kept, EARLY) == "b"


def test_appends_after_finish_are_ignored() -> None:
    call = InflightCompletions().start(URI, "a", "")
    call.append("b")
    call.finish("b")
    call.append("late")
    call.finish("other")
    assert call.text_so_far == "b"


def test_bounded_per_uri() -> None:
    registry = InflightCompletions(max_per_uri=2)
    first = registry.start(URI, "a", "")
    registry.start(URI, "ab", "")
    registry.start(URI, "abc", "")
    registry.start("file:///other", "a", "")
    assert len(registry) == 3
    assert registry.join(URI, "a", "") is None
    first.finish("x")  # evicted entries finish harmlessly
    assert len(registry) == 3


def test_typing_past_a_call_that_streamed_nothing_does_not_join() -> None:
    """With nothing streamed there is nothing to agree with: waiting on it is a guess."""
    registry = InflightCompletions()
    call = registry.start(URI, "x = ", "")
    assert registry.join(URI, "x = c", "") is None
    assert registry.join(URI, "x = ", "") == (call, "")
    call.append("c")
    assert registry.join(URI, "x = c", "") == (call, "c")
