"""Imports: the workspace files the current file imports, summarised as their interfaces.

A file's imports say which modules its code talks to; their top-level signatures (and class
members) are what a continuation is most likely to call. They change only when an import line
or an imported file changes, so this part sits in the stable, chained prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from weakref import WeakKeyDictionary

from spark_lsp.engine.prompts import section_heading
from spark_lsp.engine.sources.index import LANGUAGE_BY_SUFFIX, IndexedFile, WorkspaceIndex
from spark_lsp.engine.sources.render import (
    Counter,
    Packer,
    class_lines,
    members_by_container,
    symbol_lines,
)
from spark_lsp.engine.sources.resolve import ImportResolver


def resolved_imports(index: WorkspaceIndex, specs: Iterable[str], current: str | None) -> list[str]:
    """The indexed files the import specs name, in import order, without duplicates."""
    found: dict[str, None] = {}
    resolver = resolver_of(index)
    language_id = LANGUAGE_BY_SUFFIX.get(PurePosixPath(current or "").suffix, "")
    for spec in specs:
        for relative in resolver.files(spec, current or "", language_id):
            if relative != current:
                found.setdefault(relative, None)
    return list(found)


_RESOLVERS: WeakKeyDictionary[WorkspaceIndex, ImportResolver] = WeakKeyDictionary()


def resolver_of(index: WorkspaceIndex) -> ImportResolver:
    """The index's import resolver (one per index: its tables follow the index's generation)."""
    resolver = _RESOLVERS.get(index)
    if resolver is None:
        resolver = _RESOLVERS[index] = ImportResolver(index)
    return resolver


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
        if excluded(index.path_of(indexed.relative)) is not None or not indexed.outline.symbols:
            continue
        if packer.add(file_summary(indexed)):
            shown.update((indexed.relative, s.name) for s in indexed.outline.symbols)
    heading = "Interfaces of the project files imported by the current file:"
    return packer.text(heading), packer.spent, shown
