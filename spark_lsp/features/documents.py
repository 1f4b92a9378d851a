"""Text synchronisation: every change goes to the incremental document store."""

from __future__ import annotations

from lsprotocol import types

from spark_lsp.engine.store import Change
from spark_lsp.features import diagnostics
from spark_lsp.lsp.server import Method, Row, SparkServer


def _change(event: types.TextDocumentContentChangeEvent) -> Change:
    if isinstance(event, types.TextDocumentContentChangePartial):
        start, end = event.range.start, event.range.end
        return (start.line, start.character, end.line, end.character), event.text
    return None, event.text


def did_open(ls: SparkServer, params: types.DidOpenTextDocumentParams) -> None:
    """``textDocument/didOpen``."""
    item = params.text_document
    ls.service.open(item.uri, item.language_id, item.text, item.version)
    diagnostics.schedule(ls, item.uri)


def did_change(ls: SparkServer, params: types.DidChangeTextDocumentParams) -> None:
    """``textDocument/didChange``: applied to the store; the syntax check waits for a pause."""
    uri = params.text_document.uri
    changes = [_change(event) for event in params.content_changes]
    if ls.service.change(uri, params.text_document.version, changes):
        diagnostics.schedule(ls, uri)


def did_close(ls: SparkServer, params: types.DidCloseTextDocumentParams) -> None:
    """``textDocument/didClose``."""
    ls.service.close(params.text_document.uri)


HANDLERS: tuple[Row, ...] = (
    Method(types.TEXT_DOCUMENT_DID_OPEN, did_open),
    Method(types.TEXT_DOCUMENT_DID_CHANGE, did_change),
    Method(types.TEXT_DOCUMENT_DID_CLOSE, did_close),
)
