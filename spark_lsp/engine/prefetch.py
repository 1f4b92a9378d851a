"""Ready on accept: prepare the suggestion that follows the one the editor is showing.

When the user accepts ghost text, VS Code and Neovim ask again at once, at the end of what was
inserted. Without help that request waits a full model call. So when a suggestion goes out,
the pipeline asks the model, in the background, for the continuation of the document *as it
will read once the suggestion is accepted*, and caches it under that cursor context: the
request after the accept is then a cache hit. A partial accept (a word, a line) lands on the
typing-through seeds of the shown suggestion, and accepting the rest lands on the prefetch.

The prefetch is low priority by construction: one at a time (a newer one replaces it), it
starts only after the suggestion has been handed to the editor, and any edit that is not the
user typing or accepting along the suggestion drops it (its stream goes back to its lane at the
next delta). A request that arrives while it streams joins it rather than starting a call.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any

from spark_lsp.engine.debounce import Supersession, Ticket
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.postprocess import CompletionContext
from spark_lsp.engine.prompts import accepted_message
from spark_lsp.errors import SparkError

__all__ = ["AcceptTarget", "Prefetcher", "accepted_context"]

log = logging.getLogger(__name__)

_KEY = "prefetch"
#: How much of the text after the cursor must still follow the (partly) accepted suggestion for
#: an edit to count as typing along it.
_AFTER_PROBE = 32


@dataclass(frozen=True, slots=True)
class AcceptTarget:
    """A suggestion shown at a cursor, and the cursor context once it is accepted.

    ``before``/``after`` are the cache-key parts at the original cursor; ``line``/``column``
    locate it (``column`` indexes the line's Python string); ``version`` is the document
    version the suggestion was made for.
    """

    uri: str
    version: int
    line: int
    column: int
    before: str
    after: str
    suggestion: str
    before_chars: int
    #: The model response the suggestion came from (None: from a cache), and whether the
    #: suggestion is that response's whole reply.
    parent: str | None = None
    whole_reply: bool = True

    @property
    def accepted_before(self) -> str:
        """The cache-key text before the cursor after the whole suggestion is accepted."""
        return (self.before + self.suggestion)[-self.before_chars :]

    def accepted_message(self) -> str:
        """What a prefetch chained from :attr:`parent` says: accepted, and the cursor's line."""
        prefix = (self.before + self.suggestion).rsplit("\n", 1)[-1]
        suffix = self.after.split("\n", 1)[0].removesuffix("\r")
        return accepted_message(prefix, suffix, None if self.whole_reply else self.suggestion)

    def on_path(self, doc: DocumentIndex) -> bool:
        """Whether ``doc`` still reads as the original text with a prefix of the suggestion
        typed or accepted at the cursor (anything else means the user went elsewhere)."""
        if self.line >= doc.line_count or len(doc.raw_line(self.line)) < self.column:
            return False
        before, rest = doc.text_around(
            self.line, self.column, len(self.before), len(self.suggestion) + _AFTER_PROBE
        )
        if before != self.before:
            return False
        probe = self.after[:_AFTER_PROBE]
        k = len(os.path.commonprefix([rest, self.suggestion]))
        return any(rest[n:].startswith(probe[: len(rest) - n]) for n in range(k, -1, -1))


def _accepted_key(target: AcceptTarget) -> tuple[str, str, str]:
    return target.uri, target.accepted_before, target.after


def accepted_context(ctx: CompletionContext, suggestion: str) -> CompletionContext:
    """The filters' view of the cursor once ``suggestion`` is inserted at it."""
    lines = suggestion.replace("\r\n", "\n").split("\n")
    if len(lines) == 1:
        return replace(ctx, line_prefix=ctx.line_prefix + suggestion)
    finished = (ctx.line_prefix + lines[0], *lines[1:-1])
    keep = max(3, len(ctx.prev_lines))
    return replace(ctx, line_prefix=lines[-1], prev_lines=(*ctx.prev_lines, *finished)[-keep:])


class Prefetcher:
    """Runs at most one prefetch; drops it when the document leaves the accept path."""

    def __init__(self) -> None:
        self._tickets = Supersession()
        self._target: AcceptTarget | None = None
        self._task: asyncio.Task[None] | None = None
        self._last: tuple[str, str, str] | None = None

    def covers(self, target: AcceptTarget) -> bool:
        """Whether the latest prefetch (running or finished, whatever it found) was for the
        same accepted context: asking again would repeat the same model call."""
        return self._last == _accepted_key(target)

    def start(
        self, target: AcceptTarget, run: Callable[[Ticket], Coroutine[Any, Any, None]]
    ) -> None:
        """Replace any running prefetch with ``run`` for ``target`` (a background task)."""
        ticket = self._tickets.begin(_KEY)
        self._target = target
        self._last = _accepted_key(target)
        self._task = asyncio.get_running_loop().create_task(
            self._guarded(run(ticket), ticket, target), name="spark-lsp-prefetch"
        )

    def on_edit(self, uri: str, doc: DocumentIndex | None) -> None:
        """Drop the prefetch if this edit is not typing or accepting along its suggestion."""
        target = self._target
        if target is None or target.uri != uri:
            return
        if doc is None or not target.on_path(doc):
            self.cancel()

    def cancel(self) -> None:
        """Drop the running prefetch (its stream stops at the next delta unless joined) and
        forget what it was for, so the same suggestion shown again is prefetched again."""
        self._tickets.cancel(_KEY)
        self._target = None
        self._last = None

    async def _guarded(
        self, job: Coroutine[Any, Any, None], ticket: Ticket, target: AcceptTarget
    ) -> None:
        try:
            await job
        except SparkError as exc:  # superseded, or the model failed: the user lost nothing
            log.debug("prefetch dropped: %s", exc)
        except Exception:  # a bug must not vanish with the task
            log.exception("prefetch failed")
        finally:
            ticket.done()
            if self._target is target:
                self._target = None
