"""How project context reads in a prompt: code-shaped signatures under neutral headings.

Every source renders the same way, so the model sees one consistent format: the neutral heading
other files' snippets use (path and language, :func:`~spark_lsp.engine.prompts.section_heading`),
then signatures as the language writes them, members indented below their class, a docstring's
first line as a comment in *that file's* language. No bodies, no diff markers, nothing the model
could mistake for text to continue verbatim.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from spark_lsp.engine.languages import line_comment
from spark_lsp.engine.symbols import FileOutline, Symbol

#: Methods listed under a class: enough to show its interface, bounded for huge classes.
MAX_MEMBERS = 24
Counter = Callable[[str], int]


def symbol_lines(symbol: Symbol, language_id: str, indent: str = "") -> list[str]:
    """A signature, and its doc as a comment (in the defining file's language) below it."""
    lines = [indent + symbol.signature]
    if symbol.doc:
        lines.append(f"{indent}    {line_comment(language_id) or '//'} {symbol.doc}")
    return lines


def class_lines(
    symbol: Symbol, outline: FileOutline, language_id: str, members: Sequence[Symbol] = ()
) -> list[str]:
    """A class with its member signatures (the interface code near the cursor can call)."""
    lines = symbol_lines(symbol, language_id)
    for member in (members or outline.members(symbol.name))[:MAX_MEMBERS]:
        lines += symbol_lines(member, language_id, "    ")
    return lines


def members_by_container(outline: FileOutline) -> dict[str, list[Symbol]]:
    """Each class's, interface's or struct's members, in one pass over the outline."""
    found: dict[str, list[Symbol]] = {}
    for symbol in outline.symbols:
        if symbol.container:
            found.setdefault(symbol.container, []).append(symbol)
    return found


def definition_lines(symbol: Symbol, outline: FileOutline, language_id: str) -> list[str]:
    """A symbol the way a reader needs it: classes, interfaces and structs with their members,
    functions and constants alone."""
    if not symbol.container and symbol.kind in ("class", "type"):
        return class_lines(symbol, outline, language_id)
    if symbol.container:
        marker = line_comment(language_id) or "//"
        return [f"{marker} in {symbol.container}:", *symbol_lines(symbol, language_id)]
    return symbol_lines(symbol, language_id)


class CachedCounter:
    """Exact token counts of rendered blocks, remembered by text.

    A file's entry in the map or its interface summary is the same text from one render to the
    next; counting it again would make the tokenizer the cost of every stable-part refresh.
    """

    def __init__(self, count: Counter, size: int = 4096) -> None:
        self._count = count
        self._size = size
        self._known: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        known = self._known.get(text)
        if known is None:
            if len(self._known) >= self._size:
                self._known.clear()
            known = self._known[text] = self._count(text)
        return known


class Packer:
    """Appends blocks while they fit the budget; counts exact tokens of what it keeps."""

    def __init__(self, budget: int, count: Counter) -> None:
        self.budget = budget
        self.count = count
        self.spent = 0
        self.blocks: list[str] = []

    def add(self, block: str) -> bool:
        """Keep ``block`` if it fits; False when it does not (the caller may try a smaller one)."""
        cost = self.count(block) + 1
        if self.spent + cost > self.budget:
            return False
        self.blocks.append(block)
        self.spent += cost
        return True

    def text(self, heading: str) -> str:
        """The kept blocks under ``heading`` (a sentence), or "" when nothing fit."""
        return heading + "\n" + "".join(self.blocks) if self.blocks else ""
