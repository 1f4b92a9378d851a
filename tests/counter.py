"""One loaded token counter for the whole test run (loading the vocabulary takes a while)."""

from __future__ import annotations

from functools import cache

from spark_lsp.engine.tokens import TokenCounter


@cache
def loaded_counter() -> TokenCounter:
    """The test run's counter, vocabulary loading started (``wait_ready`` to block on it)."""
    counter = TokenCounter()
    counter.start_loading()
    return counter


def exact_counter() -> TokenCounter:
    """The run's counter once it counts exactly: tests that compare counts against the 128k cap
    must not build a document with the estimate and then count it exactly."""
    counter = loaded_counter()
    assert counter.wait_ready(120), "the o200k vocabulary did not load"
    return counter
