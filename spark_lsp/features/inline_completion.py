"""textDocument/inlineCompletion: ghost text from the pipeline."""

from __future__ import annotations

from lsprotocol import types

from spark_lsp.features import next_edit
from spark_lsp.server import SparkServer


def register(server: SparkServer) -> None:
    """Attach the inline-completion handler (the options make pygls advertise it)."""

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: SparkServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        predicted = next_edit.inline_item(ls, params.text_document.uri, params.position)
        if predicted is not None:
            return types.InlineCompletionList(items=[predicted])
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        found = await ls.suggest(params.text_document.uri, params.position, invoked=invoked)
        if found is None:
            return types.InlineCompletionList(items=[])
        _, text = found
        here = types.Range(start=params.position, end=params.position)
        return types.InlineCompletionList(
            items=[types.InlineCompletionItem(insert_text=text, range=here)]
        )
