"""DocumentIndex: incremental edits equal a fresh index and a plain-string reference model."""

from __future__ import annotations

import itertools
import statistics
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spark_lsp.engine.bpe import BytePairCounter
from spark_lsp.engine.documents import DocumentIndex, Range, split_lines
from spark_lsp.engine.tokens import TokenCounter
from tests.counter import loaded_counter

ENCODINGS = ("utf-16", "utf-8", "utf-32")


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    shared = loaded_counter()
    assert shared.wait_ready(60), shared.error
    return shared


# -- reference model: plain strings, character by character ----------------------------------


def ref_lines(text: str) -> list[str]:
    """Split on \\r\\n, \\r, \\n keeping terminators; the remainder is always the last line."""
    lines: list[str] = []
    current = ""
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\r" and text[i + 1 : i + 2] == "\n":
            lines.append(current + "\r\n")
            current, i = "", i + 2
        elif char in "\r\n":
            lines.append(current + char)
            current, i = "", i + 1
        else:
            current, i = current + char, i + 1
    lines.append(current)
    return lines


def ref_width(char: str, encoding: str) -> int:
    if encoding == "utf-16":
        return 2 if ord(char) > 0xFFFF else 1
    if encoding == "utf-8":
        return len(char.encode("utf-8", "surrogatepass"))
    return 1


def ref_column(content: str, units: int, encoding: str) -> int:
    """Encoding units → index; inside a character snaps to its start; past the end clamps."""
    used = 0
    for index, char in enumerate(content):
        if used >= units:
            return index
        width = ref_width(char, encoding)
        if used + width > units:
            return index
        used += width
    return len(content)


def ref_offset(text: str, line: int, character: int, encoding: str) -> int:
    lines = ref_lines(text)
    if line < 0:
        return 0
    if line >= len(lines):
        return len(text)
    start = sum(map(len, lines[:line]))
    return start + ref_column(lines[line].rstrip("\r\n"), character, encoding)


def ref_apply(text: str, rng: Range | None, new_text: str, encoding: str) -> str:
    if rng is None:
        return new_text
    start = ref_offset(text, rng[0], rng[1], encoding)
    end = ref_offset(text, rng[2], rng[3], encoding)
    start, end = min(start, end), max(start, end)
    return text[:start] + new_text + text[end:]


# -- strategies ------------------------------------------------------------------------------

PIECES = ["a", "b", "z", " ", "    ", "\t", "é", "中", "😀", "🧑‍🚀", "\r", "\n", "\r\n", "(", "1"]
texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
rare_texts = st.lists(st.sampled_from([*PIECES, "\ud83d", "\ude00", "<|endoftext|>"]), max_size=8)
inserted = st.one_of(texts, rare_texts.map("".join))
lines_st = st.integers(min_value=-2, max_value=14)
chars_st = st.integers(min_value=-2, max_value=24)
ranges = st.tuples(lines_st, chars_st, lines_st, chars_st)
edits = st.tuples(st.one_of(st.none(), ranges, ranges, ranges, ranges), inserted)


def assert_consistent(doc: DocumentIndex, text: str, counter: TokenCounter) -> None:
    """The index equals the reference text and a freshly built index of it."""
    lines = ref_lines(text)
    counts = [counter.count_line(line) for line in lines]
    assert doc.text == text
    assert doc.lines() == lines
    assert doc.line_count == len(lines)
    assert doc.char_count == len(text)
    assert doc.token_counts() == counts
    assert doc.total_tokens == sum(counts)
    assert [doc.tokens_before(k) for k in range(len(lines) + 1)] == [
        0,
        *itertools.accumulate(counts),
    ]
    fresh = DocumentIndex(text, counter, position_encoding=doc.position_encoding)
    assert fresh.lines() == lines
    assert fresh.token_counts() == counts
    assert fresh.total_tokens == doc.total_tokens


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ENCODINGS), texts, st.lists(edits, min_size=1, max_size=8))
def test_random_edits_match_reference(
    counter: TokenCounter, encoding: str, initial: str, changes: list[tuple[Range | None, str]]
) -> None:
    doc = DocumentIndex(initial, counter, position_encoding=encoding)
    text = initial
    for version, (rng, new_text) in enumerate(changes, start=1):
        doc.apply_change(rng, new_text, version=version)
        text = ref_apply(text, rng, new_text, encoding)
        assert doc.text == text, (rng, new_text)
        assert doc.version == version
    assert_consistent(doc, text, counter)


BIG_BASE = "".join(f"line {i}\n" if i % 7 else f"line {i}\r\n" for i in range(1500))
big_lines = st.integers(min_value=-5, max_value=1600)
big_ranges = st.tuples(big_lines, st.integers(0, 12), big_lines, st.integers(0, 12))
big_inserts = st.one_of(
    texts,
    st.integers(1, 700).map(lambda n: "new\n" * n),
    st.integers(1, 300).map(lambda n: "x\r" * n + "\n"),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(big_ranges, big_inserts), min_size=1, max_size=6))
def test_edits_across_blocks_match_reference(
    counter: TokenCounter, changes: list[tuple[Range, str]]
) -> None:
    """Large documents span many blocks: multi-block deletes, splits and merges stay exact."""
    doc = DocumentIndex(BIG_BASE, counter)
    text = BIG_BASE
    for rng, new_text in changes:
        doc.apply_change(rng, new_text)
        text = ref_apply(text, rng, new_text, "utf-16")
    assert_consistent(doc, text, counter)
    sizes = [len(block.lines) for block in doc._blocks]
    assert all(0 < size <= 256 for size in sizes)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(ENCODINGS), texts, texts)
def test_full_replace_reuses_unchanged_lines(
    counter: TokenCounter, encoding: str, old: str, new: str
) -> None:
    doc = DocumentIndex(old, counter, position_encoding=encoding)
    doc.apply_change(None, new)
    assert_consistent(doc, new, counter)
    doc.apply_change(None, old + new + old)
    assert_consistent(doc, old + new + old, counter)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ENCODINGS), texts, lines_st, chars_st, st.integers(-3, 200))
def test_conversions_match_reference(
    counter: TokenCounter, encoding: str, text: str, line: int, character: int, offset: int
) -> None:
    doc = DocumentIndex(text, counter, position_encoding=encoding)
    expected_offset = ref_offset(text, line, character, encoding)
    assert doc.offset_at(line, character) == expected_offset
    position = doc.position_at(expected_offset)
    assert doc.offset_at(*position) == expected_offset
    # position_at then offset_at is the identity except inside a CRLF (snaps before the CR)
    clamped = min(max(offset, 0), len(text))
    back = doc.offset_at(*doc.position_at(offset))
    assert back == clamped or (text[back : back + 2] == "\r\n" and back == clamped - 1)
    for index in range(doc.line_count):
        content = doc.line(index)
        for column in range(len(content) + 1):
            assert doc.to_column(index, doc.from_column(index, column)) == column


def test_utf16_positions_count_surrogate_pairs(counter: TokenCounter) -> None:
    doc = DocumentIndex("a😀b\n😀\n", counter)
    assert doc.to_column(0, 1) == 1
    assert doc.to_column(0, 2) == 1  # inside the pair: snaps to the emoji's start
    assert doc.to_column(0, 3) == 2
    assert doc.to_column(0, 4) == 3
    assert doc.to_column(0, 99) == 3
    assert doc.from_column(0, 2) == 3
    assert doc.offset_at(1, 2) == 5
    assert doc.position_at(5) == (1, 2)
    doc.apply_change((0, 2, 0, 2), "X")  # an insertion inside the pair goes before it
    assert doc.line(0) == "aX😀b"


def test_utf8_and_utf32_positions(counter: TokenCounter) -> None:
    utf8 = DocumentIndex("é中😀x", counter, position_encoding="utf-8")
    assert [utf8.to_column(0, u) for u in range(11)] == [0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 4]
    assert [utf8.from_column(0, c) for c in range(5)] == [0, 2, 5, 9, 10]
    utf32 = DocumentIndex("é中😀x", counter, position_encoding="utf-32")
    assert utf32.to_column(0, 3) == 3 and utf32.from_column(0, 3) == 3


def test_line_breaks_follow_lsp(counter: TokenCounter) -> None:
    doc = DocumentIndex("a\r\nb\rc\nd\x0ce\u2028f", counter)
    assert doc.lines() == ["a\r\n", "b\r", "c\n", "d\x0ce\u2028f"]
    assert split_lines("") == [""]
    assert split_lines("x\n") == ["x\n", ""]
    assert doc.position_at(2) == (0, 1)  # between \r and \n: before the \r


def test_crlf_split_and_join(counter: TokenCounter) -> None:
    doc = DocumentIndex("a\r\nb", counter)
    doc.apply_change((0, 1, 1, 0), "\r")  # replace CRLF by a lone CR
    assert doc.lines() == ["a\r", "b"]
    doc.apply_change((1, 0, 1, 0), "\n")  # LF right after the lone CR: one CRLF again
    assert doc.lines() == ["a\r\n", "b"]
    doc.apply_change((0, 1, 0, 1), "\r")  # CR before CRLF: two line breaks
    assert doc.lines() == ["a\r", "\r\n", "b"]
    doc.apply_change((1, 0, 2, 0), "")
    assert doc.lines() == ["a\r", "b"]


def test_out_of_range_positions_are_clamped(counter: TokenCounter) -> None:
    doc = DocumentIndex("one\ntwo", counter)
    doc.apply_change((9, 9, 12, 0), "!")  # beyond the end: appends
    doc.apply_change((0, 99, 0, 99), ";")  # beyond line end: end of line, before \n
    doc.apply_change((1, 0, 0, 2), "O")  # start after end: swapped
    doc.apply_change((-1, -1, 0, 0), "[")
    assert doc.text == "[onOtwo!"
    assert doc.offset_at(5, 0) == len(doc.text)
    assert doc.position_at(10_000) == (0, 8)
    with pytest.raises(IndexError):
        doc.line(1)
    with pytest.raises(ValueError):
        DocumentIndex("", counter, position_encoding="utf-7")


def test_token_queries(counter: TokenCounter) -> None:
    text = "".join(f"value_{i} = compute({i}, 'x' * {i})\n" for i in range(1000))
    doc = DocumentIndex(text, counter)
    counts = doc.token_counts()
    sums = [0, *itertools.accumulate(counts)]
    for limit in (-1, 0, 1, counts[0], counts[0] + 1, 5000, sums[-1], sums[-1] + 5):
        expected = max(k for k, total in enumerate(sums) if total <= limit) if limit >= 0 else 0
        assert doc.lines_within(limit) == expected
    assert doc.tokens_in_lines(10, 20) == sum(counts[10:20])
    assert doc.tokens_in_lines(20, 10) == 0
    assert doc.tokens_in_lines(-5, 10**9) == doc.total_tokens
    assert doc.text_of_lines(998, 5000) == "".join(doc.lines()[998:])


def test_estimates_refresh_in_slices(counter: TokenCounter) -> None:
    encoding = counter.encoding
    assert encoding is not None
    gate = threading.Event()

    def slow_loader() -> BytePairCounter:
        gate.wait(10)
        return encoding

    pending = TokenCounter(slow_loader)
    pending.start_loading()
    text = BIG_BASE.replace("line", "def f(x): return x +")
    doc = DocumentIndex(text, pending)
    doc.apply_change((3, 0, 3, 0), "import os\n")
    doc.apply_change((900, 2, 1000, 0), "pass\n")
    exact = DocumentIndex(doc.text, counter)
    assert doc.total_tokens >= exact.total_tokens
    assert not doc.counts_exact and not doc.refresh_counts()
    gate.set()
    assert pending.wait_ready(10)
    doc.apply_change((0, 0, 0, 0), "# header\n")  # edits after loading count exactly at once
    exact.apply_change((0, 0, 0, 0), "# header\n")
    assert doc.tokens_before(1) == exact.tokens_before(1)  # line 0 alone
    rounds = 1
    while not doc.refresh_counts(max_lines=300):
        rounds += 1
        assert doc.total_tokens >= exact.total_tokens
    assert rounds > 2
    assert doc.counts_exact
    assert doc.token_counts() == exact.token_counts()
    assert doc.total_tokens == exact.total_tokens


def test_keystroke_cost_is_independent_of_document_size(counter: TokenCounter) -> None:
    """A 1-char edit on a ~130k-token file re-tokenizes one line, not the file."""
    text = "".join(f"    result_{i} = compute(alpha_{i}, beta={i}) + offset\n" for i in range(9000))
    doc = DocumentIndex(text, counter)
    assert doc.total_tokens > 120_000
    samples = []
    for i in range(300):
        line = (i * 7919) % 9000
        start = time.perf_counter()
        doc.apply_change((line, 10, line, 10), "q")
        samples.append(time.perf_counter() - start)
        doc.apply_change((line + 1, 0, line + 1, 0), "\n" if i % 2 else "")
    assert statistics.median(samples) < 1e-3


class _RecordingCounter(TokenCounter):
    """A loaded counter that records how many characters it was asked to encode."""

    def __init__(self) -> None:
        super().__init__()
        self.encoded = 0

    def count_line(self, line: str) -> int:
        self.encoded += len(line)
        return super().count_line(line)

    def count(self, text: str) -> int:
        self.encoded += len(text)
        return super().count(text)


def test_an_edit_on_a_long_line_costs_the_edit_not_the_line() -> None:
    """287 ms per keystroke on a 1 MB minified line: it was re-tokenized whole every time."""
    counter = _RecordingCounter()
    assert counter.wait_ready(60)
    line = "var a=function(b){return b+1};" * 35_000  # ~1 MB
    doc = DocumentIndex("// head\n" + line + "\n// tail\n", counter)
    for column in (500_000, 10, 999_000, 500_001):
        counter.encoded = 0
        doc.apply_change((1, column, 1, column), "x")
        assert counter.encoded < 20_000, f"{counter.encoded} characters re-encoded"
    expected = "// head\n" + line + "\n// tail\n"
    for column in (500_000, 10, 999_000, 500_001):  # replay on a fresh copy of the text
        expected_line = expected.split("\n")[1]
        expected = expected.replace(expected_line, expected_line[:column] + "x"
                                    + expected_line[column:], 1)
    assert doc.text == expected
    fresh = DocumentIndex(expected, counter)
    assert counter.encoding is not None
    exact = counter.encoding.count(expected)
    for total in (doc.total_tokens, fresh.total_tokens):  # a seam costs a token at most
        assert exact <= total <= exact + exact // 500
