"""Reading a chat model's reply: the code in it, without the fences and the talk around it.

Completions and edits both get replies like "Sure! Here's the fix:", a fenced block and a closing
"This adds the missing colon." These helpers find the code in such a reply; they work on plain
lines so both tasks (and their tests) share one reading.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "is_fence",
    "is_intro",
    "is_prose",
    "strip_leading_prose",
    "strip_trailing_prose",
    "unwrap_backticks",
    "unwrap_fences",
]

_FENCE = re.compile(r"^(\s*)(?:`{3,}|~{3,})\s*[\w+#.-]*\s*$")
_INLINE_CODE = re.compile(r"^\s*`([^`\n]+)`\s*$")
_INTRO = re.compile(r"^[^`{};=]*[A-Za-z]+ [A-Za-z]+[^`{};=]*$")
_PROSE_WORD = re.compile(r"^[(\"']?[A-Za-z][A-Za-z'’-]*[,.:;!?)\"']*$|^`[^`]+`[,.:;!?]*$")
_CODE_CHARS = frozenset("=;{}[]<>|&$#@\\")
#: Inline code in a sentence (`` `$itme` ``) reads as one word of it.
_QUOTED = re.compile(r"`[^`\n]+`")
_PLACEHOLDER = "Code"
#: A sentence that names code unquoted must be this long and this plain to count as prose.
_MIN_SENTENCE_WORDS = 6
_SENTENCE_PLAIN_SHARE = 0.6
_STOCK = re.compile(r"^(?:sure|certainly|okay|of course|here|below|note)\b", re.IGNORECASE)
#: Fences are looked for among the reply's first lines only: later ones are content.
FENCE_SEARCH_LINES = 4


def is_prose(line: str) -> bool:
    """A sentence, not code: capitalised, mostly plain words, ending like a sentence.

    ``This calls compute_total on every item.`` and ``**Completion:**`` are prose;
    ``SELECT * FROM t;``, ``Foo.bar(x)`` and ``raise ValueError("Bad.")`` are not. Code quoted
    in backticks is a word of the sentence (``The `$itme` was misspelled.``), and a long
    sentence stays one when it names code unquoted (``This keeps x within [lo, hi].``).
    """
    text = _QUOTED.sub(_PLACEHOLDER, line.strip().strip("*_").strip())
    if len(text) < 4:
        return False
    if _CODE_CHARS.intersection(text):
        return _long_sentence(text)
    words = text.split()
    if _STOCK.match(text) and len(words) > 1 and text.endswith((":", ".", "!")):
        return True
    if not (text[0].isupper() or text.startswith(_PLACEHOLDER)):
        return False
    if len(words) == 1:
        return text.endswith(":") and text[:-1].isalpha()
    if not text.endswith((".", ":", "!", "?")) and not _STOCK.match(text):
        return False
    plain = sum(1 for word in words if _PROSE_WORD.match(word))
    return plain >= max(2, 0.6 * len(words))


def _long_sentence(text: str) -> bool:
    """A sentence that names code without quoting it: it opens with two plain words (the first
    capitalised), ends like a sentence or an introduction (``:``), and most of its many words
    are plain."""
    words = text.split()
    if len(words) < _MIN_SENTENCE_WORDS or not text.endswith((".", "!", "?", ":")):
        return False
    if not (words[0][0].isupper() or words[0].startswith(_PLACEHOLDER)):
        return False
    if not all(_PROSE_WORD.match(word) for word in words[:2]):
        return False
    plain = sum(1 for word in words if _PROSE_WORD.match(word))
    return plain >= _SENTENCE_PLAIN_SHARE * len(words)


def is_intro(line: str) -> bool:
    """What may stand before an opening fence: blank, prose, or a short title."""
    return not line.strip() or is_prose(line) or bool(_INTRO.match(line.strip()))


def unwrap_fences(lines: Sequence[str], *, indented: bool = True) -> list[str]:
    """The code inside a markdown fence, dedented by the fence's indentation.

    An opening fence counts among the first few lines after nothing but prose; the code ends at
    the next fence line (a model that opens another block has stopped answering). A reply
    with no opening fence is cut at a stray closing fence. Without ``indented`` only fences
    at column 0 count (inside a docstring an indented fence is the text being written).
    """

    def fence(line: str) -> bool:
        return _FENCE.match(line) is not None and (indented or not line[:1].isspace())

    opener = next((i for i, line in enumerate(lines[:FENCE_SEARCH_LINES]) if fence(line)), None)
    if opener is not None and not all(is_intro(line) for line in lines[:opener]):
        opener = None
    start = 0 if opener is None else opener + 1
    close = next((i for i in range(start, len(lines)) if fence(lines[i])), len(lines))
    body = list(lines[start:close])
    if opener is None:
        return body
    margin = _FENCE.match(lines[opener]).group(1)  # type: ignore[union-attr]
    return [line[len(margin) :] if line.startswith(margin) else line.lstrip() for line in body]


def is_fence(line: str) -> bool:
    """A markdown fence line (```` ``` ````, ```` ```python ````, ``~~~``), indented or not."""
    return _FENCE.match(line) is not None


def unwrap_backticks(text: str) -> str:
    """```compute_total(items)``` wrapped in single backticks → the code."""
    match = _INLINE_CODE.match(text)
    return match.group(1) if match else text


def strip_leading_prose(lines: Sequence[str]) -> list[str]:
    """Drop prose lines (and the blank lines after them) before the code."""
    out = list(lines)
    dropped = False
    while out:
        if is_prose(out[0]):
            dropped = True
        elif out[0].strip() or not (dropped or _prose_before(out)):
            break
        out.pop(0)
    return out


def _prose_before(lines: Sequence[str]) -> bool:
    """A blank line is dropped only while more prose follows it."""
    nxt = next((line for line in lines if line.strip()), "")
    return is_prose(nxt)


def strip_trailing_prose(lines: Sequence[str], protected: Sequence[bool] = ()) -> list[str]:
    """Drop prose lines at the end (and the blank lines before them).

    ``protected[i]`` marks lines that start inside a string or comment: never prose.
    """
    out = list(lines)
    while True:
        end = len(out)
        while end and not out[end - 1].strip():
            end -= 1
        start = end
        while start and is_prose(out[start - 1]) and not _at(protected, start - 1):
            start -= 1
        if start == end or start == 0:
            return out
        while start and not out[start - 1].strip():
            start -= 1
        out = out[:start]


def _at(flags: Sequence[bool], index: int) -> bool:
    return index < len(flags) and flags[index]
