"""The language table, indentation evidence and block scope, without a model in sight."""

from __future__ import annotations

import pytest

from spark_lsp.engine.languages import (
    block_end,
    comment_syntax,
    cursor_in_text,
    indent_unit,
    line_comment,
    restyle_indent,
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
        ("rust", "let s = r#\"\nraw ", True),
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
