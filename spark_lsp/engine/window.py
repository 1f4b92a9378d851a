"""Choose the text around the cursor that fits a token budget, in O(log n).

A completion prompt is "the code before the cursor" + "the code after it". Which lines to take
is decided with the document's prefix sums (a tree descent per side), never by walking lines,
so choosing a 2k-token window in a 300k-token file costs the same as in a small one. Only whole
lines are taken at the far edges, so a window is stable while the user types inside it (good for
the server's prefix cache); the cursor line is split exactly at the cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.tokens import TokenCounter

__all__ = ["Window", "select_window"]

#: Passes that make the counts around the cursor exact while a document still holds
#: estimates (right after the tokenizer finished loading): estimates over-count, so each pass
#: can only widen the range a window may cover; two or three settle it.
_EXACT_PASSES: Final[int] = 4

#: First guess of characters per token when trimming a huge cursor line. Code averages ~4; a
#: generous guess means the first probe usually already exceeds the cap, so the search that
#: follows only ever counts text a few times the size of what it keeps.
_PROBE_CHARS_PER_TOKEN: Final[int] = 8

#: Trimming stops refining once within 1/64 of the kept length: at most ~1.5% of the budget is
#: left unused on a pathological line, in exchange for a handful of counts.
_TRIM_PRECISION: Final[int] = 64


@dataclass(frozen=True, slots=True)
class Window:
    """The text around the cursor: ``prefix`` ends at the cursor, ``suffix`` starts there.

    ``first_line``/``end_line`` are the half-open range of lines the window touches.
    ``truncated_*`` say whether text was left out on that side (lines or part of the cursor line).
    """

    prefix: str
    suffix: str
    first_line: int
    end_line: int
    prefix_tokens: int
    suffix_tokens: int
    truncated_above: bool
    truncated_below: bool

    @property
    def tokens(self) -> int:
        """Tokens of prefix and suffix together, as the budget counts them."""
        return self.prefix_tokens + self.suffix_tokens


@dataclass(frozen=True, slots=True)
class _Piece:
    """Part of the cursor line kept in the window, with its exact count."""

    text: str
    tokens: int
    cut: bool


def select_window(
    doc: DocumentIndex,
    line: int,
    character: int,
    budget: int,
    *,
    prefix_share: float = 0.75,
) -> Window:
    """Select at most ``budget`` tokens around ``(line, character)`` (an LSP position, clamped).

    The prefix gets ~``prefix_share`` of the budget, the suffix the rest; what one side cannot
    use (start or end of file) goes to the other. Lines are counted as the index counts them,
    the two halves of the cursor line with ``counter.count``; their sum never exceeds ``budget``.
    """
    budget = max(0, budget)
    _exact_around(doc, line, budget)
    prefix_budget = int(budget * min(max(prefix_share, 0.0), 1.0))
    cursor_line, column = doc.clamp_position(line, character)
    raw = doc.raw_line(cursor_line)
    head, tail = _fit_cursor_line(doc.counter, raw[:column], raw[column:], budget, prefix_budget)
    first_line, end_line = cursor_line, cursor_line + 1
    if not (head.cut or tail.cut):
        first_line, end_line = _extend(
            doc,
            cursor_line,
            budget - head.tokens - tail.tokens,
            prefix_budget - head.tokens,
            budget - prefix_budget - tail.tokens,
        )
    return Window(
        prefix=doc.text_of_lines(first_line, cursor_line) + head.text,
        suffix=tail.text + doc.text_of_lines(cursor_line + 1, end_line),
        first_line=first_line,
        end_line=end_line,
        prefix_tokens=head.tokens + doc.tokens_in_lines(first_line, cursor_line),
        suffix_tokens=tail.tokens + doc.tokens_in_lines(cursor_line + 1, end_line),
        truncated_above=head.cut or first_line > 0,
        truncated_below=tail.cut or _text_after(doc, end_line),
    )


def _exact_around(doc: DocumentIndex, line: int, budget: int) -> None:
    """Exact counts for every line a ``budget``-token window at ``line`` may cover, whatever
    the split (the rest of the document is recounted in the background by the context stage):
    the window a request chooses is then the one it will keep choosing, and the cost is
    proportional to the window, not to the file."""
    if doc.counts_exact:
        return
    line = min(max(0, line), doc.line_count - 1)
    for _ in range(_EXACT_PASSES):
        first = doc.lines_within(max(0, doc.tokens_before(line) - budget - 1))
        end = doc.lines_within(doc.tokens_before(line + 1) + budget) + 1
        if not doc.refresh_lines(first, end):
            return


def _text_after(doc: DocumentIndex, end_line: int) -> bool:
    """Whether any character follows line ``end_line - 1`` (an empty last line holds none)."""
    remaining = doc.line_count - end_line
    return remaining > 1 or (remaining == 1 and doc.raw_line(end_line) != "")


def _fit_cursor_line(
    counter: TokenCounter, head: str, tail: str, budget: int, prefix_budget: int
) -> tuple[_Piece, _Piece]:
    """Keep both halves of the cursor line whole if they fit, else trim their far ends.

    A half within its own share stays whole and the other half gets the rest of the budget;
    if both overflow their shares, each is trimmed to its share (the suffix also gets what the
    trimmed prefix left unused).
    """
    kept_head = _keep(counter, head, budget, from_end=True)
    kept_tail = _keep(counter, tail, budget, from_end=False)
    if not kept_head.cut and not kept_tail.cut and kept_head.tokens + kept_tail.tokens <= budget:
        return kept_head, kept_tail
    if not kept_head.cut and kept_head.tokens <= prefix_budget:
        return kept_head, _keep(counter, tail, budget - kept_head.tokens, from_end=False)
    if not kept_tail.cut and kept_tail.tokens <= budget - prefix_budget:
        return _keep(counter, head, budget - kept_tail.tokens, from_end=True), kept_tail
    kept_head = _keep(counter, head, prefix_budget, from_end=True)
    return kept_head, _keep(counter, tail, budget - kept_head.tokens, from_end=False)


def _keep(counter: TokenCounter, text: str, cap: int, *, from_end: bool) -> _Piece:
    """The longest start (or end) of ``text`` whose exact count is ``<= cap``.

    Counts grow with length, so probe lengths double from a guess until one overflows, then
    binary-search between the last fit and the overflow. Each count touches only text near the
    kept size, so a 1 MB line costs a few small counts, not several full ones. Counts are not
    strictly monotonic in length, but the returned piece's count is always the one measured.
    """
    size = len(text)
    if size == 0:
        return _Piece("", 0, False)
    if cap <= 0:
        return _Piece("", 0, True)

    def take(n: int) -> str:
        return text[size - n :] if from_end else text[:n]

    fit, fit_tokens = 0, 0
    probe = min(size, max(64, cap * _PROBE_CHARS_PER_TOKEN))
    while True:
        tokens = counter.count(take(probe))
        if tokens > cap:
            break
        if probe == size:
            return _Piece(text, tokens, False)
        fit, fit_tokens = probe, tokens
        probe = min(size, probe * 2)
    over = probe
    while over - fit > max(1, fit // _TRIM_PRECISION):
        middle = (fit + over) // 2
        tokens = counter.count(take(middle))
        if tokens <= cap:
            fit, fit_tokens = middle, tokens
        else:
            over = middle
    return _Piece(take(fit), fit_tokens, True)


def _extend(
    doc: DocumentIndex, cursor_line: int, spare: int, prefix_spare: int, suffix_spare: int
) -> tuple[int, int]:
    """Whole lines above and below the cursor line: ``(first_line, end_line)``.

    ``spare`` tokens remain after the cursor line; ``prefix_spare``/``suffix_spare`` are what is
    left of each side's share (negative when that side's half of the cursor line already took
    some of the other's). Above gets its share first, below its share plus what above could not
    use, then above gets whatever below left over.
    """
    if prefix_spare < 0:
        above_goal, below_goal = 0, spare
    elif suffix_spare < 0:
        above_goal, below_goal = spare, 0
    else:
        above_goal, below_goal = prefix_spare, suffix_spare
    before_cursor = doc.tokens_before(cursor_line)
    after_cursor = doc.tokens_before(cursor_line + 1)
    first_line = _first_line_within(doc, before_cursor, above_goal)
    unused_above = above_goal - (before_cursor - doc.tokens_before(first_line))
    end_line = doc.lines_within(after_cursor + below_goal + unused_above)
    used_below = doc.tokens_before(end_line) - after_cursor
    return _first_line_within(doc, before_cursor, spare - used_below), end_line


def _first_line_within(doc: DocumentIndex, before_cursor: int, goal: int) -> int:
    """Smallest line ``a`` with ``tokens_in_lines(a, cursor_line) <= goal``."""
    lowest_prefix = before_cursor - goal
    if lowest_prefix <= 0:
        return 0
    return doc.lines_within(lowest_prefix - 1) + 1
