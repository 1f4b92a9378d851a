"""The repository map: the workspace's top-level symbols, most referenced first, cut to budget.

Beyond the files the current one imports, the model benefits from knowing what else exists (a
helper two packages away, the project's base classes). Symbols are ranked by how often the
current file and the recently edited files mention their names, files the current file imports
and files near it in the tree get a lift, and the map is filled best file first until the budget
is spent. Signatures only, one line each, so hundreds fit in a few thousand tokens.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Collection
from pathlib import Path, PurePosixPath

from spark_lsp.engine.prompts import section_heading
from spark_lsp.engine.sources.index import IndexedFile, WorkspaceIndex
from spark_lsp.engine.sources.render import Counter, Packer
from spark_lsp.engine.symbols import Symbol

#: Lines of one file's entry in the map: a long module shows its most referenced symbols.
MAX_SYMBOLS_PER_ENTRY = 12
#: A constant's line in the map: its name and the start of its value (the imports and the
#: definitions show more).
MAX_MAP_VARIABLE_CHARS = 48


def rank_files(
    index: WorkspaceIndex,
    mentions: Tally[str],
    imported: Collection[str],
    current: str | None,
) -> list[tuple[float, IndexedFile]]:
    """Files scored by mentions of their symbols, import and directory closeness.

    Scores are gathered through the name table (cost: the mentioned names, not the whole
    workspace); files nothing points at follow in path order.
    """
    scores: dict[str, float] = {}
    for name, times in mentions.items():
        for definition in index.definitions(name):
            if not definition.symbol.container:
                key = definition.file.relative
                scores[key] = scores.get(key, 0.0) + times
    for relative in imported:
        scores[relative] = scores.get(relative, 0.0) + 5.0
    here = PurePosixPath(current).parent if current else None
    scored: list[tuple[float, IndexedFile]] = []
    for indexed in index.files():
        if indexed.relative == current or not indexed.outline.symbols:
            continue
        score = scores.get(indexed.relative, 0.0)
        if here is not None and PurePosixPath(indexed.relative).parent == here:
            score += 0.5
        scored.append((score, indexed))
    scored.sort(key=lambda item: (-item[0], item[1].relative))
    return scored


def entry(indexed: IndexedFile, mentions: Tally[str]) -> str:
    """One file's line in the map: its path, then its top symbols' signatures."""
    symbols = sorted(indexed.outline.top_level(), key=lambda s: (-mentions.get(s.name, 0), s.line))[
        :MAX_SYMBOLS_PER_ENTRY
    ]
    symbols.sort(key=lambda s: s.line)
    signatures = "".join(_map_line(s) + "\n" for s in symbols)
    return section_heading(indexed.relative, indexed.language_id) + signatures


def _map_line(symbol: Symbol) -> str:
    signature = symbol.signature
    if symbol.kind != "variable" or len(signature) <= MAX_MAP_VARIABLE_CHARS:
        return signature
    return signature[: MAX_MAP_VARIABLE_CHARS - 1] + "…"


def render(
    index: WorkspaceIndex,
    mentions: Tally[str],
    imported: Collection[str],
    current: str | None,
    budget: int,
    count: Counter,
    excluded: Callable[[Path], str | None],
    skip: Collection[str] = (),
) -> tuple[str, int]:
    """The map within ``budget``: best files first, each file's entry whole or not at all;
    files in ``skip`` (shown whole elsewhere in the prompt) are left out."""
    packer = Packer(budget, count)
    misses = 0
    for _, indexed in rank_files(index, mentions, imported, current):
        if indexed.relative in skip or excluded(index.path_of(indexed.relative)) is not None:
            continue
        if not packer.add(entry(indexed, mentions)):
            misses += 1
            if misses > 8:  # the budget is spent; stop scanning the tail
                break
    heading = "Map of the project (top-level symbols of other files):"
    return packer.text(heading), packer.spent
