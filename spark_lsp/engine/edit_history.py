"""What the user just changed in a document: compact, coalesced, bounded edit history.

A next-edit prediction is only as good as its evidence: "renamed ``w`` to ``width`` on line 3"
says where the user is going. Keystrokes are too fine to be that evidence (typing ``width`` is
five edits), so edits that follow each other quickly on neighbouring lines are coalesced into one
*burst*: the text those lines had before the burst and the text they have now. Bursts keep their
line position up to date as the document changes above them.

Bounded twice: at most ``max_entries`` bursts per document, and the rendered history is cut to a
token budget (newest bursts first) when it goes into a prompt. The text is the user's own: the
next-edit prompt redacts it, like every text that is sent.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from spark_lsp.engine.documents import DocumentIndex

__all__ = ["Capture", "EditBurst", "EditHistory"]

#: Edits further apart than this (seconds) start a new burst: the user paused, then went on.
BURST_GAP_S = 1.5
MAX_ENTRIES = 16
#: Lines of one hunk shown to the model; a pasted file is evidence enough in 40 lines.
MAX_HUNK_LINES = 40
#: A burst that grows past this many lines stops growing (a new one starts).
MAX_BURST_LINES = 200
#: Text kept per side of a burst: a paste of a whole file is remembered by its start only.
MAX_BURST_CHARS = 16_000


@dataclass(frozen=True, slots=True)
class Capture:
    """One change's lines *before* it is applied: lines ``[first, first + old_count)``."""

    first: int
    old_count: int
    old_text: str
    line_delta: int
    at: float


@dataclass(slots=True)
class EditBurst:
    """Lines ``[first, first + new_count)`` read ``new_text`` now and read ``old_text`` before."""

    first: int
    old_text: str
    new_text: str
    new_count: int
    started: float
    updated: float
    #: Its text was cut to ``MAX_BURST_CHARS``: shown, but never extended or compared.
    partial: bool = False

    @property
    def changed(self) -> bool:
        """False when the burst undid itself (typed, then deleted again)."""
        return self.old_text != self.new_text


class EditHistory:
    """The recent bursts of one document, oldest first; clock injected for tests."""

    def __init__(
        self,
        *,
        burst_gap: float = BURST_GAP_S,
        max_entries: int = MAX_ENTRIES,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gap = burst_gap
        self._timer = timer
        self.bursts: deque[EditBurst] = deque(maxlen=max_entries)

    def capture(self, doc: DocumentIndex, change: tuple[int, int, int, int], text: str) -> Capture:
        """Read the lines a change will replace; call before applying it to ``doc``."""
        start_line, _, end_line, _ = change
        last_line = max(0, doc.line_count - 1)
        first = min(max(0, start_line), last_line)
        end = min(max(end_line, first), last_line) + 1
        delta = text.count("\n") - (end - 1 - first)
        return Capture(first, end - first, doc.text_of_lines(first, end), delta, self._timer())

    def commit(self, capture: Capture, doc: DocumentIndex) -> None:
        """Record a change once applied to ``doc``: extend the current burst or start one."""
        last = self.bursts[-1] if self.bursts else None
        if last is not None and self._continues(last, capture):
            self._extend(last, capture, doc)
            self._shift(capture, skip=last)
            if not last.changed:
                self.bursts.pop()
            return
        self._shift(capture, skip=None)
        new_count = capture.old_count + capture.line_delta
        new_text = doc.text_of_lines(capture.first, capture.first + new_count)
        if new_text != capture.old_text:
            partial = max(len(new_text), len(capture.old_text)) > MAX_BURST_CHARS
            self.bursts.append(
                EditBurst(
                    capture.first,
                    capture.old_text[:MAX_BURST_CHARS],
                    new_text[:MAX_BURST_CHARS],
                    new_count,
                    capture.at,
                    capture.at,
                    partial,
                )
            )

    def clear(self) -> None:
        """Forget everything (the whole document was replaced: positions mean nothing)."""
        self.bursts.clear()

    @property
    def last(self) -> EditBurst | None:
        """The newest burst, if any."""
        return self.bursts[-1] if self.bursts else None

    def _continues(self, burst: EditBurst, capture: Capture) -> bool:
        if burst.partial or capture.at - burst.updated > self._gap:
            return False
        if burst.new_count + max(0, capture.line_delta) > MAX_BURST_LINES:
            return False
        touches = burst.first - 1 <= capture.first
        return touches and capture.first + capture.old_count <= burst.first + burst.new_count + 1

    @staticmethod
    def _extend(burst: EditBurst, capture: Capture, doc: DocumentIndex) -> None:
        """Grow ``burst`` to cover the change; lines it gains were unchanged until now."""
        captured = capture.old_text.splitlines(keepends=True)
        start = min(burst.first, capture.first)
        end = max(burst.first + burst.new_count, capture.first + capture.old_count)
        head = "".join(captured[: max(0, burst.first - capture.first)])
        tail_from = burst.first + burst.new_count - capture.first
        tail = "".join(captured[tail_from:]) if tail_from < len(captured) else ""
        burst.old_text = head + burst.old_text + tail
        burst.new_count = end - start + capture.line_delta
        burst.first = start
        burst.new_text = doc.text_of_lines(start, start + burst.new_count)
        burst.updated = capture.at

    def _shift(self, capture: Capture, skip: EditBurst | None) -> None:
        """Bursts below the change move with it."""
        if not capture.line_delta:
            return
        below = capture.first + capture.old_count
        for burst in self.bursts:
            if burst is not skip and burst.first >= below:
                burst.first = max(capture.first, burst.first + capture.line_delta)

    def render(
        self, count_tokens: Callable[[str], int], budget: int, now: float | None = None
    ) -> str:
        """The bursts as compact diff hunks, oldest first, within ``budget`` tokens.

        Newest bursts are kept first: they say most about what comes next.
        """
        moment = self._timer() if now is None else now
        kept: list[str] = []
        spent = 0
        for burst in reversed(self.bursts):
            if not burst.changed:
                continue
            hunk = _hunk(burst, moment)
            cost = count_tokens(hunk)
            if spent + cost > budget:
                break
            kept.append(hunk)
            spent += cost
        return "".join(reversed(kept))


def _hunk(burst: EditBurst, now: float) -> str:
    """``@@ line N @@`` then ``-old``/``+new`` lines, common leading/trailing lines left out."""
    old = burst.old_text.splitlines()
    new = burst.new_text.splitlines()
    same_head = 0
    while same_head < min(len(old), len(new)) and old[same_head] == new[same_head]:
        same_head += 1
    same_tail = 0
    limit = min(len(old), len(new)) - same_head
    while same_tail < limit and old[-1 - same_tail] == new[-1 - same_tail]:
        same_tail += 1
    removed = old[same_head : len(old) - same_tail]
    added = new[same_head : len(new) - same_tail]
    ago = max(0.0, now - burst.updated)
    lines = [f"@@ line {burst.first + same_head + 1} ({ago:.0f} s ago) @@"]
    lines += _capped("-", removed) + _capped("+", added)
    return "\n".join(lines) + "\n"


def _capped(sign: str, lines: Iterable[str]) -> list[str]:
    shown = [sign + line for line in lines]
    if len(shown) > MAX_HUNK_LINES:
        return [*shown[:MAX_HUNK_LINES], f"{sign}… ({len(shown) - MAX_HUNK_LINES} more lines)"]
    return shown
