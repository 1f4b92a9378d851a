"""Text synchronisation: every change goes to the incremental document store."""

from __future__ import annotations

from lsprotocol import types

from spark_lsp.engine.store import Change
from spark_lsp.features import diagnostics
from spark_lsp.lsp.server import SparkServer


def _change(event: types.TextDocumentContentChangeEvent) -> Change:
    if isinstance(event, types.TextDocumentContentChangePartial):
        start, end = event.range.start, event.range.end
        return (start.line, start.character, end.line, end.character), event.text
    return None, event.text


def register(server: SparkServer) -> None:
    """Attach didOpen/didChange/didClose."""

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SparkServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.service.open(item.uri, item.language_id, item.text, item.version)
        diagnostics.schedule(ls, item.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SparkServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        changes = [_change(event) for event in params.content_changes]
        if ls.service.change(uri, params.text_document.version, changes):
            diagnostics.schedule(ls, uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SparkServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.service.close(params.text_document.uri)
