"""The filters' reading of the cursor is judged while the model thinks, not before sending.

Judging the lines around the cursor (inside a string? the file's indent step?) costs a parse
and a lexer pass, about half of a request's context stage on a big file; the filters need it
only once the reply comes. The lines themselves are copied before the request goes out: the
document moves on as keys come.
"""

from __future__ import annotations

import asyncio

import pytest

from spark_lsp.engine import pipeline as pipeline_module
from spark_lsp.engine.context import ContextBuilder
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.pipeline import CompletionOptions, CompletionPipeline
from spark_lsp.engine.query import CompletionQuery
from tests.corpus.harness import CannedSession
from tests.counter import loaded_counter


def _run(session: CannedSession, doc: DocumentIndex, query: CompletionQuery) -> str | None:
    options = CompletionOptions("m", 128, 2048, True)
    pipeline = CompletionPipeline(lambda: session, ContextBuilder(), lambda: options)  # type: ignore[arg-type,return-value]
    suggestion = asyncio.run(pipeline.complete(query))
    return None if suggestion is None else suggestion.text


def test_the_cursor_is_judged_after_the_request_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []

    class Recording(CannedSession):
        def stream(self, request: object, *, full_input: object = None) -> object:
            order.append("request built")
            stream = super().stream(request, full_input=full_input)  # type: ignore[arg-type]
            stream.on_sent(lambda: order.append("sent"))
            return stream

    judge = pipeline_module.cursor_in_text

    def judged(language_id: str, context: str) -> bool:
        order.append("judged")
        return judge(language_id, context)

    monkeypatch.setattr(pipeline_module, "cursor_in_text", judged)
    doc = DocumentIndex("def f(x):\n    return \n", loaded_counter(), version=1)
    query = CompletionQuery("file:///w/f.py", "f.py", "python", doc, 1, 11, True)
    assert _run(Recording("x + 1"), doc, query) == "x + 1"
    assert order == ["request built", "sent", "judged"]


def test_a_string_at_the_cursor_is_still_seen_and_the_lines_are_those_asked_about(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Judged late, the context still reads the text as it was when the request was made:
    an edit that lands while the model thinks does not change what the filters see."""
    text = 'def f(x):\n    note = """\n    the total of \n    """\n'
    doc = DocumentIndex(text, loaded_counter(), version=1)
    query = CompletionQuery("file:///w/f.py", "f.py", "python", doc, 2, 17, True)
    seen: list[bool] = []
    judge = pipeline_module.cursor_in_text

    class EditingWhileSent(CannedSession):
        def stream(self, request: object, *, full_input: object = None) -> object:
            stream = super().stream(request, full_input=full_input)  # type: ignore[arg-type]
            # A key lands before the judgement: the quotes above the cursor are deleted.
            stream.sent_work.insert(0, lambda: doc.apply_change((1, 11, 1, 14), ""))
            return stream

    def recording(language_id: str, context: str) -> bool:
        seen.append(judge(language_id, context))
        return seen[-1]

    monkeypatch.setattr(pipeline_module, "cursor_in_text", recording)
    # Prose inside a string is kept as the model wrote it.
    assert _run(EditingWhileSent("items, in cents."), doc, query) == "items, in cents."
    assert seen == [True]
