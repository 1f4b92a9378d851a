"""Project context: the workspace sources of a completion prompt, each with a priority and budget.

The sources split by how fast they change. Far, slow ones (imported files' interfaces, the
working-tree diff, the repository map) form stable prompt parts: they are recomputed only when
the index, the diff or the current file's imports move, and are byte-for-byte the same keystroke
after keystroke, so the session warms them once and chains. Near ones (definitions of the names
around the cursor, recent edits and visits in other files) ride in the volatile message. Every
source skips excluded files (checked when it is read, so a changed exclusion applies at once),
and the privacy boundary (engine/boundary.py) redacts everything before it is sent.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from spark_lsp.engine.sources import definitions, imports, log_failure, receivers, repomap
from spark_lsp.engine.sources.diff import WorkingTreeDiff
from spark_lsp.engine.sources.index import LANGUAGE_BY_SUFFIX, IndexedFile, WorkspaceIndex
from spark_lsp.engine.sources.near import names_near
from spark_lsp.engine.sources.recent import RecentActivity
from spark_lsp.engine.sources.render import CachedCounter
from spark_lsp.engine.store import DocumentStore, uri_to_path
from spark_lsp.engine.symbols import FileOutline, outline
from spark_lsp.engine.tokens import TokenCounter

if TYPE_CHECKING:
    from spark_lsp.engine.query import CompletionQuery
    from spark_lsp.engine.sources.render import Counter

log = logging.getLogger(__name__)
T = TypeVar("T")

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
#: An edited open document is re-outlined at most this often (typing must stay cheap).
REOUTLINE_SECONDS = 1.0
#: ... and the current file at most once per this many times its last outline's cost: a large
#: file's parse runs in a worker thread but its walk holds the interpreter, and a request that
#: overlaps it waits; refreshes that take 2% of the time at most keep that rare (imports and
#: top-level names change seldom while typing).
REOUTLINE_COST_FACTOR = 50
#: A re-outline starts once the file has not been edited for this long (a pause in typing, not
#: a gap inside a burst): its parse and walk compete with the keys and requests of a burst.
REOUTLINE_QUIET_SECONDS = 0.4
#: The current file is outlined at once on its first request up to this size; a larger one is
#: outlined in the background (~1 ms per 4 kB), its first requests going without its outline.
SYNC_OUTLINE_CHARS = 64_000
#: Share of the definitions' budget the receiver's members may take after a ``.``.
MEMBERS_SHARE = 0.9
#: Characters of the current file scanned for names the repository map ranks by.
MENTION_SCAN_CHARS = 200_000


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A context source: its place in the prompt, its order and its share of the budget."""

    name: str
    stable: bool
    priority: int
    share: float


#: The project sources. Within each part, higher priority is filled first and what a source
#: leaves unused passes to the next.
SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec("imports", True, 1, 0.40),
    SourceSpec("diff", True, 2, 0.20),
    SourceSpec("map", True, 3, 0.40),
    SourceSpec("definitions", False, 1, 0.85),
    SourceSpec("recent", False, 2, 0.15),
)


def allocations(stable: bool, budget: int) -> list[tuple[str, int]]:
    """Each source's token share of ``budget`` for one part, in priority order."""
    specs = sorted((s for s in SOURCES if s.stable == stable), key=lambda s: s.priority)
    return [(s.name, int(budget * s.share)) for s in specs]


@dataclass
class _CurrentFile:
    """What the project sources need from the file being edited, refreshed at most each second
    (``cost`` is what computing it took, in seconds)."""

    version: int
    at: float
    outline: FileOutline
    imported: list[str]
    mentioned: frozenset[str]
    cost: float = 0.0

    @property
    def next_refresh(self) -> float:
        """The earliest time a refresh may start."""
        return self.at + max(REOUTLINE_SECONDS, REOUTLINE_COST_FACTOR * self.cost)


#: What the project sources use of a large file until its first outline is ready.
_NO_OUTLINE = FileOutline((), ())


@dataclass
class ProjectStats:
    """Figures for ``spark/stats`` and the benchmark."""

    indexed_files: int = 0
    build_ms: float | None = None
    names_referenced: int = 0
    names_resolved: int = 0
    parts: dict[str, int] = field(default_factory=dict)


class ProjectContext:
    """Owns the workspace index, the diff and the activity ring; renders the project sources."""

    def __init__(
        self,
        store: DocumentStore,
        excluded: Callable[[Path], str | None],
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._excluded = excluded
        self._timer = timer
        self.index: WorkspaceIndex | None = None
        self.diff: WorkingTreeDiff | None = None
        self.activity = RecentActivity(timer)
        self.stats = ProjectStats()
        self._current: dict[str, _CurrentFile] = {}
        self._indexed_versions: dict[str, tuple[int, float]] = {}
        self._relatives: dict[str, str | None] = {}
        self._counter: tuple[str, CachedCounter] | None = None
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        self._stable_memo: tuple[tuple[object, ...], tuple[tuple[str, ...], int]] | None = None
        self._builds = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def build(self, roots: Path | Sequence[Path]) -> None:
        """Index the workspace folders in a worker thread, then read the first one's diff (the
        server owns the task). Called again when the folders change: the old index stops and a
        new one covers the new set."""
        listed = [roots] if isinstance(roots, Path) else list(roots)
        if not listed:
            return
        self._builds += 1
        build = self._builds
        resolved = await in_daemon_thread(lambda: [root.resolve() for root in listed])
        if build != self._builds:  # the folders changed again meanwhile: the later call builds
            return
        if self.index is not None:
            self.index.stop()
        index = WorkspaceIndex(resolved, self._excluded)
        self.index = index
        self._relatives.clear()
        self._current.clear()
        self._indexed_versions.clear()
        self._stable_memo = None
        if self.diff is None or self.diff.root != resolved[0]:
            if self.diff is not None:
                await self.diff.close()
            self.diff = WorkingTreeDiff(resolved[0], self._timer)
        began = time.perf_counter()
        count = await in_daemon_thread(index.build)
        if index is not self.index:  # replaced while it was built
            return
        self.stats.build_ms = (time.perf_counter() - began) * 1000
        self.stats.indexed_files = count
        log.info("indexed %d files in %.0f ms", count, self.stats.build_ms)
        await self.diff.refresh()

    def note_closed(self, uri: str) -> None:
        """A closed document's disk text is the truth again (unsaved edits are gone).

        Re-read in a worker thread: the event loop never waits on a file from the workspace.
        """
        self._current.pop(uri, None)
        self._indexed_versions.pop(uri, None)
        relative = self._relative(uri)
        index = self.index
        if index is not None and relative is not None:
            threading.Thread(
                target=index.refresh, args=(relative,), name="spark-reindex", daemon=True
            ).start()

    # -- the two parts -----------------------------------------------------------------------

    def stable_parts(
        self, query: CompletionQuery, budget: int, counter: TokenCounter
    ) -> tuple[tuple[str, ...], int]:
        """Imports, diff and repository map: recomputed only when their inputs moved."""
        index = self.index
        if index is None or not index.ready or budget <= 0:
            return (), 0
        self._sync_open_documents(query.uri)
        current = self._current_file(query)
        relative = self._relative(query.uri)
        diff = self.diff
        if diff is not None:
            diff.maybe_refresh()
        key = (
            relative,
            index.generation,
            diff.version if diff else 0,
            budget,
            tuple(current.imported),
            current.mentioned,
        )
        if self._stable_memo is not None and self._stable_memo[0] == key:
            return self._stable_memo[1]
        result = self._render_stable(index, current, relative, budget, self._count(counter))
        self._stable_memo = (key, result)
        return result

    def _render_stable(
        self,
        index: WorkspaceIndex,
        current: _CurrentFile,
        relative: str | None,
        budget: int,
        count: Counter,
    ) -> tuple[tuple[str, ...], int]:
        texts: dict[str, str] = {}
        spent = carry = 0
        summarised: set[str] = set()  # files the imports part shows whole: not in the map again
        for name, share in allocations(True, budget):
            allowed = share + carry
            if name == "imports":
                text, used, shown = imports.render(
                    index, current.imported, allowed, count, self._excluded
                )
                summarised = {relative for relative, _ in shown}
            elif name == "diff" and self.diff is not None:
                here = _relative_to(index.path_of(relative), self.diff.root) if relative else None
                text, used = self.diff.render(allowed, count, self._excluded, here)
            elif name == "map":
                mentions = Tally(current.mentioned)
                text, used = repomap.render(
                    index,
                    mentions,
                    current.imported,
                    relative,
                    allowed,
                    count,
                    self._excluded,
                    skip=summarised,
                )
            else:
                text, used = "", 0
            texts[name], spent, carry = text, spent + used, allowed - used
            self.stats.parts[name] = used
        # Slowest-changing first: the map moves with the index, imports with import lines,
        # the diff with every save.
        ordered = (texts.get("map", ""), texts.get("imports", ""), texts.get("diff", ""))
        return tuple(t for t in ordered if t), spent

    def volatile_part(
        self, query: CompletionQuery, budget: int, counter: TokenCounter
    ) -> tuple[str, int]:
        """Definitions of the names near the cursor and recent places in other files."""
        self.activity.visit(query.uri, query.line)
        index = self.index
        if index is None or budget <= 0:
            return "", 0
        current = self._current_file(query)
        relative = self._relative(query.uri)
        count = self._count(counter)
        texts: list[str] = []
        spent = carry = 0
        for name, share in allocations(False, budget):
            allowed = share + carry
            if name == "definitions":
                text, used = self._definitions(index, query, current, relative, allowed, count)
            else:
                text, used = self.activity.render(
                    self._store, query.uri, allowed, count, self._excluded_uri
                )
            texts.append(text)
            spent, carry = spent + used, allowed - used
            self.stats.parts[name] = used
        return "".join(texts), spent

    def _definitions(
        self,
        index: WorkspaceIndex,
        query: CompletionQuery,
        current: _CurrentFile,
        relative: str | None,
        budget: int,
        count: Counter,
    ) -> tuple[str, int]:
        near = names_near(query.doc, query.line)
        defined_here = {s.name for s in current.outline.top_level()}
        found = definitions.resolve(index, near, current.imported, defined_here, relative)
        found = [
            (n, [d for d in ds if self._excluded(index.path_of(d.file.relative)) is None])
            for n, ds in found
        ]
        members, members_used, shown = self._members(index, query, current, relative, budget, count)
        result = definitions.render(found, budget - members_used, count, shown)
        self.stats.names_referenced += result.referenced
        self.stats.names_resolved += result.resolved
        return members + result.text, members_used + result.tokens

    def _members(
        self,
        index: WorkspaceIndex,
        query: CompletionQuery,
        current: _CurrentFile,
        relative: str | None,
        budget: int,
        count: Counter,
    ) -> tuple[str, int, set[tuple[str, str]]]:
        """After ``receiver.``: the members it resolves to, before the near names' definitions
        (up to :data:`MEMBERS_SHARE` of the definitions' budget)."""
        here = IndexedFile(relative or "", query.language_id, -1, current.outline)
        return receivers.near_members(
            index,
            imports.resolver_of(index),
            here,
            query.doc,
            (query.line, query.character),
            int(budget * MEMBERS_SHARE),
            count,
            self._excluded,
        )

    def _count(self, counter: TokenCounter) -> CachedCounter:
        """Remembered counts, started afresh when the counter becomes exact."""
        if self._counter is None or self._counter[0] != counter.kind:
            self._counter = (counter.kind, CachedCounter(counter.count))
        return self._counter[1]

    # -- keeping up with the editor ------------------------------------------------------------

    def _current_file(self, query: CompletionQuery) -> _CurrentFile:
        """The current file's outline: computed now the first time (a small file), then
        refreshed in a worker thread while the user types, at most once a second and, for a
        large file, rarer in proportion to its cost (a parse takes tens to hundreds of
        milliseconds, which must not land on a keystroke's request)."""
        known = self._current.get(query.uri)
        version = query.doc.version
        if known is None and query.doc.char_count <= SYNC_OUTLINE_CHARS:
            known = self._outline_current(query.uri, query.language_id, query.doc.text, version)
            self._current[query.uri] = known
        elif known is None:
            self._refresh_in_background(query, self._timer())
            return _CurrentFile(-1, self._timer(), _NO_OUTLINE, [], frozenset())
        elif known.version != version:
            self._refresh_in_background(query, known.next_refresh)
        return known

    def _refresh_in_background(self, query: CompletionQuery, not_before: float) -> None:
        """Outline the current file in a worker thread, no earlier than ``not_before`` and once
        the user pauses typing in it, from the text it has then."""
        if query.uri in self._refreshing:
            return
        uri, doc, language_id = query.uri, query.doc, query.language_id

        async def refresh() -> None:
            try:
                await asyncio.sleep(max(0.0, not_before - self._timer()))
                while (opened := self._store.get(uri)) is not None:
                    quiet = time.monotonic() - opened.edited_at  # the store's clock
                    if quiet >= REOUTLINE_QUIET_SECONDS:
                        break
                    await asyncio.sleep(REOUTLINE_QUIET_SECONDS - quiet)
                else:
                    return
                fresh = await asyncio.to_thread(
                    self._outline_current, uri, language_id, doc.text, doc.version
                )
                if self._store.get(uri) is not None:
                    self._current[uri] = fresh
            finally:
                self._refreshing.pop(uri, None)

        task = asyncio.get_running_loop().create_task(refresh(), name="outline-current-file")
        task.add_done_callback(log_failure)
        self._refreshing[uri] = task

    def _outline_current(self, uri: str, language_id: str, text: str, version: int) -> _CurrentFile:
        began = self._timer()
        file_outline = outline(language_id, text)
        relative = self._relative(uri)
        index = self.index
        imported = imports.resolved_imports(index, file_outline.imports, relative) if index else []
        names = set(IDENTIFIER.findall(text[:MENTION_SCAN_CHARS]))
        # Only names the workspace defines: typing a new local name leaves the map's key alone.
        mentioned = frozenset(n for n in names if index is not None and index.defines(n))
        return _CurrentFile(
            version, began, file_outline, imported, mentioned, self._timer() - began
        )

    def _sync_open_documents(self, current_uri: str) -> None:
        """Re-outline edited open documents into the index (each at most once a second)."""
        if self.index is None:
            return
        now = self._timer()
        for doc in self._store:
            relative = self._relative(doc.uri)
            if relative is None or doc.uri == current_uri:
                continue
            seen = self._indexed_versions.get(doc.uri)
            if seen is not None and (
                seen[0] == doc.index.version or now - seen[1] < REOUTLINE_SECONDS
            ):
                continue
            language = doc.language_id if doc.language_id in LANGUAGE_BY_SUFFIX.values() else None
            self.index.refresh(relative, language, doc.index.text)
            self._indexed_versions[doc.uri] = (doc.index.version, now)

    def _relative(self, uri: str) -> str | None:
        """The index key of a ``file:`` URI (remembered: it costs system calls)."""
        if self.index is None:
            return None
        if uri not in self._relatives:
            if len(self._relatives) > 4096:
                self._relatives.clear()
            path = uri_to_path(uri)
            self._relatives[uri] = self.index.relative_of(path) if path else None
        return self._relatives[uri]

    def _excluded_uri(self, uri: str) -> str | None:
        path = uri_to_path(uri)
        return self._excluded(path) if path is not None else None

    def snapshot(self) -> dict[str, object]:
        """Index and resolution figures for ``spark/stats`` (no file contents)."""
        index, diff = self.index, self.diff
        return {
            "indexReady": index is not None and index.ready,
            "indexedFiles": len(index) if index is not None else 0,
            "indexTruncated": index is not None and index.truncated,
            "buildMs": None if self.stats.build_ms is None else round(self.stats.build_ms, 1),
            "diffReady": diff is not None and diff.ready,
            "diffHunks": len(diff.hunks) if diff is not None else 0,
            "namesReferenced": self.stats.names_referenced,
            "namesResolved": self.stats.names_resolved,
            "partTokens": dict(self.stats.parts),
        }

    async def close(self) -> None:
        """Stop background work."""
        if self.index is not None:
            self.index.stop()
        for task in list(self._refreshing.values()):
            task.cancel()
        if self.diff is not None:
            await self.diff.close()


def _relative_to(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` (the diff's folder), None outside it."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else None


async def in_daemon_thread(work: Callable[[], T], name: str = "spark-index") -> T:
    """``work()`` on a daemon thread of its own, awaited.

    Not ``asyncio.to_thread``: the loop's shutdown joins the default executor, so one read
    stuck there (a FIFO swapped in while indexing) kept the process alive after ``exit``. A
    daemon thread never holds up exit.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            outcome: tuple[T | None, BaseException | None] = (work(), None)
        except BaseException as exc:  # handed to the awaiting task
            outcome = (None, exc)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:  # the loop is gone: nobody waits any more
            pass

    threading.Thread(target=run, name=name, daemon=True).start()
    return await done
