"""Minimal edits: unchanged lines are never rewritten, and applying them gives the new text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spark_lsp.engine.edits import OffsetEdit, apply_edits, minimal_edits

CASES = [
    ("def f()\n    return 1\n", "def f():\n    return 1\n", [OffsetEdit(0, 8, "def f():\n")]),
    ("a\nb\nc\n", "a\nb\nc\n", []),
    ("a\nb\nc\n", "a\nB\nc\n", [OffsetEdit(2, 4, "B\n")]),
    ("a\nc\n", "a\nb\nc\n", [OffsetEdit(2, 2, "b\n")]),
    ("a\nb\nc\n", "a\nc\n", [OffsetEdit(2, 4, "")]),
    ("x = 1\r\ny = 2\r\n", "x = 1\r\ny = 3\r\n", [OffsetEdit(7, 14, "y = 3\r\n")]),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES)
def test_minimal_edits_table(old: str, new: str, expected: list[OffsetEdit]) -> None:
    edits = minimal_edits(old, new)
    assert edits == expected
    assert apply_edits(old, edits) == new


def test_unchanged_lines_are_not_in_any_edit() -> None:
    old = "".join(f"line {i}\n" for i in range(100))
    new = old.replace("line 50\n", "line fifty\n")
    edits = minimal_edits(old, new)
    assert len(edits) == 1
    assert old[edits[0].start : edits[0].end] == "line 50\n"


lines = st.lists(st.sampled_from(["a\n", "b\n", "cc\n", "\n", "déf ü\n", "😀\r\n"]), max_size=12)


@given(lines, lines)
def test_edits_always_reproduce_the_new_text(old: list[str], new: list[str]) -> None:
    before, after = "".join(old), "".join(new)
    edits = minimal_edits(before, after)
    assert apply_edits(before, edits) == after
    ends = [e.end for e in edits]
    starts = [e.start for e in edits]
    assert all(end <= start for end, start in zip(ends, starts[1:], strict=False))


def test_a_diff_reply_that_matches_nowhere_is_refused_with_a_clear_message() -> None:
    """A patch for code the model was not shown must never be pasted or guessed at."""
    from spark_lsp.engine.edits import reply_edits
    from spark_lsp.errors import ModelRequestError

    raw = "```diff\n@@ -1 +1 @@\n-    return c * 1.8 + 32;\n+    return c;\n```"
    with pytest.raises(ModelRequestError, match="diff that does not match"):
        reply_edits(raw, "class T {\n", "    return c * 9 / 5 + 32;\n", "}\n", language_id="java")


def test_a_diff_reply_is_applied_to_the_lines_it_names() -> None:
    from spark_lsp.engine.edits import reply_edits

    before, region, after = "def f(x):\n", "    return x +\n", "\nprint(f(1))\n"
    raw = "--- a/f.py\n+++ b/f.py\n@@ -1,2 +1,2 @@\n def f(x):\n-    return x +\n"
    raw += "+    return x + 1\n"
    edits = reply_edits(raw, before, region, after, language_id="python")
    assert apply_edits(region + after, edits) == "    return x + 1\n\nprint(f(1))\n"


def test_minus_and_plus_lines_without_a_header_or_fence_are_code() -> None:
    from spark_lsp.engine.unified_diff import parse_diff

    assert parse_diff(["-1", "+x"]) is None
    assert parse_diff(["-1", "+x"], fenced_as_diff=True) is not None
    assert parse_diff(["@@ -1 +1 @@", " a", "-b", "+c"]) is not None
    assert parse_diff(["@@ -1 +1 @@", " a"]) is None  # nothing added or removed


def test_a_reply_in_two_space_steps_is_restepped_for_a_four_space_file() -> None:
    from spark_lsp.engine.edits import reply_edits

    before, region, after = "def f(xs):\n", "    for x in xs:\n        print(x)\n", ""
    raw = "for x in xs:\n  if x:\n    print(x)"
    edits = reply_edits(raw, before, region, after, language_id="python")
    assert apply_edits(region, edits) == "    for x in xs:\n        if x:\n            print(x)\n"


def test_a_hanging_two_space_continuation_is_not_a_step() -> None:
    from spark_lsp.engine.edits import reply_edits

    region = "    total = (a +\n        b)\n"
    raw = "    total = (a +\n      b +\n      c)"
    edits = reply_edits(raw, "def f():\n", region, "", language_id="python")
    assert apply_edits(region, edits) == "    total = (a +\n      b +\n      c)\n"


def test_a_stripped_first_line_then_a_method_after_a_blank_line_keep_their_columns() -> None:
    """The first line lost the region's indentation; the method after the blank line is at the
    class body's column already (one level out), so it is not pushed into the method above."""
    from spark_lsp.engine.edits import reply_edits

    before = "class C:\n    def add(self, x):\n"
    region = "        self.x = x\n"
    raw = "self.x += x\n\n    def sub(self, x):\n        self.x -= x"
    edits = reply_edits(raw, before, region, "", language_id="python")
    expected = "        self.x += x\n\n    def sub(self, x):\n        self.x -= x\n"
    assert apply_edits(region, edits) == expected


@pytest.mark.parametrize("language", ["javascript", "solidity", "go"])
def test_an_echoed_closer_below_does_not_flatten_the_reply(language: str) -> None:
    """The reply at column 0 ends with the function's ``}`` (one level out of the region):
    the echo is dropped, so the region's lines go back to the region's depth, not the
    closer's."""
    from spark_lsp.engine.edits import reply_edits

    before = "contract C {\n    function f() {\n"
    region = "        a = 1;\n        b = 2;\n"
    after = "    }\n}\n"
    raw = "check();\na = 1;\nb = 2;\n}"
    edits = reply_edits(raw, before, region, after, language_id=language)
    expected = "        check();\n        a = 1;\n        b = 2;\n    }\n}\n"
    assert apply_edits(region + after, edits) == expected


@pytest.mark.parametrize(
    ("language", "region", "raw", "expected"),
    [
        # a JSX element inside a paren that ends its line, in 2-space steps for a 4-space file
        (
            "typescriptreact",
            "        {xs.map((x) => <li>{x}</li>)}\n",
            "{xs.map((x) => (\n  <li key={x}>{x}</li>\n))}",
            "        {xs.map((x) => (\n            <li key={x}>{x}</li>\n        ))}\n",
        ),
        # a call's arguments one step in after the bracket that ends the line
        (
            "python",
            "        run(a, b)\n",
            "run(\n  a,\n  b,\n)",
            "        run(\n            a,\n            b,\n        )\n",
        ),
    ],
)
def test_a_bracket_that_ends_its_line_steps_into_a_block(
    language: str, region: str, raw: str, expected: str
) -> None:
    from spark_lsp.engine.edits import reply_edits

    before = "def f():\n    if x:\n" if language == "python" else "const L = () => (\n    <ul>\n"
    edits = reply_edits(raw, before, region, "", language_id=language)
    assert apply_edits(region, edits) == expected
