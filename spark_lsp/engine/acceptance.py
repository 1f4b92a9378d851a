"""Which suggestion the user accepted: small ids handed out with suggestions, counted back.

Each inline suggestion carries a command with an id; the editor runs it when the user accepts
the suggestion (whole, or a word or line of it). The id maps to the suggestion's language and
what became of it, never to its text: acceptance figures are counts only, kept in memory.

A suggestion typed through (or partially accepted) is asked for again at every key and comes
back shorter, ending where it ended before: that is the same suggestion, so it keeps its id and
is counted as shown once. So is one asked for again at the same place (the editor asking for
alternatives to the one on screen). Recognising it needs only where it ends and how long it is.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from spark_lsp.engine.stats import AcceptanceStats

#: Ids remembered for a late accept; older ones are forgotten (their accept is not counted).
REMEMBERED = 256

Outcome = Literal["shown", "partial", "accepted"]


@dataclass(slots=True)
class _Shown:
    uri: str
    language: str
    #: Where the suggestion's text ends once inserted: (line, character).
    end: tuple[int, int]
    length: int
    outcome: Outcome = "shown"


def insertion_end(line: int, character: int, text: str) -> tuple[int, int]:
    """Where ``text`` inserted at (line, character) ends (characters counted as code points;
    only compared with other ends computed the same way)."""
    newlines = text.count("\n")
    if not newlines:
        return line, character + len(text)
    return line + newlines, len(text) - text.rindex("\n") - 1


class AcceptanceTracker:
    """Hands out suggestion ids and turns accept commands into ``AcceptanceStats``."""

    def __init__(self) -> None:
        self.stats = AcceptanceStats()
        self._next_id = 1
        self._shown: OrderedDict[int, _Shown] = OrderedDict()
        self._latest: dict[str, int] = {}

    def shown(
        self, uri: str, language: str, at: tuple[int, int], texts: list[str], latency_ms: float
    ) -> int:
        """Record suggestions going to the editor at ``at``; returns the id their commands carry.

        Several texts (alternatives) share one id: one is shown at a time and at most one is
        accepted, so they count as one suggestion.
        """
        first = texts[0]
        end = insertion_end(*at, first)
        previous = self._continued(uri, end, len(first))
        if previous is not None:
            return previous
        sid = self._next_id
        self._next_id += 1
        self._shown[sid] = _Shown(uri, language, end, len(first))
        self._latest[uri] = sid
        while len(self._shown) > REMEMBERED:
            old_id, old = self._shown.popitem(last=False)
            if self._latest.get(old.uri) == old_id:
                del self._latest[old.uri]
        self.stats.shown(language, latency_ms)
        return sid

    def _continued(self, uri: str, end: tuple[int, int], length: int) -> int | None:
        """The id of the suggestion this one is the rest of (typed through, or asked again at the
        same place), if any."""
        sid = self._latest.get(uri)
        shown = self._shown.get(sid) if sid is not None else None
        if sid is None or shown is None or shown.outcome == "accepted":
            return None
        if shown.end != end or not 0 < length <= shown.length:
            return None
        shown.length = length
        return sid

    def accepted(self, sid: int, *, partial: bool) -> bool:
        """The editor ran the accept command of ``sid``; False when the id is unknown (too
        old, or not ours) or the suggestion was already counted as accepted."""
        shown = self._shown.get(sid)
        if shown is None or shown.outcome == "accepted":
            return False
        if partial:
            if shown.outcome == "shown":
                shown.outcome = "partial"
                self.stats.partially_accepted(shown.language)
            return True
        self.stats.accepted(shown.language, after_part=shown.outcome == "partial")
        shown.outcome = "accepted"
        return True
