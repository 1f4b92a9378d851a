"""Next-edit suggestions over LSP: ``spark/nextEdit``, ``spark/nextEditAvailable``, inline items.

An LSP extension, so it is off unless the client opts in (``initializationOptions.experimental
.nextEdit: true``) and announced under ``experimental.spark.nextEdit`` in the server's
capabilities. A prediction that only inserts at the cursor is an ordinary inline completion;
any other is announced with ``spark/nextEditAvailable`` and fetched with ``spark/nextEdit``
(``{textDocument, position}`` → ``{version, edits: [{range, newText}]}``). Edits carry the
version they were computed on: a request that names another version is refused
(ContentModified), and clients apply them only to that version.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified, JsonRpcInvalidParams

from spark_lsp.config import client_supports, language_enabled
from spark_lsp.engine.edits import OffsetEdit
from spark_lsp.engine.next_edit import NextEditQuery, Prediction
from spark_lsp.engine.store import Change, OpenDocument
from spark_lsp.errors import SparkError
from spark_lsp.server import SparkServer

log = logging.getLogger(__name__)

REQUEST = "spark/nextEdit"
AVAILABLE = "spark/nextEditAvailable"
#: The name a client uses under ``initializationOptions.experimental`` to opt in.
EXTENSION = "nextEdit"
CAPABILITY = {"request": REQUEST, "notification": AVAILABLE}


def active(ls: SparkServer) -> bool:
    """Automatic predictions run only for clients that opted in, with the setting on."""
    return ls.settings.next_edit.enabled and client_supports(ls.init_options, EXTENSION)


def apply_changes(
    ls: SparkServer, uri: str, version: int, changes: list[Change]
) -> OpenDocument | None:
    """Apply a ``didChange`` to the store; for opted-in clients, record it and schedule a guess.

    Each change's old lines are read before it is applied (the history needs them), so the
    changes go to the store one at a time, in order, as the store itself would apply them.
    """
    if not active(ls):
        return ls.store.change(uri, version, changes)
    doc = ls.store.get(uri)
    if doc is None:
        return None
    history = ls.next_edits.history(uri)
    cursor: int | None = None
    for change_range, text in changes:
        if change_range is None:
            history.clear()
            ls.store.change(uri, version, [(None, text)])
            cursor = None
            continue
        capture = history.capture(doc.index, change_range, text)
        start = doc.index.offset_at(change_range[0], change_range[1])
        ls.store.change(uri, version, [(change_range, text)])
        history.commit(capture, doc.index)
        cursor = start + len(text)
    ls.next_edits.changed(uri, cursor)
    if cursor is not None and _allowed(ls, doc):
        ls.next_edits.schedule(_query(doc, cursor, invoked=False))
    return doc


def forget(ls: SparkServer, uri: str) -> None:
    """The document closed: drop its history and any prediction."""
    ls.next_edits.forget(uri)


def inline_item(
    ls: SparkServer, uri: str, position: types.Position
) -> types.InlineCompletionItem | None:
    """A ready prediction that only inserts at ``position``, as an ordinary inline item."""
    doc = ls.store.get(uri)
    if doc is None:
        return None
    found = ls.next_edits.ready(uri, doc.index.version)
    if found is None or not found.inserts_at_cursor:
        return None
    if doc.index.offset_at(position.line, position.character) != found.cursor:
        return None
    here = types.Range(start=position, end=position)
    return types.InlineCompletionItem(insert_text=found.edits[0].text, range=here)


def _allowed(ls: SparkServer, doc: OpenDocument) -> bool:
    if not language_enabled(ls.settings, doc.language_id):
        return False
    return ls.context_builder.excluded(doc.uri) is None


def _query(doc: OpenDocument, cursor: int, *, invoked: bool) -> NextEditQuery:
    return NextEditQuery(doc.uri, doc.path, doc.language_id, doc.index, cursor, invoked)


def _position(doc: OpenDocument, offset: int) -> dict[str, int]:
    line, character = doc.index.position_at(offset)
    return {"line": line, "character": character}


def _range(doc: OpenDocument, edit: OffsetEdit) -> dict[str, Any]:
    return {"start": _position(doc, edit.start), "end": _position(doc, edit.end)}


def to_wire(doc: OpenDocument, prediction: Prediction) -> dict[str, Any]:
    """The ``spark/nextEdit`` result: edits in LSP positions of the version they are for."""
    return {
        "version": prediction.version,
        "edits": [{"range": _range(doc, e), "newText": e.text} for e in prediction.edits],
    }


def _announce(ls: SparkServer, prediction: Prediction) -> None:
    """Tell an opted-in client that a proposal is ready (not for a plain insertion)."""
    if not active(ls) or prediction.inserts_at_cursor:
        return
    doc = ls.store.get(prediction.uri)
    if doc is None or doc.index.version != prediction.version:
        return
    params = {
        "textDocument": {"uri": prediction.uri, "version": prediction.version},
        "range": _range(doc, prediction.edits[0]),
    }
    ls.protocol.notify(AVAILABLE, params)


def _get(obj: Any, key: str) -> Any:
    """A field of a request's params, whether pygls gives a dict or a named tuple."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _parse(params: Any) -> tuple[str, int | None, int, int]:
    document, position = _get(params, "textDocument"), _get(params, "position")
    uri, version = _get(document, "uri"), _get(document, "version")
    line, character = _get(position, "line"), _get(position, "character")
    if not isinstance(uri, str) or not all(isinstance(n, int) for n in (line, character)):
        raise JsonRpcInvalidParams(
            f"{REQUEST} needs {{textDocument: {{uri, version?}}, position: {{line, character}}}}"
        )
    if version is not None and not isinstance(version, int):
        raise JsonRpcInvalidParams(f"{REQUEST}: textDocument.version must be an integer")
    return uri, version, line, character


def register(server: SparkServer) -> None:
    """Attach ``spark/nextEdit``, announce the extension, route ready predictions."""
    server.experimental_capabilities[EXTENSION] = CAPABILITY
    server.next_edits.on_ready = lambda prediction: _announce(server, prediction)

    @server.feature(REQUEST)
    async def next_edit(ls: SparkServer, params: Any) -> dict[str, Any] | None:
        uri, version, line, character = _parse(params)
        doc = ls.store.get(uri)
        if doc is None or not ls.settings.next_edit.enabled:
            return None
        if version is not None and version != doc.index.version:
            raise JsonRpcContentModified(
                f"{REQUEST}: version {version} is not the current version "
                f"{doc.index.version}; edits are only computed for the current text"
            )
        if ls.context_builder.excluded(uri) is not None:
            return None
        query = _query(doc, doc.index.offset_at(line, character), invoked=True)
        try:
            found = await ls.next_edits.request(query)
        except SparkError as exc:
            ls.reporter.problem("next-edit:" + type(exc).__name__, f"Spark: {exc}", popup=False)
            return None
        if found is None or doc.index.version != found.version:
            return None
        return to_wire(doc, found)
