"""Tree-sitter grammars by LSP language id: the one place that knows which parser reads which file.

Why a registry of its own: post-processing (where does a block end?), edits (which lines belong
to the region?) and project context (which symbols does a file define?) all need a syntax tree for
the same language ids, and each grammar is a compiled wheel (``tree-sitter-python`` …) that costs
import time and memory. So grammars load lazily, on the first file of their language, once per
process; a language without a wheel — or a wheel that fails to load — answers ``None`` and the
caller falls back to its per-language table. Nothing is compiled or downloaded at run time.
"""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tree_sitter import Language, Parser, Tree

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GrammarSource:
    """Where a language's grammar lives: its wheel's module and language function."""

    module: str
    function: str = "language"


# LSP language ids (https://microsoft.github.io/language-server-protocol/ "Text Document Item")
# mapped to the grammar wheels listed in pyproject.toml.
GRAMMARS: dict[str, GrammarSource] = {
    "python": GrammarSource("tree_sitter_python"),
    "javascript": GrammarSource("tree_sitter_javascript"),
    "javascriptreact": GrammarSource("tree_sitter_javascript"),
    "typescript": GrammarSource("tree_sitter_typescript", "language_typescript"),
    "typescriptreact": GrammarSource("tree_sitter_typescript", "language_tsx"),
    "go": GrammarSource("tree_sitter_go"),
    "rust": GrammarSource("tree_sitter_rust"),
    "c": GrammarSource("tree_sitter_c"),
    "cpp": GrammarSource("tree_sitter_cpp"),
    "java": GrammarSource("tree_sitter_java"),
    "ruby": GrammarSource("tree_sitter_ruby"),
    "shellscript": GrammarSource("tree_sitter_bash"),
    "html": GrammarSource("tree_sitter_html"),
    "css": GrammarSource("tree_sitter_css"),
    "yaml": GrammarSource("tree_sitter_yaml"),
    "lua": GrammarSource("tree_sitter_lua"),
    "json": GrammarSource("tree_sitter_json"),
    "toml": GrammarSource("tree_sitter_toml"),
}

# Other names editors send for the same languages (Neovim filetypes, LSP4IJ ids).
ALIASES: dict[str, str] = {
    "py": "python",
    "js": "javascript",
    "jsx": "javascriptreact",
    "ts": "typescript",
    "tsx": "typescriptreact",
    "golang": "go",
    "rs": "rust",
    "c++": "cpp",
    "cuda": "cpp",
    "objective-c": "c",
    "rb": "ruby",
    "sh": "shellscript",
    "bash": "shellscript",
    "zsh": "shellscript",
    "jsonc": "json",
    "yml": "yaml",
}

_lock = threading.Lock()
_languages: dict[str, Language | None] = {}


def canonical_language(language_id: str) -> str:
    """The language id the tables use for what an editor sent (lower-cased, aliases resolved)."""
    lowered = language_id.strip().lower()
    return ALIASES.get(lowered, lowered)


def language_for(language_id: str) -> Language | None:
    """The loaded grammar for ``language_id``, or ``None`` (none, or it failed once)."""
    key = canonical_language(language_id)
    source = GRAMMARS.get(key)
    if source is None:
        return None
    with _lock:
        if key not in _languages:
            _languages[key] = _load(key, source)
        return _languages[key]


def parser_for(language_id: str) -> Parser | None:
    """A new parser for ``language_id`` (parsers hold per-parse state, so one per caller)."""
    language = language_for(language_id)
    if language is None:
        return None
    from tree_sitter import Parser

    return Parser(language)


def parse(language_id: str, text: str) -> Tree | None:
    """``text`` parsed with the language's grammar, or ``None`` without one."""
    parser = parser_for(language_id)
    if parser is None:
        return None
    return parser.parse(text.encode("utf-8", "surrogatepass"))


def _load(key: str, source: GrammarSource) -> Language | None:
    try:
        from tree_sitter import Language

        module: Any = importlib.import_module(source.module)
        return Language(getattr(module, source.function)())
    except Exception as exc:  # a missing or broken wheel must never break a completion
        log.warning("no %s grammar (%s): falling back to the language table", key, exc)
        return None
