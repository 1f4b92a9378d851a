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
