"""The grammar registry: every listed grammar loads offline and parses its language."""

from __future__ import annotations

import pytest

from spark_lsp.engine import grammars

SAMPLES = {
    "python": "def f(x):\n    return x\n",
    "javascript": "function f(x) { return x; }\n",
    "javascriptreact": "const A = () => <div>{x}</div>;\n",
    "typescript": "function f(x: number): number { return x; }\n",
    "typescriptreact": "const A = (p: P) => <div>{p.x}</div>;\n",
    "go": "package main\nfunc f(x int) int { return x }\n",
    "rust": "fn f<'a>(x: &'a str) -> &'a str { x }\n",
    "c": "int f(int x) { return x; }\n",
    "cpp": "namespace n { int f(int x) { return x; } }\n",
    "java": "class A { int f(int x) { return x; } }\n",
    "ruby": "def f(x)\n  x\nend\n",
    "shellscript": "if true; then echo hi; fi\n",
    "html": "<div><p>hi</p></div>\n",
    "css": "a { color: red; }\n",
    "yaml": "a:\n  b: 1\n",
    "lua": "local function f(x) return x end\n",
    "json": '{"a": [1, 2]}\n',
    "toml": "[a]\nb = 1\n",
}


def test_every_registered_grammar_has_a_sample() -> None:
    assert set(SAMPLES) == set(grammars.GRAMMARS)


@pytest.mark.parametrize("language_id", sorted(SAMPLES))
def test_grammar_parses_its_language_without_errors(language_id: str) -> None:
    tree = grammars.parse(language_id, SAMPLES[language_id])
    assert tree is not None, f"{language_id}: grammar did not load"
    assert not tree.root_node.has_error, str(tree.root_node)


def test_broken_code_is_parsed_with_an_error_node() -> None:
    tree = grammars.parse("python", "def f(x)\n    return x\n")
    assert tree is not None and tree.root_node.has_error


@pytest.mark.parametrize(("sent", "canonical"), [
    ("Python", "python"), ("sh", "shellscript"), ("tsx", "typescriptreact"), ("c++", "cpp"),
])
def test_aliases_resolve(sent: str, canonical: str) -> None:
    assert grammars.canonical_language(sent) == canonical
    assert grammars.language_for(sent) is grammars.language_for(canonical)


def test_unknown_language_has_no_grammar() -> None:
    assert grammars.language_for("cobol") is None
    assert grammars.parse("plaintext", "anything") is None
    assert "cobol" not in grammars.GRAMMARS
