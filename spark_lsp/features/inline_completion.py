"""textDocument/inlineCompletion: ghost text from the pipeline."""

from __future__ import annotations

from lsprotocol import types

from spark_lsp.engine.messages import CompletionRequest
from spark_lsp.lsp.server import SparkServer


def register(server: SparkServer) -> None:
    """Attach the inline-completion handler (the options make pygls advertise it)."""

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: SparkServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        at = params.position
        uri = params.text_document.uri
        # A next-edit prediction that only inserts here is an ordinary inline item.
        text = ls.service.next_edit_insertion(uri, at.line, at.character)
        if text is None:
            request = CompletionRequest(uri, at.line, at.character, invoked)
            text = (await ls.service.complete(request)).text
        if text is None:
            return types.InlineCompletionList(items=[])
        here = types.Range(start=params.position, end=params.position)
        return types.InlineCompletionList(
            items=[types.InlineCompletionItem(insert_text=text, range=here)]
        )
