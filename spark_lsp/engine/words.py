"""Where the word that ends at a position starts.

A regular expression such as ``\\w+$`` looks simple but is quadratic: searched over a long run
of word characters followed by anything else, it restarts at every character of the run and
rescans the rest of it (32,000 characters of a minified line took 4.6 s). Requests run this on
the cursor's line and on every streamed reply, so it walks back from the end instead: linear in
the word, whatever the line holds.
"""

from __future__ import annotations


def is_word_char(char: str) -> bool:
    """What ``\\w`` matches in a ``str`` pattern: letters, digits (any script) and ``_``."""
    return char.isalnum() or char == "_"


def word_start(text: str, end: int | None = None) -> int:
    """The index where the run of word characters ending at ``end`` (default: the end of
    ``text``) begins; ``end`` itself when the character before it is not a word character."""
    start = len(text) if end is None else end
    while start and is_word_char(text[start - 1]):
        start -= 1
    return start
