"""Imports: the workspace files the current file imports, summarised as their interfaces.

A file's imports say which modules its code talks to; their top-level signatures (and class
members) are what a continuation is most likely to call. They change only when an import line
or an imported file changes, so this part sits in the stable, chained prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from spark_lsp.engine.prompts import section_heading
from spark_lsp.engine.sources.index import IndexedFile, WorkspaceIndex
from spark_lsp.engine.sources.render import (
    Counter,
    Packer,
    class_lines,
    members_by_container,
    symbol_lines,
)


def resolved_imports(index: WorkspaceIndex, specs: Iterable[str], current: str | None) -> list[str]:
    """The indexed files the import specs name, in import order, without duplicates."""
    found: dict[str, None] = {}
    for spec in specs:
        relative = index.resolve_import(spec, current or "")
        if relative is not None and relative != current:
            found.setdefault(relative, None)
    return list(found)


def file_summary(indexed: IndexedFile) -> str:
    """One file's interface: top-level signatures, classes (and interfaces, structs) with their
    members."""
    language_id = indexed.language_id
    lines: list[str] = []
    members = members_by_container(indexed.outline)
    for symbol in indexed.outline.top_level():
        if symbol.name in members:
            lines += class_lines(symbol, indexed.outline, language_id, members[symbol.name])
        else:
            lines += symbol_lines(symbol, language_id)
    return section_heading(indexed.relative, language_id) + "\n".join(lines) + "\n"


def render(
    index: WorkspaceIndex,
    imported: list[str],
    budget: int,
    count: Counter,
    excluded: Callable[[Path], str | None],
) -> tuple[str, int, set[tuple[str, str]]]:
    """Summaries of the imported files that fit; also which (file, name) pairs they show."""
    packer = Packer(budget, count)
    shown: set[tuple[str, str]] = set()
    for indexed in index.outlines(imported):
        if excluded(index.root / indexed.relative) is not None or not indexed.outline.symbols:
            continue
        if packer.add(file_summary(indexed)):
            shown.update((indexed.relative, s.name) for s in indexed.outline.symbols)
    heading = "Interfaces of the project files imported by the current file:"
    return packer.text(heading), packer.spent, shown
