"""Turn a raw model continuation into ghost text worth showing.

The model sees the text around the cursor and continues it, but what it sends back is not
always insertable as-is: chat-tuned models wrap code in markdown fences or say "Here is the
completion:", FIM models echo the text before the cursor or re-type the closing brackets the
editor already inserted, and any model may run past the block the user is writing or loop.

Each concern is one small pure filter, ``(text, ctx) -> text | None`` (``None`` drops the
suggestion), so each can be tested with a table of cases and the chain can be reordered or
extended without touching the others. Filters work on ``"\\n"`` line endings; the first one
normalises them and the last one converts to the document's ``ctx.eol``.

:func:`is_complete` reuses the same rules on a partial stream so the pipeline can stop reading
the model as soon as the rest could only be thrown away.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from math import gcd

__all__ = [
    "FILTERS",
    "CompletionContext",
    "Filter",
    "apply_eol",
    "drop_blank",
    "drop_line_suffix_echo",
    "drop_next_lines_echo",
    "first_line_only",
    "is_complete",
    "limit_block_scope",
    "normalize_indentation",
    "normalize_newlines",
    "postprocess",
    "stop_repetition",
    "strip_chatter",
    "strip_code_fences",
    "strip_prefix_echo",
    "suffix_allows_multiline",
    "trim_trailing_whitespace",
]


@dataclass(frozen=True)
class CompletionContext:
    """What the filters know about the cursor; built by the caller from the document.

    Lines carry no end-of-line characters. ``prev_lines`` are in document order (the last one
    is the line just above the cursor); ``next_lines[0]`` is the line just below it.
    """

    line_prefix: str = ""
    line_suffix: str = ""
    next_lines: tuple[str, ...] = ()
    prev_lines: tuple[str, ...] = ()
    language_id: str = ""
    multiline: bool = False
    indent_unit: str = "    "
    eol: str = "\n"


Filter = Callable[[str, CompletionContext], str | None]

TAB_WIDTH = 4
_PROSE_LANGUAGES = frozenset({"markdown", "mdx", "plaintext", "text", "restructuredtext"})
_END_KEYWORD_LANGUAGES = frozenset({"ruby", "lua", "elixir", "julia", "crystal"})
_CLOSERS = ")]}"
_PAIRS = {")": "(", "]": "[", "}": "{"}
_QUOTES = "\"'`"

_FENCE = re.compile(r"^(?:```|~~~)[\w+#.-]*[ \t]*$")
_CHATTER = re.compile(
    r"^\s*(?:sure|certainly|okay|of course|here(?:'s| is| are)|below is"
    r"|the (?:completed|completion|following|rest)|completion)\b.*:\s*$",
    re.IGNORECASE,
)
_PROSE_INTRO = re.compile(r"^[^`{};=]*[A-Za-z]+ [A-Za-z]+[^`{};=]*:\s*$")
_COMMENT_MARK = re.compile(r"#|//|/\*|^\s*\*")
_OPENS_BLOCK = re.compile(r"(?:[:{(\[]|=>)(?:\s+(?:#|//).*)?\s*$")
_CONTINUATION = re.compile(r"^(?:(?:else|elif|except|finally|catch|case)\b|default\s*:)")
_END_KEYWORD = re.compile(r"^end\b")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_IDENTIFIER = re.compile(r"^[^\W\d]")
_TRAILING_WORD = re.compile(r"\w+$")
_TRAILING_BLANKS = re.compile(r"[ \t]*\Z")
_ONLY_CLOSERS = re.compile(r"^[\s)\]}\"'`;,]*$")

_MIN_ECHO_CHARS = 3
_MAX_LINE_PERIOD = 4
_LINE_REPEATS = 3
_MAX_NGRAM = 8
_NGRAM_REPEATS = 4


def suffix_allows_multiline(line_suffix: str) -> bool:
    """Whether a multi-line suggestion fits: nothing but closers/punctuation after the cursor.

    A suggestion is inserted before the rest of the line; if that rest is real code, extra
    lines would push it to the end of the suggestion, which is almost never what was meant.
    """
    return bool(_ONLY_CLOSERS.match(line_suffix))


# --- small helpers -------------------------------------------------------------------------


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _width(line: str) -> int:
    return len(_indent_of(line).expandtabs(TAB_WIDTH))


def _unit_width(ctx: CompletionContext) -> int:
    return len(ctx.indent_unit.expandtabs(TAB_WIDTH)) or TAB_WIDTH


def _last_nonblank(lines: Sequence[str]) -> str | None:
    return next((line for line in reversed(lines) if line.strip()), None)


def _first_nonblank(lines: Sequence[str]) -> str | None:
    return next((line for line in lines if line.strip()), None)


def _opens_block(line: str) -> bool:
    """A line ending in ``:``, ``{``, ``(``, ``[`` or ``=>`` (a trailing comment allowed)."""
    return bool(_OPENS_BLOCK.search(line.rstrip()))


def _is_prose_language(ctx: CompletionContext) -> bool:
    return ctx.language_id in _PROSE_LANGUAGES


# --- line endings --------------------------------------------------------------------------


def normalize_newlines(text: str, ctx: CompletionContext) -> str:
    """Work on ``\\n`` only, so no later filter has to care about ``\\r\\n`` or ``\\r``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def apply_eol(text: str, ctx: CompletionContext) -> str:
    """Match the document's line endings, or the editor would show a mixed-EOL file."""
    return text if ctx.eol == "\n" else text.replace("\n", ctx.eol)


# --- chatter and fences --------------------------------------------------------------------


def strip_chatter(text: str, ctx: CompletionContext) -> str:
    """Drop a leading "Here is the completion:" line (and the blank lines after it).

    Only a line that starts with a stock phrase and ends with a colon counts, and never when
    the cursor sits in a comment or a prose document, where such a sentence may be the very
    text the user is writing.
    """
    if _is_prose_language(ctx) or _COMMENT_MARK.search(ctx.line_prefix):
        return text
    first, _, rest = text.partition("\n")
    if not _CHATTER.match(first) or " " not in first.strip():
        return text
    return rest.lstrip("\n")


def _fence_opener(lines: Sequence[str]) -> int | None:
    """Index of an opening fence among the first three lines, if only prose precedes it."""
    for index, line in enumerate(lines[:3]):
        if _FENCE.match(line):
            before = lines[:index]
            prose = all(not b.strip() or _PROSE_INTRO.match(b) for b in before)
            return index if prose else None
    return None


def _fence_bounds(lines: Sequence[str], ctx: CompletionContext) -> tuple[int, int | None]:
    """(first line of code, index of the fence that ends it or ``None``).

    Any fence line ends the code, one with a language too: a model that opens another block
    has stopped completing.
    """
    if _is_prose_language(ctx):
        return 0, None
    opener = _fence_opener(lines)
    start = 0 if opener is None else opener + 1
    close = next((i for i in range(start, len(lines)) if _FENCE.match(lines[i])), None)
    return start, close


def strip_code_fences(text: str, ctx: CompletionContext) -> str:
    """Keep only the code inside markdown fences; drop a closing fence and what follows it.

    Fences count only at column 0 (models emit them there; fences inside an indented docstring
    are real text), and an opening fence only within the first three lines after nothing but
    prose like "Here's the updated function:". Markdown documents are left alone.
    """
    lines = text.split("\n")
    start, close = _fence_bounds(lines, ctx)
    return "\n".join(lines[start:close])


# --- echo of the prefix --------------------------------------------------------------------


def _expects_deeper_indent(ctx: CompletionContext) -> bool:
    """The line above opens a block the cursor's indentation has not entered yet."""
    above = _last_nonblank(ctx.prev_lines)
    return above is not None and _opens_block(above) and _width(above) >= _width(ctx.line_prefix)


def _strip_indent_echo(text: str, ctx: CompletionContext) -> str:
    """Whitespace-only prefix: the model re-typed exactly the cursor's indentation."""
    rest = text[len(ctx.line_prefix) :]
    if not text.startswith(ctx.line_prefix) or rest[:1] in ("", " ", "\t", "\n"):
        return text
    return text if _expects_deeper_indent(ctx) else rest


def strip_prefix_echo(text: str, ctx: CompletionContext) -> str:
    """Remove a repeat of the text before the cursor (``return `` + ``return x``).

    The whole prefix or the prefix without its indentation must be repeated, and at least three
    non-blank characters long, so a one-letter coincidence (``a`` + ``a_list``) is not eaten.
    A repeated indentation is stripped unless the line above opens a block the cursor has not
    been indented into yet, in which case the extra indentation is the block body's.
    """
    prefix = ctx.line_prefix
    if not prefix.strip():
        return _strip_indent_echo(text, ctx) if prefix else text
    if len(prefix.strip()) < _MIN_ECHO_CHARS:
        return text
    for echo in (prefix, prefix.lstrip()):
        if text.startswith(echo):
            return text[len(echo) :]
    return text


# --- single line / indentation / scope -----------------------------------------------------


def first_line_only(text: str, ctx: CompletionContext) -> str:
    """In single-line mode only the rest of the cursor line is wanted."""
    return text if ctx.multiline else text.partition("\n")[0]


def _space_step(lines: Sequence[str]) -> int:
    """How many spaces the model used per indent level (2 or, by default, 4)."""
    indents = [_indent_of(line) for line in lines if line.strip()]
    counts = [len(indent) for indent in indents if indent and "\t" not in indent]
    return 2 if reduce(gcd, counts, 0) == 2 else 4


def _reindent(line: str, ctx: CompletionContext, step: int) -> str:
    indent = _indent_of(line)
    if ctx.indent_unit == "\t":
        if not indent or "\t" in indent:
            return line
        tabs, spaces = divmod(len(indent), step)
        return "\t" * tabs + " " * spaces + line[len(indent) :]
    if "\t" not in indent:
        return line
    return indent.replace("\t", ctx.indent_unit) + line[len(indent) :]


def normalize_indentation(text: str, ctx: CompletionContext) -> str:
    """Use the document's indentation character: tabs in a tab file, spaces in a space file.

    Only leading whitespace of whole lines is touched (the first line's only when nothing but
    indentation precedes the cursor). In a tab file, runs of spaces become one tab per
    2 or 4 spaces (the model's own step) and a remainder stays as alignment spaces.
    """
    lines = text.split("\n")
    step = _space_step(lines) if ctx.indent_unit == "\t" else TAB_WIDTH
    first = lines[0] if ctx.line_prefix.strip() else _reindent(lines[0], ctx, step)
    return "\n".join([first, *(_reindent(line, ctx, step) for line in lines[1:])])


@dataclass(frozen=True)
class _Scope:
    """The block a multi-line suggestion may fill."""

    anchor: int  # index of the line that sets the block's indentation
    limit: int  # a line indented less than this leaves the block
    floor: int  # a closer or ``else:`` line must be indented at least this much to belong


def _scope(lines: Sequence[str], ctx: CompletionContext) -> _Scope | None:
    """Anchor the block on the cursor line (or the first non-blank suggested line).

    A line that opens a block (``def f():``, ``if (x) {``) admits only its body: deeper
    lines, plus a closer/continuation at its own level. Any other line admits siblings at its
    level, plus a closer/continuation one level up (the enclosing block's ``}`` or ``else:``).
    """
    anchor = 0
    line = ctx.line_prefix + lines[0]
    if not line.strip():
        anchor = next((i for i, ln in enumerate(lines) if ln.strip()), -1)
        if anchor < 0:
            return None
        line = lines[anchor]
    width = _width(line)
    if _opens_block(line):
        return _Scope(anchor, width + 1, width)
    return _Scope(anchor, width, max(0, width - _unit_width(ctx)))


def _line_kind(stripped: str, ctx: CompletionContext) -> str:
    """``reopen`` (``} else {``, ``elif x:``), ``closer`` (``}``, ``)``, ``end``) or ``other``."""
    closer = stripped[0] in _CLOSERS
    if _CONTINUATION.match(stripped) or (closer and _opens_block(stripped)):
        return "reopen"
    if closer or (ctx.language_id in _END_KEYWORD_LANGUAGES and _END_KEYWORD.match(stripped)):
        return "closer"
    return "other"


def _may_close(ctx: CompletionContext, scope: _Scope) -> bool:
    """A closer may be suggested unless the code after the cursor continues the same block.

    If the document's next line is still inside the block, closing it here would cut that code
    off; if the document already has the same closer, :func:`drop_next_lines_echo` removes it.
    """
    following = _first_nonblank(ctx.next_lines)
    return following is None or _width(following) < scope.limit


def _block_end(lines: Sequence[str], ctx: CompletionContext) -> tuple[int, bool]:
    """How many lines stay inside the block, and whether the block visibly ended."""
    scope = _scope(lines, ctx)
    if scope is None:
        return len(lines), False
    for index in range(scope.anchor + 1, len(lines)):
        stripped = lines[index].strip()
        width = _width(lines[index])
        if not stripped or width >= scope.limit:
            continue
        kind = _line_kind(stripped, ctx)
        if kind == "reopen" and width >= scope.floor:
            continue
        include = kind == "closer" and width >= scope.floor and _may_close(ctx, scope)
        return index + int(include), True
    return len(lines), False


def limit_block_scope(text: str, ctx: CompletionContext) -> str:
    """Stop a multi-line suggestion at the end of the block the cursor is in.

    A line dedented below the block ends it. ``else:``/``elif``/``except``/``finally``/
    ``catch``/``case`` and ``} else {``-style lines continue the same compound statement, so
    they are kept; a bare closer (``}``, ``)``, ``end``) that closes the current block is kept
    and ends the suggestion (see :func:`_may_close`). This keeps a suggestion to one function,
    one loop, one statement group, instead of the model's guess at the rest of the file.
    """
    if not ctx.multiline:
        return text
    lines = text.split("\n")
    end, _ = _block_end(lines, ctx)
    return "\n".join(lines[:end])


# --- runaway repetition --------------------------------------------------------------------


def _repeats_at(items: Sequence[str], start: int, size: int) -> int:
    unit = items[start : start + size]
    count = 1
    while items[start + count * size : start + (count + 1) * size] == unit:
        count += 1
    return count


def _first_run(
    items: Sequence[str], max_size: int, repeats: int, unit_ok: Callable[[Sequence[str]], bool]
) -> tuple[int, int] | None:
    """Earliest (start, size) where a unit of ``size`` items repeats ``repeats`` times in a row."""
    for start in range(len(items)):
        for size in range(1, max_size + 1):
            if start + size * repeats > len(items) or items[start + size] != items[start]:
                continue
            if _repeats_at(items, start, size) >= repeats and unit_ok(items[start : start + size]):
                return start, size
    return None


def _line_spans(text: str) -> list[tuple[int, str]]:
    """(offset, right-stripped line) for every line of ``text``."""
    spans, offset = [], 0
    for line in text.split("\n"):
        spans.append((offset, line.rstrip()))
        offset += len(line) + 1
    return spans


def _line_repetition_cut(text: str) -> int | None:
    """Offset of the second copy of a block of 1–4 non-blank lines repeated 3+ times."""
    lines = [(start, line) for start, line in _line_spans(text) if line.strip()]
    run = _first_run([line for _, line in lines], _MAX_LINE_PERIOD, _LINE_REPEATS, bool)
    return None if run is None else lines[run[0] + run[1]][0]


def _has_identifier(unit: Sequence[str]) -> bool:
    return any(_IDENTIFIER.match(token) for token in unit)


def _ngram_repetition_cut(text: str) -> int | None:
    """Offset of the second copy of a token n-gram (with a name in it) repeated 4+ times.

    Four, not three: ``Path(f).parent.parent.parent`` and ``vector<vector<vector<int>>>`` are
    real code. Units of bare punctuation or numbers (``)))``, ``0, 0, 0``) never count.
    """
    matches = list(_TOKEN.finditer(text))
    tokens = [m.group() for m in matches]
    run = _first_run(tokens, _MAX_NGRAM, _NGRAM_REPEATS, _has_identifier)
    return None if run is None else matches[run[0] + run[1]].start()


def _repetition_cut(text: str) -> int | None:
    cuts = [c for c in (_line_repetition_cut(text), _ngram_repetition_cut(text)) if c is not None]
    return min(cuts, default=None)


def stop_repetition(text: str, ctx: CompletionContext) -> str:
    """Cut a model that loops: keep the first copy of the repeated lines or tokens."""
    cut = _repetition_cut(text)
    return text if cut is None else text[:cut]


# --- whitespace ----------------------------------------------------------------------------


def trim_trailing_whitespace(text: str, ctx: CompletionContext) -> str:
    """Strip trailing whitespace and trailing blank lines.

    The last line keeps its trailing spaces when a word follows the cursor, so ``x and `` +
    ``y`` does not become ``x andy``.
    """
    body = "\n".join(line.rstrip() for line in text.split("\n")).rstrip()
    tail = _TRAILING_BLANKS.search(text)
    keeps_gap = re.match(r"\w", ctx.line_suffix) is not None
    if body and keeps_gap and tail is not None and text[: tail.start()] == body:
        return text
    return body


def drop_blank(text: str, ctx: CompletionContext) -> str | None:
    """An empty or whitespace-only suggestion is noise: show nothing."""
    return text if text.strip() else None


# --- text that is already after the cursor -------------------------------------------------


def _echoes(tail: Sequence[str], following: Sequence[str]) -> bool:
    body = [line for line in tail if line.strip()]
    shared = min(len(body), len(following))
    if shared == 0 or body[:shared] != list(following[:shared]):
        return False
    return shared == len(body) or shared >= 2


def drop_next_lines_echo(text: str, ctx: CompletionContext) -> str:
    """Cut the suggestion where it starts re-typing the lines below the cursor.

    The suggestion's remaining non-blank lines must equal the document's next non-blank lines,
    indentation included (the class's ``}`` is not the method's ``  }``), or at least two of
    them must; one coincidentally equal line in the middle of a suggestion is kept. The first
    line counts only when the cursor line is otherwise blank, and then with its prefix.
    """
    following = [line.rstrip() for line in ctx.next_lines if line.strip()]
    if not following:
        return text
    lines = [line.rstrip() for line in text.split("\n")]
    whole_first = not ctx.line_prefix.strip() and not ctx.line_suffix.strip()
    lines[0] = ctx.line_prefix + lines[0]
    for index in range(0 if whole_first else 1, len(lines)):
        if _echoes(lines[index:], following):
            return "\n".join(text.split("\n")[:index]).rstrip()
    return text


def _excess_closers(text: str) -> int:
    """Closing brackets with no opener, plus one for a string left open; a rough scanner.

    Only used to compare two candidates, so its blind spots (comments, triple quotes) cancel.
    """
    stack: list[str] = []
    excess, quote, escaped = 0, "", False
    for ch in text:
        if escaped:
            escaped = False
        elif quote:
            escaped = ch == "\\"
            quote = "" if ch == quote or (ch == "\n" and quote != "`") else quote
        elif ch in _QUOTES:
            quote = ch
        elif ch in "([{":
            stack.append(ch)
        elif ch in _CLOSERS and stack and stack[-1] == _PAIRS[ch]:
            stack.pop()
        elif ch in _CLOSERS:
            excess += 1
    return excess + int(bool(quote))


def _suffix_candidates(suffix: str) -> list[str]:
    """The whole rest of the line, then just its leading closers and quotes."""
    run = suffix[: len(suffix) - len(suffix.lstrip(_CLOSERS + _QUOTES))]
    return [suffix] + ([run] if run and run != suffix else [])


def _tidy_before_suffix(text: str, ctx: CompletionContext) -> str:
    """Trim what now precedes the suffix, keeping a gap before a word and keeping a final
    indentation-only line (the suffix will land there, correctly indented)."""
    _, newline, last = text.rpartition("\n")
    if (newline and not last.strip()) or re.match(r"\w", ctx.line_suffix):
        return text
    return text.rstrip()


def drop_line_suffix_echo(text: str, ctx: CompletionContext) -> str:
    """Remove a re-typed rest of the line (``a, b)`` before ``)``) from the suggestion's end.

    A duplicate that contains a word is removed outright. A duplicate of only brackets and
    quotes is removed only if that leaves fewer unmatched closers: ``bar(x)`` before ``)`` in
    ``foo(|)`` is balanced and stays; ``bar(x))`` would over-close and loses one ``)``.
    """
    suffix = ctx.line_suffix.strip()
    body = text.rstrip()
    for dup in _suffix_candidates(suffix) if suffix else []:
        if not body.endswith(dup):
            continue
        kept = body[: len(body) - len(dup)]
        if re.search(r"\w", dup) or _fewer_closers(kept, text, ctx):
            return _tidy_before_suffix(kept, ctx)
    return text


def _fewer_closers(kept: str, text: str, ctx: CompletionContext) -> bool:
    def excess(candidate: str) -> int:
        return _excess_closers(ctx.line_prefix + candidate + ctx.line_suffix)

    return excess(kept) < excess(text)


# --- the chain -----------------------------------------------------------------------------

_HEAD_FILTERS: tuple[Filter, ...] = (
    normalize_newlines,
    strip_chatter,
    strip_code_fences,
    normalize_indentation,
    strip_prefix_echo,
)

FILTERS: tuple[Filter, ...] = (
    *_HEAD_FILTERS,
    first_line_only,
    limit_block_scope,
    stop_repetition,
    trim_trailing_whitespace,
    drop_next_lines_echo,
    drop_line_suffix_echo,
    drop_blank,
    apply_eol,
)


def _run(filters: Sequence[Filter], text: str, ctx: CompletionContext) -> str | None:
    for step in filters:
        result = step(text, ctx)
        if result is None:
            return None
        text = result
    return text


def postprocess(
    raw: str, ctx: CompletionContext, filters: Sequence[Filter] = FILTERS
) -> str | None:
    """Run ``raw`` through ``filters`` in order; ``None`` means show nothing."""
    return _run(filters, raw, ctx)


def _fence_closed(partial: str, ctx: CompletionContext) -> bool:
    settled = normalize_newlines(partial, ctx).split("\n")[:-1]
    return _fence_bounds(settled, ctx)[1] is not None


def is_complete(partial: str, ctx: CompletionContext) -> bool:
    """Whether reading more of the stream could only add text the filters would cut.

    True once a closing fence arrived, single-line mode saw a newline, multi-line mode saw a
    whole line that ends the block, or the text started repeating. Only whole lines (and whole
    tokens) are judged, so a line still arriving never ends the stream early.
    """
    cleaned = _run(_HEAD_FILTERS, partial, ctx)
    if cleaned is None or _fence_closed(partial, ctx):
        return True
    if not ctx.multiline:
        return "\n" in cleaned
    settled = cleaned[: cleaned.rfind("\n") + 1]
    if settled and _block_end(settled.split("\n")[:-1], ctx)[1]:
        return True
    partial_word_dropped = _TRAILING_WORD.sub("", cleaned)
    return _line_repetition_cut(settled) is not None or (
        _ngram_repetition_cut(partial_word_dropped) is not None
    )
