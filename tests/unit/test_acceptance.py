"""Acceptance ids and counts, alternatives' dedup, and when the status says "thinking"."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from spark_lsp.engine.acceptance import REMEMBERED, AcceptanceTracker, insertion_end
from spark_lsp.engine.alternatives import alternative_note, distinct
from spark_lsp.lsp.status import StatusReporter


def test_insertion_end_of_one_and_several_lines() -> None:
    assert insertion_end(3, 4, "abc") == (3, 7)
    assert insertion_end(3, 4, "abc\n  de") == (4, 4)


def test_a_suggestion_typed_through_keeps_its_id_and_counts_once() -> None:
    tracker = AcceptanceTracker()
    first = tracker.shown("file:///a.py", "python", (1, 4), ["return a * b"], 20.0)
    rest = tracker.shown("file:///a.py", "python", (1, 7), ["urn a * b"], 1.0)
    again = tracker.shown("file:///a.py", "python", (1, 7), ["urn a * b", "urn b"], 9.0)
    assert first == rest == again
    other = tracker.shown("file:///a.py", "python", (1, 7), ["urn 0"], 5.0)
    assert other != first  # ends elsewhere: another suggestion
    python = tracker.stats.snapshot()["languages"]["python"]  # type: ignore[index]
    assert python["shown"] == 2
    assert python["latencyMs"]["p50"] in (5.0, 20.0)


def test_partial_then_whole_counts_as_accepted_once() -> None:
    tracker = AcceptanceTracker()
    sid = tracker.shown("file:///a.go", "go", (0, 0), ["x := 1"], 3.0)
    assert tracker.accepted(sid, partial=True)
    assert tracker.accepted(sid, partial=True)  # a second part: still one partial accept
    go: Any = tracker.stats.snapshot()["languages"]["go"]  # type: ignore[index]
    assert (go["accepted"], go["partiallyAccepted"]) == (0, 1)
    assert tracker.accepted(sid, partial=False)
    assert not tracker.accepted(sid, partial=False)
    go = tracker.stats.snapshot()["languages"]["go"]  # type: ignore[index]
    assert (go["shown"], go["accepted"], go["partiallyAccepted"]) == (1, 1, 0)
    assert go["acceptanceRate"] == 1.0


def test_unknown_and_forgotten_ids_are_not_counted() -> None:
    tracker = AcceptanceTracker()
    assert not tracker.accepted(99, partial=False)
    first = tracker.shown("file:///0.py", "python", (0, 0), ["a"], 1.0)
    for n in range(1, REMEMBERED + 1):
        tracker.shown(f"file:///{n}.py", "python", (0, 0), ["a"], 1.0)
    assert not tracker.accepted(first, partial=False)
    total: Any = tracker.stats.snapshot()["total"]
    assert (total["shown"], total["accepted"]) == (REMEMBERED + 1, 0)


def test_no_text_is_kept() -> None:
    tracker = AcceptanceTracker()
    tracker.shown("file:///a.py", "python", (0, 0), ["SECRET_TOKEN = 1"], 1.0)
    assert "SECRET" not in repr(vars(tracker)) + repr(tracker.stats.snapshot())


def test_distinct_drops_empty_and_repeats_after_filtering() -> None:
    texts = ["a * b", None, "", "  ", "a * b  ", "b * a", "a * b"]
    assert distinct(texts) == ["a * b", "b * a"]


def test_each_alternative_is_asked_differently() -> None:
    notes = {alternative_note(n) for n in range(2, 6)}
    assert len(notes) == 4
    assert all(f"suggestion {n}" in alternative_note(n) for n in range(2, 6))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def reporter(clock: Clock) -> tuple[StatusReporter, list[str]]:
    sent: list[str] = []

    def notify(method: str, params: Any) -> None:
        sent.append(params["state"])

    def ignore(params: types.ShowMessageParams | types.LogMessageParams) -> None:
        return None

    status = StatusReporter(notify, ignore, ignore, timer=clock, thinking_after=lambda: 0.4)
    status.set_state("ready")
    sent.clear()
    return status, sent


def test_fast_requests_send_no_status() -> None:
    clock = Clock()
    status, sent = reporter(clock)
    for _ in range(5):
        status.busy(True)
        clock.now += 0.1
        status.busy(False)
    assert sent == []


def test_a_request_waiting_past_the_threshold_shows_thinking_then_ready() -> None:
    clock = Clock()
    status, sent = reporter(clock)
    status.busy(True)
    clock.now = 0.5
    status.busy(True)  # any event re-checks (the loop's timer does it otherwise)
    assert sent == ["thinking"] and status.payload()["state"] == "thinking"
    status.busy(False)
    assert sent == ["thinking"]  # the second one still waits
    status.busy(False)
    assert sent == ["thinking", "ready"]


def test_thinking_never_hides_an_error_state() -> None:
    clock = Clock()
    status, sent = reporter(clock)
    status.set_state("offline", "connection refused")
    status.busy(True)
    clock.now = 1.0
    status.busy(True)
    status.busy(False)
    status.busy(False)
    assert sent == ["offline"]
