"""The working-tree diff: what changed since the last commit, as new text, never as a patch.

Uncommitted work says what the user is in the middle of. A unified diff would teach the model to
answer in ``+``/``-`` lines, and those would leak into a suggestion, so hunks are re-rendered as
"these lines now read" with the new text only, and removals as a count. The changes are read
(:mod:`.worktree`: git plumbing that runs no program the repository names, plus the files
themselves) in a worker thread at most every few seconds, never on the request path; a
workspace without git (or without commits) simply has no diff.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from spark_lsp.engine.prompts import section_heading
from spark_lsp.engine.sources import log_failure
from spark_lsp.engine.sources.index import LANGUAGE_BY_SUFFIX
from spark_lsp.engine.sources.render import Counter, Packer
from spark_lsp.engine.sources.worktree import ChangeReader, Hunk

__all__ = ["Hunk", "WorkingTreeDiff", "hunk_text", "parse_diff"]

log = logging.getLogger(__name__)

HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
MAX_HUNK_LINES = 12
REFRESH_SECONDS = 5.0


def parse_diff(text: str) -> list[Hunk]:
    """Hunks of a ``git diff --unified=0`` output (deleted files have none); the reference the
    tests hold :class:`.worktree.ChangeReader` to.

    ``+++``/``---`` are headers only between ``diff --git`` and the first ``@@``: inside a hunk,
    ``+++ x`` is an added line that reads ``++ x``.
    """
    hunks: list[Hunk] = []
    path: str | None = None
    in_header = False
    first, removed = 0, 0
    added: list[str] = []

    def close() -> None:
        if path is not None and (added or removed):
            hunks.append(Hunk(path, first, tuple(added), removed))

    for line in text.splitlines():
        if line.startswith("diff --git"):
            close()
            path, in_header, added, removed = None, True, [], 0
        elif in_header and line.startswith("+++ "):
            target = line[4:]
            path = target[2:] if target.startswith("b/") else None
        elif (match := HUNK_HEADER.match(line)) is not None:
            close()
            in_header, first, added, removed = False, int(match.group(3)), [], 0
        elif in_header:
            continue
        elif line.startswith("+") and path is not None:
            added.append(line[1:])
        elif line.startswith("-") and path is not None:
            removed += 1
    close()
    return hunks


def hunk_text(hunk: Hunk) -> str:
    """A hunk as plain text: a neutral heading naming the place, then the new lines."""
    language_id = LANGUAGE_BY_SUFFIX.get(PurePosixPath(hunk.path).suffix, "plaintext")
    if not hunk.new_lines:
        detail = f"{hunk.removed} line(s) removed after line {hunk.first}"
        return section_heading(hunk.path, language_id, detail)
    shown = hunk.new_lines[:MAX_HUNK_LINES]
    more = len(hunk.new_lines) - len(shown)
    last = hunk.first + len(shown) - 1
    detail = f"lines {hunk.first}-{last} now read"
    detail += f", replacing {hunk.removed} line(s)" if hunk.removed else ", new"
    detail += f", {more} more changed line(s) not shown" if more > 0 else ""
    return section_heading(hunk.path, language_id, detail) + "".join(f"{s}\n" for s in shown)


class WorkingTreeDiff:
    """The latest parsed diff of a workspace, refreshed in the background."""

    def __init__(self, root: Path, timer: Callable[[], float] = time.monotonic) -> None:
        self.root = root
        self._timer = timer
        self.hunks: list[Hunk] = []
        #: Moves only when the hunks differ, so unchanged diffs keep the stable part's key.
        self.version = 0
        self._refreshed_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._reader = ChangeReader(root)

    @property
    def ready(self) -> bool:
        """Whether a diff was read at least once."""
        return self._refreshed_at is not None

    def maybe_refresh(self) -> None:
        """Start a background refresh when the last one is older than ``REFRESH_SECONDS``."""
        fresh = (
            self._refreshed_at is not None and self._timer() - self._refreshed_at < REFRESH_SECONDS
        )
        if fresh or (self._task is not None and not self._task.done()):
            return
        self._task = asyncio.get_running_loop().create_task(self.refresh(), name="git-diff")
        self._task.add_done_callback(log_failure)

    async def refresh(self) -> None:
        """Read the changes in a worker thread (a large repository takes a while)."""
        hunks = await asyncio.to_thread(self._reader.read)
        if hunks != self.hunks:
            self.hunks = hunks
            self.version += 1
        self._refreshed_at = self._timer()

    def render(
        self,
        budget: int,
        count: Counter,
        excluded: Callable[[Path], str | None],
        current: str | None = None,
    ) -> tuple[str, int]:
        """The hunks of non-excluded files that fit the budget (the current file's own
        changes are in its window already)."""
        packer = Packer(budget, count)
        for hunk in self.hunks:
            if hunk.path != current and excluded(self.root / hunk.path) is None:
                packer.add(hunk_text(hunk))
        heading = "Uncommitted changes in the project (new text only):"
        return packer.text(heading), packer.spent

    async def close(self) -> None:
        """Stop a running refresh."""
        if self._task is not None:
            self._task.cancel()
