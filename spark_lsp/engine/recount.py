"""Exact token counts for a document opened while the tokenizer was still loading, off the
request path.

An editor opens its files as the server starts, before the vocabulary has loaded, so their
per-line counts are estimates. Recounting them a slice per completion request made the first
dozens of requests in a large file pay for it (a 128k-token file took ~20 requests of tens of
milliseconds each). Instead, the first request that sees estimates hands the document to a
background task that recounts a small slice per turn of the event loop: requests in between
wait at most one slice, and estimates (which over-count) keep every window within budget
meanwhile.
"""

from __future__ import annotations

import asyncio
import logging

from spark_lsp.engine.documents import DocumentIndex

log = logging.getLogger(__name__)

#: Lines recounted per turn of the event loop (~1-3 ms of work on typical code).
RECOUNT_SLICE = 128


class BackgroundRecount:
    """At most one recount task per document index."""

    def __init__(self) -> None:
        self._running: dict[int, asyncio.Task[None]] = {}

    def ensure_exact(self, doc: DocumentIndex) -> None:
        """Start recounting ``doc`` in the background if its counts are still estimates and
        the tokenizer is ready (without a running event loop, the window's own slice does)."""
        if doc.counts_exact or not doc.counter.exact or id(doc) in self._running:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        key = id(doc)
        task = loop.create_task(self._recount(doc), name="spark-lsp-recount")
        task.add_done_callback(lambda _: self._running.pop(key, None))
        self._running[key] = task

    @staticmethod
    async def _recount(doc: DocumentIndex) -> None:
        for _ in range(doc.line_count // RECOUNT_SLICE + 2):
            if doc.refresh_counts(max_lines=RECOUNT_SLICE):
                break
            await asyncio.sleep(0)  # one slice per turn: requests in between wait one slice
        log.debug("token counts of a %d-line document are exact", doc.line_count)
