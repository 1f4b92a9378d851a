"""Definitions in use: the workspace definitions of the names near the cursor, as signatures.

This is the source that stops invented names: when the code being typed calls
``compute_discount(`` or uses ``Cart``, the model sees ``def compute_discount(order, rate)`` and
``Cart``'s methods, from files the editor never opened. A name resolves to definitions in the
files the current file imports first, then to a definition that is unique in the workspace;
ambiguous names (``get``, ``__init__``) are left out rather than guessed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from spark_lsp.engine.prompts import section_heading
from spark_lsp.engine.sources.index import Definition, WorkspaceIndex
from spark_lsp.engine.sources.near import NearNames
from spark_lsp.engine.sources.render import Counter, Packer, definition_lines

#: More definitions than this of one name, none of them imported: too ambiguous to show.
MAX_AMBIGUITY = 2


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the lookup found: the rendered text, its tokens, and names resolved / asked."""

    text: str
    tokens: int
    resolved: int
    referenced: int


def resolve(
    index: WorkspaceIndex,
    near: NearNames,
    imported: Collection[str],
    defined_here: Collection[str],
    current: str | None,
) -> list[tuple[str, list[Definition]]]:
    """Each near name with the definitions it resolves to (an empty list: unresolved)."""
    found: list[tuple[str, list[Definition]]] = []
    for name in near.names:
        if name in defined_here:
            continue
        candidates = [d for d in index.definitions(name) if d.file.relative != current]
        if name not in near.attributes:
            candidates = [d for d in candidates if not d.symbol.container]
        preferred = [d for d in candidates if d.file.relative in imported]
        if preferred:
            found.append((name, preferred[:MAX_AMBIGUITY]))
        elif 0 < len(candidates) <= MAX_AMBIGUITY:
            found.append((name, candidates))
        else:
            found.append((name, []))
    return found


def render(
    resolved: list[tuple[str, list[Definition]]],
    budget: int,
    count: Counter,
    shown_elsewhere: Collection[tuple[str, str]] = (),
) -> Resolution:
    """Signatures of the resolved names, closest first, grouped under their file's path."""
    packer = Packer(budget, count)
    done: set[tuple[str, str, int]] = set()
    for _, definitions in resolved:
        for definition in definitions:
            key = (definition.file.relative, definition.symbol.name, definition.symbol.line)
            if key in done or key[:2] in shown_elsewhere:
                continue
            done.add(key)
            indexed = definition.file
            lines = definition_lines(definition.symbol, indexed.outline, indexed.language_id)
            heading = section_heading(indexed.relative, indexed.language_id)
            packer.add(heading + "\n".join(lines) + "\n")
    resolved_count = sum(1 for _, found in resolved if found)
    heading = "Definitions of names used near the cursor (signatures only):"
    return Resolution(packer.text(heading), packer.spent, resolved_count, len(resolved))
