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
        ("rate", "variable", "rate = 1", "", "Pricing"),
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
          ("double", "function", "const double = (a) =>", "", "")],
         ("./util",)),
        ("typescript",
         'import x from "./y";\nexport interface P { a: number }\n'
         'export class C { method(a: number): string { return "" } }\n',
         [("P", "type", "interface P", "", ""), ("a", "variable", "a: number", "", "P"),
          ("C", "class", "class C", "", ""),
          ("method", "method", "method(a: number): string", "", "C")],
         ("./y",)),
        ("go",
         'package main\nimport (\n"fmt"\n"os"\n)\n// Add adds\nfunc Add(a int) int { return a }\n'
         "func (t *T) M() {}\n",
         [("Add", "function", "func Add(a int) int", "Add adds", ""),
          ("M", "method", "func (t *T) M()", "", "T")],
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


def names(language: str, text: str) -> list[tuple[str, str, str]]:
    """(name, kind, container) of every symbol."""
    return [(s.name, s.kind, s.container) for s in outline(language, text).symbols]


def test_python_outlines_constants_aliases_attributes_and_type_checking_blocks() -> None:
    text = (
        "from typing import TYPE_CHECKING\n"
        "HeaderTypes = Union[\n    'Headers',\n    Mapping[str, str],\n]\n"
        "DEFAULT_TIMEOUT: float = 5.0\n"
        "type Pair = tuple[int, int]\n"
        "if TYPE_CHECKING:\n    class Client:\n        def send(self): ...\n"
        "class Config:\n    retries: int = 3\n    name = 'x'\n"
        "def f():\n    local = 1\n"
    )
    assert names("python", text) == [
        ("HeaderTypes", "variable", ""), ("DEFAULT_TIMEOUT", "variable", ""),
        ("Pair", "type", ""), ("Client", "class", ""), ("send", "method", "Client"),
        ("Config", "class", ""), ("retries", "variable", "Config"),
        ("name", "variable", "Config"), ("f", "function", ""),
    ]  # ``local`` is a body detail
    signatures = {s.name: s.signature for s in outline("python", text).symbols}
    assert signatures["HeaderTypes"] == "HeaderTypes = Union[ 'Headers', Mapping[str, str], ]"
    assert signatures["DEFAULT_TIMEOUT"] == "DEFAULT_TIMEOUT: float = 5.0"


def test_typescript_outlines_constants_interface_members_fields_and_namespaces() -> None:
    text = (
        "export const TRPC_CODES = { PARSE_ERROR: -32700 } as const;\n"
        "export const handler = (x: number) => x;\n"
        "declare const VERSION: string;\n"
        "export interface Observer<T> { next: (value: T) => void; error?(e: unknown): void }\n"
        "class Box { value = 1; private size: number; }\n"
        "export namespace util { export function assert(x: unknown): void {} }\n"
        "export enum Mode { A, B }\n"
        "export abstract class Base { abstract run(): void }\n"
    )
    assert names("typescript", text) == [
        ("TRPC_CODES", "variable", ""), ("handler", "function", ""),
        ("VERSION", "variable", ""), ("Observer", "type", ""), ("next", "variable", "Observer"),
        ("error", "method", "Observer"), ("Box", "class", ""), ("value", "variable", "Box"),
        ("size", "variable", "Box"), ("util", "class", ""), ("assert", "method", "util"),
        ("Mode", "type", ""), ("Base", "class", ""), ("run", "method", "Base"),
    ]
    signatures = {s.name: s.signature for s in outline("typescript", text).symbols}
    assert signatures["TRPC_CODES"] == "const TRPC_CODES = { PARSE_ERROR: -32700 } as const"


def test_go_outlines_constants_types_fields_and_methods_under_their_receiver() -> None:
    text = (
        "package p\nconst A = 1\nconst (\n\tB = 2\n\tC\n)\nvar D, E int\n"
        "type Command struct {\n\tUse string\n\tX, Y int\n}\n"
        "type Runner interface {\n\tRun(a int) error\n}\n"
        "func (c *Command) Execute() error { return nil }\n"
        "func (l List[T]) Len() int { return 0 }\n"
    )
    assert names("go", text) == [
        ("A", "variable", ""), ("B", "variable", ""), ("C", "variable", ""),
        ("D", "variable", ""), ("E", "variable", ""), ("Command", "class", ""),
        ("Use", "variable", "Command"), ("X", "variable", "Command"),
        ("Y", "variable", "Command"), ("Runner", "class", ""), ("Run", "method", "Runner"),
        ("Execute", "method", "Command"), ("Len", "method", "List"),
    ]
    signatures = {s.name: s.signature for s in outline("go", text).symbols}
    assert signatures["Command"] == "type Command struct"
    assert signatures["A"] == "const A = 1"
    assert signatures["Use"] == "Use string"


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("rust", "const A: i32 = 1;\nstatic B: i32 = 2;\ntype C = i32;\n",
         [("A", "variable", ""), ("B", "variable", ""), ("C", "type", "")]),
        ("java", "class A { static final int LIMIT = 1; int f() { return 0; } }\n",
         [("A", "class", ""), ("LIMIT", "variable", "A"), ("f", "method", "A")]),
        ("c", "#define MAX 10\ntypedef struct s S;\n",
         [("MAX", "variable", ""), ("S", "type", "")]),
        ("ruby", "LIMIT = 1\nclass A\n  SIZE = 2\nend\n",
         [("LIMIT", "variable", ""), ("A", "class", ""), ("SIZE", "variable", "A")]),
        ("kotlin", "val LIMIT = 3\ntypealias Name = String\n",
         [("LIMIT", "variable", ""), ("Name", "type", "")]),
    ],
)
def test_every_language_outlines_its_constants_and_aliases(
    language: str, text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert names(language, text) == expected


@pytest.mark.parametrize(
    ("language", "text", "bindings", "reexports"),
    [
        ("python", "import a.b as c\nimport d.e\nfrom .x import y as z, w\n",
         (("c", "a.b", ""), ("d", "d", ""), ("z", ".x", "y"), ("w", ".x", "w")), ()),
        ("typescript",
         'import * as core from "../core/index.js";\nimport X, { a as b, c } from "./m";\n'
         'export * from "./schemas.js";\n',
         (("core", "../core/index.js", ""), ("X", "./m", "default"), ("b", "./m", "a"),
          ("c", "./m", "c")), ("./schemas.js",)),
        ("go",
         'package p\nimport (\n\t"fmt"\n\tx "github.com/a/b"\n\t"github.com/go-chi/chi/v5"\n)\n',
         (("fmt", "fmt", ""), ("x", "github.com/a/b", ""),
          ("chi", "github.com/go-chi/chi/v5", "")), ()),
    ],
)
def test_imports_bind_local_names(
    language: str, text: str, bindings: tuple[tuple[str, str, str], ...],
    reexports: tuple[str, ...],
) -> None:
    found = outline(language, text)
    assert found.bindings == bindings
    assert found.reexports == reexports


def _module(index: int) -> str:
    """A module-sized piece of Python: a class with methods, functions, a constant, and a
    multi-line string whose text has a blank line and then a word at the left margin."""
    return (
        f'QUERY_{index} = """\nSELECT price\n\nFROM orders_{index}\n"""\n\n'
        f"class Model{index}:\n    rate = {index}\n\n"
        + "".join(f"    def method_{index}_{m}(self, x):\n        return x\n\n" for m in range(8))
        + "\n"
        + "".join(f"def helper_{index}_{f}(a, b):\n    return a + b\n\n\n" for f in range(8))
        + "# " + "padding " * 400 + "\n\n"
    )


def _whole_parse_outline(text: str) -> list[tuple[str, str, int, str]]:
    """The outline as one parse of the whole file gives it (the pieces' reference)."""
    import spark_lsp.engine.symbols as symbols

    saved = symbols.PIECE_CHARS
    symbols.PIECE_CHARS = 10 * len(text)
    try:
        return [(s.name, s.kind, s.line, s.container) for s in outline("python", text).symbols]
    finally:
        symbols.PIECE_CHARS = saved


def test_a_big_file_is_parsed_in_pieces_with_the_same_outline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tree-sitter tree costs ~25 bytes per source byte: a 500 kB module parsed whole was the
    server's memory peak. Pieces cut between top-level statements give the same outline,
    lines included, even where a cut would fall inside a multi-line string."""
    import spark_lsp.engine.symbols as symbols

    monkeypatch.setattr(symbols, "MAX_SYMBOLS_PER_FILE", 10_000)
    text = "import os\n\n" + "".join(_module(i) for i in range(100))
    assert len(text) > 4 * symbols.PIECE_CHARS
    expected = _whole_parse_outline(text)
    assert len(expected) == 100 * 19

    largest: list[int] = []
    real_parser_for = symbols.grammars.parser_for

    class Recording:
        def __init__(self, language_id: str) -> None:
            self.parser = real_parser_for(language_id)

        def parse(self, source: bytes) -> object:
            largest.append(len(source))
            assert self.parser is not None
            return self.parser.parse(source)

    monkeypatch.setattr(symbols.grammars, "parser_for", Recording)
    found = [(s.name, s.kind, s.line, s.container) for s in outline("python", text).symbols]
    assert found == expected
    assert max(largest) < 3 * symbols.PIECE_CHARS


def test_a_cut_inside_a_string_is_parsed_again_joined(monkeypatch: pytest.MonkeyPatch) -> None:
    """A piece that ends inside a multi-line string fails to parse alone: joined to the next
    piece it parses cleanly, so no definition after the string is lost or misplaced."""
    import spark_lsp.engine.symbols as symbols

    monkeypatch.setattr(symbols, "MAX_SYMBOLS_PER_FILE", 10_000)
    before = "".join(f"def f{i}(a):\n    return a\n\n\n" for i in range(10))
    after = "".join(f"def g{i}(b):\n    return b\n\n\n" for i in range(40))
    text = before + 'TEXT = """\nintro\n\nWord (at the margin\n"""\n\n\n' + after
    monkeypatch.setattr(symbols, "PIECE_CHARS", text.index("TEXT") + 1)
    assert text.index("Word (at the margin") in symbols._piece_bounds(text)  # the cut falls there
    found = [(s.name, s.kind, s.line, s.container) for s in outline("python", text).symbols]
    assert found == _whole_parse_outline(text)
    assert ("g19", "function") in [(name, kind) for name, kind, _, _ in found]
