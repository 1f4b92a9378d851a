"""The language table, indentation evidence and block scope, without a model in sight."""

from __future__ import annotations

import pytest

from spark_lsp.engine.languages import (
    BRACES_ID,
    KEYWORDS_ID,
    OpenBlock,
    analyze,
    block_end,
    closed_blocks,
    comment_syntax,
    cursor_in_text,
    indent_unit,
    line_comment,
    net_depth,
    open_blocks,
    restyle_indent,
    structured_language,
    top_level_start,
)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("python", "#"),
        ("shellscript", "#"),
        ("bash", "#"),
        ("lua", "--"),
        ("typescriptreact", "//"),
        ("html", None),
        ("css", None),
        ("json", None),
        ("markdown", None),
        ("makefile", "#"),
    ],
)
def test_line_comment_is_none_where_there_is_none(language: str, expected: str | None) -> None:
    assert line_comment(language) == expected


def test_block_comment_syntax() -> None:
    assert comment_syntax("c") == ("//", ("/*", "*/"))
    assert comment_syntax("html") == (None, ("<!--", "-->"))


@pytest.mark.parametrize(
    ("lines", "language", "expected"),
    [
        (["def f():", "    return 1"], "python", "    "),
        (["function f() {", "  return 1;", "}"], "javascript", "  "),
        (["func f() {", "\treturn", "}"], "go", "\t"),
        (["package main", "", "func main() {"], "go", "\t"),  # no evidence: the language's
        (["all: build"], "makefile", "\t"),
        (["/*", " * License", " */", "int x;"], "c", ""),  # ` * ` is not a one-space indent
        (["x = 1"], "python", ""),
    ],
)
def test_indent_unit(lines: list[str], language: str, expected: str) -> None:
    assert indent_unit(lines, language) == expected


def test_restyle_keeps_alignment_spaces() -> None:
    assert restyle_indent("      a", "\t", 4) == "\t  a"
    assert restyle_indent("\t\tb", "  ", 4) == "    b"
    assert restyle_indent("\tc", "\t", 4) == "\tc"


@pytest.mark.parametrize(
    ("language", "context", "expected"),
    [
        ("python", "# a comment ", True),
        ("python", 'def f():\n    """Doc ', True),
        ("python", "x = 1 + ", False),
        ("ruby", "x = <<~TEXT\n  body ", True),
        ("rust", 'let s = r#"\nraw ', True),
        ("c", "/* open\n * more ", True),
        ("markdown", "Any prose ", True),
        ("go", "x := f(", False),
    ],
)
def test_cursor_in_comment_or_string(language: str, context: str, expected: bool) -> None:
    assert cursor_in_text(language, context) is expected


@pytest.mark.parametrize(
    ("language", "lines", "next_line", "expected"),
    [
        ("c", ["  x();", "#ifdef A", "  y();", "#endif", "}", "int z;"], None, (5, True)),
        ("ruby", ["  a", "elsif b", "  c", "end", "d"], None, (4, True)),
        ("shellscript", ["  a", "fi", "b"], None, (2, True)),
        ("shellscript", ["  a", "fi", "b"], "  more", (1, True)),  # the block goes on below
        ("html", ["<ul>", "  <li>x</li>", "</ul>", "<p>"], None, (4, False)),
        ("python", ["    a()", "    b()", "c()"], None, (2, True)),
        ("markdown", ["a", "", "b"], None, (3, False)),
    ],
)
def test_block_end(
    language: str, lines: list[str], next_line: str | None, expected: tuple[int, bool]
) -> None:
    assert block_end(lines, language, "", next_line, typed=False) == expected


# --- issue 24: structure read from the document, balance, line groups ------------------------


@pytest.mark.parametrize(
    ("language", "lines", "expected"),
    [
        # an unknown language whose blocks are braces reads as one
        ("zig", ["pub fn main() void {", "    run();", "}"], BRACES_ID),
        ("solidity", ["contract C {", "    uint x;"], BRACES_ID),
        # ... one whose blocks are colons or `=` before a deeper line does not
        ("nim", ["proc add(a, b: int): int =", "  result = a + b"], "nim"),
        ("gdscript", ["func _ready():", "\tpass"], "gdscript"),
        # ... one whose blocks end with ``end`` lines reads as a keyword language
        ("crystal", ["def f(n : Int32)", "  if n > 0", "    1", "  end", "end"], KEYWORDS_ID),
        ("crystal", ["x.each do |y|", "  p({a: y})", "end"], KEYWORDS_ID),
        # ``end`` as a name is no closer
        ("zig", ["fn f() void {", "    end = start + n;", "}"], BRACES_ID),
        # a language the table knows is never second-guessed
        ("python", ["d = {", "}"], "python"),
        ("ruby", ["x = {", "}"], "ruby"),
    ],
)
def test_structured_language(language: str, lines: list[str], expected: str) -> None:
    assert structured_language(language, lines) == expected


def test_unknown_brace_language_ends_a_block_at_its_brace() -> None:
    """Indentation alone would run on (the ``}`` is as deep as the body); the brace ends it."""
    lines = ["    a()", "    }", "    b()"]
    assert block_end(lines, "odin", "main :: proc() {\n", None, typed=False) == (3, False)
    language = structured_language("odin", ["main :: proc() {", "    x := 1", "}"])
    assert block_end(lines, language, "main :: proc() {\n", None, typed=False) == (2, True)


@pytest.mark.parametrize(
    ("language", "context", "lines", "expected"),
    [
        # the if closed, the function's body goes on, the function closes, the next one follows
        (
            "lua",
            "function f(x)\n  if x then\n",
            ["    a()", "  end", "  return x", "end", "", "function g()", "end", "", "return M"],
            (9, False),
        ),
        # back at the top level right after the last closer: cut
        ("lua", "function f(x)\n  if x then\n", ["    a()", "  end", "end", "print(1)"], (3, True)),
        # an unknown brace language: the loop closed, the function goes on
        (
            BRACES_ID,
            "fn main() {\n    for i in xs {\n",
            ["        a()", "    }", "    b()", "}"],
            (4, False),
        ),
        # indentation: a dedent right after a return goes on with the enclosing body ...
        (
            "nim",
            "proc f(x: int): int =\n  if x == 0:\n",
            ["    return 1", "  result = x"],
            (2, False),
        ),
        # ... and a proc after a blank line is a definition (its line ends in ``=``)
        (
            "nim",
            "proc f(x: int): int =\n  if x == 0:\n",
            ["    return 1", "  result = x", "", "proc g() =", "  echo 1", "", "g()"],
            (7, False),
        ),
        # a dedent with no terminator before it ends the block, as in the middle of a file
        ("python", "def f(xs):\n    for x in xs:\n", ["        a(x)", "    return xs"], (1, True)),
        # after a return, a dedent to the top level is no body: cut
        ("python", "def f(x):\n    if x:\n", ["        return 1", "y = 2"], (1, True)),
    ],
)
def test_block_end_at_end_of_file(
    language: str, context: str, lines: list[str], expected: tuple[int, bool]
) -> None:
    """Nothing below the cursor: the reply may finish the blocks around it (issue 24 family 2,
    held-out cases)."""
    assert block_end(lines, language, context, None, typed=False) == expected


def test_keyword_fallback_keeps_the_end_of_an_if_the_reply_finished() -> None:
    """Crystal has no row: read as an ``end`` language, the reply's ``end`` closes the ``if``
    above (whose ``end`` is missing), so it is kept though the next line is ``end`` too."""
    context = "def f(n)\n  if n > 0\n    1\n"
    lines = ["  else", "    2", "  end"]
    language = structured_language("crystal", [*context.splitlines(), "end"])
    assert language == KEYWORDS_ID
    blocks = closed_blocks(lines, analyze(language, context, "\n".join(lines)).lines, (0, 2))
    assert blocks[2] == OpenBlock(2, True)


@pytest.mark.parametrize(
    ("language", "line", "delta"),
    [
        ("ruby", "while x do", 1),  # the ``do`` belongs to the ``while``
        ("ruby", "xs.each do |x|", 1),
        (KEYWORDS_ID, "for i in 0..n do", 1),
        (KEYWORDS_ID, "if x then", 1),
    ],
)
def test_do_after_a_line_opener_opens_one_block(language: str, line: str, delta: int) -> None:
    assert analyze(language, "", line).lines[0].delta == delta


def test_closed_blocks_names_the_opener_a_closer_belongs_to() -> None:
    """``elsif`` continues the ``if`` above, so the ``end`` after ``else`` closes that ``if``
    (column 2), not the ``def`` (column 0)."""
    context = "def grade(score)\n  if score >= 90\n    'A'\n"
    text = "  elsif score >= 80\n    'B'\n  else\n    'C'\n  end"
    analysis = analyze("ruby", context, text)
    assert open_blocks("ruby", context) == (0, 2)
    blocks = closed_blocks(text.split("\n"), analysis.lines, open_blocks("ruby", context))
    assert blocks[4] == OpenBlock(2, True)
    own = closed_blocks(["if x", "  y", "end"], analyze("ruby", "", "if x\n  y\nend").lines, ())
    assert own[2] == OpenBlock(0, False)


def test_a_continuation_line_opens_its_statements_block() -> None:
    text = "if (x < lo ||\n    x > hi) {\n  return false;\n}"
    analysis = analyze("javascript", "", text)
    assert analysis.lines[1].kind == "other"  # it closes `(` mid-line: not a closer line
    assert closed_blocks(text.split("\n"), analysis.lines, ())[3] == OpenBlock(0, False)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["return load(f)", "", "", "def save(f):", "    pass"], 3),
        (["return x", "", "def other():"], 2),  # after a return at its column: dead code
        (["x = 1", "", "def other():"], 3),  # one blank line: still the block's sibling
        (["return x", "", "    y = 2"], 3),  # deeper than the reply's first line
    ],
)
def test_top_level_start(lines: list[str], expected: int) -> None:
    assert top_level_start(lines) == expected


def test_jsx_elements_are_blocks_but_comparisons_and_generics_are_not() -> None:
    tsx = analyze("typescriptreact", "", "<ul>\n  <li>a</li>\n</ul>").lines
    assert [(info.delta, info.kind) for info in tsx] == [(1, "other"), (0, "other"), (-1, "closer")]
    code = analyze("typescriptreact", "", "const xs: Array<string> = [];\nif (a < b && c > d) {")
    assert [info.delta for info in code.lines] == [0, 1]


def test_net_depth_reads_after_the_lines_above() -> None:
    assert net_depth(["}"], "rust") == -1
    assert net_depth(["match x {", "  _ => 1,", "}"], "rust") == 0
    assert net_depth(["  end"], "ruby", "def f\n") == -1
