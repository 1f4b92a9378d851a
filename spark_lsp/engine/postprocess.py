"""Turn a raw model reply into ghost text worth showing: one ordered list of small filters.

A chat model does not answer with exactly the text to insert. It wraps code in fences, says
"Here is the completion:", echoes the line it was given (or the whole function), indents the
way it likes (relative to the cursor, or from column 0), re-types the closing brackets that are
already after the cursor, runs past the block the user is writing, or loops. Each concern is
one small pure filter ``(text, ctx) -> text | None`` (``None`` drops the suggestion), named for
what it does and listed in :data:`FILTERS` in the order they run, so each can be tested with a
table of cases and the chain can be reordered or extended without touching the others.

Language knowledge (comments, strings, blocks, tabs) comes from
:mod:`spark_lsp.engine.languages`; reading fences and prose from :mod:`spark_lsp.engine.replies`.
Filters work on ``"\\n"`` line endings; the first one normalises them and the last one converts
to the document's ``ctx.eol``. :func:`is_complete` reuses the same rules on a partial stream so
the pipeline can stop reading the model as soon as the rest could only be thrown away.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from spark_lsp.engine.languages import (
    TAB_WIDTH,
    Analysis,
    LineInfo,
    OpenBlock,
    analyze,
    block_end,
    closed_blocks,
    foreign_indent,
    in_element_text,
    indent_of,
    indent_width,
    model_step,
    open_blocks,
    opens_block,
    opens_on_line,
    restyle_indent,
    spec_for,
    structured_language,
    top_level_start,
)
from spark_lsp.engine.replies import (
    is_fence,
    is_intro,
    is_prose,
    strip_leading_prose,
    strip_trailing_prose,
    unwrap_backticks,
    unwrap_fences,
)
from spark_lsp.engine.words import word_start

__all__ = [
    "FILTERS",
    "CompletionContext",
    "Filter",
    "align_indentation",
    "apply_eol",
    "drop_blank",
    "drop_leading_newline",
    "drop_line_suffix_echo",
    "drop_next_lines_echo",
    "first_line_only",
    "is_complete",
    "limit_block_scope",
    "match_indent_style",
    "normalize_newlines",
    "postprocess",
    "stop_repetition",
    "strip_prefix_echo",
    "strip_prose",
    "suffix_allows_multiline",
    "trim_trailing_whitespace",
    "unwrap_code",
]


@dataclass(frozen=True)
class CompletionContext:
    """What the filters know about the cursor; built by the caller from the document.

    Lines carry no end-of-line characters. ``prev_lines`` are in document order (the last one
    is the line just above the cursor); ``next_lines[0]`` is the line just below it.
    ``indent_unit`` is the file's step (a tab or N spaces), ``""`` when the file shows none.
    ``in_text`` says the cursor is inside a comment or string, where prose is the content.
    """

    line_prefix: str = ""
    line_suffix: str = ""
    next_lines: tuple[str, ...] = ()
    prev_lines: tuple[str, ...] = ()
    language_id: str = ""
    multiline: bool = False
    indent_unit: str = "    "
    eol: str = "\n"
    in_text: bool = False

    @cached_property
    def context(self) -> str:
        """The text above the cursor's line, for the parser (built once: several filters key
        their caches by it)."""
        return "".join(line + "\n" for line in self.prev_lines)

    @cached_property
    def language(self) -> str:
        """The language id the filters read with: ``language_id``, or for a language the table
        does not know, the brace fallback when the lines around the cursor show braces."""
        around = (*self.prev_lines, self.line_prefix + self.line_suffix, *self.next_lines)
        return structured_language(self.language_id, around)

    @property
    def blank_line(self) -> bool:
        """The cursor's line holds nothing but indentation."""
        return not self.line_prefix.strip() and not self.line_suffix.strip()


Filter = Callable[[str, CompletionContext], str | None]

_CLOSERS = ")]}"
_PAIRS = {")": "(", "]": "[", "}": "{"}
_QUOTES = "\"'`"
_TOKEN = re.compile(r"\w+|[^\w\s]")
_IDENTIFIER = re.compile(r"^[^\W\d]")
_TRAILING_BLANKS = re.compile(r"[ \t]*\Z")
_ONLY_CLOSERS = re.compile(r"^[\s)\]}\"'`;,]*$")
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")

#: An echo of the text before the cursor must be this long (non-blank characters) to be cut,
#: unless it is the word the cursor is in or the whole line.
_MIN_ECHO_CHARS = 3
_MIN_WORD_ECHO = 2
#: A rewrite that holds the cursor's line further in is recognised when the line is this long.
_MIN_REWRITE_PREFIX = 4
#: A longer echo of the line is a whole-line echo, found without this search.
_MAX_OVERLAP_CHARS = 200
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


def _first_nonblank(lines: Sequence[str]) -> str | None:
    return next((line for line in lines if line.strip()), None)


def _prose_language(ctx: CompletionContext) -> bool:
    return spec_for(ctx.language).prose


# --- line endings ------------------------------------------------------------------------


def normalize_newlines(text: str, ctx: CompletionContext) -> str:
    """Work on ``\\n`` only, so no later filter has to care about ``\\r\\n`` or ``\\r``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def apply_eol(text: str, ctx: CompletionContext) -> str:
    """Match the document's line endings, or the editor would show a mixed-EOL file."""
    return text if ctx.eol == "\n" else text.replace("\n", ctx.eol)


# --- fences and prose -----------------------------------------------------------------------


def unwrap_code(text: str, ctx: CompletionContext) -> str:
    """Keep the code inside markdown fences or single backticks (not in Markdown itself;
    in a comment or string only fences at column 0)."""
    if _prose_language(ctx):
        return text
    lines = unwrap_fences(text.split("\n"), indented=not ctx.in_text)
    return unwrap_backticks("\n".join(lines))


def strip_prose(text: str, ctx: CompletionContext) -> str:
    """Drop "Here is the completion:" before the code and "This sums the items." after it.

    Never where the cursor is in a comment, a string or a prose document (there the sentence
    may be the very text the user is writing), nor on lines inside a string of the reply; nor
    when the reply is nothing but prose between markup tags (a JSX ``<p>``'s text).
    """
    if ctx.in_text or _prose_language(ctx) or spec_for(ctx.language).data:
        return text
    lines = strip_leading_prose(text.split("\n"))
    if not any(line.strip() for line in lines) and in_element_text(ctx.language, _before(ctx)):
        return text
    if len(lines) > 1 and any(is_prose(line) for line in lines[1:]):
        infos = analyze(ctx.language, ctx.context, ctx.line_prefix + "\n".join(lines)).lines
        lines = strip_trailing_prose(lines, [info.transparent for info in infos])
    return "\n".join(lines)


def _before(ctx: CompletionContext) -> str:
    """The text above and before the cursor."""
    return ctx.context + ctx.line_prefix


def drop_leading_newline(text: str, ctx: CompletionContext) -> str:
    """On a blank line the suggestion starts right there, not on the line after it."""
    return _LEADING_BLANK_LINES.sub("", text) if ctx.blank_line else text


# --- indentation style ----------------------------------------------------------------------


def _render(width: int, unit: str, sample: str) -> str:
    """Indentation of ``width`` columns in the file's style (``sample``'s when unknown)."""
    if unit == "\t" or (not unit and "\t" in sample):
        return "\t" * (width // TAB_WIDTH) + " " * (width % TAB_WIDTH)
    return " " * width


def _shift(line: str, delta: int, unit: str) -> str:
    """``line`` indented ``delta`` columns more (or less, down to none)."""
    if not delta or not line.strip():
        return line
    indent = indent_of(line)
    return _render(max(0, indent_width(line) + delta), unit, indent) + line[len(indent) :]


def match_indent_style(text: str, ctx: CompletionContext) -> str:
    """Use the file's indentation character: tabs in a tab file, spaces in a space file.

    In a tab file, runs of spaces become one tab per level of the model's own step (2, 3 or 4
    spaces) and a remainder stays as alignment. A file that shows no style keeps the model's.
    Lines inside strings are content and keep their blanks; so does the first line when text
    stands before the cursor.
    """
    unit = ctx.indent_unit
    lines = text.split("\n")
    if not unit or not any(foreign_indent(line, unit) for line in lines):
        return text
    infos = analyze(ctx.language, ctx.context, ctx.line_prefix + text).lines
    step = model_step(lines)
    out = [
        line
        if infos[i].transparent or (i == 0 and ctx.line_prefix.strip())
        else restyle_indent(line, unit, step)
        for i, line in enumerate(lines)
    ]
    return "\n".join(out)


# --- echo of the text before the cursor -----------------------------------------------------


def _significant(lines: Sequence[str]) -> bool:
    """An echo worth cutting: more than a lone ``}`` or ``end``."""
    joined = "".join(line.strip() for line in lines)
    return len(lines) > 1 or (
        len(joined) > _MIN_ECHO_CHARS and re.search(r"\w", joined) is not None
    )


def _tail_echo(lines: list[str], ctx: CompletionContext) -> tuple[list[str], int] | None:
    """The reply restarted at some line above the cursor: (the rest, the indentation shift
    that maps the model's columns onto the document's)."""
    above = [line for line in ctx.prev_lines if line.strip()]
    reply = [(i, line) for i, line in enumerate(lines) if line.strip()]
    prefix = ctx.line_prefix.strip()
    for count in range(min(len(above), len(reply) - (1 if prefix else 0)), 0, -1):
        echoed = [line for _, line in reply[:count]]
        if [e.strip() for e in echoed] != [a.strip() for a in above[-count:]]:
            continue
        rest = lines[reply[count - 1][0] + 1 :]
        if not _significant(echoed) or (prefix and not _starts_with_prefix(rest, prefix)):
            continue
        return rest, indent_width(above[-1]) - indent_width(echoed[-1])
    return None


def _starts_with_prefix(rest: Sequence[str], prefix: str) -> bool:
    first = _first_nonblank(rest)
    return first is not None and first.lstrip().startswith(prefix)


def _rewrite_echo(lines: list[str], ctx: CompletionContext) -> tuple[list[str], int] | None:
    """The reply rewrote lines above (not quite as they are) and then reached the cursor's
    line: keep what follows the cursor's text there."""
    prefix = ctx.line_prefix.strip()
    if len(prefix) < _MIN_REWRITE_PREFIX:
        return None
    known = {line.strip() for line in ctx.prev_lines if line.strip()}
    for index in range(1, len(lines)):
        if not lines[index].lstrip().startswith(prefix):
            continue
        before = [line.strip() for line in lines[:index] if line.strip()]
        if before and before[0] in known and 2 * sum(b in known for b in before) >= len(before):
            return lines[index:], indent_width(ctx.line_prefix) - indent_width(lines[index])
        return None
    return None


def _token_starts(prefix: str) -> list[int]:
    """Offsets in ``prefix`` where a token starts (longest candidate first)."""
    starts = []
    for i, char in enumerate(prefix):
        if char.isspace():
            continue
        before = prefix[i - 1] if i else " "
        if before.isspace() or (char.isalnum() or char == "_") != (
            before.isalnum() or before == "_"
        ):
            starts.append(i)
    return starts


def _overlap(prefix: str, first: str) -> int:
    """Length of the longest tail of ``prefix`` (from a token start) that ``first`` repeats."""
    prefix = prefix[-_MAX_OVERLAP_CHARS:]
    word_begins = word_start(prefix)
    word = word_begins < len(prefix)
    for start in _token_starts(prefix):
        tail = prefix[start:]
        if not first.startswith(tail):
            continue
        is_word = word and start == word_begins
        if len(tail.strip()) >= _MIN_ECHO_CHARS or (is_word and len(tail) >= _MIN_WORD_ECHO):
            return len(tail)
    return 0


def strip_prefix_echo(text: str, ctx: CompletionContext) -> str:
    """Remove what the reply repeats of the text before the cursor.

    In order: a restart at a line above (the lines above, then the cursor's line, compared
    without indentation), a rewrite that reaches the cursor's line further in, a repeat of the
    cursor's line, and a repeat of its last tokens (``compute_`` + ``compute_total``). What the
    echo tells about the model's columns re-indents the rest.
    """
    lines = text.split("\n")
    found = _tail_echo(lines, ctx) or _rewrite_echo(lines, ctx)
    if found is not None:
        rest, delta = found
        lines = [_shift(line, delta, ctx.indent_unit) for line in rest]
        if ctx.line_prefix.strip():
            while lines and not lines[0].strip():
                lines.pop(0)
        if not lines:
            return ""
    prefix = ctx.line_prefix.lstrip()
    if len(prefix.strip()) >= _MIN_WORD_ECHO and lines[0].lstrip().startswith(prefix):
        lines[0] = lines[0].lstrip()[len(prefix) :]
    elif prefix.strip():
        lines[0] = lines[0][_overlap(prefix, lines[0]) :]
    return "\n".join(lines)


# --- indentation relative to the cursor -------------------------------------------------------


def _expected_steps(kind: str, opener: bool) -> set[int]:
    """Signs the next line's indentation change after the first may have: +1 into a block,
    -1 for a closer or ``else``, 0 for a sibling. Right after an opener, a line that reopens
    is a ``case`` label (at the ``switch``'s column, as Swift and Go write it, or one level
    in) or the ``} else {`` of an empty block (at the opener's column)."""
    if kind == "reopen" and opener:
        return {0, 1}
    if kind in ("closer", "reopen"):
        return {-1}
    return {1} if opener else {0}


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


def _expects_deeper(ctx: CompletionContext) -> bool:
    """The line above opens a block the cursor's indentation has not entered yet."""
    above = _first_nonblank(ctx.prev_lines[::-1])
    if above is None or indent_width(above) < indent_width(ctx.line_prefix):
        return False
    info = analyze(ctx.language, "", above).lines[0]
    return opens_block(above, info, ctx.language)


def align_indentation(text: str, ctx: CompletionContext) -> str:
    """Put continuation lines at the document's columns.

    The model may indent from column 0 (relative to the cursor) or as in the file (absolute);
    the line after the first tells which: it must sit one level in after a line that opens a
    block, one level out for a closer or ``else``, level otherwise. The reading that fits
    wins; when both or neither fit, the model's own columns stay. Lines inside strings keep
    theirs. On a blank line the first line's own indentation is the cursor's.
    """
    lines = text.split("\n")
    if len(lines) == 1 and not ctx.blank_line:
        return text
    analysis = analyze(ctx.language, ctx.context, ctx.line_prefix + text)
    infos = analysis.lines
    follow = next(
        (i for i in range(1, len(lines)) if lines[i].strip() and not infos[i].transparent), None
    )
    cursor = indent_width(ctx.line_prefix)
    first = indent_width(lines[0]) if ctx.blank_line else 0
    if ctx.blank_line and first and _expects_deeper(ctx):
        return text  # the model indented into the block the cursor has not entered yet
    if ctx.blank_line:
        lines[0] = (
            lines[0][len(indent_of(lines[0])) :]
            if first <= cursor
            else _shift(lines[0], -cursor, ctx.indent_unit)
        )
    delta = _reading(lines, infos, ctx, follow, first) if follow is not None else 0
    top = top_level_start(lines, first) if delta else len(lines)
    shifted = [lines[0]] + [
        line if infos[i].transparent else _shift(line, delta if i < top else 0, ctx.indent_unit)
        for i, line in enumerate(lines[1:], start=1)
    ]
    return "\n".join(_align_closers(shifted, analysis, ctx))


def _reading(
    lines: Sequence[str], infos: Sequence[LineInfo], ctx: CompletionContext, follow: int, first: int
) -> int:
    """The shift that puts the model's columns at the document's: ``cursor - first`` when the
    reply is indented relative to the cursor, 0 when absolute (or when nothing tells).

    The line after the first decides; when it fits both readings, the closer of the first
    line's block does (relative, it sits at the first line's column)."""
    cursor = indent_width(ctx.line_prefix)
    if first >= cursor or _aligned_cursor(ctx):
        return 0
    joined = ctx.line_prefix + lines[0]
    steps = _expected_steps(infos[follow].kind, opens_block(joined, infos[0], ctx.language))
    item = spec_for(ctx.language).list_item
    if item and infos[follow].kind == "other" and lines[0].lstrip().startswith(item):
        steps = {0, 1}  # an item's next line is its body or the next item
    width = indent_width(lines[follow])
    if _sign(width - first) not in steps:
        return 0
    if _sign(width - cursor) not in steps:
        return cursor - first
    model = [" " * first + lines[0].lstrip(), *lines[1:]]
    for index, block in enumerate(closed_blocks(model, infos, ())):
        if block is not None and block.width == first:
            closer = indent_width(lines[index])
            return cursor - first if closer == first else 0
    return 0


def _aligned_cursor(ctx: CompletionContext) -> bool:
    """The cursor's column is a continuation's alignment, not a block's level: it is deeper
    than the line above, which ends in a comma and opens nothing (``SELECT a,`` then the next
    column under ``a``). A reply's column 0 there is the statement's, not the cursor's."""
    if not ctx.blank_line:
        return False
    above = _first_nonblank(ctx.prev_lines[::-1])
    if above is None or indent_width(above) >= indent_width(ctx.line_prefix):
        return False
    info = analyze(ctx.language, "", above).lines[0]
    return above.rstrip().endswith(",") and not opens_block(above, info, ctx.language)


def _align_closers(lines: list[str], analysis: Analysis, ctx: CompletionContext) -> list[str]:
    """A line that closes a block opened above the reply (``],`` of the list the cursor is in,
    ``}`` of its function) goes to that opener's column, whatever the model's reading was."""
    if not _closes_above(analysis.lines):
        return lines
    joined = [ctx.line_prefix + lines[0], *lines[1:]]
    above = open_blocks(ctx.language, ctx.context)
    blocks = closed_blocks(joined, analysis.lines, above, _typed_opens(ctx))
    out = [lines[0]]
    for line, block in zip(lines[1:], blocks[1:], strict=False):
        if block is not None and block.above:
            line = _shift(line, block.width - indent_width(line), ctx.indent_unit)
        out.append(line)
    return out


def _closes_above(infos: Sequence[LineInfo]) -> bool:
    """Some line closes more than the reply opened before it (cheap test before the stack)."""
    depth = 0
    for info in infos:
        if depth + info.low < 0:
            return True
        depth += info.delta
    return False


# --- single line / scope -----------------------------------------------------------------------


def first_line_only(text: str, ctx: CompletionContext) -> str:
    """In single-line mode only the rest of the cursor line is wanted."""
    return text if ctx.multiline else text.partition("\n")[0]


def _scope_end(lines: Sequence[str], ctx: CompletionContext) -> tuple[int, bool]:
    joined = [ctx.line_prefix + lines[0], *lines[1:]]
    following = _first_nonblank(ctx.next_lines)
    typed = bool(ctx.line_prefix.strip())
    return block_end(joined, ctx.language, ctx.context, following, typed=typed)


def limit_block_scope(text: str, ctx: CompletionContext) -> str:
    """Stop a multi-line suggestion at the end of the block the cursor is in.

    Where a block ends comes from the language (:func:`languages.block_end`): brackets,
    ``end``/``fi``/``done``/closing tags, and indentation only in indentation languages.
    ``else``/``elsif``/``rescue``/``catch``-style lines continue the same statement; a closer
    that ends the cursor's block is kept and ends the suggestion.
    """
    if not ctx.multiline:
        return text
    lines = text.split("\n")
    end, _ = _scope_end(lines, ctx)
    return "\n".join(lines[:end])


# --- runaway repetition ----------------------------------------------------------------------


def _first_run(
    items: Sequence[str], max_size: int, repeats: int, unit_ok: Callable[[Sequence[str]], bool]
) -> tuple[int, int] | None:
    """Earliest (start, size) where a unit of ``size`` items repeats ``repeats`` times in a row.

    Linear in ``items``: a unit repeats from ``start`` exactly when each of the next
    ``size * (repeats - 1)`` items equals the item ``size`` further on. Those equalities are
    computed per size in one C-level pass and searched as bytes; inside one such streak the
    unit only rotates with period ``size``, so at most ``size`` starts per streak are judged
    (a long ``)))`` whose unit is refused costs one search, not one walk per start). The
    earliest start wins; at the same start, the smaller size.
    """
    best: tuple[int, int] | None = None
    for size in range(1, max_size + 1):
        span = size * (repeats - 1)
        flags = bytes(map(operator.eq, items, itertools.islice(items, size, None)))
        needle = b"\x01" * span
        pos = flags.find(needle)
        while pos >= 0 and (best is None or pos < best[0]):
            end = flags.find(b"\x00", pos)
            last = (len(flags) if end < 0 else end) - span
            found = _first_ok(items, range(pos, min(last, pos + size - 1) + 1), size, unit_ok)
            if found is not None:
                best = (found, size) if best is None or found < best[0] else best
                break
            if end < 0:
                break
            pos = flags.find(needle, end)
    return best


def _first_ok(
    items: Sequence[str], starts: range, size: int, unit_ok: Callable[[Sequence[str]], bool]
) -> int | None:
    return next((s for s in starts if unit_ok(items[s : s + size])), None)


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
    run = _first_run(_TOKEN.findall(text), _MAX_NGRAM, _NGRAM_REPEATS, _has_identifier)
    if run is None:
        return None
    match = next(itertools.islice(_TOKEN.finditer(text), run[0] + run[1], None))
    return match.start()


def _repetition_cut(text: str) -> int | None:
    cuts = [c for c in (_line_repetition_cut(text), _ngram_repetition_cut(text)) if c is not None]
    return min(cuts, default=None)


def stop_repetition(text: str, ctx: CompletionContext) -> str:
    """Cut a model that loops: keep the first copy of the repeated lines or tokens."""
    cut = _repetition_cut(text)
    return text if cut is None else text[:cut]


# --- whitespace ------------------------------------------------------------------------------


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


# --- text that is already after the cursor ---------------------------------------------------


def _same_line(a: str, b: str) -> bool:
    """Equal lines; indentation counts only for bracket-only lines (the class's ``}`` is not
    the method's ``  }``)."""
    if re.search(r"\w", a):
        return a.strip() == b.strip()
    return a.rstrip() == b.rstrip()


def _echoes(tail: Sequence[str], following: Sequence[str]) -> bool:
    body = [line for line in tail if line.strip()]
    shared = min(len(body), len(following))
    if shared == 0 or not all(_same_line(a, b) for a, b in zip(body, following, strict=False)):
        return False
    return shared == len(body) or shared >= 2


def drop_next_lines_echo(text: str, ctx: CompletionContext) -> str:
    """Cut the suggestion where it starts re-typing the lines below the cursor.

    The suggestion's remaining non-blank lines must equal the document's next non-blank lines,
    or at least two of them must; one coincidentally equal line in the middle of a suggestion
    is kept. The first line counts only when the cursor line is otherwise blank. A closer is
    judged by balance, not text: one that closes what the reply opened (or the ``if`` above
    whose ``end`` is missing) is the reply's own, though the next line reads ``end`` too.
    """
    following = [line.rstrip() for line in ctx.next_lines if line.strip()]
    if not following:
        return text
    lines = [line.rstrip() for line in text.split("\n")]
    lines[0] = ctx.line_prefix + lines[0]
    blocks: list[OpenBlock | None] | None = None
    for index in range(0 if ctx.blank_line else 1, len(lines)):
        if not _echoes(lines[index:], following):
            continue
        if blocks is None:
            blocks = _closed_by_lines(text, ctx)
        start = next(i for i in range(index, len(lines)) if lines[i].strip())
        if _own_closer(blocks[start], following[0]):
            continue
        return "\n".join(text.split("\n")[:index]).rstrip()
    return text


def _closed_by_lines(text: str, ctx: CompletionContext) -> list[OpenBlock | None]:
    """What each line of the suggestion closes (see :func:`languages.closed_blocks`)."""
    analysis = analyze(ctx.language, ctx.context, ctx.line_prefix + text)
    joined = [ctx.line_prefix + line if i == 0 else line for i, line in enumerate(text.split("\n"))]
    above = open_blocks(ctx.language, ctx.context)
    return closed_blocks(joined, analysis.lines, above, _typed_opens(ctx))


def _typed_opens(ctx: CompletionContext) -> int:
    """Blocks the text before the cursor opens on its line (``function f() {``)."""
    if not ctx.line_prefix.strip():
        return 0
    return opens_on_line(ctx.language, ctx.context, ctx.line_prefix)


def _own_closer(block: OpenBlock | None, following: str) -> bool:
    """A closer that closes a block the reply opened, or one opened above at another column
    than the document's next line (that line closes an outer block)."""
    if block is None:
        return False
    return not block.above or block.width != indent_width(following)


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

#: Filters that read the reply (what it says); :func:`is_complete` runs these on a partial one.
_READING: tuple[Filter, ...] = (
    normalize_newlines,
    unwrap_code,
    strip_prose,
    drop_leading_newline,
    match_indent_style,
    strip_prefix_echo,
    align_indentation,
)

#: The whole chain, in the order it runs.
FILTERS: tuple[Filter, ...] = (
    *_READING,
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


def _echo_pending(settled: Sequence[str], ctx: CompletionContext) -> bool:
    """The reply so far repeats a run of lines above without reaching the cursor yet."""
    said = [line.strip() for line in settled if line.strip()]
    if not said:
        return True
    above = [line.strip() for line in ctx.prev_lines if line.strip()]
    size = len(said)
    return any(above[k : k + size] == said for k in range(len(above) - size + 1))


@lru_cache(maxsize=64)
def _settled_complete(settled: str, ctx: CompletionContext) -> bool:
    """Whether the whole lines received so far already end the block."""
    raw = settled.split("\n")[:-1]
    if _echo_pending(normalize_newlines(settled, ctx).split("\n"), ctx):
        return False
    cleaned = _run(_READING, "\n".join(raw), ctx)
    if cleaned is None or not cleaned.strip():
        return False
    lines = cleaned.split("\n")
    return _scope_end(lines, ctx)[1] or _line_repetition_cut(cleaned) is not None


def is_complete(partial: str, ctx: CompletionContext) -> bool:
    """Whether reading more of the stream could only add text the filters would cut.

    True once a closing fence arrived, single-line mode saw a newline after some text,
    multi-line mode saw a whole line that ends the block, or the text started repeating. Only
    whole lines (and whole tokens) are judged, so a line still arriving never ends the stream
    early; a reply still echoing the lines above is never judged.
    """
    text = normalize_newlines(partial, ctx)
    if _ngram_repetition_cut(text[: word_start(text)]) is not None:
        return True
    settled = text[: text.rfind("\n") + 1]
    if not settled:
        return False
    if _closed_fence(settled, ctx):
        return True
    if not ctx.multiline:
        cleaned = _run(_READING, settled, ctx)
        return (
            cleaned is not None
            and bool(cleaned.strip())
            and not _echo_pending(settled.split("\n"), ctx)
        )
    return _settled_complete(settled, ctx)


def _closed_fence(settled: str, ctx: CompletionContext) -> bool:
    """The model closed its code block: a second fence, or a fence after code."""
    if _prose_language(ctx):
        return False
    lines = settled.split("\n")[:-1]
    fences = [i for i, line in enumerate(lines) if is_fence(line)]
    if len(fences) >= 2:
        return True
    return bool(fences) and not all(is_intro(line) for line in lines[: fences[0]])
