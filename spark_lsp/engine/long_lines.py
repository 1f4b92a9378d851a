"""Token counts of very long lines, kept in chunks so a keystroke costs the edit, not the line.

Counting a line means encoding it: on a 1 MB minified line that is ~300 ms on the event loop
for every keystroke. A line longer than :data:`LONG_LINE` is counted as the sum of its chunks
(at most :data:`CHUNK` characters each, every chunk cached by content in the counter's LRU),
and the chunks of the last few long lines are remembered by the line object itself: an edit
inside one rewrites only the chunk it touches. A chunk seam can split what the tokenizer
would have kept whole, so the count may be a token per seam higher than the whole-line count
(~0.1%): an over-count, which is the safe side for a prompt cap. An edited line's seams
sit where the edits left them, so its count may differ from a fresh count of the same text by
as much.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: Lines longer than this are counted in chunks.
LONG_LINE = 8192
#: The size of a fresh chunk (an edited one may grow to twice this before it is split).
CHUNK = 4096
#: How many long lines keep their chunks (the ones being typed in).
REMEMBERED = 4


@dataclass(slots=True)
class _Chunked:
    line: str
    chunks: list[str]
    counts: list[int]


class LongLineCounter:
    """Counts lines with ``count_line``; long ones in remembered chunks."""

    def __init__(self, count_line: Callable[[str], int]) -> None:
        self._count_line = count_line
        self._remembered: list[_Chunked] = []

    def count(self, line: str) -> int:
        """The line's token count (chunked when long)."""
        if len(line) <= LONG_LINE:
            return self._count_line(line)
        found = self._find(line)
        if found is None:
            chunks = _split(line)
            found = self._remember(line, chunks, list(map(self._count_line, chunks)))
        return sum(found.counts)

    def edited(self, old: str, start: int, end: int, text: str, new: str) -> None:
        """Note that ``new`` is ``old`` with ``old[start:end]`` replaced by ``text``.

        When ``old``'s chunks are remembered, ``new``'s are derived by rewriting only the
        chunks the edit touches, so the next ``count(new)`` encodes just those.
        """
        found = self._find(old) if len(new) > LONG_LINE else None
        if found is None:
            return
        first, first_at = _chunk_at(found.chunks, start)
        last, last_at = _chunk_at(found.chunks, max(start, end - 1)) if end > start else (
            first,
            first_at,
        )
        middle = (
            found.chunks[first][: start - first_at]
            + text
            + found.chunks[last][end - last_at :]
        )
        pieces = [middle] if len(middle) <= 2 * CHUNK else _split(middle)
        pieces = [p for p in pieces if p]
        chunks = found.chunks[:first] + pieces + found.chunks[last + 1 :]
        counts = found.counts[:first] + list(map(self._count_line, pieces))
        counts += found.counts[last + 1 :]
        self._remember(new, chunks, counts)

    def _find(self, line: str) -> _Chunked | None:
        for entry in self._remembered:
            if entry.line is line or len(entry.line) == len(line) and entry.line == line:
                return entry
        return None

    def _remember(self, line: str, chunks: list[str], counts: list[int]) -> _Chunked:
        entry = _Chunked(line, chunks, counts)
        self._remembered = [entry, *self._remembered[: REMEMBERED - 1]]
        return entry


def _split(text: str) -> list[str]:
    return [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)]


def _chunk_at(chunks: list[str], position: int) -> tuple[int, int]:
    """``(index, start offset)`` of the chunk holding ``position`` (the last one past the end)."""
    offset = 0
    for index, chunk in enumerate(chunks):
        if position < offset + len(chunk) or index == len(chunks) - 1:
            return index, offset
        offset += len(chunk)
    return 0, 0
