"""Table-driven tests for each post-processing filter, plus golden end-to-end cases."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spark_lsp.engine import postprocess as pp
from spark_lsp.engine.postprocess import CompletionContext, Filter
from spark_lsp.engine.replies import is_prose

Case = tuple[str, dict[str, Any], str | None]

ML: dict[str, Any] = {"multiline": True}


def _ctx(**kwargs: Any) -> CompletionContext:
    return CompletionContext(**kwargs)


Row = tuple[Filter, str, dict[str, Any], str | None]


def _rows(filter_: Filter, cases: list[Case]) -> list[Row]:
    return [(filter_, raw, kwargs, expected) for raw, kwargs, expected in cases]


NEWLINES: list[Case] = [
    ("a\r\nb", {}, "a\nb"),
    ("a\rb\n", {}, "a\nb\n"),
    ("plain", {}, "plain"),
]

EOL: list[Case] = [
    ("a\nb", {"eol": "\r\n"}, "a\r\nb"),
    ("a\nb", {}, "a\nb"),
]

CHATTER: list[Case] = [
    ("Here is the completion:\nreturn x", {}, "return x"),
    ("Sure! Here's the code:\n\nfoo()", {}, "foo()"),
    ("The completed function:\n  x = 1", {}, "  x = 1"),
    ("here is the completion:", {}, ""),
    # real code is never eaten
    ("okay:\n  x", {}, "okay:\n  x"),
    ("here_is = 1\nfoo()", {}, "here_is = 1\nfoo()"),
    ("Sure, here it is:\nfoo", {"line_prefix": "# ", "in_text": True}, "Sure, here it is:\nfoo"),
    ("Sure, here it is:\nfoo", {"line_prefix": "x = "}, "foo"),
    ("foo()\n\nThis calls foo.", {}, "foo()"),
    ("Here is the list:\n- a", {"language_id": "markdown"}, "Here is the list:\n- a"),
    ("else:\n    pass", {}, "else:\n    pass"),
]

FENCES: list[Case] = [
    ("```python\nx = 1\n```", {}, "x = 1"),
    ("```\nx = 1\n```\nThis sets x.", {}, "x = 1"),
    ("Here's the updated function:\n```ts\nlet a = 1;\n```", {}, "let a = 1;"),
    ("~~~go\nfmt.Println()\n~~~", {}, "fmt.Println()"),
    ("x = 1\n```\nExplanation", {}, "x = 1"),
    ("```python\nx = 1", {}, "x = 1"),
    ("```", {}, ""),
    # indented fences are real text (a docstring), code before a fence is kept
    (
        '    ```python\n    foo()\n    ```\n    """',
        {"in_text": True},
        '    ```python\n    foo()\n    ```\n    """',
    ),
    ("  ```python\n  foo()\n  ```", {}, "foo()"),
    ("`foo(x)`", {}, "foo(x)"),
    ("x = 1;\n```js\ny", {}, "x = 1;"),
    ("```js\nfoo\n```", {"language_id": "markdown"}, "```js\nfoo\n```"),
]

PREFIX_ECHO: list[Case] = [
    ("return x", {"line_prefix": "    return "}, "x"),
    ("    return x", {"line_prefix": "    return "}, "x"),
    ("def f(a, b):", {"line_prefix": "def f("}, "a, b):"),
    ("a_list = []", {"line_prefix": "a"}, "a_list = []"),
    ("x + 1", {"line_prefix": "y = "}, "x + 1"),
    ("print('été')", {"line_prefix": "  print('"}, "été')"),
    ("compute_total(x)", {"line_prefix": "    y = compute_"}, "total(x)"),
    (
        "def f():\n    y = compute_total(x)",
        {"line_prefix": "    y = compute_", "prev_lines": ("def f():",)},
        "total(x)",
    ),
    ("def f():", {"line_prefix": "    ", "prev_lines": ("def f():",)}, ""),
]

ALIGN: list[Case] = [
    ("    return 1", {"line_prefix": "    ", "prev_lines": ("def f():",)}, "return 1"),
    ("    return 1", {"line_prefix": "    ", "prev_lines": ("    if x:",)}, "    return 1"),
    ("        deeper()", {"line_prefix": "    "}, "    deeper()"),
    ("    x", {"line_prefix": ""}, "    x"),
    ("if x:\n    y()", {"line_prefix": "    "}, "if x:\n        y()"),
    ("if x:\n        y()", {"line_prefix": "    "}, "if x:\n        y()"),
    ("a()\nb()", {"line_prefix": "    "}, "a()\n    b()"),
    # a ``case`` label at the ``switch``'s column (Swift, Go) or one level in (C, Java) after
    # the opener: relative to the cursor when the closer sits at the first line's column ...
    (
        "switch x {\ncase 0:\n    a()\n}",
        {"line_prefix": "    ", "language_id": "swift"},
        "switch x {\n    case 0:\n        a()\n    }",
    ),
    (
        "switch (x) {\n    case 0:\n        a();\n}",
        {"line_prefix": "    ", "language_id": "java"},
        "switch (x) {\n        case 0:\n            a();\n    }",
    ),
    # ... absolute when it sits at the cursor's
    (
        "switch x {\n    case 0:\n        a()\n    }",
        {"line_prefix": "    ", "language_id": "swift"},
        "switch x {\n    case 0:\n        a()\n    }",
    ),
]

FIRST_LINE: list[Case] = [
    ("a\nb", {}, "a"),
    ("\nb", {}, ""),
    ("a\nb", ML, "a\nb"),
]

INDENTATION: list[Case] = [
    ("\n\tx = 1\n\t\ty", {"indent_unit": "    "}, "\n    x = 1\n        y"),
    ("\n    x = 1\n        y", {"indent_unit": "\t"}, "\n\tx = 1\n\t\ty"),
    ("\n  a\n    b", {"indent_unit": "\t"}, "\n\ta\n\t\tb"),
    ("\n      a", {"indent_unit": "\t"}, "\n\t  a"),
    ("\tfoo", {"indent_unit": "  ", "line_prefix": "x"}, "\tfoo"),
    ("\tfoo", {"indent_unit": "  "}, "  foo"),
    ("\n\t  a", {"indent_unit": "    "}, "\n      a"),
    ("    x\n    y", {"indent_unit": "\t", "line_prefix": "\t"}, "\tx\n\ty"),
]

PY_DEF = {"line_prefix": "def foo(x):", **ML}
JS_FN = {"line_prefix": "function f() {", "indent_unit": "  ", **ML}
SCOPE: list[Case] = [
    ("\n    return x\n\ndef bar():\n    pass", PY_DEF, "\n    return x\n"),
    (
        "\n    a()\nelse:\n    b()\nprint()",
        {"line_prefix": "if x:", **ML},
        "\n    a()\nelse:\n    b()",
    ),
    (
        "\n    a()\nexcept E:\n    b()",
        {"line_prefix": "try:", **ML},
        "\n    a()\nexcept E:\n    b()",
    ),
    ("y = 2\n    return y\n\nprint(f())", {"line_prefix": "    ", **ML}, "y = 2\n    return y\n"),
    ("\n  return 1;\n}\n\nfunction g() {}", JS_FN, "\n  return 1;\n}"),
    ("\n  return 1;\n}", {**JS_FN, "next_lines": ("  b();", "}")}, "\n  return 1;"),
    (
        "\n  if (a) {\n  } else {\n    b();\n  }\n}",
        JS_FN,
        "\n  if (a) {\n  } else {\n    b();\n  }\n}",
    ),
    ("\n  x++;\n}\n}", {"line_prefix": "  y++;", "indent_unit": "  ", **ML}, "\n  x++;\n}"),
    ("\n    a,\n    b,\n)\nprint(x)", {"line_prefix": "x = foo(", **ML}, "\n    a,\n    b,\n)"),
    # Ruby/Lua `end` closes the enclosing block like `}` does
    ("\n  y\nend\nputs 1", {"line_prefix": "  x = 1", "language_id": "ruby", **ML}, "\n  y\nend"),
    ("\n  y\nend\nputs 1", {"line_prefix": "  x = 1", **ML}, "\n  y"),
    ("\nelse:\n    b()\nz()", {"line_prefix": "    a()", **ML}, "\nelse:\n    b()"),
    ("a\nb", {}, "a\nb"),
    ("\n\n", ML, "\n\n"),
]

REPETITION: list[Case] = [
    ("foo()\nfoo()\nfoo()\nfoo()", {}, "foo()\n"),
    ("a = 1\nb = 2\na = 1\nb = 2\na = 1\nb = 2", {}, "a = 1\nb = 2\n"),
    ("foo()\nfoo()\nbar()", {}, "foo()\nfoo()\nbar()"),
    ("self.self.self.self.self.x", {}, "self."),
    ("Path(f).parent.parent.parent", {}, "Path(f).parent.parent.parent"),
    ("[0, 0, 0, 0, 0, 0]", {}, "[0, 0, 0, 0, 0, 0]"),
    ("f(a)))))", {}, "f(a)))))"),
    ("    }\n  }\n}", {}, "    }\n  }\n}"),
    ("café café café café", {}, "café "),
]

TRIM: list[Case] = [
    ("a  \nb\t\n\n\n", {}, "a\nb"),
    ("x and ", {"line_suffix": "y:"}, "x and "),
    ("x and ", {"line_suffix": ")"}, "x and"),
    ("a \n", {"line_suffix": "y"}, "a"),
]

BLANK: list[Case] = [
    ("", {}, None),
    (" \n\t", {}, None),
    (" x", {}, " x"),
]

NEXT_LINES: list[Case] = [
    ("\n  return 1;\n}", {"next_lines": ("}",)}, "\n  return 1;"),
    ("\n  a;\n  }", {"next_lines": ("}",)}, "\n  a;\n  }"),
    ("x = 1\ny = 2", {"next_lines": ("y = 2", "z = 3")}, "x = 1"),
    ("a\nb\nc\nd", {"next_lines": ("", "b", "c")}, "a"),
    ("a\nb\nq", {"next_lines": ("b", "c")}, "a\nb\nq"),
    ("return x", {"line_prefix": "    ", "next_lines": ("    return x",)}, ""),
    ("x", {"line_prefix": "    return ", "next_lines": ("x",)}, "x"),
    ("a", {}, "a"),
]

LINE_SUFFIX: list[Case] = [
    ("a, b)", {"line_prefix": "foo(", "line_suffix": ")"}, "a, b"),
    ("bar(x)", {"line_prefix": "foo(", "line_suffix": ")"}, "bar(x)"),
    ("bar(x))", {"line_prefix": "foo(", "line_suffix": ")"}, "bar(x)"),
    ("a, b);", {"line_prefix": "foo(", "line_suffix": ");"}, "a, b"),
    ("a, b)", {"line_prefix": "foo(", "line_suffix": ");"}, "a, b"),
    ('hello")', {"line_prefix": 'print("', "line_suffix": '")'}, "hello"),
    ("hello", {"line_prefix": 'print("', "line_suffix": '")'}, "hello"),
    ("x: int) -> int:", {"line_prefix": "def f(", "line_suffix": ") -> int:"}, "x: int"),
    ("\n  return 1;\n}", {"line_prefix": "f() {", "line_suffix": "}"}, "\n  return 1;\n"),
    (")", {"line_prefix": "f(", "line_suffix": ")"}, ""),
    ("x > 0) {", {"line_prefix": "if (", "line_suffix": ") {"}, "x > 0"),
    ("abc", {"line_suffix": ""}, "abc"),
    ("a, x)", {"line_prefix": "foo(", "line_suffix": "x)"}, "a, "),
    ("a x", {"line_prefix": "(", "line_suffix": " x"}, "a"),
]

TABLES: list[Row] = [
    *_rows(pp.normalize_newlines, NEWLINES),
    *_rows(pp.apply_eol, EOL),
    *_rows(pp.strip_prose, CHATTER),
    *_rows(pp.unwrap_code, FENCES),
    *_rows(pp.strip_prefix_echo, PREFIX_ECHO),
    *_rows(pp.align_indentation, ALIGN),
    *_rows(pp.first_line_only, FIRST_LINE),
    *_rows(pp.match_indent_style, INDENTATION),
    *_rows(pp.limit_block_scope, SCOPE),
    *_rows(pp.stop_repetition, REPETITION),
    *_rows(pp.trim_trailing_whitespace, TRIM),
    *_rows(pp.drop_blank, BLANK),
    *_rows(pp.drop_next_lines_echo, NEXT_LINES),
    *_rows(pp.drop_line_suffix_echo, LINE_SUFFIX),
]


@pytest.mark.parametrize(
    ("filter_", "raw", "kwargs", "expected"),
    TABLES,
    ids=[f"{row[0].__name__}-{i}" for i, row in enumerate(TABLES)],
)
def test_filter_table(
    filter_: Filter, raw: str, kwargs: dict[str, Any], expected: str | None
) -> None:
    assert filter_(raw, _ctx(**kwargs)) == expected


# --- golden end-to-end cases ---------------------------------------------------------------

GOLDEN: list[Case] = [
    # 0 python: body of a new function, stop before the next def
    (
        "\n    return a + b\n\n\ndef sub(a, b):\n    return a - b",
        {"line_prefix": "def add(a, b):", "language_id": "python", **ML},
        "\n    return a + b",
    ),
    # 1 python: chat model with chatter + fence, indentation echoed
    (
        "Here is the completion:\n```python\n    return sorted(items)\n```\nThis sorts the list.",
        {"line_prefix": "    ", "prev_lines": ("def f(items):",), "language_id": "python", **ML},
        "return sorted(items)",
    ),
    # 2 python: single-line mid-line, suffix re-typed
    (
        "key=len)",
        {"line_prefix": "    xs.sort(", "line_suffix": ")", "language_id": "python"},
        "key=len",
    ),
    # 3 python: prefix echo then multi-line
    (
        "    for i in range(n):\n        total += i\n    return total",
        {"line_prefix": "    for i in ", "language_id": "python", **ML},
        "range(n):\n        total += i",
    ),
    # 4 python: if/else continuation kept, outer code dropped
    (
        "\n        return 1\n    else:\n        return 2\n\nprint(f(1))",
        {"line_prefix": "    if x:", "language_id": "python", **ML},
        "\n        return 1\n    else:\n        return 2",
    ),
    # 5 python: runaway repetition
    (
        "\n    self.a = a\n    self.a = a\n    self.a = a\n    self.a = a",
        {"line_prefix": "def __init__(self, a):", "language_id": "python", **ML},
        "\n    self.a = a",
    ),
    # 6 python: duplicate of the next line dropped entirely
    (
        "return result",
        {
            "line_prefix": "    ",
            "next_lines": ("    return result",),
            "prev_lines": ("    result = 1",),
            "language_id": "python",
            **ML,
        },
        None,
    ),
    # 7 python: non-ASCII strings and identifiers
    (
        'Grüße, {name}! 👋")',
        {"line_prefix": '    print(f"', "line_suffix": '")', "language_id": "python"},
        "Grüße, {name}! 👋",
    ),
    # 8 python: tabs file, model used spaces
    (
        "\n    for x in xs:\n        yield x",
        {"line_prefix": "def gen(xs):", "indent_unit": "\t", "language_id": "python", **ML},
        "\n\tfor x in xs:\n\t\tyield x",
    ),
    # 9 python: CRLF document
    (
        "\r\n    return 0\r\n\r\nclass B:\r\n    pass",
        {"line_prefix": "def f():", "eol": "\r\n", "language_id": "python", **ML},
        "\r\n    return 0",
    ),
    # 10 typescript: method body, closer kept because the class closer follows
    (
        " foo(): number {\n    return this._foo;\n  }\n\n"
        "  set foo(v: number) {\n    this._foo = v;\n  }",
        {
            "line_prefix": "  get",
            "next_lines": ("}",),
            "language_id": "typescript",
            "indent_unit": "  ",
            **ML,
        },
        " foo(): number {\n    return this._foo;\n  }",
    ),
    # 11 javascript: auto-inserted closer on the next line is not repeated
    (
        "\n  return a * b;\n}\n\nfunction div(a, b) {",
        {
            "line_prefix": "function mul(a, b) {",
            "next_lines": ("}",),
            "language_id": "javascript",
            "indent_unit": "  ",
            **ML,
        },
        "\n  return a * b;",
    ),
    # 12 javascript: closer on the same line (`{|}`), suffix lands on its own line
    (
        "\n  return 1;\n}",
        {
            "line_prefix": "function one() {",
            "line_suffix": "}",
            "language_id": "javascript",
            "indent_unit": "  ",
            **ML,
        },
        "\n  return 1;\n",
    ),
    # 13 javascript: } else { continues the if
    (
        "\n    a();\n  } else {\n    b();\n  }\n  c();",
        {
            "line_prefix": "  if (ok) {",
            "next_lines": ("}",),
            "language_id": "javascript",
            "indent_unit": "  ",
            **ML,
        },
        "\n    a();\n  } else {\n    b();\n  }",
    ),
    # 14 javascript: middle of a block, no premature closer
    (
        "\n  log(x);\n}\n",
        {
            "line_prefix": "  x += 1;",
            "next_lines": ("  return x;", "}"),
            "language_id": "javascript",
            "indent_unit": "  ",
            **ML,
        },
        "\n  log(x);",
    ),
    # 15 go: tabs, brace block, CRLF
    (
        "\r\n\tif err != nil {\r\n\t\treturn err\r\n\t}\r\n\treturn nil\r\n}\r\n\r\nfunc g() {",
        {
            "line_prefix": "func f() error {",
            "next_lines": ("}",),
            "language_id": "go",
            "indent_unit": "\t",
            "eol": "\r\n",
            **ML,
        },
        "\r\n\tif err != nil {\r\n\t\treturn err\r\n\t}\r\n\treturn nil",
    ),
    # 16 go: single-line completion of a call with bracket already there
    (
        '"hello")',
        {"line_prefix": "\tfmt.Println(", "line_suffix": ")", "language_id": "go"},
        '"hello"',
    ),
    # 17 typescript: fenced output from a chat model, single-line
    (
        "```typescript\nconst total = items.length;\n```",
        {"line_prefix": "", "language_id": "typescript"},
        "const total = items.length;",
    ),
    # 18 typescript: nested call balanced, must not lose its paren
    (
        "compute(a, b)",
        {"line_prefix": "  return wrap(", "line_suffix": ");", "language_id": "typescript", **ML},
        "compute(a, b)",
    ),
    # 19 empty after filtering
    ("```\n```", {"language_id": "python"}, None),
    # 20 whitespace only
    ("   \n  ", {"language_id": "python", **ML}, None),
    # 21 non-ASCII (CJK) comment continuation, single-line
    ("计算总和\n# next", {"line_prefix": "# ", "language_id": "python"}, "计算总和"),
    # 25 tab file: model re-typed the indentation with spaces
    (
        "    return -1",
        {"line_prefix": "\t", "prev_lines": ("def neg():",), "indent_unit": "\t", **ML},
        "return -1",
    ),
    # 22 CRLF single-line: line ending never leaks into a single line
    ("x + 1\r\n", {"line_prefix": "y = ", "eol": "\r\n"}, "x + 1"),
    # 23 runaway within a line
    ("foo(foo(foo(foo(foo(foo(", {"line_prefix": "x = "}, "foo("),
    # 24 rust-like closure `=>`/brace with a closing `});`
    (
        "\n  console.log(x);\n});\n\nother();",
        {
            "line_prefix": "items.forEach((x) => {",
            "language_id": "javascript",
            "indent_unit": "  ",
            **ML,
        },
        "\n  console.log(x);\n});",
    ),
]


@pytest.mark.parametrize(
    ("raw", "kwargs", "expected"), GOLDEN, ids=[f"golden-{i}" for i in range(len(GOLDEN))]
)
def test_golden(raw: str, kwargs: dict[str, Any], expected: str | None) -> None:
    assert pp.postprocess(raw, _ctx(**kwargs)) == expected


def test_custom_filter_chain() -> None:
    upper: Filter = lambda text, ctx: text.upper()  # noqa: E731
    assert pp.postprocess("abc", _ctx(), filters=(upper,)) == "ABC"
    assert pp.postprocess("abc", _ctx(), filters=(pp.drop_blank, lambda t, c: None)) is None


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [("", True), (")", True), ("  ]);", True), ('")', True), ("x)", False), (" + 1", False)],
)
def test_suffix_allows_multiline(suffix: str, expected: bool) -> None:
    assert pp.suffix_allows_multiline(suffix) is expected


# --- is_complete ---------------------------------------------------------------------------

COMPLETE: list[tuple[str, dict[str, Any], bool]] = [
    ("foo(", {}, False),
    ("foo()\n", {}, True),
    ("```python\n", {}, False),
    ("```python\nfoo()", {}, False),
    ("```python\nfoo()\n", {}, True),
    ("Here is the completion:\n", {}, False),
    ("\n    return x\n", PY_DEF, False),
    ("\n    return x\n\ndef bar", PY_DEF, False),
    ("\n    return x\n\ndef bar():\n", PY_DEF, True),
    ("\n    a()\nel", {"line_prefix": "if x:", **ML}, False),
    ("\n    a()\nelse:\n", {"line_prefix": "if x:", **ML}, False),
    ("\n  return 1;\n}\n", JS_FN, True),
    ("x\n```\n", ML, True),
    ("\n    a()\n    a()\n    a()\n", PY_DEF, True),
    ("self.self.self.self.", ML, True),
    ("self.self.self.sel", ML, False),
    ("x x x x", ML, False),
]


@pytest.mark.parametrize(("partial", "kwargs", "expected"), COMPLETE)
def test_is_complete(partial: str, kwargs: dict[str, Any], expected: bool) -> None:
    assert pp.is_complete(partial, _ctx(**kwargs)) is expected


def test_is_complete_is_monotonic_along_a_stream() -> None:
    """Once complete, feeding more of the same stream keeps it complete."""
    raw = "\n    total = 0\n    return total\n\ndef other():\n    pass\n"
    ctx = _ctx(**PY_DEF)
    flags = [pp.is_complete(raw[:n], ctx) for n in range(len(raw) + 1)]
    first = flags.index(True)
    assert all(flags[first:])
    assert raw[:first].endswith("def other():\n")


contexts = st.builds(
    CompletionContext,
    line_prefix=st.text(max_size=12),
    line_suffix=st.sampled_from(["", ")", "x", '")', "}"]),
    next_lines=st.lists(st.text(max_size=8), max_size=3).map(tuple),
    prev_lines=st.lists(st.text(max_size=8), max_size=3).map(tuple),
    multiline=st.booleans(),
    indent_unit=st.sampled_from(["    ", "  ", "\t"]),
    eol=st.sampled_from(["\n", "\r\n"]),
)


@given(raw=st.text(alphabet=st.sampled_from("ab (){}:\n\r\t`\"'é"), max_size=60), ctx=contexts)
def test_postprocess_never_raises_and_keeps_eol(raw: str, ctx: CompletionContext) -> None:
    result = pp.postprocess(raw, ctx)
    pp.is_complete(raw, ctx)
    if result is None:
        return
    assert result.strip()
    assert "\r" not in result.replace("\r\n", "")
    if ctx.eol == "\r\n":
        assert "\n" not in result.replace("\r\n", "")
    if not ctx.multiline:
        assert "\n" not in result


# --- issue 24 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # code quoted in backticks is a word of the sentence
        ("The loop variable was misspelled as `$itme`.", True),
        ("`[[ -f ]]` skips arguments that aren't regular files; `wc -l` counts.", True),
        # a long plain sentence stays one when it names code unquoted
        ("This keeps x within [lo, hi]; before, values above hi were clamped to lo.", True),
        ("The index operator can't insert; use the entry API:", True),
        # code is still code
        ("SELECT * FROM users WHERE id = 1;", False),
        ("Foo.bar(x)", False),
        ("return n > 0 ? xs[0] : -1;", False),
        ("`Hello ${name}`;", False),
        ('Name string `json:"name"`', False),
    ],
)
def test_is_prose_reads_quoted_code_as_words(line: str, expected: bool) -> None:
    assert is_prose(line) is expected


RUBY_IF = {
    "line_prefix": "  ",
    "prev_lines": ("def grade(score)", "  if score >= 90", '    "A"'),
    "next_lines": ("end",),
    "language_id": "ruby",
    **ML,
}
ISSUE24: list[Case] = [
    # the reply's `end` closes the open `if` (column 2): the document's `end` closes the def
    ('elsif score >= 80\n    "B"\n  end', RUBY_IF, 'elsif score >= 80\n    "B"\n  end'),
    # the reply's `end` at the def's column is the document's next line: an echo
    ('"B"\n  end\nend', RUBY_IF, '"B"\n  end'),
]


@pytest.mark.parametrize(("raw", "kwargs", "expected"), ISSUE24)
def test_closers_are_judged_by_balance(raw: str, kwargs: dict[str, Any], expected: str) -> None:
    assert pp.postprocess(raw, _ctx(**kwargs)) == expected


def test_a_closer_of_a_block_above_goes_to_its_openers_column() -> None:
    """A reply relative to the cursor that repeats the next lines at the file's columns: the
    closers go to their openers' columns, so the repeat is seen and dropped."""
    ctx = _ctx(
        line_prefix="    ",
        prev_lines=("module.exports = {", "  plugins: ["),
        next_lines=("  ],", "};"),
        language_id="javascript",
        indent_unit="  ",
        **ML,
    )
    assert pp.align_indentation("react(),\nlint(),\n  ],\n};", ctx) == (
        "react(),\n    lint(),\n  ],\n};"
    )
    assert pp.postprocess("react(),\nlint(),\n  ],\n};", ctx) == "react(),\n    lint(),"
