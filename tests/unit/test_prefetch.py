"""Ready on accept: which edits keep a prefetch alive, and the cursor context after an accept."""

from __future__ import annotations

import asyncio

import pytest

from spark_lsp.engine.debounce import Ticket
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.postprocess import CompletionContext
from spark_lsp.engine.prefetch import AcceptTarget, Prefetcher, accepted_context
from spark_lsp.errors import Superseded
from tests.counter import loaded_counter

URI = "file:///shop.py"
TEXT = "def total(price, quantity):\n    \n    return 0\n"
SUGGESTION = "subtotal = price * quantity"


def doc_with(text: str) -> DocumentIndex:
    return DocumentIndex(text, loaded_counter())


def target(suggestion: str = SUGGESTION) -> AcceptTarget:
    before = "def total(price, quantity):\n    "
    return AcceptTarget(URI, 1, 1, 4, before, "\n    return 0\n", suggestion, 2000)


@pytest.mark.parametrize(
    "typed",
    ["", "s", "subtotal", "subtotal = ", SUGGESTION],
    ids=["nothing", "one key", "word", "words", "whole"],
)
def test_typing_or_accepting_along_the_suggestion_stays_on_path(typed: str) -> None:
    doc = doc_with(TEXT.replace("    \n", "    " + typed + "\n", 1))
    assert target().on_path(doc)


@pytest.mark.parametrize(
    "text",
    [
        TEXT.replace("    \n", "    x\n", 1),  # typed something else
        TEXT.replace("    \n", "    subtotal = pricey\n", 1),  # typed past and off it
        TEXT.replace("return 0", "return 1"),  # edited below the cursor
        TEXT.replace("price, quantity", "cost, quantity"),  # edited before the cursor
        "\n" + TEXT,  # a line inserted above: the cursor moved
        "",
    ],
)
def test_other_edits_leave_the_path(text: str) -> None:
    assert not target().on_path(doc_with(text))


def test_multiline_suggestion_accepted_line_by_line() -> None:
    suggestion = "subtotal = price * quantity\n    return subtotal"
    first_line = TEXT.replace("    \n", "    subtotal = price * quantity\n    \n", 1)
    assert target(suggestion).on_path(doc_with(first_line))
    whole = TEXT.replace("    \n", "    " + suggestion + "\n", 1)
    assert target(suggestion).on_path(doc_with(whole))


def test_accepted_before_is_the_cache_window_after_the_accept() -> None:
    long_before = "x" * 1990 + "\n    "
    accepted = AcceptTarget(URI, 1, 5, 4, long_before, "", "abcdefghijkl", 2000)
    assert accepted.accepted_before == (long_before + "abcdefghijkl")[-2000:]


def test_accepted_context_single_line() -> None:
    ctx = CompletionContext(line_prefix="    ", line_suffix=")", prev_lines=("def f(", "a,"))
    after = accepted_context(ctx, "total")
    assert after.line_prefix == "    total" and after.line_suffix == ")"
    assert after.prev_lines == ctx.prev_lines


def test_accepted_context_multi_line() -> None:
    ctx = CompletionContext(line_prefix="    ", prev_lines=("a", "b", "def f():"))
    after = accepted_context(ctx, "x = 1\r\n    y = 2\r\n    ")
    assert after.line_prefix == "    "
    assert after.prev_lines == ("def f():", "    x = 1", "    y = 2")


async def test_prefetcher_runs_one_at_a_time_and_drops_on_other_edits() -> None:
    prefetcher = Prefetcher()
    tickets: list[Ticket] = []
    gate = asyncio.Event()

    async def job(ticket: Ticket) -> None:
        tickets.append(ticket)
        await gate.wait()
        if ticket.superseded:
            raise Superseded("dropped")

    first = target()
    prefetcher.start(first, job)
    assert prefetcher.covers(first)
    prefetcher.start(target("other"), job)  # a newer suggestion replaces it
    await asyncio.sleep(0)
    assert tickets[0].superseded and not tickets[1].superseded
    prefetcher.on_edit(URI, doc_with(TEXT.replace("    \n", "    oth\n", 1)))
    assert not tickets[1].superseded  # typing along the suggestion
    prefetcher.on_edit("file:///other.py", doc_with(""))
    assert not tickets[1].superseded  # another document
    prefetcher.on_edit(URI, doc_with(TEXT.replace("    \n", "    zz\n", 1)))
    assert tickets[1].superseded
    gate.set()
    await asyncio.sleep(0.01)
    assert not prefetcher.covers(target("other"))  # dropped: shown again, fetched again
