"""textDocument/completion: the same suggestion as one item, for clients without ghost text.

JetBrains' native LSP client and older editors have no inline completion. Clients that do
advertise inline completion get an empty list here: a completion menu would hide the ghost text.
"""

from __future__ import annotations

from lsprotocol import types

from spark_lsp.engine.messages import CompletionRequest
from spark_lsp.lsp.server import Method, Row, SparkServer

EMPTY = types.CompletionList(is_incomplete=True, items=[])
#: Labels are cut to this many characters (the filter text is whole).
LABEL_CHARS = 60
#: Where a suggestion is most often wanted; the debounce absorbs bursts of them.
TRIGGER_CHARACTERS = [".", "(", "[", "{", ",", "=", ":", " "]


def _has_inline_completion(ls: SparkServer) -> bool:
    document = ls.client_capabilities.text_document
    return document is not None and document.inline_completion is not None


async def completion(ls: SparkServer, params: types.CompletionParams) -> types.CompletionList:
    """``textDocument/completion``: the suggestion as one item (none for inline clients)."""
    if _has_inline_completion(ls):
        return EMPTY
    context = params.context
    invoked = context is not None and context.trigger_kind == types.CompletionTriggerKind.Invoked
    at = params.position
    request = CompletionRequest(params.text_document.uri, at.line, at.character, invoked)
    text = (await ls.service.complete(request)).text
    if text is None:
        return EMPTY
    word, start = ls.service.word_before(request.uri, at.line, at.character)
    return types.CompletionList(is_incomplete=True, items=[_item(text, word, start, at)])


def _item(text: str, word: str, start: int, at: types.Position) -> types.CompletionItem:
    """One item that survives the client's word-prefix filter.

    Eglot, Helix and Kakoune keep the items whose filterText (or label) starts with the word
    before the cursor: for ``    ret|`` a bare ``urn a - b`` would be filtered out. So the item
    replaces that word too (``return a - b`` from the ``r``), begins with it, and comes first.
    """
    first_line = text.strip().splitlines()[0] if text.strip() else text
    shown = word + first_line if word else first_line
    return types.CompletionItem(
        label=shown[: max(LABEL_CHARS, len(word) + 20)],
        kind=types.CompletionItemKind.Snippet,
        detail="spark",
        text_edit=types.TextEdit(
            range=types.Range(start=types.Position(line=at.line, character=start), end=at),
            new_text=word + text,
        ),
        insert_text_format=types.InsertTextFormat.PlainText,
        filter_text=shown,
        sort_text="0",
        preselect=True,
    )


OPTIONS = types.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS)
HANDLERS: tuple[Row, ...] = (Method(types.TEXT_DOCUMENT_COMPLETION, completion, OPTIONS),)
