"""What spark-lsp knows about each language: comments, blocks, indentation, and where a block ends.

Post-processing (where does a multi-line suggestion stop?), edits (which indentation does a
region use?) and context (how is a comment written?) all ask the same questions, so the answers
live here, in one table. The syntax tree comes first: where a grammar is installed
(:mod:`spark_lsp.engine.grammars`) strings, heredocs, raw strings and comments are read from the
parse, and brackets and keywords are its tokens. Without one, a small lexer driven by the same
table finds them. Block depth then comes from brackets plus the table's keywords; indentation
decides only in indentation languages (Python, YAML, Sass…).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, reduce
from math import gcd
from typing import TYPE_CHECKING

from spark_lsp.engine.grammars import canonical_language, parser_for

if TYPE_CHECKING:
    from tree_sitter import Node

__all__ = [
    "KEYWORDS_ID",
    "LanguageSpec",
    "Analysis",
    "LineInfo",
    "OpenBlock",
    "closed_blocks",
    "TAB_WIDTH",
    "analyze",
    "block_end",
    "comment_syntax",
    "foreign_indent",
    "cursor_in_text",
    "indent_unit",
    "in_element_text",
    "indent_width",
    "line_comment",
    "line_kind",
    "net_depth",
    "open_blocks",
    "opens_block",
    "opens_on_line",
    "restyle_indent",
    "spec_for",
    "structured_language",
    "top_level_start",
]

TAB_WIDTH = 4


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    """One row of the language table; the defaults describe a C-like brace language."""

    line_comment: str | None = "//"
    block_comment: tuple[str, str] | None = ("/*", "*/")
    #: Blocks end by indentation (Python, YAML, Sass): brackets still group lines.
    indentation: bool = False
    #: The language indents with tabs whatever the file shows (Go, Makefiles).
    tabs: bool = False
    #: Prose: no block scope, no prose stripping, fences are content.
    prose: bool = False
    brackets: str = "()[]{}"
    quotes: str = "\"'`"
    #: Quotes whose strings may run over several lines (others end with the line).
    multiline_quotes: str = "`"
    triple_quotes: bool = False
    #: Keywords that open a block when they start a line (Ruby ``def``, shell ``if``).
    line_openers: frozenset[str] = frozenset()
    #: Keywords that open a block wherever they stand (``do``, Lua ``then``/``function``).
    openers: frozenset[str] = frozenset()
    #: Keywords that close one (``end``, ``fi``, ``done``, ``esac``, ``until``).
    closers: frozenset[str] = frozenset()
    #: Words that, starting a line, continue the enclosing compound statement one level up.
    continuations: frozenset[str] = frozenset()
    #: ``#`` lines are preprocessor directives, outside the block structure.
    preprocessor: bool = False
    #: Markup: ``<tag>`` opens and ``</tag>`` closes.
    tags: bool = False
    #: What makes a line open an indented block in an indentation language.
    block_suffix: str = r"[:{(\[]"
    #: A data format: a capitalised line ending in a period may be a value, not prose.
    data: bool = False
    #: A list item (YAML ``- ``): the lines after it may be its body, one level in, or siblings.
    list_item: str = ""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_C_CONTINUATIONS = _words("else catch finally case default")
_HASH = LanguageSpec(line_comment="#", block_comment=None)
_RUBY = LanguageSpec(
    line_comment="#",
    block_comment=("=begin", "=end"),
    line_openers=_words("def class module if unless while until case begin for"),
    openers=_words("do"),
    closers=_words("end"),
    continuations=_words("elsif else rescue ensure when in"),
)
_SHELL = LanguageSpec(
    line_comment="#",
    block_comment=None,
    brackets="{}",
    quotes="\"'",
    line_openers=_words("if case"),
    openers=_words("do"),
    closers=_words("fi esac done"),
    continuations=_words("elif else"),
)
_LUA = LanguageSpec(
    line_comment="--",
    block_comment=("--[[", "]]"),
    quotes="\"'",
    openers=_words("function do then repeat"),
    closers=_words("end until"),
    continuations=_words("else elseif"),
)
_PYTHON = LanguageSpec(
    line_comment="#",
    block_comment=None,
    indentation=True,
    quotes="\"'",
    triple_quotes=True,
    continuations=_words("else elif except finally case"),
)
_MARKUP = LanguageSpec(line_comment=None, block_comment=("<!--", "-->"), tags=True, quotes='"')
_CSS = LanguageSpec(line_comment=None, quotes="\"'")
_PROSE = LanguageSpec(line_comment=None, block_comment=None, prose=True)

#: The table, by canonical LSP language id. Unknown languages get ``LanguageSpec()``.
LANGUAGES: dict[str, LanguageSpec] = {
    "python": _PYTHON,
    "javascript": LanguageSpec(continuations=_C_CONTINUATIONS),
    "typescript": LanguageSpec(continuations=_C_CONTINUATIONS),
    "go": LanguageSpec(tabs=True, continuations=_C_CONTINUATIONS),
    "rust": LanguageSpec(quotes='"', multiline_quotes='"', continuations=_C_CONTINUATIONS),
    "c": LanguageSpec(quotes="\"'", preprocessor=True, continuations=_C_CONTINUATIONS),
    "cpp": LanguageSpec(quotes="\"'", preprocessor=True, continuations=_C_CONTINUATIONS),
    "java": LanguageSpec(quotes="\"'", continuations=_C_CONTINUATIONS),
    "csharp": LanguageSpec(quotes="\"'", preprocessor=True, continuations=_C_CONTINUATIONS),
    "kotlin": LanguageSpec(quotes="\"'", continuations=_C_CONTINUATIONS),
    "swift": LanguageSpec(quotes='"', continuations=_C_CONTINUATIONS),
    "php": LanguageSpec(continuations=_C_CONTINUATIONS),
    "ruby": _RUBY,
    "shellscript": _SHELL,
    "lua": _LUA,
    "html": _MARKUP,
    "xml": _MARKUP,
    "vue": _MARKUP,
    "css": _CSS,
    "scss": LanguageSpec(quotes="\"'"),
    "less": LanguageSpec(quotes="\"'"),
    "sass": LanguageSpec(indentation=True, quotes="\"'", block_suffix=r"$^"),
    "yaml": LanguageSpec(
        line_comment="#",
        block_comment=None,
        indentation=True,
        quotes="\"'",
        block_suffix=r":",
        data=True,
        list_item="- ",
    ),
    "toml": LanguageSpec(line_comment="#", block_comment=None, data=True),
    "json": LanguageSpec(line_comment=None, block_comment=None, quotes='"', data=True),
    "makefile": LanguageSpec(line_comment="#", block_comment=None, tabs=True, quotes="\"'"),
    "dockerfile": _HASH,
    "perl": _HASH,
    "r": _HASH,
    "elixir": LanguageSpec(
        line_comment="#",
        block_comment=None,
        openers=_words("do fn"),
        closers=_words("end"),
        continuations=_words("else rescue catch after"),
    ),
    "julia": LanguageSpec(
        line_comment="#",
        block_comment=("#=", "=#"),
        line_openers=_words("function if for while begin let struct module macro try"),
        closers=_words("end"),
        continuations=_words("else elseif catch finally"),
    ),
    "sql": LanguageSpec(line_comment="--"),
    "haskell": LanguageSpec(line_comment="--", block_comment=("{-", "-}"), indentation=True),
    "clojure": LanguageSpec(line_comment=";;", block_comment=None),
    "lisp": LanguageSpec(line_comment=";;", block_comment=None),
    "scheme": LanguageSpec(line_comment=";;", block_comment=None),
    "vim": LanguageSpec(line_comment='"', block_comment=None),
    "latex": LanguageSpec(line_comment="%", block_comment=None, prose=True),
    "erlang": LanguageSpec(line_comment="%", block_comment=None),
    "matlab": LanguageSpec(line_comment="%", block_comment=("%{", "%}")),
    "markdown": _PROSE,
    "mdx": _PROSE,
    "plaintext": _PROSE,
    "text": _PROSE,
    "restructuredtext": _PROSE,
}
# Editor ids that name a table row above under another name.
_SAME_AS = {
    "javascriptreact": "javascript",
    "typescriptreact": "typescript",
    "objective-c": "c",
    "objective-cpp": "cpp",
    "cuda-cpp": "cpp",
    "jsonc": "json",
    "coffeescript": "python",
    "dart": "java",
    "scala": "java",
    "groovy": "java",
    "svelte": "html",
    "astro": "html",
    "handlebars": "html",
}


#: A language we know nothing about: indentation decides, a closing bracket or ``else`` line
#: belongs to the block it closes, and ``#`` or ``//`` may start a comment. Braces still group
#: lines; :func:`structured_language` picks :data:`GENERIC_BRACES` for a file that shows them
#: as its blocks (Zig, Solidity, V, Odin, HCL…).
GENERIC = LanguageSpec(
    line_comment="//",
    indentation=True,
    block_suffix=r"[:={(\[]",
    brackets="()[]{}",
    continuations=_words("else elif except finally catch case default"),
)
#: An unknown language whose blocks are ``{ … }``: brackets decide, as in C.
GENERIC_BRACES = LanguageSpec(continuations=_C_CONTINUATIONS)
#: The pseudo language id :func:`structured_language` answers for :data:`GENERIC_BRACES`.
BRACES_ID = "spark-generic-braces"
#: An unknown language whose blocks end with the word ``end`` (Crystal, and the like): the
#: usual keywords that open such a block when they start a line, ``do`` anywhere, and the
#: words that continue one (``elsif``, ``else``, ``rescue``, ``when``…).
GENERIC_KEYWORDS = LanguageSpec(
    line_comment="#",
    block_comment=None,
    line_openers=_words(
        "def class module struct enum union lib macro annotation interface function fun proc"
        " if unless while until case select begin for loop"
    ),
    openers=_words("do"),
    closers=_words("end"),
    continuations=_words("elsif elseif elif else rescue ensure when catch finally"),
)
#: The pseudo language id :func:`structured_language` answers for :data:`GENERIC_KEYWORDS`.
KEYWORDS_ID = "spark-generic-end"
_GENERIC_IDS = {BRACES_ID: GENERIC_BRACES, KEYWORDS_ID: GENERIC_KEYWORDS}


def spec_for(language_id: str) -> LanguageSpec:
    """The table row for an editor's language id (:data:`GENERIC` when unknown)."""
    key = canonical_language(language_id)
    generic = _GENERIC_IDS.get(key)
    if generic is not None:
        return generic
    return LANGUAGES.get(_SAME_AS.get(key, key), GENERIC)


_BLOCK_OPEN = re.compile(r"\{\s*(?://.*|#.*|/\*.*)?$")
_COLON_OPEN = re.compile(r"[:=]\s*(?:#.*)?$")
#: A line that closes a keyword block: ``end``, ``end;``, ``end.``, ``end if``, ``end loop;``.
_END_LINE = re.compile(r"^end\b\s*(?:[;.]|[A-Za-z_]\w*\s*;?)?\s*$")


def structured_language(language_id: str, lines: Sequence[str]) -> str:
    """The language id to read ``lines`` with: the editor's, or for a language the table does
    not know, :data:`KEYWORDS_ID` when the document closes its blocks with ``end`` lines (at
    least as many as lines that open or close braces), :data:`BRACES_ID` when its blocks are
    braces (lines that end in ``{`` outnumber lines that end in ``:`` or ``=`` before a
    deeper line)."""
    key = canonical_language(language_id)
    if key in LANGUAGES or key in _SAME_AS or parser_for(key) is not None:
        return language_id
    braces = colons = ends = 0
    for index, line in enumerate(lines):
        code = line.strip()
        if _BLOCK_OPEN.search(code) or code.startswith("}"):
            braces += 1
        elif _END_LINE.match(code):
            ends += 1
        elif _COLON_OPEN.search(code) and index + 1 < len(lines):
            colons += int(indent_width(lines[index + 1]) > indent_width(line))
    if ends and ends >= braces:
        return KEYWORDS_ID
    return BRACES_ID if braces and braces >= colons else language_id


def comment_syntax(language_id: str) -> tuple[str | None, tuple[str, str] | None]:
    """(line-comment marker, block-comment delimiters); ``None`` where the language has none."""
    spec = spec_for(language_id)
    return spec.line_comment, spec.block_comment


def line_comment(language_id: str) -> str | None:
    """The line-comment marker, or ``None`` (HTML, CSS, JSON and Markdown have none)."""
    return spec_for(language_id).line_comment


# --- indentation ----------------------------------------------------------------------------


def indent_of(line: str) -> str:
    """The leading blanks of ``line``."""
    return line[: len(line) - len(line.lstrip(" \t"))]


def indent_width(line: str) -> int:
    """Width of the leading blanks, a tab counting :data:`TAB_WIDTH`."""
    return len(indent_of(line).expandtabs(TAB_WIDTH))


def _space_unit(widths: Sequence[int]) -> int:
    step = reduce(gcd, widths, 0)
    return step if step in (2, 3) else 4


def indent_unit(lines: Sequence[str], language_id: str) -> str:
    """The file's indentation step from ``lines`` (a tab, or N spaces); ``""`` when unknown.

    A block comment's `` * `` continuation lines are not evidence (a license header would
    otherwise read as a one- or two-space file). With no evidence a tab language answers a tab
    and any other language ``""``: the caller then keeps the model's own indentation.
    """
    widths = []
    for line in lines:
        stripped = line.lstrip(" \t")
        if not stripped.strip() or stripped.startswith("*"):
            continue
        if line.startswith("\t"):
            return "\t"
        if line.startswith(" "):
            widths.append(len(line) - len(stripped))
    if widths:
        return " " * _space_unit(widths)
    return "\t" if spec_for(language_id).tabs else ""


def model_step(lines: Sequence[str]) -> int:
    """How many spaces the model used per level in ``lines`` (2, 3 or 4)."""
    widths = [
        len(indent_of(line)) for line in lines if line.strip() and "\t" not in indent_of(line)
    ]
    return _space_unit([w for w in widths if w])


def foreign_indent(line: str, unit: str) -> bool:
    """Spaces in a tab file, or tabs in a space file."""
    indent = indent_of(line)
    return ("\t" not in indent) if unit == "\t" else ("\t" in indent)


def restyle_indent(line: str, unit: str, step: int) -> str:
    """``line`` indented with the file's character: in a tab file one tab per ``step`` spaces
    (a remainder stays as alignment), in a space file one ``unit`` per tab."""
    indent = indent_of(line)
    if not indent or not unit or not foreign_indent(line, unit):
        return line
    if unit == "\t":
        levels, rest = divmod(len(indent), step)
        return "\t" * levels + " " * rest + line[len(indent) :]
    return indent.replace("\t", unit) + line[len(indent) :]


# --- line analysis ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineInfo:
    """What the block scanner needs to know about one line.

    ``transparent``: the line starts inside a string, heredoc or comment, or is a preprocessor
    directive — it says nothing about blocks. ``low`` is the lowest bracket/keyword depth
    reached on the line and ``delta`` the depth at its end, both relative to its start.
    ``kind`` is ``closer`` (the line closes a block: ``}``, ``end``, ``fi``), ``reopen``
    (``} else {``, ``elsif``, ``rescue``) or ``other``.
    """

    transparent: bool = False
    low: int = 0
    delta: int = 0
    kind: str = "other"


_OPAQUE_SUFFIXES = ("string", "string_literal", "comment", "heredoc_body", "block_scalar")
_OPAQUE_TYPES = frozenset(
    {"char_literal", "template_string", "text_block", "raw_text", "heredoc_end"}
)
_WORD = re.compile(r"[A-Za-z_][\w]*")
_TAG = re.compile(r"<(/?)([A-Za-z][\w:-]*)[^<>]*?(/?)>")
_VOID_TAGS = _words("area base br col embed hr img input link meta source track wbr")


def _opaque(node_type: str) -> bool:
    return node_type in _OPAQUE_TYPES or node_type.endswith(_OPAQUE_SUFFIXES)


@dataclass
class _Scan:
    """Per-row raw facts, filled by the tree walker or the fallback lexer."""

    rows: int
    inside: set[int] = field(default_factory=set)
    open_at_end: bool = False
    end_state: str | None = None
    tokens: dict[int, list[tuple[int, str]]] = field(default_factory=dict)

    def token(self, row: int, column: int, text: str) -> None:
        self.tokens.setdefault(row, []).append((column, text))

    def merged(self, words: _Scan) -> _Scan:
        """This scan's strings and punctuation with ``words``' keywords.

        Keywords come from the lexer because a parser's error recovery turns a stray ``end``
        or ``fi`` (its opener is above the window) into a plain identifier.
        """
        for row, found in words.tokens.items():
            mine = [token for token in self.tokens.get(row, []) if not _WORD.match(token[1])]
            words_only = [token for token in found if _WORD.match(token[1])]
            self.tokens[row] = sorted(mine + words_only)
        return self


#: JSX/TSX element nodes: their tags open and close blocks, as markup's do (the grammar tells a
#: tag from a comparison or a generic).
_JSX_OPEN, _JSX_CLOSE, _JSX_SELF = (
    "jsx_opening_element",
    "jsx_closing_element",
    "jsx_self_closing_element",
)
_JSX_NODES = frozenset({_JSX_OPEN, _JSX_CLOSE, _JSX_SELF})
#: Pseudo tokens for them: an element opened or closed, a tag's attributes over several lines.
_ELEMENT_OPEN, _ELEMENT_CLOSE, _TAG_OPEN, _TAG_CLOSE = "<el>", "</el>", "<tag", "tag>"
_PSEUDO_STEPS = {_ELEMENT_OPEN: 1, _ELEMENT_CLOSE: -1, _TAG_OPEN: 1, _TAG_CLOSE: -1}


def _walk(node: Node, min_row: int) -> Iterator[Node]:
    """Leaves, opaque nodes and JSX elements of a tree, in document order, without recursion;
    subtrees that end above ``min_row`` are skipped."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.end_point.row < min_row:
            continue
        if current.child_count == 0 or _opaque(current.type):
            yield current
            continue
        if current.type in _JSX_NODES:
            yield current
        stack.extend(reversed(current.children))


def _jsx_tokens(node: Node, scan: _Scan) -> None:
    """An opening tag opens a block its closing tag closes; a tag written over several lines
    is a bracket of its own, closed on the line of its ``>`` (so that line reads as a closer)."""
    start, end = node.start_point, node.end_point
    if end.row > start.row:
        scan.token(start.row, start.column, _TAG_OPEN)
        scan.token(end.row, max(0, end.column - 1), _TAG_CLOSE)
    if node.type == _JSX_OPEN:
        scan.token(start.row, start.column, _ELEMENT_OPEN)
    elif node.type == _JSX_CLOSE:
        scan.token(start.row, start.column, _ELEMENT_CLOSE)


def _scan_tree(language_id: str, source: str, min_row: int = 0) -> _Scan | None:
    parser = parser_for(language_id)
    if parser is None:
        return None
    tree = parser.parse(source.encode("utf-8", "surrogatepass"))
    scan = _Scan(source.count("\n") + 1)
    for node in _walk(tree.root_node, min_row):
        if node.is_missing or node.start_byte == node.end_byte:
            continue  # error recovery's invented tokens (a ``}`` the text lacks) are not text
        start, end = node.start_point, node.end_point
        if node.type in _JSX_NODES:
            _jsx_tokens(node, scan)
        elif _opaque(node.type):
            whole = node.type == "heredoc_end" or (start.column == 0 and "body" in node.type)
            first = start.row if whole else start.row + 1
            last = end.row if end.column > 0 else end.row - 1
            scan.inside.update(range(first, last + 1))
        elif not node.is_named and not _WORD.match(node.type):
            scan.token(start.row, start.column, node.type)
    return scan


def _scan_text(spec: LanguageSpec, source: str, row0: int = 0, state: str | None = None) -> _Scan:
    """The fallback lexer: quotes, triple quotes, line and block comments, words, brackets.

    ``state`` is what the text starts inside (a delimiter), from the lines before ``row0``.
    """
    lines = source.split("\n")
    scan = _Scan(len(lines))
    for row, line in enumerate(lines, start=row0):
        if state is not None:
            scan.inside.add(row)
        i = 0
        while i < len(line):
            if state is None:
                i, state = _lex_one(spec, line, i, scan, row)
                continue
            end = line.find(state, i) if state != "\n" else -1
            if end < 0:
                break
            i, state = end + len(state), None
        scan.open_at_end = state is not None
        if state == "\n" or (
            state is not None and state in spec.quotes and state not in spec.multiline_quotes
        ):
            state = None  # line comments and ordinary quotes end with the line
    scan.end_state = state
    return scan


@lru_cache(maxsize=64)
def _plain_run(spec: LanguageSpec) -> re.Pattern[str]:
    """Characters that can start nothing the lexer cares about (blanks, operators)."""
    starts = {"\\", *spec.quotes, *spec.brackets}
    starts.update(
        marker[0] for marker in (spec.line_comment, *(spec.block_comment or ())) if marker
    )
    return re.compile("[^\\w" + "".join(re.escape(c) for c in sorted(starts)) + "]+")


def _lex_one(
    spec: LanguageSpec, line: str, i: int, scan: _Scan, row: int
) -> tuple[int, str | None]:
    plain = _plain_run(spec).match(line, i)
    if plain:
        return plain.end(), None
    if spec.line_comment and line.startswith(spec.line_comment, i):
        return len(line), "\n"
    if spec.block_comment and line.startswith(spec.block_comment[0], i):
        return i + len(spec.block_comment[0]), spec.block_comment[1]
    triple = line[i : i + 3]
    if spec.triple_quotes and triple in ('"""', "'''"):
        return i + 3, triple
    char = line[i]
    if char == "\\":
        return i + 2, None
    if char in spec.quotes:
        return i + 1, char
    word = _WORD.match(line, i)
    if word:
        scan.token(row, i, word.group())
        return word.end(), None
    if char in spec.brackets:
        scan.token(row, i, char)
    return i + 1, None


def _bracket_steps(token: str, spec: LanguageSpec) -> list[int]:
    opening, closing = spec.brackets[0::2], spec.brackets[1::2]
    return [1 if c in opening else -1 for c in token if c in opening or c in closing]


def _line_steps(spec: LanguageSpec, tokens: Sequence[str], line: str) -> tuple[list[int], str]:
    """Depth steps of one line, in order, and its kind."""
    stripped = line.strip()
    first = _WORD.match(stripped)
    first_word = first.group() if first else ""
    steps: list[int] = []
    continuation = first_word in spec.continuations
    # ``while x do``: the ``do`` belongs to the block the line's first word opened
    opened = first_word in spec.line_openers
    if continuation and (spec.closers or spec.indentation):
        steps += [-1, 1]  # in a brace language the ``}`` before ``else`` does the closing
    for index, token in enumerate(tokens):
        if token in _PSEUDO_STEPS:
            steps.append(_PSEUDO_STEPS[token])
        elif token in spec.closers and not (continuation and index == 0):
            steps.append(-1)
        elif token in spec.openers and not continuation and not opened:
            steps.append(1)
        elif token in spec.line_openers and index == 0 and token == first_word:
            steps.append(1)
        elif token and token[-1] in "([{" or token in ")]}" or token in ("]]", "[["):
            steps += _bracket_steps(token, spec)
    if spec.tags:
        steps += _tag_steps(stripped)
    leads = continuation or first_word in spec.closers or stripped.startswith(_CLOSING_STARTS)
    return steps, _kind(steps, stripped, continuation, leads)


def _tag_steps(line: str) -> list[int]:
    steps = []
    for closing, name, self_closing in _TAG.findall(line):
        if closing:
            steps.append(-1)
        elif not self_closing and name.lower() not in _VOID_TAGS:
            steps.append(1)
    return steps


#: How a line that starts by closing something begins: a bracket, a closing tag, a tag's end.
_CLOSING_STARTS = (")", "]", "}", "</", "/>", ">")


def _kind(steps: Sequence[int], stripped: str, continuation: bool, leads: bool) -> str:
    """``leads``: the line begins with what closes (``x > hi) {`` closes a bracket mid-line
    and is an ordinary line)."""
    if not steps or steps[0] >= 0 or not leads:
        return "reopen" if continuation or _LABEL.match(stripped) else "other"
    return "reopen" if sum(steps) >= 0 else "closer"


_LABEL = re.compile(r"^(?:case\b.*|default\s*):\s*$")


def _fold(steps: Sequence[int]) -> tuple[int, int]:
    depth = low = 0
    for step in steps:
        depth += step
        low = min(low, depth)
    return low, depth


@dataclass(frozen=True, slots=True)
class Analysis:
    """Line facts for a suggestion, plus what the lines above left open.

    ``start_depth`` is the bracket depth the cursor's line starts at (an indentation language
    ignores indentation until it is closed) and ``anchor_width`` the indentation of the
    statement that opened it.
    """

    start_depth: int
    anchor_width: int
    lines: tuple[LineInfo, ...]


@dataclass(frozen=True, slots=True)
class _ContextFacts:
    """What the lines above the cursor leave open, read once per context."""

    state: str | None
    depth: int
    anchor: int


#: Languages whose blocks include JSX elements, which only the grammar tells from comparisons.
_JSX_LANGUAGES = frozenset({"javascript", "javascriptreact", "typescriptreact"})


@lru_cache(maxsize=32)
def _lexed(language_id: str, context: str) -> _Scan:
    """The lexer's reading of the lines above (shared; never modified)."""
    return _scan_text(spec_for(language_id), context)


@lru_cache(maxsize=32)
def _context_facts(language_id: str, context: str) -> _ContextFacts:
    """The lexer's state after the lines above, and for indentation languages the bracket depth
    they leave open and the indentation of the statement that opened it (read by the lexer
    alone: an indentation language's strings and comments are what it reads well)."""
    spec = spec_for(language_id)
    lexed = _lexed(language_id, context)
    if not spec.indentation:  # depth is counted from the cursor's line: only the state matters
        return _ContextFacts(lexed.end_state, 0, 0)
    depth, anchor = 0, 0
    for row, line in enumerate(context.split("\n")[:-1]):
        info = _line_info(spec, lexed, row, line)
        if not info.transparent and line.strip() and depth == 0:
            anchor = indent_width(line)
        depth = max(0, depth + info.delta)
    return _ContextFacts(lexed.end_state, depth, anchor)


@lru_cache(maxsize=32)
def open_blocks(language_id: str, context: str) -> tuple[int, ...]:
    """The blocks the lines above leave open, innermost last: each opener's indentation (a
    closer of that block belongs at that column). Read on demand: only a reply that closes
    more than it opens needs it."""
    spec = spec_for(language_id)
    scan = _lexed(language_id, context)
    if canonical_language(language_id) in _JSX_LANGUAGES and context:
        tree = _scan_tree(language_id, context)  # JSX elements are the grammar's to tell
        scan = scan if tree is None else tree.merged(scan)
    stack: list[OpenBlock] = []
    structural = _structural_tokens(spec)
    for row, line in enumerate(context.split("\n")[:-1]):
        tokens = scan.tokens.get(row, ())
        if spec.tags or any(
            token in structural or token[-1] in "([{" or token[0] in ")]}" for _, token in tokens
        ):
            _step(stack, line, _line_info(spec, scan, row, line))
    return tuple(block.width for block in stack)


@lru_cache(maxsize=64)
def _structural_tokens(spec: LanguageSpec) -> frozenset[str]:
    """Tokens that open or close blocks: a line without any leaves the stack as it is."""
    keywords = spec.openers | spec.closers | spec.line_openers | spec.continuations
    return frozenset(spec.brackets) | keywords | frozenset(_PSEUDO_STEPS)


@lru_cache(maxsize=256)
def analyze(language_id: str, context: str, text: str) -> Analysis:
    """Per-line facts for ``text`` (the suggestion, its first line joined to the cursor line),
    parsed after ``context`` (whole lines above it, so an open string or comment is known)."""
    spec = spec_for(language_id)
    offset = context.count("\n")
    facts = _context_facts(language_id, context)
    lexed = _scan_text(spec, text, offset, facts.state)
    tree = _scan_tree(language_id, context + text, offset) if not spec.tags else None
    scan = lexed if tree is None else tree.merged(lexed)
    infos = tuple(
        _line_info(spec, scan, row, line) for row, line in enumerate(text.split("\n"), start=offset)
    )
    return Analysis(facts.depth, facts.anchor, infos)


@dataclass(frozen=True, slots=True)
class OpenBlock:
    """A block open at some line: its opener's indentation, and whether the opener stands above
    the suggestion (in the document) rather than in it."""

    width: int
    above: bool


def closed_blocks(
    lines: Sequence[str],
    infos: Sequence[LineInfo],
    open_above: Sequence[int],
    typed_opens: int = 0,
) -> list[OpenBlock | None]:
    """For each line that starts by closing a block (``}``, ``end``, ``} else {``, ``elsif``),
    the block it closes first; ``None`` for other lines or when nothing known is open.

    Blocks open above are ``open_above`` (innermost last); a line that closes and reopens
    (``else``) continues the block it closed, so a later ``end`` still closes that one.
    ``typed_opens`` of the blocks the first line opens were typed before the cursor: those
    stand in the document too."""
    stack = [OpenBlock(width, True) for width in open_above]
    out: list[OpenBlock | None] = []
    for index, (line, info) in enumerate(zip(lines, infos, strict=False)):
        out.append(_step(stack, line, info, typed_opens if index == 0 else 0))
    return out


def _step(stack: list[OpenBlock], line: str, info: LineInfo, typed: int = 0) -> OpenBlock | None:
    """Apply one line to the stack of open blocks; the block it starts by closing, if any."""
    if info.transparent or not line.strip():
        return None
    pops = min(len(stack), -info.low)
    closed = stack[len(stack) - pops :]
    del stack[len(stack) - pops :]
    pushes = info.delta - info.low
    if pushes > 0 and info.kind == "reopen" and closed:
        stack.append(closed[-1])
        pushes -= 1
    # ``    x > hi) {`` closes its statement's bracket and opens the statement's block
    opened = closed[0] if closed and info.kind == "other" else OpenBlock(indent_width(line), False)
    typed = min(pushes, typed)
    stack.extend([OpenBlock(opened.width, True)] * typed + [opened] * (pushes - typed))
    return closed[-1] if info.kind in ("closer", "reopen") and closed else None


_TERMINATOR = re.compile(r"^(?:return|raise|throw|break|continue|exit|panic)\b")


def top_level_start(lines: Sequence[str], first: int = 0) -> int:
    """Where a reply that started in a block goes on at the top level: the first line, at or
    left of the reply's first column (``first``), after two blank lines or after a ``return``
    (or ``raise``, ``break``…) at its own column, which would make it dead code in the block.
    ``len(lines)`` when there is none. Lines from there keep the model's columns."""
    blanks, last_width, last_ends = 0, first, False
    for index, line in enumerate(lines):
        if not line.strip():
            blanks += 1
            continue
        width = indent_width(line) if index else first
        after_exit = last_ends and width == last_width
        if index and blanks and width <= first and (blanks >= 2 or after_exit):
            return index
        blanks, last_width, last_ends = 0, width, bool(_TERMINATOR.match(line.strip()))
    return len(lines)


def _line_info(spec: LanguageSpec, scan: _Scan, row: int, line: str) -> LineInfo:
    tokens = tuple(text for _, text in scan.tokens.get(row, ()))
    inside = row in scan.inside
    transparent = inside or (spec.preprocessor and line.lstrip().startswith("#"))
    if transparent:
        return LineInfo(True, 0, 0, "other")
    steps, kind = _line_steps(spec, tokens, line)
    low, delta = _fold(steps)
    return LineInfo(False, low, delta, kind)


def cursor_in_text(language_id: str, context: str) -> bool:
    """Whether the end of ``context`` (text up to the cursor) is inside a comment or string,
    where prose is what the user writes and must not be stripped."""
    spec = spec_for(language_id)
    if spec.prose:
        return True
    cut = context.rfind("\n") + 1
    above, line = context[:cut], context[cut:]
    facts = _context_facts(language_id, above)
    if _scan_text(spec, line, above.count("\n"), facts.state).open_at_end:
        return True
    return _tree_inside(language_id, context)


def in_element_text(language_id: str, context: str) -> bool:
    """Whether the end of ``context`` is among a JSX element's children, where a sentence is
    text the element shows (``<p>`` then a blank line), not talk about code."""
    if canonical_language(language_id) not in _JSX_LANGUAGES or not context.strip():
        return False
    parser = parser_for(language_id)
    if parser is None:
        return False
    source = context.rstrip().encode("utf-8", "surrogatepass")
    tree = parser.parse(source)
    last = source[source.rfind(b"\n") + 1 :]
    point = (source.count(b"\n"), max(0, len(last) - 1))
    node: Node | None = tree.root_node.descendant_for_point_range(point, point)
    while node is not None:
        if node.type in (_JSX_OPEN, "jsx_text"):
            return True
        if node.type in ("jsx_expression", "jsx_self_closing_element", "program"):
            return False
        node = node.parent
    return False


def _tree_inside(language_id: str, context: str) -> bool:
    parser = parser_for(language_id)
    if parser is None or not context.strip():
        return False
    source = context.encode("utf-8", "surrogatepass")
    tree = parser.parse(source)
    last = source[source.rfind(b"\n") + 1 :]
    if not last:
        return False
    point = (source.count(b"\n"), len(last) - 1)
    node: Node | None = tree.root_node.descendant_for_point_range(point, point)
    while node is not None:
        if _opaque(node.type):
            return True
        node = node.parent
    return False


def net_depth(lines: Sequence[str], language_id: str, context: str = "") -> int:
    """How many blocks ``lines`` open (positive) or close (negative) in all, read after
    ``context`` (whole lines above them); strings and comments say nothing."""
    if not lines:
        return 0
    return sum(info.delta for info in analyze(language_id, context, "\n".join(lines)).lines)


def opens_on_line(language_id: str, context: str, line: str) -> int:
    """How many blocks ``line`` (after ``context``) leaves open; read by the lexer alone (the
    text before the cursor: brackets and keywords, no parse)."""
    spec = spec_for(language_id)
    facts = _context_facts(language_id, context)
    row = context.count("\n")
    scan = _scan_text(spec, line, row, facts.state)
    return max(0, _line_info(spec, scan, row, line).delta)


def line_kind(line: str, language_id: str, context: str = "") -> str:
    """``closer``, ``reopen`` or ``other`` for one line read after ``context`` (whole lines;
    see :class:`LineInfo`)."""
    return analyze(language_id, context, line).lines[0].kind


# --- block scope -------------------------------------------------------------------------------


def opens_block(line: str, info: LineInfo, language_id: str) -> bool:
    """Whether ``line`` opens a block its next lines are the body of."""
    spec = spec_for(language_id)
    if info.delta > 0:
        return True
    if not spec.indentation:
        return False
    code = line.rstrip()
    if spec.line_comment and f" {spec.line_comment}" in code:
        code = code[: code.index(f" {spec.line_comment}")].rstrip()
    return bool(re.search(spec.block_suffix + r"$", code))


def block_end(
    lines: Sequence[str],
    language_id: str,
    context: str,
    next_line: str | None,
    *,
    typed: bool = True,
) -> tuple[int, bool]:
    """How many of ``lines`` stay in the cursor's block, and whether the block visibly ended.

    ``lines[0]`` is the cursor's whole line (text before the cursor plus the suggestion's first
    line); ``context`` the text above it; ``next_line`` the document's first non-blank line
    after the cursor line. A closer that ends the cursor's block is kept (and ends the
    suggestion) unless the document's next line still belongs to that block.

    ``typed`` says text stands before the cursor on its line: when that line opens a block,
    the suggestion is its body and stops where it closes. On a blank line the suggestion's
    own blocks are siblings of the lines around it and may be followed by more siblings.
    """
    spec = spec_for(language_id)
    if spec.prose or not lines:
        return len(lines), False
    analysis = analyze(language_id, context, "\n".join(lines))
    if spec.indentation:
        return _indent_end(lines, analysis, language_id, context, next_line, typed)
    return _depth_end(lines, analysis, language_id, context, next_line, typed)


def _surface_kind(stripped: str, spec: LanguageSpec) -> str:
    """How a dedented line relates to the block above, read from its first characters:
    ``}`` / ``)`` close it (``} else {`` reopens), ``else:`` / ``case x:`` reopen it."""
    word = _WORD.match(stripped)
    first_word = word.group() if word else ""
    if first_word in spec.continuations or _LABEL.match(stripped):
        return "reopen"
    if stripped[0] in ")]}":
        return "reopen" if stripped.rstrip().endswith(("{", ":")) else "closer"
    return "closer" if first_word in spec.closers else "other"


def _may_close(first_line: str, next_line: str | None) -> bool:
    """The document's next line does not continue the cursor's block."""
    if next_line is None:
        return True
    stripped = next_line.strip()
    starts_closed = bool(stripped) and (stripped[0] in ")]}" or stripped.startswith("</"))
    keyword = _WORD.match(stripped)
    ends = keyword is not None and keyword.group() in _ALL_CLOSERS
    return starts_closed or ends or indent_width(next_line) < indent_width(first_line)


_ALL_CLOSERS = frozenset().union(*(s.closers | s.continuations for s in LANGUAGES.values()))


def _depth_end(
    lines: Sequence[str],
    analysis: Analysis,
    language_id: str,
    context: str,
    next_line: str | None,
    typed: bool,
) -> tuple[int, bool]:
    infos = analysis.lines
    depth = infos[0].delta
    opened = typed and depth > 0
    for index in range(1, len(lines)):
        info = infos[index]
        low, after = depth + info.low, depth + info.delta
        if not lines[index].strip():
            continue
        if low < 0 and after < 0:
            include = not opened and _may_close(lines[0], next_line)
            if include and next_line is None and not typed:
                return _end_of_file(lines, analysis, language_id, context, index, depth)
            return index + int(include), True
        if low < 0 and opened:
            return index, True
        if opened and after <= 0:  # the block typed open is closed, unless the document goes on
            return index + int(_may_close(lines[0], next_line)), True
        depth = after
    return len(lines), False


def _end_of_file(
    lines: Sequence[str],
    analysis: Analysis,
    language_id: str,
    context: str,
    index: int,
    depth: int,
) -> tuple[int, bool]:
    """At the end of the document nothing below closes the blocks around the cursor or goes
    on with them: the reply may close them and go on with their bodies between its closers
    (the rest of the function after the ``if`` it closed). Once they are all closed, a new
    definition after a blank line (the next function) goes on; anything else there, or a
    line that closes more than is open, ends the reply."""
    infos, limit = analysis.lines, min(-len(open_blocks(language_id, context)), -1)
    blank = False
    for row in range(index, len(lines)):
        if not lines[row].strip():
            blank = True
            continue
        info = infos[row]
        if depth + info.low < limit:
            return row, True
        if depth == limit:  # at the top level: only a new definition goes on
            return _next_definition(lines, infos, row, language_id, blank)
        blank, depth = False, depth + info.delta
    return len(lines), False


def _next_definition(
    lines: Sequence[str], infos: Sequence[LineInfo], index: int, language_id: str, blank: bool
) -> tuple[int, bool]:
    """Where a reply at the end of the file, back at the top level, ends: at ``index``, unless
    a blank line there starts a new definition, which goes on with all the reply says."""
    opens = _opens_definition(lines, infos, index, language_id) if blank else False
    if opens is None:  # more of the reply will tell
        return index, False
    return (len(lines), False) if opens else (index, True)


def _opens_definition(
    lines: Sequence[str], infos: Sequence[LineInfo], index: int, language_id: str
) -> bool | None:
    """The line group at ``index`` starts a block (a function, a method, a class), perhaps
    after comment lines, its ``{`` perhaps on the next line (Allman style); ``None`` when the
    lines end before that shows."""
    marker = spec_for(language_id).line_comment
    while index < len(lines) and (
        infos[index].transparent or (marker and lines[index].strip().startswith(marker))
    ):
        index += 1
    if index >= len(lines):
        return None
    if opens_block(lines[index], infos[index], language_id):
        return True
    nxt = index + 1
    if nxt == len(lines):
        return None
    return lines[nxt].strip().startswith("{") and infos[nxt].delta > 0


def _indent_end(
    lines: Sequence[str],
    analysis: Analysis,
    language_id: str,
    context: str,
    next_line: str | None,
    typed: bool,
) -> tuple[int, bool]:
    """Indentation languages: a line dedented below the block ends it, except lines inside
    brackets or strings and ``else:``-like lines at the block's own level.

    At the end of the file (nothing below, nothing typed), a dedent right after a ``return``
    (``raise``, ``break``…) goes on with the enclosing block's body: nothing more could run in
    the block the terminator ended. Back at the top level, a new definition after a blank
    line goes on (:func:`_next_definition`)."""
    infos = analysis.lines
    inside_call = analysis.start_depth > 0
    width = analysis.anchor_width if inside_call else indent_width(lines[0])
    opened = typed and not inside_call and opens_block(lines[0], infos[0], language_id)
    limit = width + 1 if opened else width
    floor = width if opened else max(0, width - TAB_WIDTH)
    depth = analysis.start_depth + infos[0].delta
    spec = spec_for(language_id)
    ended = _ends_block(lines[0])
    for index in range(1, len(lines)):
        info, line = infos[index], lines[index]
        inside = depth > 0 or info.transparent
        depth = max(0, depth + info.delta)
        if inside or not line.strip() or indent_width(line) >= limit:
            ended = ended if inside or not line.strip() else _ends_block(line)
            continue
        kind = _surface_kind(line.strip(), spec)
        if kind == "reopen" and indent_width(line) >= floor:
            ended = False
            continue
        closes = kind == "closer" and indent_width(line) >= floor
        if next_line is None and not typed and not closes:
            column = indent_width(line)
            if ended and column > _top_width(language_id, context):
                limit, floor, ended = column, max(0, column - TAB_WIDTH), _ends_block(line)
                continue
            return _next_definition(lines, infos, index, language_id, not lines[index - 1].strip())
        return index + int(closes and _may_close(lines[0], next_line)), True
    return len(lines), False


def _ends_block(line: str) -> bool:
    """The line leaves its block (``return``, ``raise``, ``break``…): nothing after it runs."""
    return _TERMINATOR.match(line.strip()) is not None


@lru_cache(maxsize=32)
def _top_width(language_id: str, context: str) -> int:
    """The indentation of the lines above that stand at the top level: the least of their
    code lines' (a snippet indented as a whole has its top level further in)."""
    spec, scan = spec_for(language_id), _lexed(language_id, context)
    widths = [
        indent_width(line)
        for row, line in enumerate(context.split("\n"))
        if line.strip() and not _line_info(spec, scan, row, line).transparent
    ]
    return min(widths, default=0)
