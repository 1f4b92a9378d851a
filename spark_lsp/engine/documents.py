"""One open text document, indexed for cheap edits and O(log n) token-window queries.

Every keystroke arrives as an LSP ``didChange``, and every completion needs "the N tokens around
the cursor". Re-tokenizing a 128k-token file per keystroke costs tens of milliseconds, so the
document is kept as lines with per-line token counts, and counts are only recomputed for lines an
edit touches.

Layout: lines live in blocks of ~128 (``_Block``); three Fenwick trees over the blocks hold each
block's line, character and token totals. A keystroke edits one block in place and updates the
three trees in O(log blocks); inserting or deleting lines only splices that block's short lists.
Only when a block overflows or runs nearly empty are blocks re-chunked and the trees rebuilt,
which is O(blocks), i.e. O(n / 128), and rare. Prefix sums and "how many leading lines fit in T
tokens" are a tree descent plus a scan of one block. A flat Fenwick tree over lines was rejected:
every inserted newline would force O(n) rebuilds in pure Python (~1 ms per tree at 12k lines).

Lines are counted separately, so the sum is typically a little above one encode of the whole
text (runs of blank lines merge into one token across lines): +2.6% on the benchmark's file.
That errs on the safe side of the 128k cap.

Positions follow LSP: ``(line, character)`` with ``character`` in the negotiated encoding
(UTF-16 code units by default); ``\\n``, ``\\r\\n`` and a lone ``\\r`` all end a line. Clients do
send out-of-range positions, so positions are clamped, never rejected.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final, Literal, TypeVar, get_args

from spark_lsp.engine.long_lines import LongLineCounter
from spark_lsp.engine.tokens import TokenCounter

__all__ = ["DocumentIndex", "PositionEncoding", "Range", "split_lines"]

PositionEncoding = Literal["utf-8", "utf-16", "utf-32"]
#: ``(start_line, start_character, end_line, end_character)`` in the document's encoding.
Range = tuple[int, int, int, int]

#: Target lines per block. Measured with benchmarks/bench_context.py on a 128k-token file: 64,
#: 128 and 256 give the same keystroke cost (the single-line re-tokenization dominates); 128 keeps
#: re-chunking O(n/128) and in-block scans (slices summed in C) around a microsecond.
_BLOCK: Final[int] = 128
_MAX_BLOCK: Final[int] = 2 * _BLOCK
_MIN_BLOCK: Final[int] = _BLOCK // 4

_LINE_BREAK: Final[re.Pattern[str]] = re.compile(r"(\r\n|\r|\n)")
#: Chunk sizes for finding where a full-text change differs: big memcmp steps, then finer ones.
_DIFF_CHUNKS: Final[tuple[int, ...]] = (4096, 64, 1)
_ASTRAL: Final[re.Pattern[str]] = re.compile("[\U00010000-\U0010ffff]")
_ENCODINGS: Final[frozenset[str]] = frozenset(get_args(PositionEncoding))

_T = TypeVar("_T")


def split_lines(text: str) -> list[str]:
    """Split ``text`` into lines that keep their terminators (LSP line breaks only).

    The last element is the unterminated remainder, possibly ``""``: ``"a\\n"`` has two lines,
    exactly as an editor shows it. ``str.splitlines`` is not used because it also breaks on form
    feeds, ``\\x1c`` and U+2028, which LSP positions do not treat as line breaks.
    """
    parts = _LINE_BREAK.split(text)
    lines = list(map(operator.add, parts[0:-1:2], parts[1::2]))
    lines.append(parts[-1])
    return lines


def _content(raw: str) -> str:
    """A line without its terminator (content never contains ``\\r`` or ``\\n``)."""
    return raw.rstrip("\r\n")


# -- position encodings ---------------------------------------------------------------------------


def _units_to_index(text: str, units: int, encoding: PositionEncoding) -> int:
    """Map an encoding offset within one line to a ``str`` index, clamped and snapped.

    An offset inside a multi-unit character (half a surrogate pair, the middle of a UTF-8
    sequence) snaps back to the character's start, so an edit can never split a character.
    """
    if units <= 0:
        return 0
    if encoding == "utf-32" or text.isascii():
        return min(units, len(text))
    if encoding == "utf-16":
        return _utf16_units_to_index(text, units)
    return _utf8_units_to_index(text, units)


def _utf16_units_to_index(text: str, units: int) -> int:
    """Only astral characters take two UTF-16 units; walk just those (regex-found, C speed)."""
    extra = 0
    for match in _ASTRAL.finditer(text):
        start_units = match.start() + extra
        if units <= start_units:
            break
        if units == start_units + 1:
            return match.start()
        extra += 1
    return min(units - extra, len(text))


def _utf8_units_to_index(text: str, units: int) -> int:
    """Back off continuation bytes to a character start, then decode to count characters."""
    data = text.encode("utf-8", "surrogatepass")
    if units >= len(data):
        return len(text)
    while units > 0 and data[units] & 0xC0 == 0x80:
        units -= 1
    return len(data[:units].decode("utf-8", "surrogatepass"))


def _index_to_units(text: str, index: int, encoding: PositionEncoding) -> int:
    """Map a ``str`` index within one line to an offset in the given encoding."""
    head = text[: max(0, index)]
    if encoding == "utf-32" or head.isascii():
        return len(head)
    if encoding == "utf-16":
        return len(head) + len(_ASTRAL.findall(head))
    return len(head.encode("utf-8", "surrogatepass"))


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix, compared in shrinking chunks so the work is done in C."""
    limit = min(len(a), len(b))
    i = 0
    for size in _DIFF_CHUNKS:
        while i + size <= limit and a[i : i + size] == b[i : i + size]:
            i += size
    return i


def _common_suffix(a: str, b: str, limit: int) -> int:
    """Length of the common suffix, at most ``limit`` (so it cannot overlap the prefix)."""
    end_a, end_b = len(a), len(b)
    i = 0
    for size in _DIFF_CHUNKS:
        while (
            i + size <= limit and a[end_a - i - size : end_a - i] == b[end_b - i - size : end_b - i]
        ):
            i += size
    return i


# -- prefix sums ----------------------------------------------------------------------------------


class _Fenwick:
    """Fenwick (binary indexed) tree over non-negative integers: point add, prefix sum, search."""

    __slots__ = ("_tree",)

    def __init__(self, values: Iterable[int]) -> None:
        tree = [0, *values]
        size = len(tree) - 1
        for i in range(1, size + 1):
            parent = i + (i & -i)
            if parent <= size:
                tree[parent] += tree[i]
        self._tree = tree

    def add(self, index: int, delta: int) -> None:
        """Add ``delta`` to value ``index``."""
        tree = self._tree
        size = len(tree) - 1
        i = index + 1
        while i <= size:
            tree[i] += delta
            i += i & -i

    def prefix(self, count: int) -> int:
        """Sum of the first ``count`` values."""
        tree = self._tree
        total = 0
        i = min(count, len(tree) - 1)
        while i > 0:
            total += tree[i]
            i &= i - 1
        return total

    def total(self) -> int:
        """Sum of all values."""
        return self.prefix(len(self._tree) - 1)

    def search(self, target: int) -> tuple[int, int]:
        """Return ``(k, target - prefix(k))`` for the largest ``k`` with ``prefix(k) <= target``.

        Requires ``target >= 0``; a descent from the highest power of two, O(log n).
        """
        tree = self._tree
        size = len(tree) - 1
        pos = 0
        remaining = target
        step = 1 << (size.bit_length() - 1) if size else 0
        while step:
            nxt = pos + step
            if nxt <= size and tree[nxt] <= remaining:
                pos = nxt
                remaining -= tree[nxt]
            step >>= 1
        return pos, remaining


class _Block:
    """A run of consecutive lines with their token counts and cached totals."""

    __slots__ = ("chars", "counts", "exact", "lines", "tokens")

    def __init__(self, lines: list[str], counts: list[int], exact: bool) -> None:
        self.lines = lines
        self.counts = counts
        self.chars = sum(map(len, lines))
        self.tokens = sum(counts)
        #: Whether every count is exact (estimates remain until ``refresh_counts``).
        self.exact = exact

    def raw_lines(self) -> list[str]:
        """The lines with terminators (the live list; callers must not mutate it)."""
        return self.lines

    def char_lengths(self) -> list[int]:
        """Per-line lengths in characters, terminators included."""
        return list(map(len, self.lines))

    def token_counts(self) -> list[int]:
        """Per-line token counts (the live list; callers must not mutate it)."""
        return self.counts


def _chunk(lines: list[str], counts: list[int], exact: bool) -> list[_Block]:
    """Cut lines into evenly sized blocks of at most ``_MAX_BLOCK`` lines."""
    if len(lines) <= _MAX_BLOCK:
        return [_Block(lines, counts, exact)]
    n_blocks = -(-len(lines) // _BLOCK)
    bounds = [len(lines) * i // n_blocks for i in range(n_blocks + 1)]
    return [_Block(lines[lo:hi], counts[lo:hi], exact) for lo, hi in itertools.pairwise(bounds)]


# -- the document ---------------------------------------------------------------------------------


class DocumentIndex:
    """One open document: lines, per-line token counts, position conversions.

    All methods run on the caller's thread; the index is not shared across threads.
    """

    def __init__(
        self,
        text: str,
        counter: TokenCounter,
        *,
        version: int = 0,
        position_encoding: str = "utf-16",
    ) -> None:
        if position_encoding not in _ENCODINGS:
            raise ValueError(f"unsupported position encoding: {position_encoding!r}")
        self._counter = counter
        self._lines = LongLineCounter(counter.count_line)
        self._version = version
        self._encoding: PositionEncoding = position_encoding  # type: ignore[assignment]
        self._blocks: list[_Block] = []
        self._line_tree = _Fenwick(())
        self._char_tree = _Fenwick(())
        self._token_tree = _Fenwick(())
        self._line_count = 0
        self._text: str | None = None
        self._maybe_stale = False
        self._load(text)

    # -- basic accessors --------------------------------------------------------------------------

    @property
    def counter(self) -> TokenCounter:
        """The counter this index counts with (the window counts cursor-line halves with it)."""
        return self._counter

    @property
    def version(self) -> int:
        """The LSP document version of the current text."""
        return self._version

    @property
    def position_encoding(self) -> PositionEncoding:
        """The encoding ``character`` offsets are measured in."""
        return self._encoding

    @property
    def text(self) -> str:
        """The whole text; joined once after an edit and cached until the next one."""
        if self._text is None:
            self._text = "".join(itertools.chain.from_iterable(b.lines for b in self._blocks))
        return self._text

    @property
    def line_count(self) -> int:
        """Number of lines; at least 1, and a trailing line break starts an empty last line."""
        return self._line_count

    @property
    def char_count(self) -> int:
        """Length of ``text`` in Python characters, without building it."""
        return self._char_tree.total()

    @property
    def total_tokens(self) -> int:
        """Sum of all per-line token counts."""
        return self._token_tree.total()

    @property
    def counts_exact(self) -> bool:
        """True when every per-line count is exact (no estimate left to refresh)."""
        return self._counter.exact and not self._maybe_stale

    def line(self, index: int) -> str:
        """Line ``index`` without its terminator; IndexError when out of range."""
        return _content(self.raw_line(index))

    def raw_line(self, index: int) -> str:
        """Line ``index`` with its terminator; IndexError when out of range."""
        if not 0 <= index < self._line_count:
            raise IndexError(f"line {index} out of range (0..{self._line_count - 1})")
        block, offset = self._locate(index)
        return self._blocks[block].lines[offset]

    def text_around(
        self, line: int, column: int, before_chars: int, after_chars: int
    ) -> tuple[str, str]:
        """Up to ``before_chars`` characters before ``(line, column)`` and ``after_chars`` from
        it (``column`` indexes the line's string); read line by line, never the whole text."""
        raw = self.raw_line(line)
        before, first, size = [raw[:column]], line, column
        while size < before_chars and first > 0:
            first -= 1
            before.append(self.raw_line(first))
            size += len(before[-1])
        after, last = [raw[column:]], line
        size = len(after[0])
        while size < after_chars and last + 1 < self._line_count:
            last += 1
            after.append(self.raw_line(last))
            size += len(after[-1])
        head = "".join(reversed(before))
        return head[max(0, len(head) - before_chars) :], "".join(after)[:after_chars]

    def lines(self, start: int = 0, stop: int | None = None) -> list[str]:
        """Lines ``[start, stop)`` with their terminators (clamped)."""
        return list(self._iter_slice(start, stop, _Block.raw_lines))

    def token_counts(self, start: int = 0, stop: int | None = None) -> list[int]:
        """Per-line token counts for lines ``[start, stop)`` (clamped)."""
        return list(self._iter_slice(start, stop, _Block.token_counts))

    def text_of_lines(self, start: int, stop: int) -> str:
        """The text of lines ``[start, stop)`` with terminators; O(lines returned)."""
        return "".join(self._iter_slice(start, stop, _Block.raw_lines))

    # -- token sums -------------------------------------------------------------------------------

    def tokens_before(self, line: int) -> int:
        """Tokens in lines ``[0, line)``, clamped; O(log n)."""
        return self._prefix(self._token_tree, _Block.token_counts, line)

    def tokens_in_lines(self, start: int, stop: int) -> int:
        """Tokens in lines ``[start, stop)``, clamped; O(log n)."""
        if stop <= start:
            return 0
        return self.tokens_before(stop) - self.tokens_before(start)

    def lines_within(self, tokens: int) -> int:
        """The largest ``k`` with ``tokens_before(k) <= tokens``; O(log n).

        This is the primitive a window needs: "how far can I reach with this many tokens".
        """
        return self._search(self._token_tree, _Block.token_counts, tokens)

    def refresh_counts(self, max_lines: int | None = None) -> bool:
        """Replace estimated counts with exact ones, at most ``max_lines`` lines per call.

        Called in slices (the window selector does one slice per request) so the switch from
        estimates to exact counts never stalls the event loop for a whole file at once. Returns
        True when every count is exact. Mixed counts are safe meanwhile: estimates over-count.
        """
        if not self._counter.exact:
            return False
        if not self._maybe_stale:
            return True
        remaining = max_lines
        for index, block in enumerate(self._blocks):
            if block.exact:
                continue
            if remaining is not None and remaining <= 0:
                return False
            self._recount_block(index, block)
            if remaining is not None:
                remaining -= len(block.lines)
        self._maybe_stale = False
        return True

    def refresh_lines(self, start: int, stop: int) -> bool:
        """Make the counts of lines ``[start, stop)`` exact (whole blocks); True if any changed.

        What a window needs of a document still holding estimates: its sums over the lines it
        may cover, exact now, without recounting the rest of the file on the request.
        """
        if not self._counter.exact or not self._maybe_stale:
            return False
        start, stop = max(0, start), min(stop, self._line_count)
        if start >= stop:
            return False
        first, _ = self._locate(start)
        last, _ = self._locate(stop - 1)
        changed = False
        for index in range(first, last + 1):
            block = self._blocks[index]
            if not block.exact:
                self._recount_block(index, block)
                changed = True
        return changed

    def _recount_block(self, index: int, block: _Block) -> None:
        """Recount one block exactly and fix its tree entry."""
        counts = list(map(self._lines.count, block.lines))
        delta = sum(counts) - block.tokens
        block.counts = counts
        block.tokens += delta
        block.exact = True
        self._token_tree.add(index, delta)

    # -- positions --------------------------------------------------------------------------------

    def clamp_position(self, line: int, character: int) -> tuple[int, int]:
        """Resolve an LSP position to ``(line, str column)``, clamped into the document.

        A line past the end means the end of the document; a character past the line's end means
        the line's end (before its terminator), so no position lands inside a CRLF.
        """
        if line < 0:
            return 0, 0
        if line >= self._line_count:
            last = self._line_count - 1
            return last, len(self.line(last))
        return line, _units_to_index(self.line(line), character, self._encoding)

    def to_column(self, line: int, character: int) -> int:
        """Encoding units on ``line`` → Python index into the line (clamped, snapped)."""
        line = min(max(line, 0), self._line_count - 1)
        return _units_to_index(self.line(line), character, self._encoding)

    def from_column(self, line: int, column: int) -> int:
        """Python index into ``line`` → encoding units (clamped to the line's content)."""
        line = min(max(line, 0), self._line_count - 1)
        content = self.line(line)
        return _index_to_units(content, min(column, len(content)), self._encoding)

    def offset_at(self, line: int, character: int) -> int:
        """Index into ``text`` of an LSP position (clamped)."""
        line, column = self.clamp_position(line, character)
        return self._chars_before(line) + column

    def position_at(self, offset: int) -> tuple[int, int]:
        """LSP position of an index into ``text`` (clamped; mid-CRLF snaps before the CR)."""
        offset = min(max(offset, 0), self.char_count)
        line = self._line_at_offset(offset)
        content = self.line(line)
        column = min(offset - self._chars_before(line), len(content))
        return line, _index_to_units(content, column, self._encoding)

    def _line_at_offset(self, offset: int) -> int:
        """The line containing ``text[offset]`` (the last line for ``offset == len(text)``)."""
        lines_before = self._search(self._char_tree, _Block.char_lengths, offset)
        return min(lines_before, self._line_count - 1)

    def _chars_before(self, line: int) -> int:
        """Length of lines ``[0, line)`` in characters; O(log n)."""
        return self._prefix(self._char_tree, _Block.char_lengths, line)

    # -- edits ------------------------------------------------------------------------------------

    def apply_change(self, range: Range | None, new_text: str, version: int | None = None) -> None:
        """Apply one LSP content change; ``range=None`` replaces the whole text.

        Cost is O(lines touched × log n) plus re-tokenizing the touched lines; a whole-text change
        (clients with full sync) is diffed line-wise so it only recounts the lines that differ.
        """
        if version is not None:
            self._version = version
        if range is None:
            self._replace_all(new_text)
            return
        start = self.clamp_position(range[0], range[1])
        end = self.clamp_position(range[2], range[3])
        if end < start:
            start, end = end, start
        self._replace_range(start, end, new_text)

    def _replace_range(self, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """Rewrite lines ``start[0]..end[0]`` as one re-split segment."""
        first_line, last_line = start[0], end[0]
        first = self.raw_line(first_line)
        last = first if last_line == first_line else self.raw_line(last_line)
        segment = first[: start[1]] + text + last[end[1] :]
        if first_line > 0 and segment.startswith("\n"):
            previous = self.raw_line(first_line - 1)
            if previous.endswith("\r"):  # a lone CR now followed by LF: the two become one CRLF
                segment = previous + segment
                first_line -= 1
        if first_line == start[0] == last_line and "\n" not in text and "\r" not in text:
            # Typing within one line: it stays one line, so no re-split (C-speed, but O(line)),
            # and a long line recounts only the chunk the edit touched.
            new_lines = [segment]
            self._lines.edited(first, start[1], end[1], text, segment)
        else:
            new_lines = split_lines(segment)
            if last_line < self._line_count - 1:
                new_lines.pop()  # the segment ends with last_line's terminator: remainder is ""
        self._splice(first_line, last_line + 1, new_lines)

    def _replace_all(self, text: str) -> None:
        """Whole-text change (full-sync clients): re-split only the lines that differ.

        The common prefix and suffix are found by comparing chunks in C, then widened to whole
        lines, and the middle goes through the ordinary range edit (CRLF joins included). A
        keystroke sent as a full text thus costs O(n) memcmp plus one line re-tokenized.
        """
        old = self.text
        if old == text:
            return
        head = _common_prefix(old, text)
        tail = _common_suffix(old, text, min(len(old), len(text)) - head)
        first_line = self._line_at_offset(head)
        last_line = self._line_at_offset(len(old) - tail)
        if last_line + 1 < self._line_count:
            end = (last_line + 1, 0)
        else:
            end = (last_line, len(self.line(last_line)))
        start = self._chars_before(first_line)
        stop = self._chars_before(end[0]) + end[1]
        self._replace_range((first_line, 0), end, text[start : len(text) - (len(old) - stop)])
        self._text = text

    def _splice(self, start: int, stop: int, new_lines: list[str]) -> None:
        """Replace lines ``[start, stop)`` (non-empty) with ``new_lines`` (non-empty)."""
        exact = self._counter.exact  # read before counting: a mid-way switch stays conservative
        counts = list(map(self._lines.count, new_lines))
        self._maybe_stale |= not exact
        self._text = None
        first, first_offset = self._locate(start)
        last, last_offset = self._locate(stop - 1)
        if first == last and self._splice_in_block(
            first, first_offset, last_offset + 1, new_lines, counts, exact
        ):
            return
        self._splice_blocks(first, first_offset, last, last_offset + 1, new_lines, counts, exact)

    def _splice_in_block(
        self, index: int, start: int, stop: int, lines: list[str], counts: list[int], exact: bool
    ) -> bool:
        """Fast path: edit one block in place and update the trees; False if it would misfit."""
        block = self._blocks[index]
        size = len(block.lines) - (stop - start) + len(lines)
        if size > _MAX_BLOCK or (size < _MIN_BLOCK and len(self._blocks) > 1):
            return False
        removed_chars = sum(map(len, block.lines[start:stop]))
        removed_tokens = sum(block.counts[start:stop])
        block.lines[start:stop] = lines
        block.counts[start:stop] = counts
        line_delta = len(lines) - (stop - start)
        char_delta = sum(map(len, lines)) - removed_chars
        token_delta = sum(counts) - removed_tokens
        block.chars += char_delta
        block.tokens += token_delta
        block.exact = block.exact and exact
        self._line_tree.add(index, line_delta)
        self._char_tree.add(index, char_delta)
        self._token_tree.add(index, token_delta)
        self._line_count += line_delta
        return True

    def _splice_blocks(
        self,
        first: int,
        start: int,
        last: int,
        stop: int,
        lines: list[str],
        counts: list[int],
        exact: bool,
    ) -> None:
        """General path: merge blocks ``first..last`` (+ a neighbour if small) and re-chunk."""
        merged_lines: list[str] = []
        merged_counts: list[int] = []
        for block in self._blocks[first : last + 1]:
            merged_lines.extend(block.lines)
            merged_counts.extend(block.counts)
            exact = exact and block.exact
        stop += len(merged_lines) - len(self._blocks[last].lines)
        merged_lines[start:stop] = lines
        merged_counts[start:stop] = counts
        if len(merged_lines) < _MIN_BLOCK and last - first + 1 < len(self._blocks):
            neighbour = last + 1 if last + 1 < len(self._blocks) else first - 1
            other = self._blocks[neighbour]
            exact = exact and other.exact
            if neighbour > last:
                merged_lines += other.lines
                merged_counts += other.counts
                last = neighbour
            else:
                merged_lines = other.lines + merged_lines
                merged_counts = other.counts + merged_counts
                first = neighbour
        self._blocks[first : last + 1] = _chunk(merged_lines, merged_counts, exact)
        self._rebuild_trees()

    def _load(self, text: str) -> None:
        """Build everything from scratch (construction)."""
        exact = self._counter.exact
        lines = split_lines(text)
        counts = list(map(self._lines.count, lines))
        self._blocks = _chunk(lines, counts, exact)
        self._maybe_stale = not exact
        self._rebuild_trees()
        self._text = text

    def _rebuild_trees(self) -> None:
        """Recompute the per-block trees: O(blocks), only after re-chunking."""
        blocks = self._blocks
        self._line_tree = _Fenwick(len(b.lines) for b in blocks)
        self._char_tree = _Fenwick(b.chars for b in blocks)
        self._token_tree = _Fenwick(b.tokens for b in blocks)
        self._line_count = sum(len(b.lines) for b in blocks)

    # -- tree helpers -----------------------------------------------------------------------------

    def _locate(self, line: int) -> tuple[int, int]:
        """``(block index, offset in block)`` of ``0 <= line < line_count``."""
        return self._line_tree.search(line)

    def _prefix(
        self, tree: _Fenwick, per_line: Callable[[_Block], Sequence[int]], line: int
    ) -> int:
        """Sum of a per-line measure over lines ``[0, line)``, clamped."""
        if line <= 0:
            return 0
        if line >= self._line_count:
            return tree.total()
        block, offset = self._locate(line)
        return tree.prefix(block) + sum(per_line(self._blocks[block])[:offset])

    def _search(
        self, tree: _Fenwick, per_line: Callable[[_Block], Sequence[int]], target: int
    ) -> int:
        """Largest ``k`` with (measure summed over lines ``[0, k)``) ``<= target``."""
        if target < 0:
            return 0
        block, remaining = tree.search(target)
        if block >= len(self._blocks):
            return self._line_count
        running = itertools.accumulate(per_line(self._blocks[block]))
        return self._line_tree.prefix(block) + bisect.bisect_right(list(running), remaining)

    def _iter_slice(
        self, start: int, stop: int | None, items: Callable[[_Block], Sequence[_T]]
    ) -> Iterator[_T]:
        """Yield a per-line item for lines ``[start, stop)`` across blocks (clamped)."""
        stop = self._line_count if stop is None else min(stop, self._line_count)
        start = max(start, 0)
        if start >= stop:
            return
        block, offset = self._locate(start)
        remaining = stop - start
        while remaining > 0:
            chunk = items(self._blocks[block])[offset : offset + remaining]
            yield from chunk
            remaining -= len(chunk)
            block += 1
            offset = 0
