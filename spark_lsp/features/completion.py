"""textDocument/completion: the same suggestion as one item, for clients without ghost text.

JetBrains' native LSP client and older editors have no inline completion. Clients that do
advertise inline completion get an empty list here: a completion menu would hide the ghost text.
"""

from __future__ import annotations

from lsprotocol import types

from spark_lsp.engine.messages import CompletionRequest
from spark_lsp.lsp.server import SparkServer

EMPTY = types.CompletionList(is_incomplete=True, items=[])
#: Where a suggestion is most often wanted; the debounce absorbs bursts of them.
TRIGGER_CHARACTERS = [".", "(", "[", "{", ",", "=", ":", " "]


def _has_inline_completion(ls: SparkServer) -> bool:
    document = ls.client_capabilities.text_document
    return document is not None and document.inline_completion is not None


def register(server: SparkServer) -> None:
    """Attach the completion handler."""

    options = types.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, options)
    async def completion(ls: SparkServer, params: types.CompletionParams) -> types.CompletionList:
        if _has_inline_completion(ls):
            return EMPTY
        context = params.context
        invoked = (
            context is not None and context.trigger_kind == types.CompletionTriggerKind.Invoked
        )
        at = params.position
        request = CompletionRequest(params.text_document.uri, at.line, at.character, invoked)
        text = (await ls.service.complete(request)).text
        if text is None:
            return EMPTY
        first_line = text.strip().splitlines()[0] if text.strip() else text
        item = types.CompletionItem(
            label=first_line[:60],
            kind=types.CompletionItemKind.Snippet,
            detail="spark",
            text_edit=types.TextEdit(
                range=types.Range(start=params.position, end=params.position), new_text=text
            ),
            insert_text_format=types.InsertTextFormat.PlainText,
            filter_text=first_line,
            sort_text="0",
        )
        return types.CompletionList(is_incomplete=True, items=[item])
