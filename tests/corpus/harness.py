"""Runs corpus cases through the same entry points the language server uses.

Completions go through :meth:`CompletionPipeline.complete` and edits through
:meth:`ActionEngine.compute`; only the model session is replaced, by one that streams a canned
reply in small pieces (as a real model does, so the pipeline's early stop is exercised too).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from spark_lsp.engine.actions import ActionEngine
from spark_lsp.engine.context import ContextBuilder
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.edits import apply_edits
from spark_lsp.engine.messages import ActionSpec
from spark_lsp.engine.pipeline import CompletionOptions, CompletionPipeline
from spark_lsp.engine.query import CompletionQuery
from spark_lsp.model.protocol import CreateRequest
from tests.counter import loaded_counter

CURSOR = "█"
PIECE_CHARS = 5


@dataclass(frozen=True)
class CompletionCase:
    """A document with ``█`` at the cursor, the model's reply, and the ghost text expected
    (``None``: nothing shown)."""

    name: str
    language: str
    document: str
    reply: str
    expected: str | None
    multiline: bool = True


@dataclass(frozen=True)
class EditCase:
    """A document, an action on its lines ``[first, last]``, the reply, the document expected."""

    name: str
    language: str
    document: str
    kind: str
    first: int
    last: int
    reply: str
    expected: str
    message: str = "problem"
    #: The edit must be refused (a clear error, the document unchanged).
    refused: bool = False


class _Stream:
    def __init__(self, reply: str, status: str, owner: CannedSession) -> None:
        self._reply = reply
        self._owner = owner
        self.status = status
        self.incomplete_reason: str | None = "max_output_tokens" if status == "incomplete" else None
        # What the pipeline reads of a finished stream besides its text (ResponseStream's).
        self.response_id: str | None = None
        self.chained = False
        self.bytes_sent = len(reply)
        self.sent_work: list[Callable[[], object]] = []

    def on_sent(self, work: Callable[[], object]) -> None:
        self.sent_work.append(work)

    async def __aenter__(self) -> _Stream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def _pieces(self) -> AsyncIterator[str]:
        for work in self.sent_work:  # the request is "on the wire" once iterated
            work()
        for start in range(0, len(self._reply), PIECE_CHARS):
            await asyncio.sleep(self._owner.pause_s)
            self._owner.pieces += 1
            yield self._reply[start : start + PIECE_CHARS]

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()


class CannedSession:
    """Stands in for :class:`ModelSession`: every response is ``reply``, a piece of
    :data:`PIECE_CHARS` per ``pause_s`` (0: a turn of the event loop); ``pieces`` counts the
    pieces handed out."""

    can_chain = False

    def __init__(self, reply: str, status: str = "completed", pause_s: float = 0.0) -> None:
        self.reply = reply
        self.status = status
        self.pause_s = pause_s
        self.pieces = 0
        self.requests: list[CreateRequest] = []

    def stream(self, request: CreateRequest, *, full_input: Any = None) -> _Stream:
        self.requests.append(request)
        return _Stream(self.reply, self.status, self)

    async def complete(self, request: CreateRequest, *, resend: bool = True) -> str:
        self.requests.append(request)
        return self.reply


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def run_completion(case: CompletionCase, session: CannedSession | None = None) -> str | None:
    """The ghost text the language server would show for ``case``."""
    text = case.document.replace(CURSOR, "")
    before = case.document[: case.document.index(CURSOR)]
    line = before.count("\n")
    character = _utf16_len(before[before.rfind("\n") + 1 :].rstrip("\r"))
    doc = DocumentIndex(text, loaded_counter(), version=1)
    session = session or CannedSession(case.reply)
    options = CompletionOptions("gpt-5.3-codex-spark", 128, 2048, case.multiline)
    pipeline = CompletionPipeline(lambda: session, ContextBuilder(), lambda: options)  # type: ignore[arg-type,return-value]
    query = CompletionQuery("file:///w/f", "f", case.language, doc, line, character, True)
    suggestion = asyncio.run(pipeline.complete(query))
    return None if suggestion is None else suggestion.text


def run_edit(case: EditCase) -> str:
    """The document after applying the edit the language server would compute for ``case``."""
    doc = DocumentIndex(case.document, loaded_counter(), version=1)
    session = CannedSession(case.reply)
    engine = ActionEngine(lambda: session, lambda: "gpt-5.3-codex-spark", lambda: 2048)  # type: ignore[arg-type,return-value]
    end_char = len(doc.line(case.last)) if case.kind != "syntax" else 0
    spec = ActionSpec(
        case.kind,  # type: ignore[arg-type]
        "file:///w/f",
        1,
        case.first,
        0,
        case.last,
        end_char,
        message=case.message,
        instruction=case.message,
    )
    computed = asyncio.run(engine.compute(spec, doc, "f", case.language))
    return apply_edits(case.document, computed.edits)
