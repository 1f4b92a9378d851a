"""textDocument/inlineCompletion: ghost text from the pipeline, and the accept command.

An explicit request (the editor's trigger key) may answer several items, which the editor
cycles through with its own keys. Every item carries ``spark.didAccept`` with a small id, which
the editor runs when the user accepts it; a client that accepts a word or a line at a time
sends ``"partial"`` as the second argument. That is how acceptance is counted: no text of the
suggestion comes back, only the id.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from lsprotocol import types

from spark_lsp.engine.messages import CompletionRequest
from spark_lsp.lsp.server import Command, Method, Row, SparkServer

log = logging.getLogger(__name__)

ACCEPT_COMMAND = "spark.didAccept"


async def inline_completion(
    ls: SparkServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList:
    """``textDocument/inlineCompletion``: the suggestions as ghost text, each with the accept
    command."""
    began = time.monotonic()
    invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
    at = params.position
    uri = params.text_document.uri
    request = CompletionRequest(uri, at.line, at.character, invoked)
    texts = await ls.service.suggestions(request)
    doc = ls.store.get(uri)
    if not texts or doc is None:
        return types.InlineCompletionList(items=[])
    latency_ms = (time.monotonic() - began) * 1000
    sid = ls.service.acceptance.shown(
        uri, doc.language_id, (at.line, at.character), texts, latency_ms
    )
    here = types.Range(start=at, end=at)
    accept = types.Command(title="Accepted", command=ACCEPT_COMMAND, arguments=[sid])
    return types.InlineCompletionList(
        items=[
            types.InlineCompletionItem(insert_text=text, range=here, command=accept)
            for text in texts
        ]
    )


def did_accept(ls: SparkServer, *args: Any) -> dict[str, bool]:
    """Count an accept: ``[id]`` for the whole suggestion, ``[id, "partial"]`` for a part."""
    if len(args) == 1 and isinstance(args[0], list):
        args = tuple(args[0])  # some clients wrap the arguments once more
    sid, kind = (*args, None, None)[:2]
    if isinstance(sid, bool) or not isinstance(sid, int):
        log.warning("ignored %s: its first argument must be a suggestion id", ACCEPT_COMMAND)
        return {"counted": False}
    return {"counted": ls.service.acceptance.accepted(sid, partial=kind == "partial")}


#: Given, they make pygls advertise inline completion.
OPTIONS = types.InlineCompletionOptions()
HANDLERS: tuple[Row, ...] = (
    Method(types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_completion, OPTIONS),
    Command(ACCEPT_COMMAND, did_accept),
)
