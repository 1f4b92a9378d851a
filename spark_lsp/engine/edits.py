"""Model output → the smallest set of text edits that turns the old region into the new one.

Editors show, undo and merge edits line by line; rewriting a whole function to change one line
would move the user's cursor, lose their folds and make review harder. So the replacement the
model returns is diffed against what it replaces and only changed line runs become edits.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OffsetEdit:
    """Replace ``old[start:end]`` with ``text`` (offsets into the original region)."""

    start: int
    end: int
    text: str


def _line_starts(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def minimal_edits(old: str, new: str) -> list[OffsetEdit]:
    """Line-level diff of ``old`` → ``new``; unchanged lines are never part of an edit.

    Edits are returned in document order and do not overlap, as LSP requires of one
    ``TextDocumentEdit``.
    """
    if old == new:
        return []
    import difflib  # only edits need it; keeps server start-up (initialize) fast
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    starts = _line_starts(old_lines)
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    return [
        OffsetEdit(starts[i1], starts[i2], "".join(new_lines[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def apply_edits(text: str, edits: list[OffsetEdit]) -> str:
    """Apply non-overlapping edits (used by tests and by the command path's preview)."""
    out: list[str] = []
    cursor = 0
    for edit in sorted(edits, key=lambda e: e.start):
        out.append(text[cursor : edit.start])
        out.append(edit.text)
        cursor = edit.end
    out.append(text[cursor:])
    return "".join(out)
