"""The word before a position, found by walking back (a ``\\w+$`` search is quadratic)."""

from __future__ import annotations

import re

import pytest

from spark_lsp.engine.words import word_start

SAMPLES = ["    ret", "return a", "x = ", "", "foo_bar2", "a.b", "naïve", "日本語", "x²", "a-", "_"]


@pytest.mark.parametrize("text", SAMPLES)
def test_word_start_agrees_with_the_regular_expression(text: str) -> None:
    found = re.search(r"\w+$", text)
    assert word_start(text) == (found.start() if found else len(text))


def test_word_start_before_a_column() -> None:
    assert word_start("    return a - b", 10) == 4
    assert word_start("a - b", 2) == 2
