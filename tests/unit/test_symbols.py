"""Symbol extraction: signatures and first doc lines per language, and the plain fallback."""

from __future__ import annotations

import pytest

from spark_lsp.engine.symbols import MAX_SYMBOLS_PER_FILE, outline, plain_outline

PYTHON = '''import os, sys as system
from .util import helper, other as renamed
from pkg.mod import (alpha,
    beta)

class Pricing(Base):
    """Prices orders.

    Longer text that is not shown."""
    rate = 1

    def __init__(self, rate: float) -> None:
        self.rate = rate

    @property
    def total(self):
        return 1

@decorator
async def compute_discount(order, rate=0.1) -> float:
    """Apply the rate."""
    def inner():
        pass
    return order.total * rate
'''


def shapes(language: str, text: str) -> list[tuple[str, str, str, str, str]]:
    found = outline(language, text).symbols
    return [(s.name, s.kind, s.signature, s.doc, s.container) for s in found]


def test_python_signatures_docstrings_and_members() -> None:
    assert shapes("python", PYTHON) == [
        ("Pricing", "class", "class Pricing(Base):", "Prices orders.", ""),
        ("__init__", "method", "def __init__(self, rate: float) -> None:", "", "Pricing"),
        ("total", "method", "def total(self):", "", "Pricing"),
        ("compute_discount", "function",
         "async def compute_discount(order, rate=0.1) -> float:", "Apply the rate.", ""),
    ]  # nested ``inner`` is a body detail: not listed


def test_python_imports_name_modules_and_their_members() -> None:
    assert outline("python", PYTHON).imports == (
        "os", "sys", ".util.helper", ".util.other", ".util", "pkg.mod.alpha", "pkg.mod.beta",
        "pkg.mod",
    )


@pytest.mark.parametrize(
    ("language", "text", "expected", "imports"),
    [
        ("javascript",
         'import {x} from "./util";\n// Adds numbers\nexport function add(a, b) { return a+b }\n'
         "class A { m(x) { return 1 } }\nconst double = (a) => a * 2;\n",
         [("add", "function", "function add(a, b)", "Adds numbers", ""),
          ("A", "class", "class A", "", ""), ("m", "method", "m(x)", "", "A"),
          ("double", "function", "double = (a) =>", "", "")],
         ("./util",)),
        ("typescript",
         'import x from "./y";\nexport interface P { a: number }\n'
         'export class C { method(a: number): string { return "" } }\n',
         [("P", "type", "interface P", "", ""), ("C", "class", "class C", "", ""),
          ("method", "method", "method(a: number): string", "", "C")],
         ("./y",)),
        ("go",
         'package main\nimport (\n"fmt"\n"os"\n)\n// Add adds\nfunc Add(a int) int { return a }\n'
         "func (t *T) M() {}\n",
         [("Add", "function", "func Add(a int) int", "Add adds", ""),
          ("M", "method", "func (t *T) M()", "", "")],
         ("fmt", "os")),
        ("rust",
         "use std::io;\n/// Doubles.\nfn f(x: i32) -> i32 { x }\nstruct S { a: i32 }\n"
         "impl S { fn m(&self) {} }\n",
         [("f", "function", "fn f(x: i32) -> i32", "Doubles.", ""),
          ("S", "class", "struct S", "", ""), ("m", "method", "fn m(&self)", "", "S")],
         ("std::io",)),
        ("c", "#include <stdio.h>\nint *f(int x) { return 0; }\n",
         [("f", "function", "int *f(int x)", "", "")], ("stdio.h",)),
        ("java", "import a.b.C;\nclass A { int f(int x) { return x; } }\n",
         [("A", "class", "class A", "", ""), ("f", "method", "int f(int x)", "", "A")],
         ("a.b.C",)),
    ],
)
def test_tree_sitter_languages(
    language: str, text: str, expected: list[tuple[str, ...]], imports: tuple[str, ...]
) -> None:
    assert shapes(language, text) == expected
    assert outline(language, text).imports == imports


def test_languages_without_a_grammar_use_the_plain_outline() -> None:
    kotlin = "import a.b\nclass A {\n  fun m(x: Int): Int {\n  }\n}\nfun top() {}\n"
    assert shapes("kotlin", kotlin) == [
        ("A", "class", "class A", "", ""),
        ("m", "method", "fun m(x: Int): Int", "", "A"),
        ("top", "function", "fun top() {}", "", ""),
    ]
    assert plain_outline(kotlin).imports == ("a.b",)


def test_a_generated_file_cannot_flood_the_outline() -> None:
    text = "".join(f"def f{i}(x):\n    return x\n" for i in range(MAX_SYMBOLS_PER_FILE + 50))
    assert len(outline("python", text).symbols) == MAX_SYMBOLS_PER_FILE
    assert len(plain_outline(text).symbols) == MAX_SYMBOLS_PER_FILE


def test_broken_code_still_yields_what_parses() -> None:
    text = "def ok(a):\n    return a\n\ndef broken(:\n\nclass Fine:\n    def m(self): ...\n"
    names = [s.name for s in outline("python", text).symbols]
    assert "ok" in names and "Fine" in names
