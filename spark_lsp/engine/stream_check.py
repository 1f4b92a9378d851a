"""Deciding, delta by delta, whether reading more of a reply could still change the suggestion.

:func:`~spark_lsp.engine.postprocess.is_complete` judges a whole partial reply. Calling it on
the joined text after every delta is quadratic in the reply: thousands of small deltas of one
long line cost tens of seconds of CPU on the event loop. This check keeps the text across
deltas and judges it after every delta while the reply is small (every real completion: the
early stop is as prompt as ever), and beyond that only when the reply has grown by a fixed
fraction since the last judgement. The judgements then cost a geometric series — a constant
times the reply's length — and a stop comes at most that fraction late. Stopping late never
changes the suggestion: the full filters run on whatever was read.
"""

from __future__ import annotations

from spark_lsp.engine.postprocess import CompletionContext, is_complete

#: Replies up to this many characters are judged after every delta.
EAGER_CHARS = 4096
#: Beyond it, judge again once the reply grew by 1/GROWTH of its length at the last judgement.
GROWTH = 8


class StreamCheck:
    """The reply so far, and whether it is complete (see the module docstring)."""

    def __init__(self, ctx: CompletionContext) -> None:
        self._ctx = ctx
        self._parts: list[str] = []
        self._size = 0
        self._judged_at = 0

    @property
    def text(self) -> str:
        """Everything fed so far (joined once per call, kept joined)."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @property
    def empty(self) -> bool:
        """No delta fed yet."""
        return not self._parts

    def feed(self, delta: str) -> bool:
        """Add a delta; True when reading more could only add text the filters would cut."""
        self._parts.append(delta)
        self._size += len(delta)
        if self._size > EAGER_CHARS and self._size < self._judged_at + self._judged_at // GROWTH:
            return False
        self._judged_at = self._size
        return is_complete(self.text, self._ctx)
