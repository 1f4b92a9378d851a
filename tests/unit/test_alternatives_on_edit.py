"""An edit ends the alternatives of an explicit request that are still streaming.

A client that does not cancel the explicit request when the user types (not every one sends
``$/cancelRequest``) let the extra calls run to their end for a list nobody would see: only the
main suggestion's call was superseded, by the next request for the document.
"""

from __future__ import annotations

import asyncio

from spark_lsp.engine.alternatives import more_suggestions
from spark_lsp.engine.context import ContextBuilder
from spark_lsp.engine.documents import DocumentIndex
from spark_lsp.engine.pipeline import CompletionOptions, CompletionPipeline
from spark_lsp.engine.query import CompletionQuery
from tests.corpus.harness import PIECE_CHARS, CannedSession
from tests.counter import loaded_counter

#: A long reply, streamed a piece per 2 ms: an edit lands mid-stream.
REPLY = "return " + " + ".join(f"a{i}" for i in range(200))


def test_typing_ends_the_alternatives_still_streaming() -> None:
    session = CannedSession(REPLY, pause_s=0.002)
    options = CompletionOptions("m", 4096, 2048, True)
    pipeline = CompletionPipeline(lambda: session, ContextBuilder(), lambda: options)  # type: ignore[arg-type,return-value]
    doc = DocumentIndex("def f(*a):\n    \n", loaded_counter(), version=1)
    uri = "file:///w/f.py"
    query = CompletionQuery(uri, "f.py", "python", doc, 1, 4, True)
    whole = -(-len(REPLY) // PIECE_CHARS)

    async def edit_midway() -> list[str | None]:
        asking = asyncio.ensure_future(more_suggestions(pipeline, query, 2))
        await asyncio.sleep(0.02)
        assert session.pieces > 0  # both calls are streaming
        doc.apply_change((1, 4, 1, 4), "r", version=2)
        pipeline.note_edit(uri, doc)
        return await asyncio.wait_for(asyncio.shield(asking), 10)

    found = asyncio.run(edit_midway())
    assert found == [None, None]
    assert session.pieces < whole  # neither call was read to its end
