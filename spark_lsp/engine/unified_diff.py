"""A reply written as a unified diff: read its hunks and apply them to the lines that were sent.

Chat models asked for the rewritten code sometimes answer with a patch (``--- a/f.py``,
``+++ b/f.py``, ``@@ -4,3 +4,3 @@``, then `` ``/``-``/``+`` lines). Pasting that into the file
would be worse than no edit, so such a reply is recognised, each hunk is located in the document
by its old side (context and removed lines), and the new side replaces it. A hunk that matches
nowhere means the model patched code it was not shown: the edit is refused, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from spark_lsp.errors import ModelRequestError

__all__ = ["Hunk", "apply_hunks", "parse_diff"]

_HUNK_HEADER = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@")
_FILE_HEADER = re.compile(r"^(?:--- |\+\+\+ |diff --git |index [0-9a-f]+\.\.)")
_NO_NEWLINE = "\\ No newline at end of file"


@dataclass(frozen=True, slots=True)
class Hunk:
    """One hunk: the lines it expects (context and removed) and what replaces them."""

    old: tuple[str, ...]
    new: tuple[str, ...]


def parse_diff(lines: Sequence[str], *, fenced_as_diff: bool = False) -> list[Hunk] | None:
    """The hunks of a reply that is a unified diff, or ``None`` when it is code.

    A diff has a hunk header (``@@``) or both file headers, or came in a ``diff`` fence; every
    other non-blank line starts with a space, ``-`` or ``+``, and some line adds or removes.
    Without a header or a fence, ``-1`` and ``+x`` are code, so they never make a diff alone.
    """
    body = [line for line in lines if line.strip()]
    headed = any(_HUNK_HEADER.match(line) for line in body) or (
        any(line.startswith("--- ") for line in body)
        and any(line.startswith("+++ ") for line in body)
    )
    if not body or not (headed or fenced_as_diff):
        return None
    hunks: list[Hunk] = []
    old: list[str] = []
    new: list[str] = []
    changed = False
    for line in lines:
        if _HUNK_HEADER.match(line) or _FILE_HEADER.match(line):
            if old or new:
                hunks.append(Hunk(tuple(old), tuple(new)))
            old, new = [], []
            continue
        if line.startswith(_NO_NEWLINE):
            continue
        mark, text = (line[:1], line[1:]) if line else (" ", "")
        if mark not in " +-":
            return None
        changed = changed or mark != " "
        if mark != "+":
            old.append(text)
        if mark != "-":
            new.append(text)
    if old or new:
        hunks.append(Hunk(tuple(old), tuple(new)))
    return hunks if changed else None


def _find(lines: Sequence[str], old: Sequence[str], start: int, near: int) -> int | None:
    """Where ``old`` stands in ``lines`` at or after ``start``: exact (trailing blanks aside)
    first, then ignoring indentation; of several places, the one nearest ``near``."""
    for key in (str.rstrip, str.strip):
        wanted = [key(line) for line in old]
        keyed = [key(line) for line in lines]
        found = [
            index
            for index in range(start, len(lines) - len(old) + 1)
            if keyed[index : index + len(old)] == wanted
        ]
        if found:
            return min(found, key=lambda index: abs(index - near))
    return None


def apply_hunks(
    lines: Sequence[str], hunks: Sequence[Hunk], near: int
) -> tuple[int, int, list[str]]:
    """Apply ``hunks`` to ``lines`` (the document lines that were sent, without line endings).

    Returns the changed window ``[first, end)`` of ``lines`` and its new lines. ``near`` is the
    region's first line, preferred when a hunk's old side occurs more than once. Raises
    ``ModelRequestError`` when a hunk has no old side or matches nowhere.
    """
    out = list(lines)
    first, end, shift, start = len(lines), 0, 0, 0
    for hunk in hunks:
        if not hunk.old:
            raise ModelRequestError(
                "the model answered with a diff that has no context lines to place it; "
                "nothing was changed"
            )
        where = _find(lines, hunk.old, start, near)
        if where is None:
            raise ModelRequestError(
                "the model answered with a diff that does not match the code here; "
                "nothing was changed (run the action again)"
            )
        at = where + shift
        out[at : at + len(hunk.old)] = list(hunk.new)
        first, end = min(first, where), max(end, where + len(hunk.old))
        shift += len(hunk.new) - len(hunk.old)
        start = where + len(hunk.old)
    return first, end, out[first : end + shift]
