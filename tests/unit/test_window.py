"""select_window: budget always holds, the cursor splits exactly, fast."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spark_lsp.engine.bpe import BytePairCounter
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.recount import BackgroundRecount
from spark_lsp.engine.tokens import TokenCounter
from spark_lsp.engine.window import Window, select_window
from tests.counter import loaded_counter


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    shared = loaded_counter()
    assert shared.wait_ready(60), shared.error
    return shared


def check_window(doc: DocumentIndex, line: int, character: int, budget: int, w: Window) -> None:
    """Every invariant a window promises, checked against the plain text."""
    text = doc.text
    cursor_line, _ = doc.clamp_position(line, character)
    cursor = doc.offset_at(line, character)
    start, end = cursor - len(w.prefix), cursor + len(w.suffix)
    assert w.prefix_tokens + w.suffix_tokens == w.tokens <= max(budget, 0)
    assert text[start:cursor] == w.prefix and text[cursor:end] == w.suffix
    assert w.truncated_above == (start > 0)
    assert w.truncated_below == (end < len(text))
    assert w.first_line <= cursor_line < w.end_line <= doc.line_count
    lines_above = doc.text_of_lines(w.first_line, cursor_line)
    lines_below = doc.text_of_lines(cursor_line + 1, w.end_line)
    assert w.prefix.startswith(lines_above) and w.suffix.endswith(lines_below)
    head = w.prefix[len(lines_above) :]
    tail = w.suffix[: len(w.suffix) - len(lines_below)]
    counter = doc.counter
    assert w.prefix_tokens == doc.tokens_in_lines(w.first_line, cursor_line) + counter.count(head)
    assert w.suffix_tokens == doc.tokens_in_lines(cursor_line + 1, w.end_line) + counter.count(tail)
    head_whole = start == doc.offset_at(w.first_line, 0)
    tail_whole = end == (doc.offset_at(w.end_line, 0) if w.end_line < doc.line_count else len(text))
    if head_whole and tail_whole:
        # Unused share flows across: a side that reached the file's edge leaves no line
        # on the other side that would still have fit.
        if not w.truncated_below and w.truncated_above:
            assert w.tokens + line_tokens(doc, w.first_line - 1) > budget
        if not w.truncated_above and w.truncated_below:
            assert w.tokens + line_tokens(doc, w.end_line) > budget


PIECES = ["def f(x):", "    return x", " + 1", "é", "中文", "😀", " ", "\t", "\n", "\n", "\r\n"]
documents = st.lists(st.sampled_from(PIECES), max_size=120).map("".join)


@settings(max_examples=1000, deadline=None)
@given(
    documents,
    st.integers(-2, 60),
    st.integers(-2, 40),
    st.integers(-5, 300),
    st.floats(0.0, 1.0),
    st.sampled_from(("utf-16", "utf-8", "utf-32")),
)
def test_window_invariants(
    counter: TokenCounter,
    text: str,
    line: int,
    character: int,
    budget: int,
    share: float,
    encoding: str,
) -> None:
    doc = DocumentIndex(text, counter, position_encoding=encoding)
    window = select_window(doc, line, character, budget, prefix_share=share)
    check_window(doc, line, character, budget, window)


@pytest.fixture(scope="module")
def big_doc(counter: TokenCounter) -> DocumentIndex:
    """~300k tokens of varied Python."""
    parts = []
    for i in range(7000):
        parts.append(
            f"def handler_{i}(request, *, retries={i % 5}):\n"
            f"    '''Handle request #{i} — café 😀.'''\n"
            f"    payload = {{'id': {i}, 'tags': ['a', 'b', 'c'], 'n': {i * 31 % 977}}}\n"
            f"    return dispatch(payload, retries=retries)\n\n"
        )
    doc = DocumentIndex("".join(parts), counter)
    assert doc.total_tokens > 300_000
    return doc


def test_prefix_share_is_respected(big_doc: DocumentIndex) -> None:
    window = select_window(big_doc, 17_500, 10, 2000)
    check_window(big_doc, 17_500, 10, 2000, window)
    assert 1400 <= window.prefix_tokens <= 1530
    assert 450 <= window.suffix_tokens <= 530
    assert window.tokens > 1950


def test_unused_share_flows_to_the_other_side(big_doc: DocumentIndex) -> None:
    near_top = select_window(big_doc, 2, 0, 2000)
    check_window(big_doc, 2, 0, 2000, near_top)
    assert near_top.first_line == 0 and near_top.suffix_tokens > 1700
    last = big_doc.line_count - 1
    near_end = select_window(big_doc, last, 0, 2000)
    check_window(big_doc, last, 0, 2000, near_end)
    assert near_end.end_line == big_doc.line_count and near_end.prefix_tokens > 1950


def test_large_budgets_on_a_300k_token_document_are_fast(big_doc: DocumentIndex) -> None:
    durations = []
    for budget in (2_000, 32_000, 120_000):
        for line in (0, 9_000, 20_000, big_doc.line_count - 1):
            start = time.perf_counter()
            window = select_window(big_doc, line, 4, budget)
            durations.append(time.perf_counter() - start)
            check_window(big_doc, line, 4, budget, window)
            assert window.tokens > budget * 0.99
    small = durations[:4]
    assert statistics.median(small) < 2e-3
    assert max(durations) < 0.25


def test_whole_document_fits(counter: TokenCounter) -> None:
    doc = DocumentIndex("import os\n\nprint(os.getcwd())\n", counter)
    window = select_window(doc, 2, 6, 10_000)
    assert window.prefix == "import os\n\nprint(" and window.suffix == "os.getcwd())\n"
    assert not window.truncated_above and not window.truncated_below
    check_window(doc, 2, 6, 10_000, window)


def test_zero_budget(counter: TokenCounter) -> None:
    doc = DocumentIndex("a = 1\nb = 2\n", counter)
    window = select_window(doc, 1, 2, 0)
    assert (window.prefix, window.suffix, window.tokens) == ("", "", 0)
    assert window.truncated_above and window.truncated_below


def test_megabyte_line_is_trimmed_fast(counter: TokenCounter) -> None:
    line = "data = [" + ", ".join(str(i * 7919 % 100_003) for i in range(150_000)) + "]"
    assert len(line) > 1_000_000
    doc = DocumentIndex("import json\n" + line + "\nprint(data)\n", counter)
    column = len(line) // 2
    start = time.perf_counter()
    window = select_window(doc, 1, column, 2000)
    elapsed = time.perf_counter() - start
    check_window(doc, 1, column, 2000, window)
    assert window.truncated_above and window.truncated_below
    assert window.first_line == 1 and window.end_line == 2
    assert 1400 <= window.prefix_tokens <= 1500 and window.suffix_tokens >= 450
    assert window.tokens > 1950
    assert elapsed < 0.5


def test_long_head_short_tail_takes_the_suffix_share(counter: TokenCounter) -> None:
    line = "x = " + " + ".join(f"v{i}" for i in range(3000)) + "  # end"
    doc = DocumentIndex(line + "\nnext_line()\n", counter)
    column = len(line) - 3
    window = select_window(doc, 0, column, 500)
    check_window(doc, 0, column, 500, window)
    assert window.suffix == "end\n" and window.prefix_tokens > 480


def line_tokens(doc: DocumentIndex, line: int) -> int:
    """The token count of one line, from the index's prefix sums."""
    return doc.tokens_before(line + 1) - doc.tokens_before(line)


async def test_a_document_counted_by_estimate_gets_the_exact_window_at_once(
    counter: TokenCounter,
) -> None:
    """Opened before the tokenizer loaded: the request recounts only the lines its window may
    cover (its window is the one exact counts give), the background recounts the rest."""
    gate = threading.Event()
    encoding = counter.encoding
    assert encoding is not None

    def slow_loader() -> BytePairCounter:
        gate.wait(10)
        return encoding

    pending = TokenCounter(slow_loader)
    pending.start_loading()
    text = "".join(f"def step_{i}(items):\n    return sum(items) * {i}\n\n" for i in range(6000))
    doc = DocumentIndex(text, pending)
    exact = DocumentIndex(text, counter)
    gate.set()
    assert pending.wait_ready(10)
    for line in (9000, 3, 17_990):
        assert select_window(doc, line, 4, 2000) == select_window(exact, line, 4, 2000)
    assert not doc.counts_exact  # the rest of the file is still estimated
    BackgroundRecount().ensure_exact(doc)
    for _ in range(10_000):
        if doc.counts_exact:
            break
        await asyncio.sleep(0)
    assert doc.token_counts() == exact.token_counts()
