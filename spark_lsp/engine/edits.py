"""Model output → the smallest set of text edits that turns the old text into the new one.

Editors show, undo and merge edits line by line; rewriting a whole function to change one line
would move the user's cursor, lose their folds and make review harder. So the replacement the
model returns is diffed against what it replaces and only changed line runs become edits.

What it replaces is not always the region that was asked for: a chat model echoes the lines
around the region (the function header above a fixed line, the ``return`` below it), answers only
the one line it fixed out of three, or drops the region's indentation. :func:`anchor_reply`
matches the reply against the lines that were sent and says which document lines it really
stands for; :func:`reply_edits` turns a raw reply into edits with that anchoring. Both take plain
strings and lines, so any feature (quick-fixes, rewrites, next-edit) can use them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from math import gcd

from spark_lsp.engine.languages import (
    analyze,
    indent_of,
    indent_unit,
    indent_width,
    line_kind,
    model_step,
    net_depth,
    opens_block,
    restyle_indent,
    spec_for,
    top_level_start,
)
from spark_lsp.engine.replies import (
    strip_leading_prose,
    strip_trailing_prose,
    unwrap_backticks,
    unwrap_fences,
)
from spark_lsp.engine.unified_diff import Hunk, apply_hunks, parse_diff
from spark_lsp.errors import ModelRequestError

__all__ = [
    "Anchor",
    "OffsetEdit",
    "anchor_reply",
    "apply_edits",
    "clean_reply",
    "minimal_edits",
    "reply_edits",
]

#: A reply line must be this similar to a region line to stand for it when it covers part.
_MIN_LINE_SIMILARITY = 0.5
#: ... and this similar to stand for it when the other region lines were not asked to stay.
_PLAIN_SIMILARITY = 0.75
#: Lines above the region a closer's balance is read after (JSX tags need their elements).
_BALANCE_CONTEXT = 30
#: Lines above and below the region read for the file's indentation step.
_STEP_SAMPLE = 50
#: At most this many lines above the region are read as echoed with changes (headers, mostly).
_MAX_CHANGED_ECHO = 4
#: A line above echoed with changes must be this like its original (``if (x > 0) {`` is not
#: ``void f(int x) {`` rewritten).
_CHANGED_ECHO_SIMILARITY = 0.7
_REGION_MARKERS = re.compile(r"^\s*</?region>\s*$")
_DIFF_FENCE = re.compile(r"^\s*(?:`{3,}|~{3,})\s*(?:diff|patch)\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class OffsetEdit:
    """Replace ``old[start:end]`` with ``text`` (offsets into the original text)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Anchor:
    """Which lines a reply replaces, relative to the region's first line.

    ``start`` < 0 means the reply echoed lines above the region; ``end`` > the region's
    length, lines below it; ``start`` > 0 or a smaller ``end``, that it covers only part of it.
    """

    start: int
    end: int


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


# --- anchoring -----------------------------------------------------------------------------------


def _keys(lines: Sequence[str]) -> list[str]:
    return [line.strip() for line in lines]


def _echo_above(reply: list[str], before: list[str], region: list[str]) -> int:
    """How many of the lines above the region the reply starts by repeating."""
    for count in range(min(len(before), len(reply) - 1), 0, -1):
        if _keys(reply[:count]) == _keys(before[-count:]) and any(reply[:count]):
            return count
    return _changed_echo_above(reply, before, region)


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.strip(), b.strip()).ratio()


def _changed_echo_above(reply: list[str], before: list[str], region: list[str]) -> int:
    """How many lines just above the region the reply starts by repeating *with changes*.

    A fix that also renames a parameter rewrites the header above the line it was asked
    about; read as new lines, that header would be doubled. Each such line must resemble its
    line above more than any line of the region, so that a rewritten region (whose first line
    may look like the line above it) is never taken for context.
    """
    for count in range(min(len(before), len(reply) - 1, _MAX_CHANGED_ECHO), 0, -1):
        pairs = zip(reply[:count], before[-count:], strict=True)
        if not all(_echoes_with_changes(line, above, region) for line, above in pairs):
            continue
        # the reply goes on with the region itself (a sibling like it is not a header)
        if not region or _similarity(reply[count], region[0]) >= _MIN_LINE_SIMILARITY:
            return count
    return 0


def _echoes_with_changes(line: str, above: str, region: Sequence[str]) -> bool:
    if not line.strip():
        return False
    likeness = _similarity(line, above)
    return likeness >= _CHANGED_ECHO_SIMILARITY and likeness > max(
        (_similarity(line, other) for other in region), default=0.0
    )


def _echo_below(
    reply: list[str],
    after: list[str],
    taken: int,
    region: Sequence[str],
    language_id: str,
    context: str,
) -> int:
    """How many of the lines below the region the reply ends by repeating.

    An echo made only of closers (``}``, ``end``) is one only if the balance says so: the reply
    must close as much as the region plus those lines do. A ``match`` rewritten whole ends in
    its own ``}``, which is not the function's ``}`` below it.
    """
    for count in range(min(len(after), len(reply) - taken - 1), 0, -1):
        if _keys(reply[-count:]) != _keys(after[:count]) or not any(_keys(after[:count])):
            continue
        if _only_closers(after[:count], language_id, context) and not _closes_below(
            reply, region, after[:count], language_id, context
        ):
            continue
        return count
    return 0


def _closes_below(
    reply: Sequence[str],
    region: Sequence[str],
    below: Sequence[str],
    language_id: str,
    context: str,
) -> bool:
    """Whether the reply's last lines are the closers ``below`` the region, not its own.

    They are when the reply closes as much as the region plus those lines (balance) and sits
    at their columns once moved to the window's depth (a ``match``'s ``}`` four columns in is
    not the function's ``}`` at column 0)."""
    window = [*region, *below]
    if net_depth(reply, language_id, context) != net_depth(window, language_id, context):
        return False
    shift = max(0, _min_width(window) - _min_width(reply))
    tail = reply[len(reply) - len(below) :]
    return all(
        indent_width(mine) + shift == indent_width(theirs)
        for mine, theirs in zip(tail, below, strict=True)
        if theirs.strip()
    )


def _only_closers(lines: Sequence[str], language_id: str, context: str) -> bool:
    """Lines that do nothing but close blocks (``}``, ``});``, ``end``, ``fi``, ``</div>``)."""
    return all(
        not line.strip() or line_kind(line, language_id, context) == "closer" for line in lines
    )


def _best_offset(
    reply: list[str], region: list[str], threshold: float = _MIN_LINE_SIMILARITY
) -> int | None:
    """Where a reply shorter than the region fits it best, if each line resembles its match."""

    def score(offset: int) -> list[float]:
        return [_similarity(a, b) for a, b in zip(reply, region[offset:], strict=False)]

    scores = {offset: score(offset) for offset in range(len(region) - len(reply) + 1)}
    best = max(scores, key=lambda offset: sum(scores[offset]))
    return best if min(scores[best], default=0) >= threshold else None


def anchor_reply(
    reply: Sequence[str],
    before: Sequence[str],
    region: Sequence[str],
    after: Sequence[str],
    *,
    keep_unmentioned: bool = False,
    language_id: str = "",
) -> Anchor:
    """Which lines ``reply`` stands for, given the lines sent around the region.

    The reply's first lines are matched against the lines above the region and its last lines
    against the lines below (indentation-insensitive); echoed lines widen what is replaced, so
    the diff sees them unchanged instead of inserting them twice. Lines just above the region
    echoed with changes (a header the fix also edited) widen it too, and the change is kept.
    With ``keep_unmentioned`` (the region holds lines added only as context, like a syntax
    fix's neighbours), a reply shorter than the region replaces only the lines it resembles
    and the others are kept. Without it the same holds when the reply plainly is a corrected
    copy of some region lines (the third line of a three-line diagnostic, its comma added).
    """
    lines = list(reply)
    above = _echo_above(lines, list(before), list(region))
    context = "".join(line + "\n" for line in before[max(0, len(before) - _BALANCE_CONTEXT) :])
    below = _echo_below(lines, list(after), above, region, language_id, context)
    if above or below or len(lines) >= len(region) or not lines:
        return Anchor(-above, len(region) + below)
    offset = _best_offset(lines, list(region)) if keep_unmentioned else None
    if offset is None:
        offset = _plain_offset(lines, list(region))
    if offset is None:
        return Anchor(0, len(region))
    return Anchor(offset, offset + len(lines))


def _plain_offset(reply: list[str], region: list[str]) -> int | None:
    """Where a shorter reply plainly stands for some lines of the region: each of its lines
    a close variant of its match (a fixed typo, an added comma), at least one of them changed.

    A reply equal to some region lines is not one: that is the rest after a deletion."""
    best = _best_offset(reply, region, _PLAIN_SIMILARITY)
    if best is None:
        return None
    matched = region[best : best + len(reply)]
    return best if _keys(reply) != _keys(matched) else None


# --- reading the reply ---------------------------------------------------------------------------


def clean_reply(raw: str, language_id: str = "") -> list[str]:
    """The code lines of an edit reply: region markers, fences, backticks and prose removed."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if "<region>" in text:
        text = text.split("<region>", 1)[1]
    text = text.split("</region>", 1)[0]
    lines = [line for line in text.split("\n") if not _REGION_MARKERS.match(line)]
    if spec_for(language_id).prose:
        return lines
    lines = unwrap_backticks("\n".join(unwrap_fences(lines))).split("\n")
    return strip_trailing_prose(strip_leading_prose(lines))


def _restyle(
    lines: list[str], old: Sequence[str], language_id: str, sample: Sequence[str]
) -> list[str]:
    """The old text's indentation character, step and depth on the reply's lines.

    ``sample`` is the document text around the region, where the file's step shows."""
    unit = indent_unit(sample, language_id) or indent_unit(old, language_id)
    step = model_step(lines)
    restyled = [restyle_indent(line, unit, step) for line in lines]
    return _reindent(_restep(restyled, unit, language_id), old, unit, language_id)


def _restep(lines: list[str], unit: str, language_id: str) -> list[str]:
    """A reply indented in its own step (two spaces, say) re-stepped to the file's (four).

    The reply's step is the greatest common divisor of its depths below its shallowest line,
    and some line one such step in must be a block's body (after ``{``, ``:``, ``do``): a
    2-space hanging continuation after ``(a +`` is alignment and keeps its columns."""
    if not unit or unit == "\t" or "\t" in "".join(map(indent_of, lines)):
        return lines
    base = _min_width(lines)
    depths = [indent_width(line) - base for line in lines if line.strip()]
    mine = reduce(gcd, depths, 0)
    if mine in (0, len(unit)) or not _steps_into_block(lines, base + mine, language_id):
        return lines
    out = []
    for line in lines:
        if not line.strip():
            out.append(line)
            continue
        levels, rest = divmod(indent_width(line) - base, mine)
        out.append(" " * (base + levels * len(unit) + rest) + line.lstrip(" "))
    return out


_CONTINUES = tuple(",+-*/%&=\\")


def _steps_into_block(lines: Sequence[str], width: int, language_id: str) -> bool:
    """Some line at ``width`` is the body of the code line before it, which opens a block:
    ends in ``{``, ``:``, ``do``, or in a bracket whose contents start on the next line
    (``items.map((i) => (``), not in an operator or comma with an expression left open."""
    code = [line for line in lines if line.strip()]
    for above, line in zip(code, code[1:], strict=False):
        head = above.rstrip()
        if indent_width(line) != width or head.endswith(_CONTINUES):
            continue
        if opens_block(head, analyze(language_id, "", head.strip()).lines[0], language_id):
            return True
    return False


def _min_width(lines: Sequence[str]) -> int:
    return min((indent_width(line) for line in lines if line.strip()), default=0)


def _reindent(lines: list[str], old: Sequence[str], unit: str, language_id: str) -> list[str]:
    """A reply dedented (to column 0, say) goes back to the old text's depth.

    Not all of it, when its columns say otherwise: a first line stripped of its indentation
    before lines at the old depth moves alone, and a new top-level definition after two blank
    lines (or after a ``return`` at its column) keeps column 0."""
    base = _min_width(old)
    delta = base - _min_width(lines)
    if delta <= 0 or not any(line.strip() for line in old):
        return lines
    pad = "\t" * (delta // 4) + " " * (delta % 4) if unit == "\t" else " " * delta
    code = [index for index, line in enumerate(lines) if line.strip()]
    padded = code[:1] if _only_first_stripped(lines, code, base, language_id) else code
    top = top_level_start(lines, indent_width(lines[code[0]]))
    return [
        pad + line if index in padded and index < top else line for index, line in enumerate(lines)
    ]


def _only_first_stripped(
    lines: Sequence[str], code: Sequence[int], base: int, language_id: str
) -> bool:
    """The first line lost its indentation and the others kept their columns: the line after
    it sits where the old depth (not the first line's column) says it should, or, after a
    blank line, further out (the next method after the one the first line ends)."""
    if len(code) < 2:
        return False
    first, follow = lines[code[0]], lines[code[1]]
    info = analyze(language_id, "", first.strip()).lines[0]
    step = 1 if opens_block(first.strip(), info, language_id) else 0
    width = indent_width(follow)
    relative = _sign(width - indent_width(first)) == step
    grouped = code[1] > code[0] + 1 and step == 0
    return not relative and _sign(width - base) in ((step, -1) if grouped else (step,))


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


def reply_edits(
    raw: str,
    before: str,
    region: str,
    after: str,
    *,
    language_id: str = "",
    keep_unmentioned: bool = False,
) -> list[OffsetEdit]:
    """Edits (offsets relative to the region's start; negative above it) from a raw reply.

    ``before`` and ``after`` are the document's text just above and below the region (whole
    lines), at least as much as the model was shown. Raises ``ModelRequestError`` when the
    reply holds no code for a region that had some.
    """
    reply = clean_reply(raw, language_id)
    hunks = parse_diff(reply, fenced_as_diff=_DIFF_FENCE.search(raw) is not None)
    if hunks is not None:
        return _diff_edits(hunks, before, region, after)
    region_lines = region.splitlines()
    if region_lines and region_lines[0].strip():
        while reply and not reply[0].strip():
            reply.pop(0)
    # Blank lines the region itself ends with are kept when the reply keeps them (a window at
    # the end of a file); only the blank lines a reply adds beyond them are trailing noise.
    while reply and not reply[-1].strip() and _blank_tail(reply) > _blank_tail(region_lines):
        reply.pop()
    if not reply and region.strip():
        raise ModelRequestError("the model returned no usable code for this edit")
    before_lines, after_lines = before.splitlines(keepends=True), after.splitlines(keepends=True)
    anchor = anchor_reply(
        reply,
        _keys(before_lines),
        region_lines,
        [line.rstrip("\r\n") for line in after_lines],
        keep_unmentioned=keep_unmentioned,
        language_id=language_id,
    )
    reply, anchor = _drop_echo_below(reply, anchor, len(region_lines))
    old_lines = _window(before_lines, region.splitlines(keepends=True), after_lines, anchor)
    old = "".join(old_lines)
    near = [*before_lines[-_STEP_SAMPLE:], *region_lines, *after_lines[:_STEP_SAMPLE]]
    sample = [line.rstrip("\r\n") for line in near]
    new_lines = _restyle(reply, [line.rstrip("\r\n") for line in old_lines], language_id, sample)
    eol = "\r\n" if (region or before).endswith("\r\n") or "\r\n" in old else "\n"
    new = eol.join(new_lines)
    if old.endswith(("\n", "\r")):
        new += eol
    start = -sum(len(line) for line in before_lines[len(before_lines) + min(0, anchor.start) :])
    start += sum(len(line) for line in region.splitlines(keepends=True)[: max(0, anchor.start)])
    return [
        OffsetEdit(start + edit.start, start + edit.end, edit.text)
        for edit in minimal_edits(old, new)
    ]


def _drop_echo_below(reply: list[str], anchor: Anchor, size: int) -> tuple[list[str], Anchor]:
    """The lines below the region the reply ends by repeating are the document's already:
    drop them rather than replace them with themselves, so their columns (a closer one level
    out) never count in the reply's re-indentation."""
    echoed = anchor.end - size
    if echoed <= 0 or echoed >= len(reply):
        return reply, anchor
    return reply[: len(reply) - echoed], Anchor(anchor.start, size)


def _diff_edits(hunks: Sequence[Hunk], before: str, region: str, after: str) -> list[OffsetEdit]:
    """Edits (relative to the region's start) that apply a diff reply's hunks to the lines
    sent; ``apply_hunks`` refuses a diff that matches nowhere."""
    sent = [
        *before.splitlines(keepends=True),
        *region.splitlines(keepends=True),
        *after.splitlines(keepends=True),
    ]
    above = len(before.splitlines())
    first, end, new_lines = apply_hunks([line.rstrip("\r\n") for line in sent], hunks, above)
    old = "".join(sent[first:end])
    eol = "\r\n" if "\r\n" in (before + region + after) else "\n"
    if old.endswith(("\n", "\r")):
        new = "".join(line + eol for line in new_lines)
    else:
        new = eol.join(new_lines)
    start = sum(len(line) for line in sent[:first]) - len(before)
    return [
        OffsetEdit(start + edit.start, start + edit.end, edit.text)
        for edit in minimal_edits(old, new)
    ]


def _blank_tail(lines: Sequence[str]) -> int:
    """How many blank lines ``lines`` ends with."""
    count = 0
    while count < len(lines) and not lines[len(lines) - 1 - count].strip():
        count += 1
    return count


def _window(before: list[str], region: list[str], after: list[str], anchor: Anchor) -> list[str]:
    """The document lines ``anchor`` covers (with their line endings)."""
    above = before[len(before) + anchor.start :] if anchor.start < 0 else []
    middle = region[max(0, anchor.start) : min(len(region), anchor.end)]
    below = after[: max(0, anchor.end - len(region))]
    return above + middle + below
