"""Recent edits and visits: the last places the user worked in other files, a few lines each.

What someone just changed in another file is often what they are about to use here (a new
parameter, a renamed function). Edits come from the document store (every change records its
line); visits are the positions of completion requests. Both are bounded rings; only open,
non-excluded documents contribute, and only from the last few minutes.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from spark_lsp.engine.prompts import snippet_heading
from spark_lsp.engine.sources.render import Counter, Packer
from spark_lsp.engine.store import DocumentStore, OpenDocument

MAX_VISITS = 32
#: Lines shown above and below an edited or visited line.
CONTEXT_LINES = 2
#: Places per file, newest first.
MAX_PLACES_PER_FILE = 3
FRESH_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class Visit:
    """A position the user asked for a completion at."""

    uri: str
    line: int
    at: float


class RecentActivity:
    """A ring of visits; edits are read from the store's documents."""

    def __init__(self, timer: Callable[[], float] = time.monotonic) -> None:
        self._timer = timer
        self._visits: deque[Visit] = deque(maxlen=MAX_VISITS)

    def visit(self, uri: str, line: int) -> None:
        """Record a completion request's position."""
        self._visits.append(Visit(uri, line, self._timer()))

    def places(self, doc: OpenDocument) -> list[int]:
        """Recently edited, then visited, lines of ``doc``, newest first, deduplicated."""
        now = self._timer()
        lines: list[int] = []
        if now - doc.edited_at < FRESH_SECONDS:
            lines += reversed(doc.recent_lines)
        lines += [
            v.line
            for v in reversed(self._visits)
            if v.uri == doc.uri and now - v.at < FRESH_SECONDS
        ]
        unique: list[int] = []
        for line in lines:
            if all(abs(line - kept) > CONTEXT_LINES for kept in unique):
                unique.append(line)
        return unique[:MAX_PLACES_PER_FILE]

    def render(
        self,
        store: DocumentStore,
        current_uri: str,
        budget: int,
        count: Counter,
        excluded: Callable[[str], str | None],
    ) -> tuple[str, int]:
        """Snippets around recent places in other open files, most recently edited first."""
        packer = Packer(budget, count)
        active = [(d, self.places(d)) for d in store if d.uri != current_uri]
        others = [(d, p) for d, p in active if p and excluded(d.uri) is None]
        others.sort(key=lambda item: max(item[0].edited_at, self._last_visit(item[0].uri)))
        for doc, places in reversed(others):
            for line in places:
                if line >= doc.index.line_count:
                    continue
                first = max(0, line - CONTEXT_LINES)
                end = min(doc.index.line_count, line + CONTEXT_LINES + 1)
                body = doc.index.text_of_lines(first, end).rstrip("\n")
                packer.add(snippet_heading(doc.path, doc.language_id, first, end) + body + "\n")
        heading = "Recently edited or visited in other files:"
        return packer.text(heading), packer.spent

    def _last_visit(self, uri: str) -> float:
        return max((v.at for v in self._visits if v.uri == uri), default=0.0)
